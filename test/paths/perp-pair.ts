/**
 * Path coverage of a kind built on the kit's perp-pair cycle (futures-spread, the funding-carry
 * example): the cycle's invariant, and the walk over every state and transition with the cycle's
 * own state abstraction plus the kind's.
 */
import { expect } from 'vitest';
import type { AnyMachineSnapshot, AnyStateMachine } from 'xstate';
import type { PerpPairContext } from '../../machines/strategies/kit/perp-pair-cycle.ts';
import { coverage } from './coverage.ts';
import { markets } from './fixtures.ts';

const T0 = 1_000_000;
const ctx = (s: AnyMachineSnapshot) => s.context as PerpPairContext;

/** Flat at rest outside a position, hedged while holding, needs attention naming why and each leg. */
export function perpPairInvariant(s: AnyMachineSnapshot, stable: boolean): void {
  const c = ctx(s);
  const tol = c.params.deltaToleranceBase;
  const flat = Math.abs(c.legs.legA.position) <= tol && Math.abs(c.legs.legB.position) <= tol;
  if (stable && (s.matches('watching') || s.matches('cooldown') || s.matches('warmingUp')))
    expect(flat).toBe(true);
  if (stable && s.matches('holding')) {
    expect(Math.abs(c.legs.legA.position + c.legs.legB.position)).toBeLessThanOrEqual(tol);
    expect(c.positionSign).not.toBe(0);
  }
  if (s.matches('needsAttention')) {
    expect(c.attention?.reason).toBeTruthy();
    expect(c.attention?.legs.length).toBeGreaterThan(0);
  }
  if (s.matches('stopped') && !flat)
    expect(c.lastError?.name).toMatch(/StoppedWithPosition|ResolvedByOperator/);
  if (s.matches('completed')) expect(flat).toBe(true);
}

/**
 * Every state and transition of `machine` reached with the invariant holding at every microstep,
 * from `params` and the same params with maxCycles 3. `kindKey` adds what the kind's own state
 * must tell apart (its statistics, its funding rates).
 */
export function expectPerpPairCoverage<P extends { maxCycles: number }>(
  machine: AnyStateMachine,
  o: {
    id: string;
    params: P;
    events: (s: AnyMachineSnapshot) => unknown[];
    kindKey: (c: PerpPairContext) => unknown[];
  },
): void {
  const input = { id: o.id, params: o.params, markets: { legA: markets.perp, legB: markets.perpB } };
  const report = coverage(machine, {
    input,
    inputs: [input, { ...input, params: { ...o.params, maxCycles: 3 } }],
    events: o.events as never,
    serializeState: (s) => {
      const c = ctx(s);
      return JSON.stringify([
        s.value,
        Math.round(c.legs.legA.position * 100),
        Math.round(c.legs.legB.position * 100),
        c.quotes.legA ? Math.round(c.quotes.legA.bid) : 0,
        c.quotes.legB ? Math.round(c.quotes.legB.bid) : 0,
        ...o.kindKey(c),
        Math.floor(((c.now || T0) - T0) / 10_000),
        c.stopRequested?.flatten ?? null,
        c.paused,
        c.riskBlocked ?? null,
        c.completedCycles,
        c.exitAttempts,
        c.attention !== undefined,
        c.attention?.unknownOrders.length ?? 0,
      ]);
    },
    invariant: perpPairInvariant,
  });
  expect(report.states.missing).toEqual([]);
  expect(report.transitions.missing).toEqual([]);
}
