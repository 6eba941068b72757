import { describe, expect, it } from 'vitest';
import {
  type MarketMakerParams,
  marketMakerMachine,
  marketMakerPnl,
} from '../../machines/strategies/market-making/machine.ts';
import { quote } from '../helpers.ts';
import { makeWorld } from './harness.ts';

const SPOT = 'BTC/USDT';
const BAL = { USDT: 100_000, BTC: 1 };

function params(over: Partial<MarketMakerParams> = {}): MarketMakerParams {
  return {
    market: { venue: 'sim', symbol: SPOT },
    orderAmount: 0.01,
    levels: 2,
    spreadBps: 5,
    levelSpacingBps: 5,
    reference: 'mid',
    inventorySkewBpsPerUnit: 100,
    maxInventoryBase: 0.05,
    refreshToleranceBps: 2,
    minOrderAgeMs: 2_000,
    staleAfterMs: 3_000,
    rejectBackoffMs: 500,
    maxPositionNotional: 10_000,
    ...over,
  };
}

function world() {
  const w = makeWorld([
    { name: 'sim', symbols: [SPOT], balances: BAL, fees: { [SPOT]: { maker: 0.0001, taker: 0.001 } } },
  ]);
  const sim = w.sims.sim!;
  const feed = (bid: number, ask: number, size = 1) =>
    sim.onBookTicker(quote(SPOT, bid, ask, size, size, w.clock.now()));
  return { ...w, sim, feed };
}

async function tick(w: ReturnType<typeof world>, bid: number, ask: number, n = 1, ms = 500) {
  for (let i = 0; i < n; i++) {
    w.feed(bid, ask);
    await w.clock.advanceBy(ms);
  }
}

describe('market maker', () => {
  it('quotes a two-level ladder around mid, gets filled, skews with inventory, and reconciles PnL', async () => {
    const w = world();
    const actor = w.start(marketMakerMachine, {
      id: 'mm-1',
      params: params(),
      market: w.market('sim', SPOT),
    });
    await tick(w, 59_999.5, 60_000.5, 2);
    const open = w.sim
      .fetchOpenOrders(SPOT)
      .map((o) => [o.side, o.price])
      .sort();
    // mid 60 000: 5 bps and 10 bps away, rounded passively to the cent
    expect(open).toEqual([
      ['buy', 59_940],
      ['buy', 59_970],
      ['sell', 60_030],
      ['sell', 60_060],
    ]);
    // A seller sweeps through our first bid.
    await tick(w, 59_950, 59_960, 1);
    const c1 = actor.getSnapshot().context;
    expect(c1.leg.position).toBeCloseTo(0.01, 12);
    // Back to 60 000 after the minimum age: new quotes skewed 1 bp lower for +0.01 inventory.
    await tick(w, 59_999.5, 60_000.5, 6);
    const bids = w.sim
      .fetchOpenOrders(SPOT)
      .filter((o) => o.side === 'buy')
      .map((o) => o.price!)
      .sort((a, b) => b - a);
    expect(bids[0]).toBe(59_964); // 60 000 × (1 − 5 bps − 1 bp)
    // A buyer lifts our first ask.
    await tick(w, 60_040, 60_045, 1);
    const c2 = actor.getSnapshot().context;
    expect(c2.leg.position).toBeCloseTo(0, 12);
    expect(c2.leg.realizedPnl).toBeCloseTo(0.01 * (60_030 - 59_970), 9); // bought 59 970, sold 60 030
    // The ladder follows the price up; when it falls back the new bid is hit again.
    await tick(w, 59_999.5, 60_000.5, 2);
    const s = actor.getSnapshot();
    expect(s.context.leg.position).toBeCloseTo(0.01, 12);
    const reported = marketMakerPnl(s.context);
    const venue = w.pnlAtCurrentMarks('sim', BAL);
    expect(Math.abs(reported - venue)).toBeLessThanOrEqual(1e-9 * Math.abs(venue));
  });

  it('stops quoting the side that would exceed the inventory limit', async () => {
    const w = world();
    const actor = w.start(marketMakerMachine, {
      id: 'mm-2',
      params: params({ maxInventoryBase: 0.01, levels: 1, minOrderAgeMs: 0 }),
      market: w.market('sim', SPOT),
    });
    await tick(w, 59_999.5, 60_000.5, 2);
    await tick(w, 59_950, 59_960, 4); // bid filled: inventory at the limit; the price stays there
    expect(actor.getSnapshot().context.leg.position).toBeCloseTo(0.01, 12);
    expect(w.sim.fetchOpenOrders(SPOT).map((o) => o.side)).toEqual(['sell']);
  });

  it('cancels everything on stale data and resumes when quotes return', async () => {
    const w = world();
    w.start(marketMakerMachine, { id: 'mm-3', params: params(), market: w.market('sim', SPOT) });
    await tick(w, 59_999.5, 60_000.5, 2);
    expect(w.sim.fetchOpenOrders(SPOT)).toHaveLength(4);
    await w.clock.advanceBy(5_000); // no quotes for 5 s
    expect(w.sim.fetchOpenOrders(SPOT)).toHaveLength(0);
    await tick(w, 59_999.5, 60_000.5, 2);
    expect(w.sim.fetchOpenOrders(SPOT)).toHaveLength(4);
  });

  it('STOP with flatten cancels the ladder and trades the inventory away', async () => {
    const w = world();
    const actor = w.start(marketMakerMachine, {
      id: 'mm-4',
      params: params(),
      market: w.market('sim', SPOT),
    });
    await tick(w, 59_999.5, 60_000.5, 2);
    await tick(w, 59_950, 59_960, 1);
    actor.send({ type: 'STOP', flatten: true });
    await tick(w, 59_999.5, 60_000.5, 3);
    const s = actor.getSnapshot();
    expect(s.value).toBe('stopped');
    expect(w.sim.fetchOpenOrders(SPOT)).toHaveLength(0);
    expect(s.context.leg.position).toBeCloseTo(0, 12);
    expect(w.sim.balances().BTC!.total).toBeCloseTo(1, 12);
  });
});
