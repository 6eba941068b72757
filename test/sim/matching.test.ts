import { describe, expect, it } from 'vitest';
import {
  DuplicateClientOrderId,
  InsufficientFunds,
  InvalidOrder,
  OrderImmediatelyFillable,
  OrderNotFound,
} from '../../src/domain/index.ts';
import { makeVenue, PERP, quote, SPOT } from '../helpers.ts';

describe('simulated venue: spot matching', () => {
  it('fills a market buy at the ask up to displayed size and expires the rest, fee in quote', () => {
    const { venue } = makeVenue();
    venue.onBookTicker(quote(SPOT, 60_000, 60_010, 2, 0.3));
    const o = venue.placeOrder({
      symbol: SPOT,
      side: 'buy',
      type: 'market',
      amount: 0.5,
      clientOrderId: 'a1',
    });
    expect(o.status).toBe('expired');
    expect(o.filled).toBeCloseTo(0.3, 12);
    expect(o.trades).toHaveLength(1);
    expect(o.trades[0]!.price).toBe(60_010);
    expect(o.trades[0]!.takerOrMaker).toBe('taker');
    // cost 0.3 × 60 010 = 18 003; taker fee 0.2 % = 36.006
    expect(o.cost).toBeCloseTo(18_003, 9);
    expect(o.fee.cost).toBeCloseTo(36.006, 9);
    const b = venue.balances();
    expect(b.BTC!.total).toBeCloseTo(1.3, 12);
    expect(b.USDT!.total).toBeCloseTo(100_000 - 18_003 - 36.006, 9);
  });

  it('walks L2 levels for a taker and reports separate trades per level', () => {
    const { venue } = makeVenue();
    venue.onOrderBook({
      symbol: SPOT,
      bids: [[59_990, 1]],
      asks: [
        [60_000, 0.1],
        [60_005, 0.2],
        [60_020, 5],
      ],
      timestamp: 0,
    });
    const o = venue.placeOrder({
      symbol: SPOT,
      side: 'buy',
      type: 'market',
      amount: 0.5,
      clientOrderId: 'l2',
    });
    expect(o.status).toBe('closed');
    expect(o.trades.map((t) => [t.price, Number(t.amount.toFixed(8))])).toEqual([
      [60_000, 0.1],
      [60_005, 0.2],
      [60_020, 0.2],
    ]);
    expect(o.average).toBeCloseTo((6000 + 12_001 + 12_004) / 0.5, 9);
  });

  it("'refresh' liquidity: what a taker consumed comes back with the next quote (the explicit old model)", () => {
    const { venue } = makeVenue({ liquidity: 'refresh' });
    venue.onBookTicker(quote(SPOT, 60_000, 60_010, 1, 0.3));
    const a = venue.placeOrder({
      symbol: SPOT,
      side: 'buy',
      type: 'market',
      amount: 0.2,
      clientOrderId: 'c1',
    });
    const b = venue.placeOrder({
      symbol: SPOT,
      side: 'buy',
      type: 'market',
      amount: 0.2,
      clientOrderId: 'c2',
    });
    expect(a.filled).toBeCloseTo(0.2, 12);
    expect(b.filled).toBeCloseTo(0.1, 12);
    venue.onBookTicker(quote(SPOT, 60_000, 60_010, 1, 0.3));
    const c = venue.placeOrder({
      symbol: SPOT,
      side: 'buy',
      type: 'market',
      amount: 0.2,
      clientOrderId: 'c3',
    });
    expect(c.filled).toBeCloseTo(0.2, 12);
  });

  it('persistent liquidity (default): a cross that lasts N recorded updates is taken once, not N times', () => {
    const { venue } = makeVenue({ balances: { USDT: 1_000_000, BTC: 0 } });
    let bought = 0;
    for (let n = 0; n < 5; n++) {
      // The recorded book repeats its 0.5 BTC ask: it does not know we took it.
      venue.onBookTicker(quote(SPOT, 60_000, 60_010, 1, 0.5));
      bought += venue.placeOrder({
        symbol: SPOT,
        side: 'buy',
        type: 'market',
        amount: 0.5,
        clientOrderId: `x${n}`,
      }).filled;
    }
    expect(bought).toBeCloseTo(0.5, 12); // 2.5 under the refresh model
  });

  it('persistent liquidity: a size increase restores only the increase; a new price or a smaller size is a new level', () => {
    const { venue } = makeVenue({ balances: { USDT: 1_000_000, BTC: 0 } });
    const buy = (id: string, amount = 1) =>
      venue.placeOrder({ symbol: SPOT, side: 'buy', type: 'market', amount, clientOrderId: id }).filled;
    venue.onBookTicker(quote(SPOT, 60_000, 60_010, 1, 0.5));
    expect(buy('a')).toBeCloseTo(0.5, 12);
    venue.onBookTicker(quote(SPOT, 60_000, 60_010, 1, 0.7)); // 0.2 more shown at that price
    expect(buy('b')).toBeCloseTo(0.2, 12);
    venue.onBookTicker(quote(SPOT, 60_000, 60_010, 1, 0.4)); // the level changed: 0.4 is what is there
    expect(buy('c')).toBeCloseTo(0.4, 12);
    venue.onBookTicker(quote(SPOT, 60_000, 60_020, 1, 0.4)); // a new price level
    expect(buy('d')).toBeCloseTo(0.4, 12);
  });

  it('rests a limit order, reserves funds, and fills it as maker when the ask crosses its price', () => {
    const { venue } = makeVenue();
    venue.onBookTicker(quote(SPOT, 60_000, 60_010));
    const o = venue.placeOrder({
      symbol: SPOT,
      side: 'buy',
      type: 'limit',
      price: 59_950,
      amount: 0.5,
      clientOrderId: 'r1',
    });
    expect(o.status).toBe('open');
    // reserved at the worst fee rate: 0.5 × 59 950 × 1.002
    expect(venue.balances().USDT!.used).toBeCloseTo(0.5 * 59_950 * 1.002, 9);
    venue.onBookTicker(quote(SPOT, 59_940, 59_960, 1, 0.2)); // ask above our price: nothing
    expect(venue.fetchOrder({ id: o.id }).filled).toBe(0);
    venue.onBookTicker(quote(SPOT, 59_900, 59_945, 1, 0.2)); // ask through our price: partial 0.2
    let f = venue.fetchOrder({ clientOrderId: 'r1' });
    expect(f.filled).toBeCloseTo(0.2, 12);
    expect(f.trades[0]!.price).toBe(59_950); // fills at its own price, never through it
    expect(f.trades[0]!.takerOrMaker).toBe('maker');
    venue.onBookTicker(quote(SPOT, 59_900, 59_949, 1, 5));
    f = venue.fetchOrder({ clientOrderId: 'r1' });
    expect(f.status).toBe('closed');
    expect(f.trades).toHaveLength(2);
    const b = venue.balances();
    expect(b.USDT!.used).toBeCloseTo(0, 9);
    // 0.5 × 59 950 = 29 975 cost, maker fee 0.1 % = 29.975
    expect(b.USDT!.total).toBeCloseTo(100_000 - 29_975 - 29.975, 9);
    expect(b.BTC!.total).toBeCloseTo(1.5, 12);
  });

  it('a marketable GTC limit takes what it can and rests the remainder', () => {
    const { venue } = makeVenue();
    venue.onBookTicker(quote(SPOT, 60_000, 60_010, 1, 0.1));
    const o = venue.placeOrder({
      symbol: SPOT,
      side: 'buy',
      type: 'limit',
      price: 60_010,
      amount: 0.3,
      clientOrderId: 'm1',
    });
    expect(o.status).toBe('open');
    expect(o.filled).toBeCloseTo(0.1, 12);
    expect(o.trades[0]!.takerOrMaker).toBe('taker');
    expect(venue.fetchOpenOrders(SPOT)).toHaveLength(1);
  });

  it('IOC cancels the rest, FOK fills fully or not at all', () => {
    const { venue } = makeVenue();
    venue.onBookTicker(quote(SPOT, 60_000, 60_010, 1, 0.1));
    const ioc = venue.placeOrder({
      symbol: SPOT,
      side: 'buy',
      type: 'limit',
      price: 60_010,
      amount: 0.3,
      timeInForce: 'IOC',
      clientOrderId: 'i1',
    });
    expect(ioc.status).toBe('expired');
    expect(ioc.filled).toBeCloseTo(0.1, 12);
    venue.onBookTicker(quote(SPOT, 60_000, 60_010, 1, 0.25)); // 0.15 more than the IOC left
    const fok = venue.placeOrder({
      symbol: SPOT,
      side: 'buy',
      type: 'limit',
      price: 60_010,
      amount: 0.3,
      timeInForce: 'FOK',
      clientOrderId: 'f1',
    });
    expect(fok.status).toBe('expired');
    expect(fok.filled).toBe(0);
    const fok2 = venue.placeOrder({
      symbol: SPOT,
      side: 'buy',
      type: 'limit',
      price: 60_010,
      amount: 0.1,
      timeInForce: 'FOK',
      clientOrderId: 'f2',
    });
    expect(fok2.status).toBe('closed');
  });

  it('post-only refuses to cross and otherwise rests as maker', () => {
    const { venue } = makeVenue();
    venue.onBookTicker(quote(SPOT, 60_000, 60_010));
    expect(() =>
      venue.placeOrder({
        symbol: SPOT,
        side: 'buy',
        type: 'limit',
        price: 60_010,
        amount: 0.1,
        timeInForce: 'PO',
        clientOrderId: 'p1',
      }),
    ).toThrow(OrderImmediatelyFillable);
    const o = venue.placeOrder({
      symbol: SPOT,
      side: 'sell',
      type: 'limit',
      price: 60_010,
      amount: 0.1,
      timeInForce: 'PO',
      clientOrderId: 'p2',
    });
    expect(o.status).toBe('open');
  });

  it('rejects precision, min amount, min notional and duplicate client ids like a venue', () => {
    const { venue } = makeVenue();
    venue.onBookTicker(quote(SPOT, 60_000, 60_010));
    const base = { symbol: SPOT, side: 'buy' as const, type: 'limit' as const, price: 60_000 };
    expect(() => venue.placeOrder({ ...base, amount: 0.000015, clientOrderId: 'x1' })).toThrow(
      /multiple of the step/,
    );
    expect(() =>
      venue.placeOrder({ ...base, price: 60_000.005, amount: 0.001, clientOrderId: 'x2' }),
    ).toThrow(/multiple of the tick/);
    expect(() => venue.placeOrder({ ...base, amount: 0.00005, clientOrderId: 'x3' })).toThrow(
      /notional .* below/,
    );
    venue.placeOrder({ ...base, amount: 0.001, clientOrderId: 'dup' });
    expect(() => venue.placeOrder({ ...base, amount: 0.001, clientOrderId: 'dup' })).toThrow(
      DuplicateClientOrderId,
    );
    try {
      venue.placeOrder({ ...base, amount: 0.000015, clientOrderId: 'x4' });
    } catch (e) {
      expect(e).toBeInstanceOf(InvalidOrder);
      expect((e as InvalidOrder).field).toBe('amount');
    }
  });

  it('refuses orders the account cannot pay for', () => {
    const { venue } = makeVenue({ balances: { USDT: 1000 } });
    venue.onBookTicker(quote(SPOT, 60_000, 60_010, 1, 1));
    expect(() =>
      venue.placeOrder({ symbol: SPOT, side: 'buy', type: 'market', amount: 0.1, clientOrderId: 'n1' }),
    ).toThrow(InsufficientFunds);
    expect(() =>
      venue.placeOrder({ symbol: SPOT, side: 'sell', type: 'market', amount: 0.1, clientOrderId: 'n2' }),
    ).toThrow(InsufficientFunds);
  });

  it('cancel releases the reservation; cancelling a filled order says so', () => {
    const { venue } = makeVenue();
    venue.onBookTicker(quote(SPOT, 60_000, 60_010));
    const o = venue.placeOrder({
      symbol: SPOT,
      side: 'sell',
      type: 'limit',
      price: 61_000,
      amount: 0.4,
      clientOrderId: 's1',
    });
    expect(venue.balances().BTC!.used).toBeCloseTo(0.4, 12);
    const c = venue.cancelOrder({ clientOrderId: 's1' });
    expect(c.status).toBe('canceled');
    expect(venue.balances().BTC!.used).toBe(0);
    expect(() => venue.cancelOrder({ id: o.id })).toThrow(/is canceled/);
    const m = venue.placeOrder({
      symbol: SPOT,
      side: 'buy',
      type: 'market',
      amount: 0.1,
      clientOrderId: 'f9',
    });
    expect(() => venue.cancelOrder({ id: m.id })).toThrow(OrderNotFound);
    expect(() => venue.fetchOrder({ clientOrderId: 'never' })).toThrow(OrderNotFound);
  });

  it('queue model: a resting bid fills only after the size displayed ahead of it has traded', () => {
    const { venue } = makeVenue({ queueModel: 'queue' });
    venue.onBookTicker(quote(SPOT, 60_000, 60_010, 2, 1));
    venue.placeOrder({
      symbol: SPOT,
      side: 'buy',
      type: 'limit',
      price: 60_000,
      amount: 0.5,
      clientOrderId: 'q1',
    });
    venue.onBookTicker(quote(SPOT, 60_000, 60_010, 1.5, 1)); // 0.5 traded ahead of us
    venue.onBookTicker(quote(SPOT, 59_990, 60_000, 1, 1)); // ask crosses with 1.0: 1.5 still ahead → 1.0 eaten
    expect(venue.fetchOrder({ clientOrderId: 'q1' }).filled).toBe(0);
    venue.onBookTicker(quote(SPOT, 59_990, 60_000, 1, 2)); // 1.0 more crossing: 0.5 more ahead, then 0.5 for us
    const o = venue.fetchOrder({ clientOrderId: 'q1' });
    expect(o.filled).toBeCloseTo(0.5, 12);
    expect(o.status).toBe('closed');
  });

  it('cross model fills the same order on the first crossing quote', () => {
    const { venue } = makeVenue();
    venue.onBookTicker(quote(SPOT, 60_000, 60_010, 2, 1));
    venue.placeOrder({
      symbol: SPOT,
      side: 'buy',
      type: 'limit',
      price: 60_000,
      amount: 0.5,
      clientOrderId: 'q1',
    });
    venue.onBookTicker(quote(SPOT, 59_990, 60_000, 1, 1));
    expect(venue.fetchOrder({ clientOrderId: 'q1' }).status).toBe('closed');
  });
});

describe('simulated venue: perpetuals', () => {
  it('opens, adds, reduces and flips a position with average-cost realized PnL and fees', () => {
    const { venue } = makeVenue();
    venue.onBookTicker(quote(PERP, 60_000, 60_001, 10, 10));
    venue.placeOrder({ symbol: PERP, side: 'sell', type: 'market', amount: 1, clientOrderId: 'p1' }); // short 1 @ 60000
    venue.onBookTicker(quote(PERP, 59_000, 59_001, 10, 10));
    venue.placeOrder({ symbol: PERP, side: 'sell', type: 'market', amount: 1, clientOrderId: 'p2' }); // short 1 @ 59000
    let pos = venue.positions([PERP])[0]!;
    expect(pos.size).toBeCloseTo(-2, 12);
    expect(pos.entryPrice).toBeCloseTo(59_500, 9);
    venue.onBookTicker(quote(PERP, 58_000, 58_001, 10, 10));
    venue.placeOrder({ symbol: PERP, side: 'buy', type: 'market', amount: 3, clientOrderId: 'p3' }); // close 2, long 1 @ 58001
    pos = venue.positions([PERP])[0]!;
    expect(pos.size).toBeCloseTo(1, 12);
    expect(pos.entryPrice).toBe(58_001);
    // realized: 2 × (59 500 − 58 001) = 2 998
    expect(pos.realizedPnl).toBeCloseTo(2_998, 9);
    // fees: taker 0.05 % on 60 000 + 59 000 + 3 × 58 001 = 293 003 → 146.5015
    const fees = (60_000 + 59_000 + 3 * 58_001) * 0.0005;
    expect(venue.balances().USDT!.total).toBeCloseTo(100_000 + 2_998 - fees, 9);
    expect(pos.unrealizedPnl).toBeCloseTo(1 * (58_000.5 - 58_001), 9);
  });

  it('pays funding at the 8-hour boundary: longs pay shorts when the rate is positive', async () => {
    const start = Date.UTC(2026, 0, 1, 7, 0, 0);
    const { VirtualClock } = await import('../../src/clock/clock.ts');
    const clock = new VirtualClock(start);
    const { venue } = makeVenue({ clock });
    venue.onBookTicker(quote(PERP, 50_000, 50_000.2, 10, 10));
    venue.placeOrder({ symbol: PERP, side: 'sell', type: 'market', amount: 2, clientOrderId: 'fs' });
    venue.onFundingRate({
      symbol: PERP,
      rate: 0.0003,
      nextFundingTimestamp: 0,
      intervalMs: 8 * 3_600_000,
      timestamp: start,
    });
    const before = venue.balances().USDT!.total;
    await clock.advanceTo(start + 30 * 60_000);
    venue.onBookTicker(quote(PERP, 50_999.9, 51_000.1, 10, 10)); // mark 51 000 at funding time
    await clock.advanceTo(start + 3_600_000);
    // short 2 × 51 000 × 0.0003 = 30.6 received
    expect(venue.balances().USDT!.total - before).toBeCloseTo(30.6, 9);
    expect(venue.account.ledger.funding).toBeCloseTo(30.6, 9);
    await clock.advanceTo(start + 9 * 3_600_000);
    expect(venue.account.ledger.funding).toBeCloseTo(61.2, 9);
  });

  it('checks initial margin at the leverage and liquidates below maintenance', () => {
    const { venue } = makeVenue({ balances: { USDT: 10_000 }, defaultLeverage: 5 });
    venue.onBookTicker(quote(PERP, 50_000, 50_000.1, 10, 10));
    // 1.1 BTC × 50 000 / 5 = 11 000 > 10 000
    expect(() =>
      venue.placeOrder({ symbol: PERP, side: 'buy', type: 'market', amount: 1.1, clientOrderId: 'big' }),
    ).toThrow(InsufficientFunds);
    venue.placeOrder({ symbol: PERP, side: 'buy', type: 'market', amount: 0.9, clientOrderId: 'ok' });
    const events: string[] = [];
    venue.subscribeEvents((e) => events.push(e.type));
    venue.onBookTicker(quote(PERP, 40_000, 40_000.1, 10, 10)); // −9 000 upnl: equity ≈ 977 < maint 180 ? no
    expect(events).toEqual([]);
    venue.onBookTicker(quote(PERP, 39_100, 39_100.1, 10, 10)); // −9 810: equity ≈ 167 < 0.5 % × 35 190 = 176
    expect(events).toEqual(['liquidation']);
    expect(venue.positions()).toHaveLength(0);
  });

  it('reduce-only orders may only reduce', () => {
    const { venue } = makeVenue();
    venue.onBookTicker(quote(PERP, 50_000, 50_000.1, 10, 10));
    expect(() =>
      venue.placeOrder({
        symbol: PERP,
        side: 'sell',
        type: 'market',
        amount: 1,
        reduceOnly: true,
        clientOrderId: 'r0',
      }),
    ).toThrow(/would not reduce/);
    venue.placeOrder({ symbol: PERP, side: 'buy', type: 'market', amount: 1, clientOrderId: 'r1' });
    const o = venue.placeOrder({
      symbol: PERP,
      side: 'sell',
      type: 'market',
      amount: 1,
      reduceOnly: true,
      clientOrderId: 'r2',
    });
    expect(o.status).toBe('closed');
    expect(venue.positions()).toHaveLength(0);
  });

  it('saves and restores its state so paper trading survives a restart', () => {
    const { venue, clock } = makeVenue();
    venue.onBookTicker(quote(SPOT, 60_000, 60_010));
    venue.onBookTicker(quote(PERP, 60_050, 60_051, 5, 5));
    venue.placeOrder({ symbol: PERP, side: 'sell', type: 'market', amount: 0.5, clientOrderId: 'a' });
    venue.placeOrder({
      symbol: SPOT,
      side: 'buy',
      type: 'limit',
      price: 59_000,
      amount: 0.2,
      clientOrderId: 'b',
    });
    const state = JSON.parse(JSON.stringify(venue.toState()));
    const { venue: v2 } = makeVenue({ clock });
    v2.loadState(state);
    expect(v2.balances()).toEqual(venue.balances());
    expect(v2.positions()).toEqual(venue.positions());
    expect(v2.fetchOpenOrders()).toEqual(venue.fetchOpenOrders());
    expect(() =>
      v2.placeOrder({
        symbol: SPOT,
        side: 'buy',
        type: 'limit',
        price: 59_000,
        amount: 0.2,
        clientOrderId: 'b',
      }),
    ).toThrow(DuplicateClientOrderId);
    v2.onBookTicker(quote(SPOT, 58_900, 58_990, 1, 1));
    expect(v2.fetchOrder({ clientOrderId: 'b' }).status).toBe('closed');
    expect(v2.balances().USDT!.used).toBeCloseTo(0, 9);
  });
});
