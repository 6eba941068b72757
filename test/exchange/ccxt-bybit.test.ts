/**
 * The ccxt adapter driving ccxt's real `bybit` class against a local fake Bybit v5 unified
 * account (test/support/fake-exchange/fake-bybit.ts), where Bybit's rules differ from the kind
 * ones the contract (venues.contract.test.ts) takes for granted: an order is found by
 * `orderLinkId` only while it rests and among the last finished ones, its history pages hold 50,
 * one `order` topic carries spot and linear alike, funding is signed as a fee. No internet.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OrderUpdateHub } from '../../src/actors/order-hub.ts';
import { WallClock } from '../../src/clock/clock.ts';
import type { Order } from '../../src/domain/index.ts';
import type { CcxtExchangeClient } from '../../src/exchange/ccxt/client.ts';
import { createCcxtClient } from '../../src/exchange/ccxt/create.ts';
import { FakeBybit } from '../support/fake-exchange/fake-bybit.ts';
import { sellWithLostAnswer } from './lost-answer.ts';
import { until } from './wait.ts';

const clock = new WallClock();
// Two finished orders per category stay in /order/realtime (Bybit keeps 500); funding every 2 s.
const fake = new FakeBybit({
  clock,
  apiKey: 'bybit-key',
  secret: 'bybit-secret',
  realtimeClosedKept: 2,
  fundingIntervalMs: 2_000,
});
let bybit: CcxtExchangeClient;
let quoting: ReturnType<typeof setInterval>;
const SPOT = 'BTC/USDT';
const PERP = 'BTC/USDT:USDT';

const quote = () => {
  fake.quote(SPOT, 59_999.5, 60_000.5, 5);
  fake.quote(PERP, 60_029.9, 60_030.1, 5);
};

beforeAll(async () => {
  await fake.start();
  quote();
  quoting = setInterval(quote, 50);
  bybit = createCcxtClient({
    name: 'bybit',
    exchange: 'bybit',
    sandbox: false,
    demo: false,
    account: 'test-bybit',
    credentials: { apiKey: 'bybit-key', secret: 'bybit-secret' },
    rewriteUrl: fake.rewriteUrl,
    streamStaleMs: 3_000,
  });
  (bybit.exchange as { timeout: number }).timeout = 1_500;
  await bybit.loadMarkets();
});

afterAll(async () => {
  clearInterval(quoting);
  await bybit?.close();
  await fake.close();
});

/** Orders that end at once and push a finished order out of /order/realtime. */
async function finishSome(symbol: string, n: number, amount: number, tag: string): Promise<void> {
  for (let i = 0; i < n; i++)
    await bybit.createOrder({
      symbol,
      side: i % 2 ? 'sell' : 'buy',
      type: 'market',
      amount,
      clientOrderId: `${tag}${i}`,
    });
}

describe('ccxt adapter against a local fake Bybit (unified account)', () => {
  it('loads spot and linear only, without the coin list or asking whether the account is unified', () => {
    expect(fake.allRequests.sort()).toEqual([
      'GET /v5/market/instruments-info',
      'GET /v5/market/instruments-info',
      'GET /v5/market/instruments-info',
    ]);
    expect(bybit.market(SPOT)).toMatchObject({ type: 'spot', id: 'BTCUSDT' });
    expect(bybit.market(PERP)).toMatchObject({
      type: 'swap',
      id: 'BTCUSDT',
      settle: 'USDT',
      contractSize: 1,
    });
  });

  it('an order gone from /order/realtime is found by orderLinkId in the history, a cancelled one with fills too', async () => {
    const filled = await bybit.createOrder({
      symbol: PERP,
      side: 'buy',
      type: 'market',
      amount: 0.003,
      clientOrderId: 'Sbyold1',
    });
    // A spot buy that takes part of the ask and rests the rest, then is cancelled: Bybit lists
    // it as PartiallyFilledCanceled, which its "closed orders" (orderStatus=Filled) leave out.
    clearInterval(quoting);
    fake.quote(SPOT, 59_999.5, 60_000.5, 0.002);
    const part = await bybit.createOrder({
      symbol: SPOT,
      side: 'buy',
      type: 'limit',
      price: 60_000.5,
      amount: 0.005,
      clientOrderId: 'Sbyold2',
    });
    expect(part).toMatchObject({ status: 'open' });
    expect(part.filled).toBeCloseTo(0.002, 9);
    await bybit.cancelOrder({ clientOrderId: 'Sbyold2' }, SPOT);
    quoting = setInterval(quote, 50);
    await finishSome(PERP, 3, 0.001, 'Sbypushp');
    await finishSome(SPOT, 3, 0.0001, 'Sbypushs');
    const realtime = fake.requests.length;
    const a = await bybit.fetchOrder({ clientOrderId: 'Sbyold1', placedAfter: filled.timestamp }, PERP);
    expect(a).toMatchObject({ id: filled.id, status: 'closed', filled: 0.003 });
    const b = await bybit.fetchOrder({ clientOrderId: 'Sbyold2' }, SPOT);
    expect(b).toMatchObject({ id: part.id, status: 'canceled' });
    expect(b.filled).toBeCloseTo(0.002, 9);
    expect(b.trades.reduce((s, t) => s + t.amount, 0)).toBeCloseTo(0.002, 9);
    // Each: realtime by orderLinkId (none), then one history page filtered by it.
    expect(fake.requests.slice(realtime).filter((r) => r.includes('/order/'))).toEqual([
      'GET /v5/order/realtime',
      'GET /v5/order/history',
      'GET /v5/order/realtime',
      'GET /v5/order/history',
    ]);
    await bybit.createOrder({
      symbol: PERP,
      side: 'sell',
      type: 'market',
      amount: 0.003,
      clientOrderId: 'Sbyold1b',
    });
  });

  it('a lost answer is resolved by the order machine and placed once, on both categories', async () => {
    for (const [symbol, amount, id] of [
      [SPOT, 0.002, 'Sbylost1'],
      [PERP, 0.002, 'Sbylost2'],
    ] as const) {
      const output = await sellWithLostAnswer({
        venue: 'bybit',
        client: bybit,
        fake,
        clock,
        symbol,
        amount,
        clientOrderId: id,
      });
      expect(output).toMatchObject({ outcome: 'filled', order: { filled: amount } });
      expect(fake.account.allOrders().filter((o) => o.clientOrderId === id)).toHaveLength(1);
    }
    await bybit.createOrder({
      symbol: PERP,
      side: 'buy',
      type: 'market',
      amount: 0.002,
      clientOrderId: 'Sbylostb',
    });
  }, 30_000);

  it('one order stream carries spot and linear: both are seen, each under its client id', async () => {
    expect(bybit.orderStreamOf(SPOT)).toBe(bybit.orderStreamOf(PERP));
    const hub = new OrderUpdateHub(bybit, clock, { reconnectMs: 200, pollMs: 60_000 });
    const seen: Record<string, Order[]> = { Sbyws1: [], Sbyws2: [] };
    const offs = Object.keys(seen).map((id) =>
      hub.watch(id, id === 'Sbyws1' ? SPOT : PERP, (o) => seen[id]!.push(o)),
    );
    await new Promise((r) => setTimeout(r, 300)); // the stream is subscribed
    await bybit.createOrder({
      symbol: SPOT,
      side: 'buy',
      type: 'limit',
      price: 59_000,
      amount: 0.001,
      clientOrderId: 'Sbyws1',
    });
    await bybit.createOrder({
      symbol: PERP,
      side: 'buy',
      type: 'limit',
      price: 59_000,
      amount: 0.002,
      clientOrderId: 'Sbyws2',
    });
    await bybit.cancelOrder({ clientOrderId: 'Sbyws1' }, SPOT);
    await bybit.cancelOrder({ clientOrderId: 'Sbyws2' }, PERP);
    await until(
      () => Object.values(seen).every((l) => l.some((o) => o.status === 'canceled')),
      () => JSON.stringify(Object.values(seen).map((l) => l.map((o) => o.status))),
    );
    expect(seen.Sbyws1!.every((o) => o.symbol === SPOT)).toBe(true);
    expect(seen.Sbyws2!.every((o) => o.symbol === PERP)).toBe(true);
    for (const off of offs) off();
    hub.dispose();
  });

  it('funding is read as received: Bybit signs it as a fee (positive when paid)', async () => {
    await bybit.createOrder({
      symbol: PERP,
      side: 'buy',
      type: 'market',
      amount: 0.01,
      clientOrderId: 'Sbyfund',
    });
    const since = Date.now();
    await until(() => fake.account.fundingPayments(PERP, since).length > 0, 'a funding settlement', 6_000);
    const venue = fake.account.fundingPayments(PERP, since);
    const read = await bybit.fetchFundingHistory(PERP, since);
    expect(read.map((p) => p.amount)).toEqual(
      expect.arrayContaining(venue.map((p) => expect.closeTo(p.amount, 9))),
    );
    // A long pays a positive rate.
    expect(venue[0]!.amount).toBeLessThan(0);
    await bybit.createOrder({
      symbol: PERP,
      side: 'sell',
      type: 'market',
      amount: 0.01,
      clientOrderId: 'Sbyfundb',
    });
  });

  it('the funding history is read in full, from the oldest day Bybit keeps and page by page', async () => {
    const now = Date.now();
    const hour = 3_600_000;
    const seeded = Array.from({ length: 120 }, (_, i) => ({
      id: `seed-${i}`,
      symbol: PERP,
      amount: -0.01 - i / 1e4,
      rate: 0.0001,
      timestamp: now - (i + 1) * hour,
    }));
    fake.seedFunding([
      ...seeded,
      { id: 'seed-old', symbol: PERP, amount: -1, rate: 0.0001, timestamp: now - 8 * 24 * hour },
    ]);
    // The funding poll starts from 0: Bybit answers a week from startTime (nothing from 1970),
    // and 50 rows a page.
    const read = await bybit.fetchFundingHistory(PERP, 0);
    const ids = new Set(read.map((p) => p.id));
    expect(seeded.filter((p) => !ids.has(p.id))).toEqual([]);
    expect(read.find((p) => p.id === 'seed-2')?.amount).toBeCloseTo(seeded[2]!.amount, 9);
  });

  it('an order with more fills than Bybit lists by default has them all', async () => {
    clearInterval(quoting);
    try {
      fake.quote(SPOT, 59_999.5, 60_000.5, 5);
      await bybit.createOrder({
        symbol: SPOT,
        side: 'buy',
        type: 'limit',
        price: 59_990,
        amount: 0.06,
        clientOrderId: 'Sbymany',
      });
      // Sixty asks of 0.001 at the order's price, each taken: sixty fills.
      for (let i = 0; i < 60; i++) fake.quote(SPOT, 59_980, 59_990 - (i % 2) * 0.01, 0.001);
      const o = await bybit.fetchOrder({ clientOrderId: 'Sbymany' }, SPOT);
      expect(o).toMatchObject({ status: 'closed' });
      expect(o.trades).toHaveLength(60);
      expect(o.trades.reduce((x, t) => x + t.amount, 0)).toBeCloseTo(0.06, 9);
    } finally {
      quoting = setInterval(quote, 50);
    }
    await bybit.createOrder({
      symbol: SPOT,
      side: 'sell',
      type: 'market',
      amount: 0.06,
      clientOrderId: 'Sbymanyb',
    });
  });

  it('a spot market order Bybit ended part filled (PartiallyFilledCanceled) is expired, not closed', async () => {
    clearInterval(quoting);
    let o: Order;
    try {
      fake.quote(SPOT, 59_999.5, 60_000.5, 0.002);
      o = await bybit.createOrder({
        symbol: SPOT,
        side: 'buy',
        type: 'market',
        amount: 0.005,
        clientOrderId: 'Sbypartmkt',
      });
    } finally {
      quoting = setInterval(quote, 50);
    }
    expect(o).toMatchObject({ status: 'expired' });
    expect(o.filled).toBeCloseTo(0.002, 9);
    await bybit.createOrder({
      symbol: SPOT,
      side: 'sell',
      type: 'market',
      amount: 0.002,
      clientOrderId: 'Sbypartmktb',
    });
  });
});
