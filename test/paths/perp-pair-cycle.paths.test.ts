/**
 * The kit's perpPairCycleMachine, through the funding-carry example kind: every state and
 * transition reached with @xstate/graph, the invariants (flat at rest outside a position,
 * hedged while holding, needs attention naming its reason and legs) at every microstep.
 */
import { describe, it } from 'vitest';
import type { AnyMachineSnapshot } from 'xstate';
import {
  type FundingCarryContext,
  type FundingCarryParams,
  fundingCarryMachine,
} from '../../examples/custom-strategy/funding-carry.ts';
import { filledOrder, needsAttentionEvents, pairOutput, quote } from './fixtures.ts';
import { expectPerpPairCoverage } from './perp-pair.ts';

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

describe('the kit’s perp-pair cycle (the funding-carry example) path coverage', () => {
  it('reaches every state and transition with the invariants holding at every microstep', () => {
    expectPerpPairCoverage(fundingCarryMachine, {
      id: 'fc',
      params,
      events,
      kindKey: (c) => [c.fundingRates.legA ?? null, c.fundingRates.legB ?? null],
    });
  });
});
