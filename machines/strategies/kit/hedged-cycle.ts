/** The end of a hedged cycle, shared by the kinds that cycle: cooldown after it, completed or stopped. */
import type { WaitInput } from '../../contracts.ts';

export const HOUR_MS = 3_600_000;

/**
 * The pause before watching again: `cooldownMs`, but after entries that filled nothing (the venue
 * refused them: funds, min notional, a market that moved) at least 1 s, doubling per repeat up to
 * a minute — otherwise a refused entry with cooldownMs 0 is retried as fast as the venue answers.
 */
export function cooldownMs(context: { params: { cooldownMs: number }; emptyEntries?: number }): number {
  const n = context.emptyEntries ?? 0;
  if (n === 0) return context.params.cooldownMs;
  return Math.max(context.params.cooldownMs, Math.min(60_000, 1_000 * 2 ** (n - 1)));
}

/**
 * How a hedged cycle ends, shared by the spot–futures and futures–futures machines: after an
 * exit, flat → the cycle is done (stop, complete, or cool down and watch again); not flat → exit
 * again within the attempt budget, then needs attention saying so. The machines define the named
 * guards (positionsFlat, exitAttemptsLeft, stopRequested, maxCyclesReached) and actions
 * (finishCycle, recordExitIncomplete) after their own rules.
 */
export function cycleEndStates() {
  return {
    afterExit: {
      always: [
        { guard: 'positionsFlat', target: 'cycleDone', actions: 'finishCycle' },
        { guard: 'exitAttemptsLeft', target: 'exiting' },
        // Still holding (hedged, or the exit would have said otherwise): never end quietly.
        { target: 'needsAttention', actions: 'recordExitIncomplete' },
      ],
    },
    cycleDone: {
      always: [
        { guard: 'stopRequested', target: 'stopped' },
        { guard: 'maxCyclesReached', target: 'completed' },
        { target: 'cooldown' },
      ],
    },
    cooldown: {
      invoke: {
        id: 'pause',
        src: 'wait',
        input: ({
          context,
        }: {
          context: { params: { cooldownMs: number }; emptyEntries?: number };
        }): WaitInput => ({ ms: cooldownMs(context) }),
        onDone: 'watching',
      },
      always: { guard: 'stopRequested', target: 'stopped' },
    },
    completed: { type: 'final' },
    stopped: { type: 'final' },
  } as const;
}
