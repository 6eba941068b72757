import { describe, expect, it } from 'vitest';
import type { AnyMachineSnapshot } from 'xstate';
import {
  type SpotFuturesContext,
  type SpotFuturesParams,
  spotFuturesMachine,
} from '../../machines/strategies/spot-futures.ts';
import { coverage } from './coverage.ts';
import { filledOrder, markets, orderOutput, pairOutput, quote } from './fixtures.ts';

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
    { type: 'xstate.done.actor.entry', output: pairOutput('hedged', entryLegs(1, 1)) },
    { type: 'xstate.done.actor.entry', output: pairOutput('hedged', entryLegs(1, 0.98)) }, // hedged but drifted
    { type: 'xstate.done.actor.entry', output: pairOutput('nothingFilled', entryLegs(0, 0)) },
    { type: 'xstate.done.actor.entry', output: pairOutput('unhedged', entryLegs(1, 0)) },
    {
      type: 'xstate.done.actor.exit',
      output: pairOutput('flat', [
        { symbol: SPOT, side: 'sell', amount: Math.abs(pos), price: 60_000 },
        { symbol: PERP, side: 'buy', amount: Math.abs(perpPos), price: 60_001 },
      ]),
    },
    { type: 'xstate.done.actor.exit', output: pairOutput('nothingFilled', entryLegs(0, 0)) },
    {
      type: 'xstate.done.actor.rebalance',
      output: orderOutput(
        filledOrder(PERP, 'sell', Number(Math.abs(pos + perpPos).toFixed(6)) || 0.001, 60_300),
        'filled',
      ),
    },
    { type: 'xstate.done.actor.rebalance', output: orderOutput(undefined, 'rejected') },
    { type: 'xstate.done.actor.pause' },
  ];
}

function invariant(s: AnyMachineSnapshot, stable: boolean): void {
  const c = ctx(s);
  const tol = c.params.deltaToleranceBase;
  const flat = Math.abs(c.legs.spot.position) <= tol && Math.abs(c.legs.perp.position) <= tol;
  const net = c.legs.spot.position + c.legs.perp.position;
  if (stable && (s.matches('watching') || s.matches('cooldown'))) expect(flat).toBe(true);
  if (stable && s.matches('holding')) expect(Math.abs(net)).toBeLessThanOrEqual(tol); // hedged while held
  if (s.matches('failed')) expect(c.lastError).toBeDefined(); // never silently
  if (s.matches('stopped') && !flat)
    expect(c.lastError?.name).toMatch(/StoppedWithPosition|Unhedged|ExitIncomplete/);
  if (s.matches('completed')) expect(flat).toBe(true);
  expect(c.rebalances).toBeLessThanOrEqual(3);
  expect(c.exitAttempts).toBeLessThanOrEqual(3);
}

describe('spot–futures path coverage', () => {
  it('reaches every state and transition with the invariants holding at every microstep', () => {
    const report = coverage(spotFuturesMachine, {
      input: { id: 'sf', params, markets: { spot: markets.spot, perp: markets.perp } },
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
        ]);
      },
      invariant,
    });
    expect(report.states.missing).toEqual([]);
    expect(report.transitions.missing).toEqual([]);
  });
});
