/**
 * Liquidations: a unified account counts the spot leg of a basis trade as collateral (with a
 * haircut), and a position the venue closes itself reaches the owning strategy at once — it
 * goes to needs attention naming the liquidation, never stays `holding` with a naked leg.
 */
import { describe, expect, it } from 'vitest';
import type { AnyActorRef } from 'xstate';
import { spotFuturesMachine } from '../../machines/strategies/spot-futures.ts';
import { VirtualClock } from '../../src/clock/clock.ts';
import { simMarket } from '../../src/exchange/sim/markets.ts';
import { SimVenue, type VenueEvent } from '../../src/exchange/sim/venue.ts';
import { quote } from '../helpers.ts';
import { feedBasis, makeWorld, spotFuturesParams } from '../machines/harness.ts';

const SPOT = 'BTC/USDT';
const PERP = 'BTC/USDT:USDT';

/** Long 1 BTC spot, short 1 BTC perp at 20×, with little USDT left: then BTC rallies `pct`. */
function basisAccount(pct: number, collateralHaircuts?: false) {
  const clock = new VirtualClock(Date.UTC(2026, 0, 1, 10));
  const v = new SimVenue({
    name: 'v',
    clock,
    markets: [simMarket('v', SPOT), simMarket('v', PERP)],
    balances: { USDT: 64_000 },
    ...(collateralHaircuts === false ? { collateralHaircuts } : {}),
  });
  const events: VenueEvent[] = [];
  v.subscribeEvents((e) => events.push(e));
  const at = (p: number) => {
    v.onBookTicker(quote(SPOT, p - 0.5, p + 0.5, 10, 10));
    v.onBookTicker(quote(PERP, p - 0.05, p + 0.05, 10, 10));
  };
  at(60_000);
  v.setLeverage(PERP, 20);
  v.placeOrder({ clientOrderId: 's', symbol: SPOT, side: 'buy', type: 'market', amount: 1 });
  v.placeOrder({ clientOrderId: 'p', symbol: PERP, side: 'sell', type: 'market', amount: 1 });
  at(60_000 * (1 + pct / 100));
  return { v, events };
}

describe('liquidations', () => {
  it('a 6.7 % rally does not liquidate the perp of a basis trade: its spot leg is collateral', () => {
    const { v, events } = basisAccount(6.7);
    expect(events.filter((e) => e.type === 'liquidation')).toEqual([]);
    expect(v.positions([PERP])[0]!.size).toBe(-1);
  });

  it('with only the settle wallet as collateral (collateralHaircuts: false) the same rally liquidates it', () => {
    const { v, events } = basisAccount(6.7, false);
    expect(events.filter((e) => e.type === 'liquidation')).toHaveLength(1);
    expect(v.positions([PERP])[0]?.size ?? 0).toBe(0);
  });

  it('a strategy whose perp the venue liquidates goes to needs attention, naming the liquidation', async () => {
    const w = makeWorld([{ name: 'sim', symbols: [SPOT, PERP], balances: { USDT: 8_000 } }], {
      start: Date.UTC(2026, 0, 1, 10),
      collateralHaircuts: false,
    });
    const sim = w.sims.sim!;
    sim.setLeverage(PERP, 20);
    const feed = (spot: number, perp: number) => feedBasis(w, spot, perp);
    const params = spotFuturesParams({ amount: 0.1 });

    const a: AnyActorRef = w.start(spotFuturesMachine, {
      id: 'liq-sf',
      params,
      markets: { spot: w.market('sim', SPOT), perp: w.market('sim', PERP) },
    });
    for (let i = 0; i < 20 && String(a.getSnapshot().value) !== 'holding'; i++) {
      feed(60_000, 60_300);
      await w.clock.advanceBy(250);
    }
    expect(String(a.getSnapshot().value)).toBe('holding');
    // Spot bought 0.1 for ~6,000 of the 8,000: a 40 % rally takes the rest and more.
    feed(84_000, 84_300);
    await w.clock.advanceBy(100);
    expect(sim.positions([PERP])[0]?.size ?? 0).toBe(0);
    // Whatever it was doing when the push came (here: an exit), it ends in needs attention.
    for (let i = 0; i < 120 && !JSON.stringify(a.getSnapshot().value).includes('needsAttention'); i++) {
      feed(84_000, 84_300);
      await w.clock.advanceBy(250);
    }
    const s = a.getSnapshot();
    expect(JSON.stringify(s.value)).toContain('needsAttention');
    expect(s.context.attention.reason).toMatch(/liquidation/);
    // The exit it was running closed the spot; the perp the books still show is the venue's doing.
    expect(s.context.attention.reason).toMatch(/sim closed -0\.1 BTC\/USDT:USDT itself/);
    a.stop();
  });
});
