import { describe, expect, it } from 'vitest';
import { InvalidParamsError } from '../../machines/params.ts';
import {
  type SpotFuturesParams,
  spotFuturesMachine,
  spotFuturesPnl,
  validateSpotFuturesParams,
} from '../../machines/strategies/spot-futures/machine.ts';
import { quote } from '../helpers.ts';
import { makeWorld } from './harness.ts';

const SPOT = 'BTC/USDT';
const PERP = 'BTC/USDT:USDT';
const BAL = { USDT: 200_000 };

function params(over: Partial<SpotFuturesParams> = {}): SpotFuturesParams {
  return {
    spot: { venue: 'sim', symbol: SPOT },
    perp: { venue: 'sim', symbol: PERP },
    amount: 0.5,
    direction: 'long-spot',
    minEntryBasisBps: 10,
    exitBasisBps: 2,
    maxEntryCostPct: 1,
    slippageBps: 0,
    maxHoldingHours: 24,
    maxAdverseFundingHours: 8,
    deltaToleranceBase: 0.0005,
    staleAfterMs: 5_000,
    maxPositionNotional: 100_000,
    maxCycles: 1,
    cooldownMs: 1_000,
    ...over,
  };
}

function world() {
  const w = makeWorld([
    {
      name: 'sim',
      symbols: [SPOT, PERP],
      balances: BAL,
      fees: { [SPOT]: { maker: 0.001, taker: 0.001 }, [PERP]: { maker: 0.0002, taker: 0.0004 } },
    },
  ]);
  const sim = w.sims.sim!;
  const feed = (spotMid: number, perpMid: number) => {
    const t = w.clock.now();
    sim.onBookTicker(quote(SPOT, spotMid - 0.5, spotMid + 0.5, 3, 3, t));
    sim.onBookTicker(quote(PERP, perpMid - 0.05, perpMid + 0.05, 3, 3, t));
  };
  return { ...w, sim, feed };
}

const input = (w: ReturnType<typeof world>, over: Partial<SpotFuturesParams> = {}) => ({
  id: 'basis-1',
  params: params(over),
  markets: { spot: w.market('sim', SPOT), perp: w.market('sim', PERP) },
});

/** Feed quotes every `stepMs` for `ms`, mids from `path(t)`. */
async function drive(
  w: ReturnType<typeof world>,
  ms: number,
  path: (t: number) => [number, number],
  stepMs = 1_000,
) {
  const end = w.clock.now() + ms;
  while (w.clock.now() < end) {
    const [s, p] = path(w.clock.now());
    w.feed(s, p);
    await w.clock.advanceBy(stepMs);
  }
}

describe('spot–futures basis strategy against the simulated venue', () => {
  it('finds a rich perp, enters hedged, collects funding, exits on convergence; PnL equals the account change', async () => {
    const w = world();
    const actor = w.start(spotFuturesMachine, input(w));
    await drive(w, 10_000, () => [60_000, 60_010]); // 1.7 bps: nothing to do
    expect(actor.getSnapshot().value).toBe('watching');
    await drive(w, 5_000, () => [60_000, 60_200]); // 33 bps gross, 28 − 28 cost... wide enough?
    await drive(w, 5_000, () => [60_000, 60_300]); // 50 bps gross − 28 bps round trip = 22 ≥ 10
    expect(actor.getSnapshot().value).toBe('holding');
    const held = actor.getSnapshot().context;
    expect(held.legs.spot.position).toBeCloseTo(0.5, 12);
    expect(held.legs.perp.position).toBeCloseTo(-0.5, 12);
    w.sim.onFundingRate({
      symbol: PERP,
      rate: 0.0003,
      nextFundingTimestamp: 0,
      intervalMs: 8 * 3_600_000,
      timestamp: w.clock.now(),
    });
    // Hold through the 08:00 funding with the basis still wide…
    await drive(w, 3_600_000, () => [60_000, 60_250], 10_000);
    expect(actor.getSnapshot().value).toBe('holding');
    expect(actor.getSnapshot().context.legs.perp.funding).toBeGreaterThan(0);
    // …then it converges.
    await drive(w, 20_000, () => [60_100, 60_100.5]);
    const s = actor.getSnapshot();
    expect(s.value).toBe('completed');
    expect(s.context.legs.spot.position).toBe(0);
    expect(s.context.legs.perp.position).toBe(0);
    const venuePnl = w.pnlAtCurrentMarks('sim', BAL);
    const reported = spotFuturesPnl(s.context);
    expect(Math.abs(reported - venuePnl)).toBeLessThanOrEqual(1e-9 * Math.abs(venuePnl));
    expect(s.context.legs.perp.funding).toBeCloseTo(0.5 * 60_250 * 0.0003, 6);
    // 50 bps entry, ~0 exit, funding in, fees out: a real profit
    expect(reported).toBeGreaterThan(0);
    expect(w.sim.positions()).toHaveLength(0);
  });

  it('does not enter on stale quotes, exits when holding time runs out, and stops without flattening when told', async () => {
    const w = world();
    const actor = w.start(spotFuturesMachine, input(w, { maxHoldingHours: 1, maxCycles: 0 }));
    w.feed(60_000, 60_010);
    await w.clock.advanceBy(10_000); // the spot book goes quiet: its quote is 10 s old
    w.sim.onBookTicker(quote(PERP, 60_299.95, 60_300.05, 3, 3, w.clock.now())); // the perp alone looks rich
    await w.clock.advanceBy(2_000);
    expect(actor.getSnapshot().value).toBe('watching');
    await drive(w, 3_000, () => [60_000, 60_300]); // fresh on both sides now
    expect(actor.getSnapshot().value).toBe('holding');
    const enteredAt = actor.getSnapshot().context.enteredAt!;
    await drive(w, 3_600_000 + 60_000, () => [60_000, 60_300], 60_000);
    const ctx = actor.getSnapshot().context;
    expect(ctx.completedCycles).toBe(1); // exited on the time limit with the basis still wide, then re-entered
    expect(ctx.enteredAt! - enteredAt).toBeGreaterThanOrEqual(3_600_000);
    actor.send({ type: 'STOP', flatten: false });
    await drive(w, 2_000, () => [60_000, 60_300]);
    const s = actor.getSnapshot();
    expect(s.value).toBe('stopped');
    expect(s.context.legs.spot.position).toBeCloseTo(0.5, 12);
    expect(s.context.lastError?.name).toBe('StoppedWithPosition');
  });

  it('STOP with flatten closes the hedge before stopping', async () => {
    const w = world();
    const actor = w.start(spotFuturesMachine, input(w, { maxCycles: 0 }));
    await drive(w, 3_000, () => [60_000, 60_300]);
    expect(actor.getSnapshot().value).toBe('holding');
    actor.send({ type: 'STOP', flatten: true });
    await drive(w, 3_000, () => [60_000, 60_300]);
    expect(actor.getSnapshot().value).toBe('stopped');
    expect(w.sim.positions()).toHaveLength(0);
    expect(w.sim.balances().BTC?.total ?? 0).toBeCloseTo(0, 12);
  });

  it('rejects invalid params naming each field', () => {
    const w = world();
    const bad = input(w, { amount: -1, exitBasisBps: 50 });
    expect(() => validateSpotFuturesParams(bad.params, bad.markets)).toThrow(InvalidParamsError);
    try {
      validateSpotFuturesParams(bad.params, bad.markets);
    } catch (e) {
      expect((e as InvalidParamsError).issues.map((i) => i.path)).toEqual(['amount', 'exitBasisBps']);
    }
  });
});
