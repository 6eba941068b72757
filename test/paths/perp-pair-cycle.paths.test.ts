/**
 * The kit's perpPairCycleMachine, through the funding-carry example kind: every state and
 * transition reached with @xstate/graph, the invariants (flat at rest outside a position,
 * hedged while holding, needs attention naming its reason and legs) at every microstep.
 */
import { describe, expect, it } from 'vitest';
import type { AnyMachineSnapshot } from 'xstate';
import {
  type FundingCarryContext,
  type FundingCarryParams,
  fundingCarryMachine,
} from '../../examples/custom-strategy/funding-carry.ts';
import { coverage } from './coverage.ts';
import { filledOrder, markets, needsAttentionEvents, pairOutput, quote } from './fixtures.ts';

const PERP = 'BTC/USDT:USDT';
const T0 = 1_000_000;
const H = 3_600_000;

const params: FundingCarryParams = {
  legA: { venue: 'sim', symbol: PERP },
  legB: { venue: 'bybit', symbol: PERP },
  amount: 1,
  minFundingSpreadBps: 3,
  exitFundingSpreadBps: 1,
  stopLossQuote: 100,
  maxHoldingHours: 12,
  deltaToleranceBase: 0.01,
  staleAfterMs: 5_000,
  maxPositionNotional: 1e6,
  maxCycles: 2,
  cooldownMs: 1_000,
};

const ctx = (s: AnyMachineSnapshot) => s.context as FundingCarryContext;
const rate = (venue: string, r: number, at: number) => ({
  type: 'FUNDING.RATE',
  venue,
  symbol: PERP,
  rate: r,
  nextFundingTimestamp: T0 + H,
  at,
});

function events(s: AnyMachineSnapshot) {
  const c = ctx(s);
  const t = c.now || T0;
  const a = c.legs.legA.position;
  const b = c.legs.legB.position;
  const exitLegs = [
    { symbol: PERP, side: a > 0 ? 'sell' : 'buy', amount: Math.abs(a), price: 60_000 },
    { symbol: PERP, side: b > 0 ? 'sell' : 'buy', amount: Math.abs(b), price: 60_000 },
  ] as [never, never];
  const entry = (
    outcome: 'reached' | 'nothingFilled' | 'unhedged' | 'unresolved',
    qa: number,
    qb: number,
  ) => ({
    type: 'xstate.done.actor.entry',
    output: pairOutput(outcome, [
      { symbol: PERP, side: 'buy', amount: qa, price: 60_000 },
      { symbol: PERP, side: 'sell', amount: qb, price: 60_180 },
    ]),
  });
  // Needs attention is explored in its own pass (the input with maxCycles 3), from plain paths.
  if (s.matches('needsAttention'))
    return [
      quote('bybit', PERP, 60_000, t),
      ...needsAttentionEvents({
        stopRequested: c.stopRequested !== undefined,
        resolvedFill: filledOrder(PERP, 'sell', 1, 60_180, 'Slost'),
        flattened: pairOutput('flat', exitLegs),
        notFlattened: pairOutput('unhedged', [
          exitLegs[0],
          { ...(exitLegs[1] as object), amount: 0 },
        ] as never),
      }),
    ];
  if (c.params.maxCycles === 3)
    return [
      quote('sim', PERP, 60_000, t),
      quote('bybit', PERP, 60_000, t),
      rate('sim', 0.0001, t),
      rate('bybit', 0.0006, t),
      { type: 'xstate.done.actor.pause' },
      entry('unhedged', 1, 0),
      entry('unresolved', 1, 0),
      entry('unresolved', 0, 0),
      {
        type: 'xstate.done.actor.exit',
        output: pairOutput('unhedged', [exitLegs[0], { ...(exitLegs[1] as object), amount: 0 }] as never),
      },
      // An operator's flatten while holding: exit now.
      ...(s.matches('holding') ? [{ type: 'OPERATOR.FLATTEN' }] : []),
      ...(s.matches('holding') || s.matches('watching')
        ? [
            {
              type: 'ATTENTION',
              reason: 'venue B −2 but books −1',
              legs: [{ venue: 'bybit', symbol: PERP, position: -2 }],
            },
          ]
        : []),
      // The venue closes a position mid-execution: noted, named when the execution ends.
      ...(s.matches('exiting')
        ? [
            {
              type: 'ATTENTION',
              reason: 'bybit closed -1 PERP itself (liquidation) at 70000',
              legs: [{ venue: 'bybit', symbol: PERP, position: 0 }],
            },
          ]
        : []),
    ];
  return [
    quote('sim', PERP, 60_000, t),
    quote('bybit', PERP, 60_000, t),
    rate('sim', 0.0001, t),
    rate('bybit', 0.0006, t), // B pays 5 bps more: long A, short B
    rate('bybit', 0.0001, t), // the spread is gone: exit
    rate('bybit', -0.0004, t), // A pays 5 bps more: long B, short A
    quote('sim', PERP, 59_000, t), // A collapses: stop loss for a long A
    { type: 'TIME.TICK', now: T0 + 10_000 },
    { type: 'TIME.TICK', now: T0 + 13 * H },
    { type: 'FUNDING.PAYMENT', venue: 'sim', symbol: PERP, amount: 3, id: 'fa', timestamp: T0 },
    { type: 'FUNDING.PAYMENT', venue: 'bybit', symbol: PERP, amount: -3, id: 'fb', timestamp: T0 },
    ...(c.stopRequested || c.paused || c.riskBlocked
      ? []
      : [
          { type: 'STOP', flatten: true },
          { type: 'STOP', flatten: false },
          { type: 'PAUSE' },
          { type: 'RISK.BREACH', reason: 'r' },
        ]),
    ...(c.paused ? [{ type: 'RESUME' }] : []),
    ...(c.riskBlocked ? [{ type: 'RISK.CLEAR' }] : []),
    entry('reached', 1, 1),
    entry('nothingFilled', 0, 0),
    { type: 'xstate.done.actor.exit', output: pairOutput('flat', exitLegs) },
    {
      type: 'xstate.done.actor.exit',
      output: pairOutput(
        'nothingFilled',
        [exitLegs[0], exitLegs[1]].map((l: { symbol: string; side: string; price: number }) => ({
          ...l,
          amount: 0,
        })) as [never, never],
      ),
    },
    { type: 'xstate.done.actor.pause' },
  ];
}

function invariant(s: AnyMachineSnapshot, stable: boolean): void {
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

describe('the kit’s perp-pair cycle (the funding-carry example) path coverage', () => {
  it('reaches every state and transition with the invariants holding at every microstep', () => {
    const input = { id: 'fc', params, markets: { legA: markets.perp, legB: markets.perpB } };
    const report = coverage(fundingCarryMachine, {
      input,
      inputs: [input, { ...input, params: { ...params, maxCycles: 3 } }],
      events: events as never,
      serializeState: (s) => {
        const c = ctx(s);
        return JSON.stringify([
          s.value,
          Math.round(c.legs.legA.position * 100),
          Math.round(c.legs.legB.position * 100),
          c.quotes.legA ? Math.round(c.quotes.legA.bid) : 0,
          c.quotes.legB ? Math.round(c.quotes.legB.bid) : 0,
          c.fundingRates.legA ?? null,
          c.fundingRates.legB ?? null,
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
      invariant,
    });
    expect(report.states.missing).toEqual([]);
    expect(report.transitions.missing).toEqual([]);
  });
});
