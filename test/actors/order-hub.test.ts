/**
 * The order hub's catch-up reads: orders watched together (a restored strategy's resting quotes,
 * every watched order after a stream gap) cost one open-orders read per symbol, and only what
 * that list cannot settle is fetched by id.
 */
import { describe, expect, it } from 'vitest';
import { OrderUpdateHub } from '../../src/actors/order-hub.ts';
import { VirtualClock } from '../../src/clock/clock.ts';
import type { Order } from '../../src/domain/index.ts';
import type { ExchangeClient } from '../../src/exchange/port.ts';
import { SimExchangeClient } from '../../src/exchange/sim/client.ts';
import { simMarket } from '../../src/exchange/sim/markets.ts';
import { SimVenue } from '../../src/exchange/sim/venue.ts';

const BTC = 'BTC/USDT:USDT';
const ETH = 'ETH/USDT:USDT';

function world() {
  const clock = new VirtualClock(0);
  const venue = new SimVenue({
    name: 'sim',
    clock,
    markets: [simMarket('sim', BTC), simMarket('sim', ETH)],
    balances: { USDT: 1_000_000 },
  });
  venue.onBookTicker({ symbol: BTC, bid: 59_990, ask: 60_010, bidSize: 5, askSize: 5, timestamp: 0 });
  venue.onBookTicker({ symbol: ETH, bid: 2_999, ask: 3_001, bidSize: 50, askSize: 50, timestamp: 0 });
  const sim = new SimExchangeClient(venue, { latency: { requestMs: 5 } });
  const calls: string[] = [];
  const client = new Proxy(sim, {
    get(target, prop, receiver) {
      const v = Reflect.get(target, prop, receiver);
      if (typeof v !== 'function' || typeof prop !== 'string' || !prop.startsWith('fetch')) return v;
      return (...args: unknown[]) => {
        calls.push(prop);
        return v.apply(target, args);
      };
    },
  }) as ExchangeClient;
  const hub = new OrderUpdateHub(client, clock, { reconnectMs: 1_000, pollMs: 2_000 });
  const seen = new Map<string, Order>();
  const watch = (id: string, symbol: string) => hub.watch(id, symbol, (o) => seen.set(id, o));
  const rest = (id: string, symbol: string, price: number, amount = 0.01) =>
    venue.placeOrder({ clientOrderId: id, symbol, side: 'buy', type: 'limit', price, amount });
  return { clock, venue, hub, calls, seen, watch, rest };
}

describe('order hub catch-up reads', () => {
  it('four resting quotes on one symbol are one open-orders read, no lookup by id', async () => {
    const w = world();
    for (let i = 0; i < 4; i++) w.rest(`q${i}`, BTC, 59_000 - i * 10);
    for (let i = 0; i < 4; i++) w.watch(`q${i}`, BTC);
    await w.clock.advanceBy(50);
    expect(w.calls).toEqual(['fetchOpenOrders']);
    for (let i = 0; i < 4; i++) expect(w.seen.get(`q${i}`)).toMatchObject({ status: 'open', filled: 0 });
    w.hub.dispose();
  });

  it('what the list cannot settle is fetched by id: a filled order, a partial fill, a lost one', async () => {
    const w = world();
    w.rest('open', BTC, 59_000);
    w.rest('filled', BTC, 60_020); // crosses the ask: filled at once
    w.rest('partial', BTC, 60_020, 8); // 5 at the ask, the rest rests
    w.watch('open', BTC);
    w.watch('filled', BTC);
    w.watch('partial', BTC);
    w.watch('never-sent', BTC);
    w.watch('eth', ETH); // alone on its symbol: asked by id, as before
    w.rest('eth', ETH, 2_900);
    await w.clock.advanceBy(50);
    expect(w.calls.filter((c) => c === 'fetchOpenOrders')).toHaveLength(1);
    expect(w.calls.filter((c) => c === 'fetchOrder')).toHaveLength(4);
    expect(w.seen.get('open')).toMatchObject({ status: 'open', filled: 0 });
    expect(w.seen.get('filled')).toMatchObject({ status: 'closed', filled: 0.01 });
    expect(w.seen.get('partial')).toMatchObject({ status: 'open', filled: 4.99 }); // the ask's 5 less the first buy's 0.01
    expect(w.seen.get('partial')!.trades.length).toBeGreaterThan(0);
    expect(w.seen.get('eth')).toMatchObject({ status: 'open' });
    expect(w.seen.has('never-sent')).toBe(false);
    w.hub.dispose();
  });

  it('a refused list read falls back to a lookup per order', async () => {
    const w = world();
    w.rest('a', BTC, 59_000);
    w.rest('b', BTC, 59_010);
    const real = w.venue.fetchOpenOrders.bind(w.venue);
    w.venue.fetchOpenOrders = () => {
      throw new Error('503');
    };
    w.watch('a', BTC);
    w.watch('b', BTC);
    await w.clock.advanceBy(50);
    w.venue.fetchOpenOrders = real;
    expect(w.calls).toEqual(['fetchOpenOrders', 'fetchOrder', 'fetchOrder']);
    expect(w.seen.get('a')).toMatchObject({ status: 'open' });
    expect(w.seen.get('b')).toMatchObject({ status: 'open' });
    w.hub.dispose();
  });
});
