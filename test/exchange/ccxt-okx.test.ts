/**
 * The ccxt adapter driving ccxt's real `okx` class against a local fake OKX v5 trading account
 * (test/support/fake-exchange/fake-okx.ts), where OKX differs from the kind venue the contract
 * (venues.contract.test.ts) takes for granted: one `orders` channel for every instType (ccxt
 * subscribes it once), swaps sized in contracts of ctVal, a cancelled order that filled nothing
 * forgotten after two hours, funding as bills. No internet.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OrderUpdateHub } from '../../src/actors/order-hub.ts';
import { WallClock } from '../../src/clock/clock.ts';
import { type Order, OrderNotFound } from '../../src/domain/index.ts';
import type { CcxtExchangeClient } from '../../src/exchange/ccxt/client.ts';
import { createCcxtClient } from '../../src/exchange/ccxt/create.ts';
import { FakeOkx, OKX_BTC_CONTRACT } from '../support/fake-exchange/fake-okx.ts';
import { sellWithLostAnswer } from './lost-answer.ts';
import { until } from './wait.ts';

const clock = new WallClock();
// Unfilled cancelled orders forgotten after 1 s (OKX: 2 h); funding every 2 s.
const fake = new FakeOkx({
  clock,
  apiKey: 'okx-key',
  secret: 'okx-secret',
  passphrase: 'okx-pass',
  unfilledCanceledKeptMs: 1_000,
  fundingIntervalMs: 2_000,
});
let okx: CcxtExchangeClient;
let quoting: ReturnType<typeof setInterval>;
const SPOT = 'BTC/USDT';
const SWAP = 'BTC/USDT:USDT';

beforeAll(async () => {
  await fake.start();
  const quote = () => {
    fake.quote(SPOT, 59_999.5, 60_000.5, 5);
    fake.quote(SWAP, 60_029.9, 60_030.1, 500); // contracts of 0.01 BTC
  };
  quote();
  quoting = setInterval(quote, 50);
  okx = createCcxtClient({
    name: 'okx',
    exchange: 'okx',
    sandbox: false,
    demo: false,
    account: 'test-okx',
    credentials: { apiKey: 'okx-key', secret: 'okx-secret', password: 'okx-pass' },
    rewriteUrl: fake.rewriteUrl,
    streamStaleMs: 3_000,
  });
  (okx.exchange as { timeout: number }).timeout = 1_500;
  await okx.loadMarkets();
});

afterAll(async () => {
  clearInterval(quoting);
  await okx?.close();
  await fake.close();
});

describe('ccxt adapter against a local fake OKX (trading account)', () => {
  it('loads spot and swaps only, without the signed currency list; swaps in contracts of ctVal', () => {
    expect(fake.allRequests.sort()).toEqual([
      'GET /api/v5/public/instruments',
      'GET /api/v5/public/instruments',
    ]);
    expect(okx.market(SPOT)).toMatchObject({ type: 'spot', id: 'BTC-USDT' });
    expect(okx.market(SWAP)).toMatchObject({
      type: 'swap',
      id: 'BTC-USDT-SWAP',
      settle: 'USDT',
      contractSize: OKX_BTC_CONTRACT,
      precision: { amount: 0.01 },
    });
  });

  it('one order stream carries spot and swap: both are seen, each under its client id', async () => {
    expect(okx.orderStreamOf(SPOT)).toBe(okx.orderStreamOf(SWAP));
    const hub = new OrderUpdateHub(okx, clock, { reconnectMs: 200, pollMs: 60_000 });
    const seen: Record<string, Order[]> = { Sokws1: [], Sokws2: [] };
    const offs = Object.keys(seen).map((id) =>
      hub.watch(id, id === 'Sokws1' ? SPOT : SWAP, (o) => seen[id]!.push(o)),
    );
    await new Promise((r) => setTimeout(r, 300)); // the stream is subscribed
    for (const [symbol, amount, id] of [
      [SPOT, 0.001, 'Sokws1'],
      [SWAP, 0.5, 'Sokws2'],
    ] as const) {
      await okx.createOrder({ symbol, side: 'buy', type: 'limit', price: 59_000, amount, clientOrderId: id });
      await okx.cancelOrder({ clientOrderId: id }, symbol);
    }
    await until(
      () => Object.values(seen).every((l) => l.some((o) => o.status === 'canceled')),
      () => JSON.stringify(Object.values(seen).map((l) => l.map((o) => o.status))),
    );
    expect(seen.Sokws2!.every((o) => o.symbol === SWAP)).toBe(true);
    for (const off of offs) off();
    hub.dispose();
  });

  it('a lost answer is resolved by the order machine and placed once, though OKX takes a finished clOrdId again', async () => {
    for (const [symbol, amount, id] of [
      [SPOT, 0.002, 'Soklost1'],
      [SWAP, 0.3, 'Soklost2'],
    ] as const) {
      const output = await sellWithLostAnswer({
        venue: 'okx',
        client: okx,
        fake,
        clock,
        symbol,
        amount,
        clientOrderId: id,
      });
      expect(output).toMatchObject({ outcome: 'filled', order: { filled: amount } });
      expect(fake.account.allOrders().filter((o) => o.clientOrderId === id)).toHaveLength(1);
      if (symbol === SWAP) {
        // Contracts: 0.3 of 0.01 BTC at about 60,030.
        const o = (output as { order: Order }).order;
        expect(o.cost).toBeCloseTo(0.3 * OKX_BTC_CONTRACT * 60_029.9, 2);
      }
    }
    await okx.createOrder({
      symbol: SWAP,
      side: 'buy',
      type: 'market',
      amount: 0.3,
      clientOrderId: 'Soklostb',
    });
  }, 30_000);

  it('a cancelled order that filled nothing is not found once OKX forgot it: nothing was traded', async () => {
    await okx.createOrder({
      symbol: SPOT,
      side: 'buy',
      type: 'limit',
      price: 59_000,
      amount: 0.001,
      clientOrderId: 'Sokgone',
    });
    await okx.cancelOrder({ clientOrderId: 'Sokgone' }, SPOT);
    expect(await okx.fetchOrder({ clientOrderId: 'Sokgone' }, SPOT)).toMatchObject({
      status: 'canceled',
      filled: 0,
    });
    await new Promise((r) => setTimeout(r, 1_100));
    await expect(okx.fetchOrder({ clientOrderId: 'Sokgone' }, SPOT)).rejects.toBeInstanceOf(OrderNotFound);
  });

  it('funding is read from the bills, received positive', async () => {
    await okx.createOrder({ symbol: SWAP, side: 'buy', type: 'market', amount: 1, clientOrderId: 'Sokfund' });
    const since = Date.now();
    await until(() => fake.account.fundingPayments(SWAP, since).length > 0, 'a funding settlement', 6_000);
    const venue = fake.account.fundingPayments(SWAP, since);
    const read = await okx.fetchFundingHistory(SWAP, since);
    expect(read.map((p) => p.amount)).toEqual(
      expect.arrayContaining(venue.map((p) => expect.closeTo(p.amount, 9))),
    );
    expect(venue[0]!.amount).toBeLessThan(0); // a long pays a positive rate
    await okx.createOrder({
      symbol: SWAP,
      side: 'sell',
      type: 'market',
      amount: 1,
      clientOrderId: 'Sokfundb',
    });
  });
});
