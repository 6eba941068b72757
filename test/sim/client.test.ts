import { describe, expect, it } from 'vitest';
import {
  ExchangeNotAvailable,
  InvalidOrder,
  NetworkError,
  RateLimitExceeded,
  RequestTimeout,
} from '../../src/domain/index.ts';
import { FaultInjector } from '../../src/exchange/sim/faults.ts';
import { makeClient, PERP, quote, SPOT } from '../helpers.ts';

const buy = (clientOrderId: string) =>
  ({ symbol: SPOT, side: 'buy', type: 'market', amount: 0.01, clientOrderId }) as const;

describe('simulated exchange client: latency', () => {
  it('the venue sees an order after one-way latency and matches it against the book of that moment', async () => {
    const { venue, clock, client } = makeClient({}, { latency: { requestMs: 20 } });
    const t0 = clock.now();
    venue.onBookTicker(quote(SPOT, 60_000, 60_010));
    const p = client.createOrder(buy('lat1'));
    await clock.advanceTo(t0 + 10);
    venue.onBookTicker(quote(SPOT, 60_100, 60_110)); // the market moves while the order is in flight
    await clock.advanceTo(t0 + 40);
    const o = await p;
    expect(o.timestamp).toBe(t0 + 20);
    expect(o.trades[0]!.price).toBe(60_110);
  });

  it('delivers quotes and order updates after stream latency', async () => {
    const { venue, clock, client } = makeClient({}, { latency: { streamMs: 5 } });
    const seen: number[] = [];
    client.watchBookTicker(SPOT, { data: () => seen.push(clock.now()) });
    const t0 = clock.now();
    venue.onBookTicker(quote(SPOT, 60_000, 60_010));
    expect(seen).toEqual([]);
    await clock.advanceTo(t0 + 5);
    expect(seen).toEqual([t0 + 5]);
  });
});

describe('simulated exchange client: faults', () => {
  it('timeout after place: the order exists at the venue and is found by client order id', async () => {
    const faults = new FaultInjector({ script: [{ atRequest: 1, fault: 'timeoutAfterPlace' }] });
    const { venue, clock, client } = makeClient({}, { faults, requestTimeoutMs: 5000 });
    venue.onBookTicker(quote(SPOT, 60_000, 60_010));
    const p = client.createOrder(buy('tap1'));
    const caught = p.catch((e) => e);
    await clock.advanceBy(5000);
    const err = await caught;
    expect(err).toBeInstanceOf(RequestTimeout);
    expect(err.outcomeUnknown).toBe(true);
    const found = await client.fetchOrder({ clientOrderId: 'tap1' }, SPOT);
    expect(found.status).toBe('closed');
  });

  it('timeout before place: nothing reached the venue', async () => {
    const faults = new FaultInjector({ script: [{ atRequest: 1, fault: 'timeoutBeforePlace' }] });
    const { venue, clock, client } = makeClient({}, { faults });
    venue.onBookTicker(quote(SPOT, 60_000, 60_010));
    const caught = client.createOrder(buy('tbp1')).catch((e) => e);
    await clock.advanceBy(10_000);
    expect(await caught).toBeInstanceOf(RequestTimeout);
    await expect(client.fetchOrder({ clientOrderId: 'tbp1' }, SPOT)).rejects.toThrow(/no order/);
    // resending the same id after learning it was never placed is safe
    await expect(client.createOrder(buy('tbp1'))).resolves.toMatchObject({ status: 'closed' });
  });

  it('rejects, 503s and rate limits say nothing was placed', async () => {
    const faults = new FaultInjector({
      script: [
        { atRequest: 1, fault: 'reject' },
        { atRequest: 2, fault: 'unavailable' },
      ],
      rateLimit: { maxRequests: 3, windowMs: 1000 },
    });
    const { venue, clock, client } = makeClient({}, { faults });
    venue.onBookTicker(quote(SPOT, 60_000, 60_010, 5, 5));
    await expect(client.createOrder(buy('f1'))).rejects.toBeInstanceOf(InvalidOrder);
    const e2 = await client.createOrder(buy('f2')).catch((e) => e);
    expect(e2).toBeInstanceOf(ExchangeNotAvailable);
    expect(e2.outcomeUnknown).toBe(false);
    await client.createOrder(buy('f3'));
    await client.createOrder(buy('f4'));
    await client.createOrder(buy('f5'));
    const e6 = await client.createOrder(buy('f6')).catch((e) => e);
    expect(e6).toBeInstanceOf(RateLimitExceeded);
    expect(e6.retryAfterMs).toBeGreaterThan(0);
    await clock.advanceBy(e6.retryAfterMs);
    await expect(client.createOrder(buy('f6'))).resolves.toMatchObject({ clientOrderId: 'f6' });
    expect(venue.allOrders().map((o) => o.clientOrderId)).toEqual(['f3', 'f4', 'f5', 'f6']);
  });

  it('seeded random faults replay identically', async () => {
    async function run(seed: number): Promise<string[]> {
      const faults = new FaultInjector({
        seed,
        rates: { timeoutAfterPlace: 0.2, reject: 0.2, unavailable: 0.1 },
      });
      const { venue, clock, client } = makeClient({}, { faults, requestTimeoutMs: 100 });
      venue.onBookTicker(quote(SPOT, 60_000, 60_010, 100, 100));
      const out: string[] = [];
      for (let i = 0; i < 30; i++) {
        const r = client.createOrder(buy(`s${i}`)).then(
          () => 'ok',
          (e) => (e as Error).name,
        );
        await clock.advanceBy(100);
        out.push(await r);
      }
      return out;
    }
    const a = await run(42);
    expect(await run(42)).toEqual(a);
    expect(new Set(a).size).toBeGreaterThan(2);
  });

  it('gaps drop quotes, stale windows delay them, disconnects end streams with an error', async () => {
    const t0 = 1_700_000_000_000;
    const faults = new FaultInjector({
      script: [
        { atTime: t0 + 100, fault: 'gap', durationMs: 100, symbols: [SPOT] },
        { atTime: t0 + 300, fault: 'stale', durationMs: 100, delayMs: 50 },
        { atTime: t0 + 500, fault: 'disconnect', stream: 'orders' },
      ],
    });
    const { venue, clock, client } = makeClient({}, { faults });
    const quotes: [number, number][] = [];
    client.watchBookTicker(SPOT, { data: (t) => quotes.push([t.timestamp, clock.now()]) });
    const perpQuotes: number[] = [];
    client.watchBookTicker(PERP, { data: (t) => perpQuotes.push(t.timestamp) });
    const errors: Error[] = [];
    client.watchOrders({ data: () => {}, error: (e) => errors.push(e) });
    for (const dt of [50, 150, 250, 350, 450]) {
      await clock.advanceTo(t0 + dt);
      venue.onBookTicker(quote(SPOT, 60_000, 60_010, 1, 1, t0 + dt));
      venue.onBookTicker(quote(PERP, 60_000, 60_010, 1, 1, t0 + dt));
    }
    await clock.advanceTo(t0 + 600);
    expect(quotes).toEqual([
      [t0 + 50, t0 + 50],
      [t0 + 250, t0 + 250],
      [t0 + 350, t0 + 400],
      [t0 + 450, t0 + 450],
    ]);
    expect(perpQuotes).toHaveLength(5); // the gap named only the spot symbol
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(NetworkError);
  });
});
