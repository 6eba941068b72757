/**
 * Liquidations: a unified account counts the spot leg of a basis trade as collateral (with a
 * haircut), and a position the venue closes itself reaches the owning strategy at once — it
 * goes to needs attention naming the liquidation, never stays `holding` with a naked leg.
 */
import { describe, expect, it } from 'vitest';
import type { AnyActorRef } from 'xstate';
import { type LegBook, legPnl, newLeg } from '../../machines/accounting.ts';
import { applyVenueClose } from '../../machines/strategies/kit/books.ts';
import {
  type MarketMakerParams,
  marketMakerMachine,
} from '../../machines/strategies/market-making/machine.ts';
import { spotFuturesMachine } from '../../machines/strategies/spot-futures/machine.ts';
import { VirtualClock } from '../../src/clock/clock.ts';
import { simMarket, venueCollateralHaircuts } from '../../src/exchange/sim/markets.ts';
import { SimVenue, type VenueEvent } from '../../src/exchange/sim/venue.ts';
import { quote } from '../helpers.ts';
import { feedBasis, makeWorld, spotFuturesParams } from '../machines/harness.ts';

const SPOT = 'BTC/USDT';
const PERP = 'BTC/USDT:USDT';

/** Long 1 BTC spot, short 1 BTC perp at 20×, with little USDT left: then BTC rallies `pct`. */
function basisAccount(pct: number, collateralHaircuts?: false, venue = 'v') {
  const clock = new VirtualClock(Date.UTC(2026, 0, 1, 10));
  const v = new SimVenue({
    name: venue,
    clock,
    markets: [simMarket(venue, SPOT), simMarket(venue, PERP)],
    balances: { USDT: 64_000 },
    ...(collateralHaircuts === false
      ? { collateralHaircuts }
      : { collateralHaircuts: venueCollateralHaircuts(venue) }),
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

  it('the venue presets: Binance margins the perp from its futures wallet only, Bybit and OKX count the spot', () => {
    expect(venueCollateralHaircuts('binance')).toBe(false);
    expect(
      basisAccount(6.7, undefined, 'binance').events.filter((e) => e.type === 'liquidation'),
    ).toHaveLength(1);
    for (const venue of ['bybit', 'okx']) {
      expect(venueCollateralHaircuts(venue)).toMatchObject({ BTC: 0.05 });
      expect(basisAccount(6.7, undefined, venue).events.filter((e) => e.type === 'liquidation')).toEqual([]);
    }
  });

  it('a close is booked on a leg only up to flat: a larger one never flips it, one that would add is not the leg’s', () => {
    const short = { ...newLeg('v', PERP), position: -0.3, entryPrice: 60_000 };
    const close = {
      id: 'v-liq-1',
      orderId: 'liquidation-v-1',
      clientOrderId: '',
      symbol: PERP,
      side: 'buy' as const,
      price: 70_000,
      amount: 0.5,
      cost: 35_000,
      fee: { currency: 'USDT', cost: 17.5 },
      takerOrMaker: 'taker' as const,
      timestamp: 1,
    };
    const booked = applyVenueClose(short, close);
    expect(booked.position).toBe(0);
    expect(booked.fees).toBeCloseTo(17.5 * 0.6, 9);
    expect(booked.realizedPnl).toBeCloseTo(-0.3 * 10_000, 6);
    expect(applyVenueClose({ ...short, position: 0.3 }, close).position).toBe(0.3);
    expect(applyVenueClose(booked, close)).toBe(booked);
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
    expect(s.context.attention.reason).toMatch(/sim closed -0\.1 BTC\/USDT:USDT itself/);
    // The exit plans from positions: past the order in flight when the push came, it never
    // tried to buy back the short the venue had closed.
    expect(s.context.attention.reason.match(/would not reduce/g)?.length ?? 0).toBeLessThanOrEqual(1);
    expect(s.context.attention.reason).toMatch(/exit: ended flat/);
    // The books say what the venue did: the liquidation's close (and its fee) is booked on the perp.
    expect(s.context.legs.perp.position).toBe(0);
    expect(s.context.legs.spot.position).toBeCloseTo(sim.balances().BTC?.total ?? 0, 9);
    expectPnlIsEquityChange(w, s.context, 8_000);
    a.stop();
  });

  it('auto-deleveraging part of a hedged perp: books follow the venue, needs attention names it', async () => {
    const w = makeWorld([{ name: 'sim', symbols: [SPOT, PERP], balances: { USDT: 100_000 } }], {
      start: Date.UTC(2026, 0, 1, 10),
    });
    const sim = w.sims.sim!;
    const a: AnyActorRef = w.start(spotFuturesMachine, {
      id: 'adl-sf',
      params: spotFuturesParams({ amount: 0.1 }),
      markets: { spot: w.market('sim', SPOT), perp: w.market('sim', PERP) },
    });
    for (let i = 0; i < 20 && String(a.getSnapshot().value) !== 'holding'; i++) {
      feedBasis(w, 60_000, 60_300);
      await w.clock.advanceBy(250);
    }
    expect(String(a.getSnapshot().value)).toBe('holding');
    // The basis narrowed a little: the short perp is in profit, first in the deleveraging queue.
    feedBasis(w, 60_000, 60_280);
    expect(sim.autoDeleverage(PERP, 0.5)).toBeCloseTo(-0.05, 9);
    for (let i = 0; i < 8; i++) {
      feedBasis(w, 60_000, 60_280);
      await w.clock.advanceBy(250);
    }
    const s = a.getSnapshot();
    expect(JSON.stringify(s.value)).toContain('needsAttention');
    expect(s.context.attention.reason).toMatch(/auto-deleveraging/);
    expect(s.context.legs.perp.position).toBeCloseTo(sim.positions([PERP])[0]!.size, 9);
    expect(s.context.legs.perp.position).toBeCloseTo(-0.05, 9);
    // The legs it names are what the books (now the venue's) hold: 0.1 spot against 0.05 perp.
    expect(s.context.attention.legs.map((l: { position: number }) => l.position)).toEqual([
      s.context.legs.spot.position,
      s.context.legs.perp.position,
    ]);
    expectPnlIsEquityChange(w, s.context, 100_000);
    a.stop();
  });

  it('a market maker whose perp the venue deleverages books the close and stops flat, saying why', async () => {
    const w = makeWorld([{ name: 'sim', symbols: [PERP], balances: { USDT: 100_000 } }], {
      start: Date.UTC(2026, 0, 1, 10),
    });
    const sim = w.sims.sim!;
    const feed = (bid: number, ask: number) => sim.onBookTicker(quote(PERP, bid, ask, 5, 5, w.clock.now()));
    const a: AnyActorRef = w.start(marketMakerMachine, {
      id: 'adl-mm',
      params: {
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
      } satisfies MarketMakerParams,
      market: w.market('sim', PERP),
    });
    for (let i = 0; i < 8; i++) {
      feed(59_999.9, 60_000.1);
      await w.clock.advanceBy(250);
    }
    // The book drops through the maker's bid: it buys; then the price comes back
    // below its ask (the long is in profit).
    for (let i = 0; i < 40 && (sim.positions([PERP])[0]?.size ?? 0) === 0; i++) {
      feed(59_900, 59_900.2);
      await w.clock.advanceBy(250);
    }
    feed(60_000, 60_000.2);
    await w.clock.advanceBy(250);
    expect(sim.positions([PERP])[0]!.size).toBeGreaterThan(0);
    sim.autoDeleverage(PERP, 1);
    for (let i = 0; i < 20 && a.getSnapshot().status === 'active'; i++) {
      feed(60_000, 60_000.2);
      await w.clock.advanceBy(250);
    }
    const s = a.getSnapshot();
    expect(s.value).toBe('stopped');
    expect(s.context.lastError).toMatchObject({ name: 'VenueClosedPosition' });
    expect(s.context.leg.position).toBe(0);
    expect(sim.positions([PERP])[0]?.size ?? 0).toBe(0);
    a.stop();
  });
});

/** The strategy's books against what the account gained, at the venue's marks. */
function expectPnlIsEquityChange(
  w: ReturnType<typeof makeWorld>,
  c: { legs: { spot: LegBook; perp: LegBook } },
  startUsdt: number,
): void {
  const sim = w.sims.sim!;
  const b = sim.balances();
  const perp = sim.positions([PERP])[0];
  const equity =
    (b.USDT?.total ?? 0) -
    startUsdt +
    (b.BTC?.total ?? 0) * sim.mark(SPOT) +
    (perp && perp.size !== 0 ? perp.size * (sim.mark(PERP) - perp.entryPrice) : 0);
  const pnl = legPnl(c.legs.spot, sim.mark(SPOT)) + legPnl(c.legs.perp, sim.mark(PERP));
  expect(pnl).toBeCloseTo(equity, 6);
}
