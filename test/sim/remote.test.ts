import { afterEach, describe, expect, it } from 'vitest';
import { WallClock } from '../../src/clock/clock.ts';
import {
  DuplicateClientOrderId,
  ExchangeNotAvailable,
  InvalidOrder,
  NetworkError,
  type Order,
  OrderNotFound,
} from '../../src/domain/index.ts';
import { SimExchangeClient } from '../../src/exchange/sim/client.ts';
import { FaultInjector } from '../../src/exchange/sim/faults.ts';
import { RemoteExchangeClient } from '../../src/exchange/sim/remote-client.ts';
import { startVenueServer, type VenueServer } from '../../src/exchange/sim/server.ts';
import { makeVenue, PERP, quote, SPOT } from '../helpers.ts';

let server: VenueServer | undefined;
const remotes: RemoteExchangeClient[] = [];
afterEach(async () => {
  for (const r of remotes.splice(0)) await r.close();
  await server?.close();
  server = undefined;
});

async function setup(faults?: FaultInjector, token?: string) {
  const { venue } = makeVenue({ clock: new WallClock() });
  const local = new SimExchangeClient(venue, { ...(faults ? { faults } : {}), requestTimeoutMs: 300 });
  server = await startVenueServer({ venues: [local], port: 0, ...(token ? { token } : {}) });
  const remote = new RemoteExchangeClient({
    url: server.url,
    venue: 'sim',
    requestTimeoutMs: 1000,
    ...(token ? { token } : {}),
  });
  remotes.push(remote);
  venue.onBookTicker(quote(SPOT, 60_000, 60_010, 1, 0.25));
  venue.onBookTicker(quote(PERP, 60_050, 60_051, 5, 5));
  return { venue, local, remote };
}

function until<T>(pred: () => T | undefined, ms = 3000): Promise<T> {
  return new Promise((resolve, reject) => {
    const t0 = Date.now();
    const poll = () => {
      const v = pred();
      if (v !== undefined) return resolve(v);
      if (Date.now() - t0 > ms) return reject(new Error('timed out waiting'));
      setTimeout(poll, 5);
    };
    poll();
  });
}

describe('standalone simulated venue over HTTP + WebSocket', () => {
  it('serves markets, quotes, orders with client ids, fills, cancels and typed errors', async () => {
    const { venue, remote } = await setup();
    const markets = await remote.loadMarkets();
    expect(markets[SPOT]!.precision.amount).toBe(0.00001);
    expect(remote.market(PERP).type).toBe('swap');

    const quotes: number[] = [];
    remote.watchBookTicker(SPOT, { data: (t) => quotes.push(t.bid) });
    const updates: Order[] = [];
    remote.watchOrders({ data: (o) => updates.push(o) });
    await new Promise((r) => setTimeout(r, 100)); // subscriptions travel over the socket
    venue.onBookTicker(quote(SPOT, 60_001, 60_010, 1, 0.25));
    await until(() => (quotes.includes(60_001) ? true : undefined));

    // market buy larger than the touch: partial fill, remainder expires
    const o = await remote.createOrder({
      symbol: SPOT,
      side: 'buy',
      type: 'market',
      amount: 0.4,
      clientOrderId: 'r1',
    });
    expect(o.filled).toBeCloseTo(0.25, 12);
    expect(o.status).toBe('expired');
    await expect(
      remote.createOrder({ symbol: SPOT, side: 'buy', type: 'market', amount: 0.1, clientOrderId: 'r1' }),
    ).rejects.toBeInstanceOf(DuplicateClientOrderId);
    await expect(
      remote.createOrder({
        symbol: SPOT,
        side: 'buy',
        type: 'limit',
        price: 1.005,
        amount: 0.1,
        clientOrderId: 'r2',
      }),
    ).rejects.toBeInstanceOf(InvalidOrder);

    const resting = await remote.createOrder({
      symbol: PERP,
      side: 'sell',
      type: 'limit',
      price: 60_100,
      amount: 0.5,
      clientOrderId: 'r3',
    });
    expect(resting.status).toBe('open');
    expect((await remote.fetchOrder({ clientOrderId: 'r3' }, PERP)).id).toBe(resting.id);
    expect(await remote.fetchOpenOrders(PERP)).toHaveLength(1);
    venue.onBookTicker(quote(PERP, 60_100, 60_101, 0.2, 5)); // bid reaches our ask: 0.2 fills
    const partial = await remote.fetchOrder({ id: resting.id }, PERP);
    expect(partial.filled).toBeCloseTo(0.2, 12);
    const canceled = await remote.cancelOrder({ clientOrderId: 'r3' }, PERP);
    expect(canceled.status).toBe('canceled');
    await expect(remote.cancelOrder({ clientOrderId: 'r3' }, PERP)).rejects.toBeInstanceOf(OrderNotFound);
    const pos = await remote.fetchPositions();
    expect(pos[0]!.size).toBeCloseTo(-0.2, 12);
    const bal = await remote.fetchBalance();
    expect(bal.BTC!.total).toBeCloseTo(1.25, 12);
    expect((await remote.fetchFundingRate(PERP)).rate).toBeCloseTo(0.0001, 12);
    await remote.setLeverage(PERP, 10);
    expect((await remote.fetchPositions([PERP]))[0]!.leverage).toBe(10);
    await expect(remote.setLeverage(PERP, 500)).rejects.toThrow(
      /leverage for BTC\/USDT:USDT must be between 1 and 50/,
    );
    await until(() =>
      updates.some((u) => u.clientOrderId === 'r3' && u.status === 'canceled') ? true : undefined,
    );
  });

  it('a lost answer after placement surfaces as outcome-unknown and the order is found by client id', async () => {
    const faults = new FaultInjector({ script: [{ atRequest: 1, fault: 'timeoutAfterPlace' }] });
    const { remote } = await setup(faults);
    const err = await remote
      .createOrder({ symbol: SPOT, side: 'buy', type: 'market', amount: 0.01, clientOrderId: 'lost1' })
      .catch((e) => e);
    expect(err).toBeInstanceOf(NetworkError);
    expect(err.outcomeUnknown).toBe(true);
    const found = await remote.fetchOrder({ clientOrderId: 'lost1' }, SPOT);
    expect(found.filled).toBeCloseTo(0.01, 12);
  });

  it('stream disconnects reach the subscriber as errors; resubscribing works', async () => {
    const { venue, remote } = await setup();
    await remote.loadMarkets();
    const errors: Error[] = [];
    const got: number[] = [];
    remote.watchOrders({ data: () => {}, error: (e) => errors.push(e) });
    await new Promise((r) => setTimeout(r, 100));
    const res = await fetch(`${server!.url}/v1/sim/admin/disconnect`, {
      method: 'POST',
      body: JSON.stringify({ stream: 'orders' }),
    });
    expect(res.status).toBe(200);
    await until(() => (errors.length === 1 ? true : undefined));
    expect(errors[0]).toBeInstanceOf(NetworkError);
    remote.watchBookTicker(SPOT, { data: (t) => got.push(t.bid) });
    await new Promise((r) => setTimeout(r, 100));
    venue.onBookTicker(quote(SPOT, 60_002, 60_010));
    await until(() => (got.includes(60_002) ? true : undefined));
  });

  it('a dead server is ExchangeNotAvailable and ends open streams', async () => {
    const { remote } = await setup();
    await remote.loadMarkets();
    const errors: Error[] = [];
    remote.watchBookTicker(SPOT, { data: () => {}, error: (e) => errors.push(e) });
    await new Promise((r) => setTimeout(r, 100));
    await server!.close();
    server = undefined;
    await until(() => (errors.length > 0 ? true : undefined));
    await expect(remote.fetchBalance()).rejects.toBeInstanceOf(ExchangeNotAvailable);
  });

  it('requires the token when one is set and refuses non-loopback binds without one', async () => {
    const { remote } = await setup(undefined, 's3cret');
    await expect(remote.fetchBalance()).resolves.toBeDefined();
    const bad = new RemoteExchangeClient({ url: server!.url, venue: 'sim', token: 'wrong' });
    remotes.push(bad);
    await expect(bad.fetchBalance()).rejects.toThrow(/bad token/);
    const { venue } = makeVenue({ clock: new WallClock() });
    await expect(
      startVenueServer({ venues: [new SimExchangeClient(venue)], host: '0.0.0.0', port: 0 }),
    ).rejects.toThrow(/without a token/);
  });
});
