/**
 * What is Binance's own in the ccxt adapter (`binance` and `binanceusdm` against the local fake
 * Binance, test/support/fake-binance.ts): precision and limits, a reused id refused while the first
 * order rests, spot fees in the asset received, one request budget per key, the minimum notional,
 * signatures. The contract every venue keeps is venue-contract.ts, run in venues.contract.test.ts.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { WallClock } from '../../src/clock/clock.ts';
import { DuplicateClientOrderId, ExchangeError, InvalidOrder } from '../../src/domain/index.ts';
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
  fake.faults.ackOnly = 0;
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

  it('places with the client id, finds the order by it, refuses a reused id while the first rests', async () => {
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
    // Binance refuses a reused id only while the first order rests ("unique among open orders").
    for (const [c, symbol, id] of [
      [spot, 'BTC/USDT', 'Sreuse1'],
      [fut, 'BTC/USDT:USDT', 'Freuse1'],
    ] as const) {
      const limit = { symbol, side: 'buy', type: 'limit', amount: 0.001, clientOrderId: id } as const;
      await c.createOrder({ ...limit, price: 50_000 });
      await expect(c.createOrder({ ...limit, price: 49_000 })).rejects.toBeInstanceOf(DuplicateClientOrderId);
      await c.cancelOrder({ clientOrderId: id }, symbol);
    }
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
});
