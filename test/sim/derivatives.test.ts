import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../src/clock/clock.ts';
import type { Order } from '../../src/domain/index.ts';
import { SimExchangeClient } from '../../src/exchange/sim/client.ts';
import { simMarket } from '../../src/exchange/sim/markets.ts';
import { SimVenue, type VenueEvent } from '../../src/exchange/sim/venue.ts';
import { replay, VenueRouter } from '../../src/marketdata/feed.ts';
import { SyntheticMarket } from '../../src/marketdata/synthetic.ts';
import { quote } from '../helpers.ts';

const FUT = 'BTC/USDT:USDT-260327';

describe('dated futures and funding over a replay', () => {
  it('settles a dated future at expiry at the mark and expires its resting orders', async () => {
    const expiry = Date.UTC(2026, 2, 27, 8);
    const clock = new VirtualClock(expiry - 3_600_000);
    const venue = new SimVenue({
      name: 'sim',
      clock,
      markets: [simMarket('sim', FUT, { taker: 0.0005 })],
      balances: { USDT: 100_000 },
    });
    expect(venue.market(FUT).expiry).toBe(expiry);
    const events: VenueEvent[] = [];
    venue.subscribeEvents((e) => events.push(e));
    venue.onBookTicker(quote(FUT, 61_000, 61_000.2, 5, 5));
    venue.placeOrder({ symbol: FUT, side: 'sell', type: 'market', amount: 1, clientOrderId: 'f1' }); // short 1 @ 61 000
    venue.placeOrder({
      symbol: FUT,
      side: 'buy',
      type: 'limit',
      price: 50_000,
      amount: 0.5,
      clientOrderId: 'f2',
    });
    venue.onBookTicker(quote(FUT, 60_499.9, 60_500.1, 5, 5));
    await clock.advanceTo(expiry + 1);
    expect(venue.positions()).toHaveLength(0);
    expect(venue.fetchOrder({ clientOrderId: 'f2' }).status).toBe('expired');
    expect(events).toEqual([
      { type: 'settlement', symbol: FUT, price: 60_500, realizedPnl: 500, timestamp: expiry },
    ]);
    // 100 000 − taker fee 30.5 + 500 realized
    expect(venue.balances().USDT!.total).toBeCloseTo(100_000 - 30.5 + 500, 9);
    expect(() =>
      venue.placeOrder({ symbol: FUT, side: 'buy', type: 'market', amount: 1, clientOrderId: 'f3' }),
    ).toThrow(/expired/);
  });

  it('a day of synthetic market replayed on a virtual clock pays funding three times to a held position', async () => {
    const start = Date.UTC(2026, 0, 1, 0, 30);
    const clock = new VirtualClock(start);
    const market = new SyntheticMarket({
      seed: 9,
      startTs: start,
      endTs: start + 24 * 3_600_000,
      stepMs: 5_000,
      venues: [
        { name: 'binance', spotSpreadBps: 0.5, perpSpreadBps: 0.4, touchNotional: 50_000, perp: true },
      ],
      assets: [{ base: 'BTC', price: 60_000, annualVol: 0.5 }],
    });
    const venue = new SimVenue({
      name: 'binance',
      clock,
      markets: [simMarket('binance', 'BTC/USDT'), simMarket('binance', 'BTC/USDT:USDT')],
      balances: { USDT: 100_000 },
    });
    const client = new SimExchangeClient(venue, { latency: { requestMs: 5, streamMs: 2 } });
    const router = new VenueRouter([venue]);
    const funding: VenueEvent[] = [];
    venue.subscribeEvents((e) => funding.push(e));
    const updates: Order[] = [];
    client.watchOrders({ data: (o) => updates.push(o) });
    let placed = false;
    const result = await replay(market, clock, (e) => {
      router.route(e);
      if (!placed && e.kind === 'quote' && e.symbol === 'BTC/USDT:USDT') {
        placed = true;
        void client.createOrder({
          symbol: 'BTC/USDT:USDT',
          side: 'sell',
          type: 'market',
          amount: 0.5,
          clientOrderId: 'hold',
        });
      }
    });
    expect(result.events).toBeGreaterThan(10_000);
    expect(updates.find((o) => o.clientOrderId === 'hold')?.status).toBe('closed');
    const payments = funding.filter((e) => e.type === 'funding');
    expect(payments.map((p) => new Date(p.timestamp).toISOString())).toEqual([
      '2026-01-01T08:00:00.000Z',
      '2026-01-01T16:00:00.000Z',
      '2026-01-02T00:00:00.000Z',
    ]);
    const total = payments.reduce((s, p) => s + (p.type === 'funding' ? p.received : 0), 0);
    expect(venue.account.ledger.funding).toBeCloseTo(total, 9);
    expect(total).not.toBe(0);
  });
});
