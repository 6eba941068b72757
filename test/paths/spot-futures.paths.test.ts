import { describe, expect, it } from 'vitest';
import type { AnyMachineSnapshot } from 'xstate';
import {
  type SpotFuturesContext,
  type SpotFuturesParams,
  spotFuturesMachine,
} from '../../machines/strategies/spot-futures/machine.ts';
import { coverage } from './coverage.ts';
import { filledOrder, markets, needsAttentionEvents, pairOutput, quote } from './fixtures.ts';

const SPOT = 'BTC/USDT';
const PERP = 'BTC/USDT:USDT';
const T0 = 1_000_000;
const H = 3_600_000;

const params: SpotFuturesParams = {
  spot: { venue: 'sim', symbol: SPOT },
  perp: { venue: 'sim', symbol: PERP },
  amount: 1,
  direction: 'long-spot',
  minEntryBasisBps: 10,
  exitBasisBps: 2,
  maxEntryCostPct: 1,
  slippageBps: 0,
  maxHoldingHours: 24,
  maxAdverseFundingHours: 8,
  deltaToleranceBase: 0.01,
  staleAfterMs: 5_000,
  maxPositionNotional: 1e6,
  maxCycles: 2,
  cooldownMs: 1_000,
};

const ctx = (s: AnyMachineSnapshot) => s.context as SpotFuturesContext;
const entryLegs = (spotAmt: number, perpAmt: number) =>
  [
    { symbol: SPOT, side: 'buy' as const, amount: spotAmt, price: 60_000 },
    { symbol: PERP, side: 'sell' as const, amount: perpAmt, price: 60_300 },
  ] as [never, never];

function events(s: AnyMachineSnapshot) {
  const c = ctx(s);
  const t = c.now || T0;
  const pos = c.legs.spot.position;
  const perpPos = c.legs.perp.position;
  // Needs attention is explored in its own pass (the input with maxCycles 3): entries, exits and
  // rebalances that leave exposure, from paths without control, funding or time events, and inside
  // it only its own events. Its product with everything else adds states, not transitions.
  const plain = c.params.maxCycles === 3;
  if (plain && !s.matches('needsAttention'))
    return [
      quote('sim', SPOT, 60_000, t),
      quote('sim', PERP, 60_300, t),
      quote('sim', PERP, 60_001, t),
      { type: 'xstate.done.actor.pause' },
      { type: 'xstate.done.actor.entry', output: pairOutput('reached', entryLegs(1, 0.98)) },
      { type: 'xstate.done.actor.entry', output: pairOutput('unhedged', entryLegs(1, 0)) },
      { type: 'xstate.done.actor.entry', output: pairOutput('unresolved', entryLegs(1, 0)) },
      { type: 'xstate.done.actor.entry', output: pairOutput('unresolved', entryLegs(0, 0)) }, // nothing known filled
      { type: 'xstate.done.actor.exit', output: pairOutput('unhedged', closing(pos, 0)) },
      ...(Math.abs(pos) === 1
        ? [{ type: 'xstate.done.actor.exit', output: pairOutput('hedged', closing(0.5, 0.5)) }]
        : []),
      { type: 'xstate.done.actor.rebalance', output: pairOutput('unhedged', entryLegs(0, 0)) },
      { type: 'xstate.done.actor.rebalance', output: pairOutput('hedged', entryLegs(0, 0)) }, // drift remains
      // An operator's flatten while holding: exit now.
      ...(s.matches('holding') ? [{ type: 'OPERATOR.FLATTEN' }] : []),
      ...(s.matches('holding') || s.matches('watching')
        ? [
            {
              type: 'ATTENTION',
              reason: 'venue perp −2 but books −1',
              legs: [{ venue: 'sim', symbol: PERP, position: -2 }],
            },
          ]
        : []),
      // The venue closes a position mid-execution: noted, named when the execution ends.
      ...(s.matches('exiting')
        ? [
            {
              type: 'ATTENTION',
              reason: 'sim closed -1 PERP itself (liquidation) at 70000',
              legs: [{ venue: 'sim', symbol: PERP, position: 0 }],
            },
          ]
        : []),
      // The venue liquidates the held perp: its close is booked, the naked spot named. (Once per
      // path, before any control intervention or completed cycle: the books it changes multiply
      // the explored graph.)
      ...(s.matches('holding') &&
      perpPos === -1 &&
      !c.stopRequested &&
      !c.paused &&
      !c.riskBlocked &&
      c.completedCycles === 0
        ? [
            {
              type: 'ATTENTION',
              reason: 'sim closed -1 PERP itself (liquidation) at 70000',
              legs: [{ venue: 'sim', symbol: PERP, position: 0 }],
              closed: { venue: 'sim', fill: filledOrder(PERP, 'buy', 1, 70_000, 'liq').trades[0] },
            },
          ]
        : []),
    ];
  if (s.matches('needsAttention'))
    return [
      quote('sim', PERP, 60_300, t),
      { type: 'QUOTES', quotes: [quote('sim', SPOT, 60_000, t), quote('sim', PERP, 60_300, t)] },
      ...needsAttentionEvents({
        stopRequested: c.stopRequested !== undefined,
        resolvedFill: filledOrder(PERP, 'sell', 1, 60_300, 'Slost'),
        flattened: pairOutput('flat', closing(pos, perpPos)),
        notFlattened: pairOutput('unhedged', closing(pos, 0)),
      }),
    ];
  return [
    quote('sim', SPOT, 60_000, t),
    quote('sim', PERP, 60_300, t), // 50 bps rich: entry
    quote('sim', PERP, 60_001, t), // converged: exit
    // What the engine's quote gate sends: both legs' latest quotes in one event.
    { type: 'QUOTES', quotes: [quote('sim', SPOT, 60_000, t), quote('sim', PERP, 60_300, t)] },
    // Time moves through a few fixed instants so the explored graph stays finite.
    { type: 'TIME.TICK', now: T0 + 10_000 }, // quotes go stale
    { type: 'TIME.TICK', now: T0 + 25 * H }, // holding time passes
    { type: 'FUNDING.RATE', venue: 'sim', symbol: PERP, rate: -0.001, nextFundingTimestamp: 0, at: t },
    { type: 'FUNDING.RATE', venue: 'sim', symbol: PERP, rate: 0.0001, nextFundingTimestamp: 0, at: t },
    { type: 'TIME.TICK', now: T0 + 9 * H },
    { type: 'FUNDING.PAYMENT', venue: 'sim', symbol: PERP, amount: 5, id: `p${t}`, timestamp: t },
    // One control intervention per path keeps the explored product small.
    ...(c.stopRequested || c.paused || c.riskBlocked
      ? []
      : [
          { type: 'STOP', flatten: true },
          { type: 'STOP', flatten: false },
          { type: 'PAUSE' },
          { type: 'RISK.BREACH', reason: 'daily loss' },
          { type: 'RISK.BREACH', reason: 'kill switch', flatten: true },
        ]),
    ...(c.paused ? [{ type: 'RESUME' }] : []),
    ...(c.riskBlocked && !c.stopRequested ? [{ type: 'RISK.CLEAR' }] : []),
    { type: 'xstate.done.actor.entry', output: pairOutput('reached', entryLegs(1, 1)) },
    { type: 'xstate.done.actor.entry', output: pairOutput('reached', entryLegs(1, 0.98)) }, // hedged but drifted
    { type: 'xstate.done.actor.entry', output: pairOutput('nothingFilled', entryLegs(0, 0)) },
    { type: 'xstate.done.actor.exit', output: pairOutput('flat', closing(pos, perpPos)) },
    // A partial exit, still hedged: exit again within the budget (once, from the full position).
    ...(Math.abs(pos) === 1
      ? [{ type: 'xstate.done.actor.exit', output: pairOutput('hedged', closing(0.5, 0.5)) }]
      : []),
    { type: 'xstate.done.actor.exit', output: pairOutput('nothingFilled', entryLegs(0, 0)) },
    {
      type: 'xstate.done.actor.rebalance',
      output: pairOutput('reached', [
        { symbol: SPOT, side: 'buy', amount: 0, price: 60_000 },
        {
          symbol: PERP,
          side: 'sell',
          amount: Number(Math.abs(pos + perpPos).toFixed(6)) || 0.001,
          price: 60_300,
        },
      ]),
    },
    { type: 'xstate.done.actor.pause' },
  ];
}

/** A close-out of the given amounts: sell spot, buy the perp back. */
const closing = (spot: number, perp: number) =>
  [
    { symbol: SPOT, side: 'sell' as const, amount: Math.abs(spot), price: 60_000 },
    { symbol: PERP, side: 'buy' as const, amount: Math.abs(perp), price: 60_001 },
  ] as [never, never];

function invariant(s: AnyMachineSnapshot, stable: boolean): void {
  const c = ctx(s);
  const tol = c.params.deltaToleranceBase;
  const flat = Math.abs(c.legs.spot.position) <= tol && Math.abs(c.legs.perp.position) <= tol;
  const net = c.legs.spot.position + c.legs.perp.position;
  if (stable && (s.matches('watching') || s.matches('cooldown'))) expect(flat).toBe(true);
  if (stable && s.matches('holding')) expect(Math.abs(net)).toBeLessThanOrEqual(tol); // hedged while held
  // Exposure it could not close is named, with the residual per leg — never silently.
  if (s.matches('needsAttention')) {
    expect(c.attention?.reason).toBeTruthy();
    expect(c.attention?.legs.length).toBeGreaterThan(0);
  }
  if (s.matches('stopped') && !flat)
    expect(c.lastError?.name).toMatch(/StoppedWithPosition|ResolvedByOperator/);
  if (s.matches('completed')) expect(flat).toBe(true);
  // Bounded: three rebalances or exits, then needs attention (an operator's resume may add one more).
  expect(c.rebalances).toBeLessThanOrEqual(4);
  expect(c.exitAttempts).toBeLessThanOrEqual(4);
}

describe('spot–futures path coverage', () => {
  it('reaches every state and transition with the invariants holding at every microstep', () => {
    const input = { id: 'sf', params, markets: { spot: markets.spot, perp: markets.perp } };
    const report = coverage(spotFuturesMachine, {
      input,
      inputs: [input, { ...input, params: { ...params, maxCycles: 3 } }],
      events: events as never,
      serializeState: (s) => {
        const c = ctx(s);
        return JSON.stringify([
          s.value,
          Math.round(c.legs.spot.position * 1000),
          Math.round(c.legs.perp.position * 1000),
          c.quotes.perp ? Math.round(c.quotes.perp.bid) : 0,
          c.quotes.spot ? 1 : 0,
          Math.floor(((c.now || T0) - T0) / H),
          c.stopRequested?.flatten ?? null,
          c.paused,
          c.riskBlocked ?? null,
          c.fundingAdverseSince !== undefined,
          c.completedCycles,
          c.rebalances,
          c.exitAttempts,
          c.attention !== undefined,
          c.attention?.unknownOrders.length ?? 0,
        ]);
      },
      invariant,
    });
    expect(report.states.missing).toEqual([]);
    expect(report.transitions.missing).toEqual([]);
  }, 120_000); // an exhaustive exploration (~25 s alone on 2 cores): its budget, not a speed limit
});
