/**
 * Funding reaches the strategies when the venue pays it (pushed on the account stream, the
 * poll only a fallback), for every strategy that holds a perpetual — the market maker too.
 */
import { describe, expect, it } from 'vitest';
import type { AnyActorRef } from 'xstate';
import {
  type MarketMakerParams,
  marketMakerMachine,
} from '../../machines/strategies/market-making/machine.ts';
import { spotFuturesMachine } from '../../machines/strategies/spot-futures/machine.ts';
import { quote } from '../helpers.ts';
import { feedBasis, makeWorld, spotFuturesParams } from '../machines/harness.ts';

const SPOT = 'BTC/USDT';
const PERP = 'BTC/USDT:USDT';
/** Two minutes before the 08:00 UTC settlement. */
const START = Date.UTC(2026, 0, 1, 7, 58);
const SETTLEMENT = Date.UTC(2026, 0, 1, 8, 0);

const paidBy = (w: ReturnType<typeof makeWorld>) =>
  w.sims.sim!.fundingPayments(PERP).reduce((s, p) => s + p.amount, 0);

describe('funding on time, for every strategy on a perpetual', () => {
  it('spot–futures books the 08:00 payment within the stream latency, not at the next poll', async () => {
    const w = makeWorld([{ name: 'sim', symbols: [SPOT, PERP], balances: { USDT: 100_000 } }], {
      start: START,
    });
    const _sim = w.sims.sim!;
    const feed = (spot: number, perp: number) => feedBasis(w, spot, perp);
    const params = spotFuturesParams({ amount: 0.1 });

    const a: AnyActorRef = w.start(spotFuturesMachine, {
      id: 'funding-sf',
      params,
      markets: { spot: w.market('sim', SPOT), perp: w.market('sim', PERP) },
    });
    while (w.clock.now() < SETTLEMENT - 250) {
      feed(60_000, 60_300);
      await w.clock.advanceBy(250);
    }
    expect(String(a.getSnapshot().value)).toBe('holding');
    // The poll ran at start (07:58) and next runs at 07:59 and 08:00:00.xxx; step past the
    // settlement by less than a poll and by more than the stream latency.
    await w.clock.advanceBy(250 + 20);
    expect(paidBy(w)).not.toBe(0);
    expect(a.getSnapshot().context.legs.perp.funding).toBeCloseTo(paidBy(w), 9);
    // Pushed and then polled: one payment, booked once.
    for (let i = 0; i < 300; i++) {
      feed(60_000, 60_300);
      await w.clock.advanceBy(250);
    }
    expect(a.getSnapshot().context.legs.perp.funding).toBeCloseTo(paidBy(w), 9);
    a.stop();
  });

  it('the market maker on a perpetual books the funding its inventory pays', async () => {
    const w = makeWorld([{ name: 'sim', symbols: [PERP], balances: { USDT: 100_000 } }], { start: START });
    const sim = w.sims.sim!;
    const feed = (bid: number, ask: number) => sim.onBookTicker(quote(PERP, bid, ask, 5, 5, w.clock.now()));
    const params: MarketMakerParams = {
      market: { venue: 'sim', symbol: PERP },
      orderAmount: 0.01,
      levels: 1,
      spreadBps: 3,
      levelSpacingBps: 3,
      reference: 'mid',
      inventorySkewBpsPerUnit: 0,
      maxInventoryBase: 0.05,
      refreshToleranceBps: 200,
      minOrderAgeMs: 60_000,
      staleAfterMs: 5_000,
      rejectBackoffMs: 500,
      maxPositionNotional: 10_000,
    };
    const a: AnyActorRef = w.start(marketMakerMachine, {
      id: 'funding-mm',
      params,
      market: w.market('sim', PERP),
    });
    for (let i = 0; i < 8; i++) {
      feed(59_999.9, 60_000.1);
      await w.clock.advanceBy(250);
    }
    // The book drops through the maker's bid: it buys and holds a long into the settlement.
    while (w.clock.now() < SETTLEMENT + 1_000) {
      feed(59_900, 59_900.2);
      await w.clock.advanceBy(250);
    }
    const c = a.getSnapshot().context;
    expect(sim.positions([PERP])[0]!.size).toBeGreaterThan(0);
    expect(paidBy(w)).toBeLessThan(0); // a long pays a positive rate
    expect(c.leg.funding).toBeCloseTo(paidBy(w), 9);
    a.stop();
  });
});
