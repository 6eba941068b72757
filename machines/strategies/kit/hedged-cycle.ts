/**
 * The parts of a hedged cycle the kinds share: a state running one hedged execution, and the end
 * of a cycle (cooldown after it, completed or stopped).
 */
import type { WaitInput } from '../../contracts.ts';
import type { HedgedPairInput } from '../../hedged-pair.ts';
import { forwardQuotesTo } from './quotes.ts';

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

/**
 * A state running one hedged execution (an entry, an exit, a rebalance, an arbitrage's
 * execution) on the hedged pair: the quotes forwarded to it, every outcome's fills booked
 * (`bookFills`), exposure it leaves or an order of unknown outcome sent to needs attention
 * (`raiseAttentionAfter` names `what`), else the first of `onward` whose guard holds. `before`
 * runs ahead of the booking (it sees the books as they were), `after` behind it, on every
 * outcome. The machine names the actions and guards after its own rules.
 */
export function pairExecutionState<C>(o: {
  /** The invoke's id: persisted snapshots name it, never change it. */
  id: string;
  what: string;
  input: (context: C) => HedgedPairInput;
  quoteBatches?: boolean;
  before?: unknown[];
  after?: unknown[];
  onward: { guard?: string; target: string; actions?: unknown[] }[];
}): never {
  const booked = [...(o.before ?? []), 'bookFills', ...(o.after ?? [])];
  // Returned as `never`: a state config the machine's own types accept (its invoke is untyped here).
  return {
    on: forwardQuotesTo(o.id, o.quoteBatches),
    invoke: {
      id: o.id,
      src: 'hedgedPair',
      input: ({ context }: { context: C }) => o.input(context),
      onDone: [
        {
          guard: 'executionLeftExposure',
          target: 'needsAttention',
          actions: [...booked, { type: 'raiseAttentionAfter', params: { what: o.what } }],
        },
        ...o.onward.map((t) => ({ ...t, actions: [...booked, ...(t.actions ?? [])] })),
      ],
    },
  } as never;
}
