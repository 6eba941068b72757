/**
 * The ccxt adapter driving ccxt's real `gate` class against a local fake Gate.io
 * (test/support/fake-exchange/fake-gate.ts): signed v4 REST and websockets, spot and USDT
 * perpetual wallets backed by simulated venues, and Gate's unkind rules — `text` ids echoed with
 * `t-`, found by id only while an order rests, never refused when reused. No internet.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OrderUpdateHub } from '../../src/actors/order-hub.ts';
import { WallClock } from '../../src/clock/clock.ts';
import type { Order } from '../../src/domain/index.ts';
import type { CcxtExchangeClient } from '../../src/exchange/ccxt/client.ts';
import { createCcxtClient } from '../../src/exchange/ccxt/create.ts';
import { FakeGate, GATE_BTC_CONTRACT } from '../support/fake-exchange/fake-gate.ts';
import { sellWithLostAnswer } from './lost-answer.ts';
import { until } from './wait.ts';

const clock = new WallClock();
const fake = new FakeGate({ clock, apiKey: 'gate-key', secret: 'gate-secret', uid: '10001' });
let gate: CcxtExchangeClient;
let quoting: ReturnType<typeof setInterval>;
const SPOT = 'BTC/USDT';
const PERP = 'BTC/USDT:USDT';

/** A ccxt Gate client on the fake, its markets loaded, trading as user `uid`. */
async function gateClient(name: string, uid: string): Promise<CcxtExchangeClient> {
  const c = createCcxtClient({
    name,
    exchange: 'gate',
    sandbox: false,
    demo: false,
    account: `test-${name}`,
    credentials: { apiKey: 'gate-key', secret: 'gate-secret', uid },
    rewriteUrl: fake.rewriteUrl,
    streamStaleMs: 3_000,
  });
  (c.exchange as { timeout: number }).timeout = 1_500;
  await c.loadMarkets();
  return c;
}

beforeAll(async () => {
  await fake.start();
  const quote = () => {
    fake.quote(SPOT, 59_999.5, 60_000.5, 5);
    fake.quote(PERP, 60_029.9, 60_030.1, 50_000); // contracts of 0.0001 BTC
  };
  quote();
  quoting = setInterval(quote, 50);
  gate = await gateClient('gate', '10001');
});

afterAll(async () => {
  clearInterval(quoting);
  await gate?.close();
  await fake.close();
});

describe('ccxt adapter against a local fake Gate', () => {
  it('loads spot and the USDT perpetuals only, contracts in quanto multiples', () => {
    expect(fake.allRequests.filter((r) => r.startsWith('GET')).sort()).toEqual([
      'GET /api/v4/futures/usdt/contracts',
      'GET /api/v4/margin/currency_pairs',
      'GET /api/v4/spot/currency_pairs',
    ]);
    expect(gate.market(SPOT)).toMatchObject({ type: 'spot', id: 'BTC_USDT', base: 'BTC', quote: 'USDT' });
    expect(gate.market(PERP)).toMatchObject({
      type: 'swap',
      settle: 'USDT',
      contractSize: GATE_BTC_CONTRACT,
      precision: { amount: 1, price: 0.1 },
    });
  });

  it('rests an order under its client id, finds it and cancels it by that id (ccxt alone sends orders/undefined)', async () => {
    const o = await gate.createOrder({
      symbol: SPOT,
      side: 'buy',
      type: 'limit',
      price: 50_000,
      amount: 0.001,
      clientOrderId: 'Sgrest1',
    });
    expect(o).toMatchObject({ clientOrderId: 'Sgrest1', status: 'open', filled: 0 });
    expect(await gate.fetchOrder({ clientOrderId: 'Sgrest1' }, SPOT)).toMatchObject({
      id: o.id,
      status: 'open',
    });
    const c = await gate.cancelOrder({ clientOrderId: 'Sgrest1' }, SPOT);
    expect(c).toMatchObject({ clientOrderId: 'Sgrest1', status: 'canceled' });
    expect(fake.requests).toContain('DELETE /spot/orders/t-Sgrest1');
    const p = await gate.createOrder({
      symbol: PERP,
      side: 'sell',
      type: 'limit',
      price: 61_000,
      amount: 10,
      clientOrderId: 'Sgrest2',
    });
    expect(p).toMatchObject({ clientOrderId: 'Sgrest2', status: 'open', amount: 10 });
    expect(await gate.cancelOrder({ clientOrderId: 'Sgrest2' }, PERP)).toMatchObject({ status: 'canceled' });
  });

  it('a spot market buy (sized in quote at Gate) buys what the amount asked costs at the ask, with its fills', async () => {
    const o = await gate.createOrder({
      symbol: SPOT,
      side: 'buy',
      type: 'market',
      amount: 0.01,
      clientOrderId: 'Sgmb1',
    });
    expect(o.status).toBe('closed');
    // The budget is 0.01 × the ask at Gate's cost precision: within one amount step of 0.01.
    const step = gate.market(SPOT).precision.amount;
    expect(o.filled).toBeGreaterThan(0.01 - step - 1e-12);
    expect(o.filled).toBeLessThanOrEqual(0.01 + 1e-12);
    expect(o.trades.reduce((s, t) => s + t.amount, 0)).toBeCloseTo(o.filled, 9);
    expect(o.trades[0]).toMatchObject({ price: 60_000.5 });
  });

  it('a filled spot order is found by client id after it ended: from the finished orders, not as "never placed"', async () => {
    await gate.createOrder({
      symbol: SPOT,
      side: 'sell',
      type: 'market',
      amount: 0.002,
      clientOrderId: 'Sgdone1',
    });
    const back = await gate.fetchOrder({ clientOrderId: 'Sgdone1' }, SPOT);
    expect(back).toMatchObject({ clientOrderId: 'Sgdone1', status: 'closed', filled: 0.002 });
    expect(back.trades.reduce((s, t) => s + t.amount, 0)).toBeCloseTo(0.002, 9);
    await expect(gate.fetchOrder({ clientOrderId: 'Sgnever' }, SPOT)).rejects.toMatchObject({
      name: 'OrderNotFound',
    });
  });

  it('a reused text with two finished orders is not resolved by picking one; a full page without the id is unknown, not absent', async () => {
    for (let i = 0; i < 2; i++)
      await gate.createOrder({
        symbol: SPOT,
        side: 'buy',
        type: 'market',
        amount: 0.001,
        clientOrderId: 'Sgtwice',
      });
    await expect(gate.fetchOrder({ clientOrderId: 'Sgtwice' }, SPOT)).rejects.toThrow(
      /2 orders under client id Sgtwice/,
    );
    // A thousand finished orders since it was journalled, none of them this one: more may follow.
    const since = Date.now();
    for (let i = 0; i < 1_000; i++)
      fake.spot.placeOrder({
        symbol: SPOT,
        side: 'sell',
        type: 'market',
        amount: 0.0001,
        clientOrderId: `t-bulk${i}`,
      });
    const err = await gate
      .fetchOrder({ clientOrderId: 'Sgunseen', placedAfter: since }, SPOT)
      .catch((e) => e);
    expect(err.name).toBe('NetworkError');
    expect(err.message).toMatch(/and there are more: unknown/);
  });

  it('a market order whose answer is lost is found by the order machine and placed once, though Gate accepts a reused text', async () => {
    for (const [symbol, amount, id] of [
      [SPOT, 0.003, 'Sglost1'],
      [PERP, 20, 'Sglost2'],
    ] as const) {
      const output = await sellWithLostAnswer({
        venue: 'gate',
        client: gate,
        fake,
        clock,
        symbol,
        amount,
        clientOrderId: id,
      });
      expect(output).toMatchObject({ outcome: 'filled', order: { filled: amount } });
      const venue = symbol === SPOT ? fake.spot : fake.futures;
      expect(venue.allOrders().filter((o) => o.clientOrderId === `t-${id}`)).toHaveLength(1);
    }
  }, 30_000);

  it('order updates arrive under our client ids on both streams (Gate echoes t-…)', async () => {
    const hub = new OrderUpdateHub(gate, clock, { reconnectMs: 200, pollMs: 200 });
    const seen: Record<string, Order[]> = { Sgws1: [], Sgws2: [] };
    const offs = Object.keys(seen).map((id) =>
      hub.watch(id, id === 'Sgws1' ? SPOT : PERP, (o) => seen[id]!.push(o)),
    );
    await new Promise((r) => setTimeout(r, 300)); // the streams are subscribed
    const polls = fake.requests.filter((r) => r.includes('/orders/t-Sgws')).length;
    await gate.createOrder({
      symbol: SPOT,
      side: 'buy',
      type: 'limit',
      price: 60_100,
      amount: 0.001,
      clientOrderId: 'Sgws1',
    });
    await gate.createOrder({
      symbol: PERP,
      side: 'buy',
      type: 'limit',
      price: 60_100,
      amount: 5,
      clientOrderId: 'Sgws2',
    });
    await until(
      () => seen.Sgws1!.some((o) => o.status === 'closed') && seen.Sgws2!.some((o) => o.status === 'closed'),
      'both fills over the streams',
    );
    // Over the streams, not by polling each order.
    expect(fake.requests.filter((r) => r.includes('/orders/t-Sgws')).length).toBe(polls);
    for (const off of offs) off();
    hub.dispose();
  });

  it('a perpetual order stream the venue refuses leaves the spot stream running', async () => {
    // The wrong user id: Gate refuses the futures order channel on every subscription.
    const wrong = await gateClient('gate-wrong-uid', '99999');
    // Polls far apart: what arrives in time came over a stream.
    const hub = new OrderUpdateHub(wrong, clock, { reconnectMs: 200, pollMs: 60_000, maxReconnectMs: 400 });
    const seen: Order[] = [];
    const offs = [hub.watch('Sgiso1', SPOT, (o) => seen.push(o)), hub.watch('Sgiso2', PERP, () => {})];
    await new Promise((r) => setTimeout(r, 1_000)); // the perpetual stream refused a few times
    const polls = () => fake.requests.filter((r) => r.includes('/orders/t-Sgiso1')).length;
    const before = polls();
    await wrong.createOrder({
      symbol: SPOT,
      side: 'buy',
      type: 'limit',
      price: 59_000,
      amount: 0.001,
      clientOrderId: 'Sgiso1',
    });
    await new Promise((r) => setTimeout(r, 1_000));
    fake.quote(SPOT, 58_998, 58_999, 5); // fills it
    await until(() => seen.some((o) => o.status === 'closed'), 'the spot fill over its stream', 3_000);
    expect(polls()).toBe(before);
    for (const off of offs) off();
    hub.dispose();
    await wrong.close();
  }, 15_000);

  it('balances are both wallets; positions, leverage and funding are the perpetual’s', async () => {
    const before = fake.spot.balances().USDT!.total + fake.futures.balances().USDT!.total;
    const b = await gate.fetchBalance();
    expect(b.USDT!.total).toBeCloseTo(before, 6);
    await gate.setLeverage(PERP, 10);
    await gate.createOrder({
      symbol: PERP,
      side: 'buy',
      type: 'market',
      amount: 30,
      clientOrderId: 'Sgpos1',
    });
    const positions = await gate.fetchPositions([PERP]);
    const net = fake.futures.positions().find((p) => p.symbol === PERP)!.size;
    expect(positions).toEqual([
      expect.objectContaining({ symbol: PERP, size: net, contractSize: GATE_BTC_CONTRACT }),
    ]);
    const fr = await gate.fetchFundingRate(PERP);
    expect(fr).toMatchObject({ symbol: PERP, intervalMs: 8 * 3_600_000 });
    expect(fr.nextFundingTimestamp).toBeGreaterThan(Date.now() - 8 * 3_600_000);
  });
});
