/**
 * The ccxt adapter driving ccxt's real `binance` and `binanceusdm` classes against a local fake
 * Binance (test/support/fake-binance.ts): signed REST, market and user-data websockets, backed by
 * simulated spot and futures wallets. No internet.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { OrderUpdateHub } from '../../src/actors/order-hub.ts';
import { WallClock } from '../../src/clock/clock.ts';
import {
  type BookTicker,
  DuplicateClientOrderId,
  ExchangeError,
  InvalidOrder,
  type Order,
  OrderNotFound,
  RateLimitExceeded,
  RequestTimeout,
} from '../../src/domain/index.ts';
import type { CcxtExchangeClient } from '../../src/exchange/ccxt/client.ts';
import { createCcxtClient } from '../../src/exchange/ccxt/create.ts';
import { FakeBinance } from '../support/fake-binance.ts';

const clock = new WallClock();
const fake = new FakeBinance({ clock, apiKey: 'test-key', secret: 'test-secret' });
let spot: CcxtExchangeClient;
let fut: CcxtExchangeClient;
let quoting: ReturnType<typeof setInterval>;
const book = { spot: 60_000, perp: 60_030 };

const client = (name: string, exchange: string, secret = 'test-secret') =>
  createCcxtClient({
    name,
    exchange,
    sandbox: false,
    demo: false,
    account: `test-${exchange}-${secret}`,
    credentials: { apiKey: 'test-key', secret },
    rewriteUrl: fake.rewriteUrl,
    streamStaleMs: 3_000,
  });

const until = async (ok: () => boolean, what: string, ms = 10_000) => {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`not within ${ms} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
};

beforeAll(async () => {
  await fake.start();
  const quote = () => {
    fake.quote('BTC/USDT', book.spot - 0.5, book.spot + 0.5, 5);
    fake.quote('BTC/USDT:USDT', book.perp - 0.05, book.perp + 0.05, 5);
    fake.quote('ETH/USDT:USDT', 3_000, 3_000.1, 50);
  };
  quote();
  quoting = setInterval(quote, 50);
  spot = client('binance', 'binance');
  fut = client('binanceusdm', 'binanceusdm');
  (spot.exchange as { timeout: number }).timeout = 1_500;
  (fut.exchange as { timeout: number }).timeout = 1_500;
  await spot.loadMarkets();
  await fut.loadMarkets();
});

afterAll(async () => {
  clearInterval(quoting);
  await spot?.close();
  await fut?.close();
  await fake.close();
});

afterEach(() => {
  fake.faults.rateLimit = 0;
  fake.faults.timeoutAfterPlace = 0;
});

describe('ccxt adapter against a local fake Binance', () => {
  it('loads markets with tick-size precision, limits and fees', () => {
    expect(spot.market('BTC/USDT')).toMatchObject({
      venue: 'binance',
      id: 'BTCUSDT',
      type: 'spot',
      precision: { amount: 0.00001, price: 0.01 },
      limits: { amount: { min: 0.00001 }, cost: { min: 5 } },
    });
    expect(fut.market('BTC/USDT:USDT')).toMatchObject({
      venue: 'binanceusdm',
      type: 'swap',
      linear: true,
      settle: 'USDT',
      contractSize: 1,
      precision: { amount: 0.001, price: 0.1 },
    });
    expect(() => fut.market('BTC/USDT')).toThrow(/unknown market/); // USD-M loads linear markets only
  });

  it('streams the top of book, and resubscribes after the venue drops the socket', async () => {
    const seen: BookTicker[] = [];
    let dropped: Error | undefined;
    const sub = fut.watchBookTicker('BTC/USDT:USDT', {
      data: (t) => seen.push(t),
      error: (e) => {
        dropped = e;
      },
    });
    await until(() => seen.length >= 3, 'three book updates');
    expect(seen.at(-1)).toMatchObject({
      symbol: 'BTC/USDT:USDT',
      bid: 60_029.95,
      ask: 60_030.05,
      bidSize: 5,
    });
    fake.dropStreams();
    await until(() => dropped !== undefined, 'the drop reported');
    expect(dropped!.name).toBe('NetworkError');
    sub.close();
    const again: BookTicker[] = [];
    const sub2 = fut.watchBookTicker('BTC/USDT:USDT', { data: (t) => again.push(t) });
    await until(() => again.length >= 2, 'updates after resubscribing');
    sub2.close();
  });

  it('places with the client id, finds the order by it, refuses a reused id', async () => {
    const o = await spot.createOrder({
      symbol: 'BTC/USDT',
      side: 'buy',
      type: 'market',
      amount: 0.01,
      clientOrderId: 'Sm1',
    });
    expect(o).toMatchObject({ clientOrderId: 'Sm1', status: 'closed', filled: 0.01, type: 'market' });
    expect(o.trades).toHaveLength(1);
    expect(o.trades[0]).toMatchObject({
      price: 60_000.5,
      amount: 0.01,
      // Binance spot charges a buy's commission in the asset received.
      fee: { cost: 0.00001, currency: 'BTC' },
    });
    const f = await fut.createOrder({
      symbol: 'BTC/USDT:USDT',
      side: 'sell',
      type: 'market',
      amount: 0.01,
      clientOrderId: 'Fm1',
    });
    // USD-M answers without fills: they were read from the trade history
    expect(f).toMatchObject({ clientOrderId: 'Fm1', status: 'closed', filled: 0.01 });
    expect(f.trades.map((t) => [t.amount, t.price, t.fee.currency])).toEqual([[0.01, 60_029.95, 'USDT']]);
    expect(f.fee.cost).toBeCloseTo(0.01 * 60_029.95 * 0.0005, 9);
    const back = await fut.fetchOrder({ clientOrderId: 'Fm1' }, 'BTC/USDT:USDT');
    expect(back).toMatchObject({ id: f.id, status: 'closed', filled: 0.01 });
    expect(back.trades.map((t) => t.id)).toEqual(f.trades.map((t) => t.id));
    await expect(
      spot.createOrder({
        symbol: 'BTC/USDT',
        side: 'buy',
        type: 'market',
        amount: 0.01,
        clientOrderId: 'Sm1',
      }),
    ).rejects.toBeInstanceOf(DuplicateClientOrderId);
    await expect(
      fut.createOrder({
        symbol: 'BTC/USDT:USDT',
        side: 'buy',
        type: 'market',
        amount: 0.01,
        clientOrderId: 'Fm1',
      }),
    ).rejects.toBeInstanceOf(DuplicateClientOrderId);
    const positions = await fut.fetchPositions(['BTC/USDT:USDT']);
    expect(positions.map((p) => [p.symbol, p.size])).toEqual([['BTC/USDT:USDT', -0.01]]);
    const bal = await spot.fetchBalance();
    expect(bal.BTC!.total).toBeCloseTo(1.01 - 0.00001, 9); // 0.01 bought, its commission paid in BTC
    // fills inside Binance spot's answer carry no side: they take the order's
    const sold = await spot.createOrder({
      symbol: 'BTC/USDT',
      side: 'sell',
      type: 'market',
      amount: 0.01,
      clientOrderId: 'Sm2',
    });
    expect(sold.trades.map((t) => t.side)).toEqual(['sell']);
  });

  it('cancels by client id; a second cancel is OrderNotFound; an unknown id is OrderNotFound', async () => {
    const o = await fut.createOrder({
      symbol: 'BTC/USDT:USDT',
      side: 'buy',
      type: 'limit',
      price: 59_000,
      amount: 0.01,
      clientOrderId: 'Fl1',
    });
    expect(o.status).toBe('open');
    expect((await fut.fetchOpenOrders('BTC/USDT:USDT')).map((x) => x.clientOrderId)).toContain('Fl1');
    const c = await fut.cancelOrder({ clientOrderId: 'Fl1' }, 'BTC/USDT:USDT');
    expect(c).toMatchObject({ status: 'canceled', filled: 0 });
    await expect(fut.cancelOrder({ clientOrderId: 'Fl1' }, 'BTC/USDT:USDT')).rejects.toBeInstanceOf(
      OrderNotFound,
    );
    await expect(fut.fetchOrder({ clientOrderId: 'nope1' }, 'BTC/USDT:USDT')).rejects.toBeInstanceOf(
      OrderNotFound,
    );
  });

  it('a resting order fills in parts: each update carries every fill so far', async () => {
    const updates: Order[] = [];
    const sub = fut.watchOrders({ data: (o) => o.clientOrderId === 'Fp1' && updates.push(o) });
    await new Promise((r) => setTimeout(r, 300)); // user stream subscribed
    await fut.createOrder({
      symbol: 'ETH/USDT:USDT',
      side: 'buy',
      type: 'limit',
      price: 2_990,
      amount: 0.5,
      clientOrderId: 'Fp1',
    });
    clearInterval(quoting);
    fake.quote('ETH/USDT:USDT', 2_989, 2_989.5, 0.2); // crosses 0.2 of it
    await until(() => updates.some((u) => u.filled > 0), 'a partial fill');
    const partial = await fut.fetchOrder({ clientOrderId: 'Fp1' }, 'ETH/USDT:USDT');
    expect(partial).toMatchObject({ status: 'open', filled: 0.2, remaining: 0.3 });
    expect(partial.trades).toHaveLength(1);
    fake.quote('ETH/USDT:USDT', 2_988, 2_988.5, 10); // the rest
    await until(() => updates.some((u) => u.status === 'closed'), 'filled');
    const done = updates.find((u) => u.status === 'closed')!;
    expect(done.filled).toBe(0.5);
    expect(done.trades).toHaveLength(2);
    expect(new Set(done.trades.map((t) => t.id)).size).toBe(2);
    expect(done.trades.reduce((s, t) => s + t.amount, 0)).toBeCloseTo(0.5, 12);
    sub.close();
    quoting = setInterval(() => {
      fake.quote('BTC/USDT', book.spot - 0.5, book.spot + 0.5, 5);
      fake.quote('BTC/USDT:USDT', book.perp - 0.05, book.perp + 0.05, 5);
      fake.quote('ETH/USDT:USDT', 3_000, 3_000.1, 50);
    }, 50);
  });

  it('a placement whose answer never comes is an unknown outcome, found by client id, not placed twice', async () => {
    fake.faults.timeoutAfterPlace = 1;
    const err = await spot
      .createOrder({
        symbol: 'BTC/USDT',
        side: 'buy',
        type: 'limit',
        price: 59_000,
        amount: 0.01,
        clientOrderId: 'St1',
      })
      .catch((e) => e);
    expect(err).toBeInstanceOf(RequestTimeout);
    expect((err as RequestTimeout).outcomeUnknown).toBe(true);
    const found = await spot.fetchOrder({ clientOrderId: 'St1' }, 'BTC/USDT');
    expect(found).toMatchObject({ clientOrderId: 'St1', status: 'open' });
    expect(fake.spot.allOrders().filter((o) => o.clientOrderId === 'St1')).toHaveLength(1);
    await spot.cancelOrder({ clientOrderId: 'St1' }, 'BTC/USDT');
  });

  it('rate-limit answers: reads back off and retry, orders are refused as not placed', async () => {
    fake.faults.rateLimit = 2;
    const positions = await fut.fetchPositions(['BTC/USDT:USDT']);
    expect(positions).toHaveLength(1);
    expect(fake.faults.rateLimit).toBe(0);
    fake.faults.rateLimit = 1;
    const err = await fut
      .createOrder({
        symbol: 'BTC/USDT:USDT',
        side: 'buy',
        type: 'market',
        amount: 0.01,
        clientOrderId: 'Fr1',
      })
      .catch((e) => e);
    expect(err).toBeInstanceOf(RateLimitExceeded);
    expect((err as RateLimitExceeded).outcomeUnknown).toBe(false);
    expect(fake.futures.allOrders().some((o) => o.clientOrderId === 'Fr1')).toBe(false);
  });

  it('one request budget per account: spot and USD-M on one key share it; preloaded markets cost no request', async () => {
    const a = createCcxtClient({
      name: 'binance',
      exchange: 'binance',
      sandbox: false,
      demo: false,
      credentials: { apiKey: 'k1', secret: 's' },
    });
    const b = createCcxtClient({
      name: 'binanceusdm',
      exchange: 'binanceusdm',
      sandbox: false,
      demo: false,
      credentials: { apiKey: 'k1', secret: 's' },
    });
    const c = createCcxtClient({
      name: 'other',
      exchange: 'binanceusdm',
      sandbox: false,
      demo: false,
      credentials: { apiKey: 'k2', secret: 's' },
    });
    const budget = (x: CcxtExchangeClient) => (x as unknown as { budget: unknown }).budget;
    expect(budget(a)).toBe(budget(b));
    expect(budget(c)).not.toBe(budget(a));
    // ccxt's token bucket is shared too
    const throttler = (x: CcxtExchangeClient) => (x.exchange as unknown as { throttler: unknown }).throttler;
    expect(throttler(a)).toBe(throttler(b));
    await Promise.all([a.close(), b.close(), c.close()]);
    const before = fake.allRequests.length;
    const preloaded = createCcxtClient({
      name: 'binanceusdm',
      exchange: 'binanceusdm',
      sandbox: false,
      demo: false,
      credentials: { apiKey: 'test-key', secret: 'test-secret' },
      rewriteUrl: fake.rewriteUrl,
      markets: fut.exchange.markets as Record<string, unknown>,
    });
    const markets = await preloaded.loadMarkets();
    expect(markets['BTC/USDT:USDT']).toEqual(fut.market('BTC/USDT:USDT'));
    expect(fake.allRequests.slice(before)).toEqual([]);
    await preloaded.close();
  });

  it('checks the minimum notional before sending; a bad signature is refused by the venue', async () => {
    const before = fake.requests.length;
    await expect(
      spot.createOrder({
        symbol: 'BTC/USDT',
        side: 'buy',
        type: 'market',
        amount: 0.00005,
        clientOrderId: 'Sn1',
      }),
    ).rejects.toThrow(InvalidOrder);
    expect(fake.requests.slice(before)).toEqual([]); // nothing sent
    const forged = client('binance', 'binance', 'wrong-secret');
    await forged.loadMarkets();
    const err = await forged.fetchBalance().catch((e) => e);
    expect(err).toBeInstanceOf(ExchangeError);
    expect((err as Error).message).toMatch(/Signature for this request is not valid.*check the API key/);
    await forged.close();
  });

  it('order updates survive a dropped user stream: the hub polls by client id and resubscribes', async () => {
    const hub = new OrderUpdateHub(fut, clock, { reconnectMs: 500, pollMs: 200 });
    const seen: Order[] = [];
    await fut.createOrder({
      symbol: 'BTC/USDT:USDT',
      side: 'buy',
      type: 'limit',
      price: 59_500,
      amount: 0.01,
      clientOrderId: 'Fh1',
    });
    const stop = hub.watch('Fh1', 'BTC/USDT:USDT', (o) => seen.push(o));
    await until(() => seen.length > 0, 'first poll');
    fake.dropStreams();
    await new Promise((r) => setTimeout(r, 50));
    // filled while the stream is down
    const saved = { ...book };
    book.perp = 59_400;
    await until(() => seen.some((o) => o.status === 'closed'), 'the fill, by polling or after reconnecting');
    expect(seen.find((o) => o.status === 'closed')!.trades).toHaveLength(1);
    Object.assign(book, saved);
    stop();
    hub.stop();
    await fut.createOrder({
      symbol: 'BTC/USDT:USDT',
      side: 'sell',
      type: 'market',
      amount: 0.01,
      clientOrderId: 'Fh2',
    });
  });
});
