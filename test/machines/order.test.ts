import { describe, expect, it } from 'vitest';
import { createActor, waitFor } from 'xstate';
import { type OrderOutput, orderMachine } from '../../machines/order.ts';
import { createExchangeActors, InMemoryIntentJournal } from '../../src/actors/exchange-actors.ts';
import type { OrderRequest } from '../../src/domain/index.ts';
import { SimExchangeClient } from '../../src/exchange/sim/client.ts';
import { FaultInjector, type ScriptedFault } from '../../src/exchange/sim/faults.ts';
import type { SimClientIdRules, SimVenueOptions } from '../../src/exchange/sim/venue.ts';
import { makeVenue, quote, SPOT } from '../helpers.ts';

function setup(script: ScriptedFault[] = [], latencyMs = 5, venueOptions: Partial<SimVenueOptions> = {}) {
  const { venue, clock } = makeVenue(venueOptions);
  const journal = new InMemoryIntentJournal(() => clock.now());
  const client = new SimExchangeClient(venue, {
    faults: new FaultInjector({ script }),
    latency: { requestMs: latencyMs, streamMs: 1 },
    requestTimeoutMs: 200,
  });
  const { actors } = createExchangeActors({ venues: { sim: client }, clock, orderPollMs: 100, journal });
  const machine = orderMachine.provide({ actors });
  venue.onBookTicker(quote(SPOT, 60_000, 60_010, 5, 5));
  return { venue, clock, machine, journal };
}

const buy = (id: string, extra: Partial<OrderRequest> = {}): OrderRequest => ({
  symbol: SPOT,
  side: 'buy',
  type: 'market',
  amount: 0.01,
  clientOrderId: id,
  ...extra,
});

async function run(s: ReturnType<typeof setup>, request: OrderRequest, ms = 10_000): Promise<OrderOutput> {
  const actor = createActor(s.machine, {
    input: { venue: 'sim', request, retryDelayMs: 50, inFlightGraceMs: 300 },
  });
  actor.start();
  await s.clock.advanceBy(ms);
  expect(actor.getSnapshot().status).toBe('done');
  return actor.getSnapshot().output!;
}

describe('order machine against the simulated venue', () => {
  it('an id journalled for another request is retired: nothing else is sent under it, nothing at the venue is adopted for it', async () => {
    // A kill between journalling an intent and sending it: the restored strategy, deciding
    // again, names the same id for a different order (another price).
    const s = setup([], 5);
    const journal = s.journal;
    journal.record('sim', buy('o10', { type: 'limit', price: 50_000 }));
    const never = await run(s, buy('o10'));
    expect(never.outcome).toBe('rejected');
    expect(never.error?.name).toBe('ClientIdRetired');
    expect(s.venue.allOrders().filter((o) => o.clientOrderId === 'o10')).toEqual([]);
    // The first request did reach the venue: its order is not this one's.
    const first = buy('o11', { type: 'limit', price: 60_010 }); // marketable: it fills
    journal.record('sim', first);
    s.venue.placeOrder(first);
    const other = await run(s, buy('o11', { type: 'limit', price: 59_000 }));
    expect(other.outcome).toBe('rejected');
    expect(other.order).toBeUndefined();
    const atVenue = s.venue.allOrders().filter((o) => o.clientOrderId === 'o11');
    expect(atVenue.map((o) => o.price)).toEqual([60_010]);
    // The same request again is a re-send, as after any restore: asked first, never doubled.
    const same = await run(s, first, 1_000);
    expect(same.outcome).toBe('filled');
    expect(same.order?.price).toBe(60_010);
    expect(s.venue.allOrders().filter((o) => o.clientOrderId === 'o11')).toHaveLength(1);
  });

  it('a placement whose actor was stopped while it asked the venue sends nothing: a stopped strategy trades no more', async () => {
    // A restored placement asks first; the strategy is stopped (a crash, a lease lost) while the
    // question is on the wire. Whatever the answer, nothing may leave after the stop.
    const s = setup([], 5, { clientIds: { refusesReused: 'while-open' } });
    s.journal.record('sim', buy('z1'));
    await s.clock.advanceBy(10_000); // long past the landing window: not found would mean re-send
    const actor = createActor(s.machine, {
      input: { venue: 'sim', request: buy('z1'), retryDelayMs: 50, inFlightGraceMs: 300 },
    });
    actor.start();
    await s.clock.advanceBy(2); // the lookup is on the wire
    actor.stop();
    await s.clock.advanceBy(1_000);
    expect(s.venue.allOrders()).toEqual([]);
    // And a first placement stopped before its request left.
    const fresh = createActor(s.machine, { input: { venue: 'sim', request: buy('z2') } });
    fresh.start();
    fresh.stop();
    await s.clock.advanceBy(1_000);
    expect(s.venue.allOrders()).toEqual([]);
  });

  it('a re-send still on its way is the last send: a second placement of the id waits for it, it does not send again', async () => {
    // A (a restored placement) re-sends an old intent; B (the same strategy restored again, or a
    // restart) asks while A's request is on the wire, hears "not found", and must not count from
    // the first send, long ago.
    const s = setup([], 5, { clientIds: { refusesReused: 'while-open' } });
    s.journal.record('sim', buy('z3'));
    await s.clock.advanceBy(10_000); // the first send can no longer land: A may re-send
    const input = { venue: 'sim', request: buy('z3'), retryDelayMs: 50, inFlightGraceMs: 300 };
    const a = createActor(s.machine, { input }).start();
    await s.clock.advanceBy(9); // A's lookup answered at 10, its re-send lands at 15
    const b = createActor(s.machine, { input }).start(); // B's lookup reaches the venue at 14
    await s.clock.advanceBy(10_000);
    expect(s.venue.allOrders().filter((o) => o.clientOrderId === 'z3')).toHaveLength(1);
    expect(a.getSnapshot().output).toMatchObject({ outcome: 'filled' });
    expect(b.getSnapshot().output).toMatchObject({ outcome: 'filled' });
  });

  it('"not found" counts from when the venue was asked, not from when a slow answer came back', async () => {
    // The first request is on its way (it lands at 600 ms); a restored placement asks at 500 ms,
    // the venue has nothing yet, and the answer takes 300 ms to come back — past the landing
    // window (~615 ms). Counted from the answer, the re-send would go out and fill twice.
    const { venue, clock } = makeVenue({ clientIds: { refusesReused: 'while-open' } });
    venue.onBookTicker(quote(SPOT, 60_000, 60_010, 5, 5));
    const sim = new SimExchangeClient(venue, {
      latency: { requestMs: 5, streamMs: 1 },
      requestTimeoutMs: 200,
    });
    const slowAnswers = Object.assign(Object.create(sim) as SimExchangeClient, {
      fetchOrder: async (...a: Parameters<SimExchangeClient['fetchOrder']>) => {
        const r = await sim.fetchOrder(...a).catch((e: unknown) => e);
        await new Promise<void>((res) => clock.setTimeout(res, 300));
        if (r instanceof Error) throw r;
        return r;
      },
    });
    const journal = new InMemoryIntentJournal(() => clock.now());
    const { actors } = createExchangeActors({
      venues: { sim: slowAnswers },
      clock,
      orderPollMs: 100,
      journal,
    });
    journal.record('sim', buy('z4'));
    clock.setTimeout(() => venue.placeOrder(buy('z4')), 600);
    await clock.advanceBy(500);
    const actor = createActor(orderMachine.provide({ actors }), {
      input: { venue: 'sim', request: buy('z4'), retryDelayMs: 50, inFlightGraceMs: 300 },
    }).start();
    await clock.advanceBy(10_000);
    expect(venue.allOrders().filter((o) => o.clientOrderId === 'z4')).toHaveLength(1);
    expect(actor.getSnapshot().output).toMatchObject({ outcome: 'filled' });
  });

  it('a market order fills', async () => {
    const s = setup();
    const out = await run(s, buy('o1'));
    expect(out.outcome).toBe('filled');
    expect(out.order?.filled).toBeCloseTo(0.01, 12);
  });

  it('timeout after the venue placed it: unknown → found by client id → filled, sent once', async () => {
    const s = setup([{ atRequest: 1, fault: 'timeoutAfterPlace' }]);
    const out = await run(s, buy('o2'));
    expect(out.outcome).toBe('filled');
    expect(out.error?.name).toBe('RequestTimeout');
    expect(s.venue.allOrders().filter((o) => o.clientOrderId === 'o2')).toHaveLength(1);
  });

  it('timeout before the venue saw it: not found twice → re-sent with the same id → filled once', async () => {
    const s = setup([{ atRequest: 1, fault: 'timeoutBeforePlace' }]);
    const out = await run(s, buy('o3'));
    expect(out.outcome).toBe('filled');
    expect(s.venue.allOrders().filter((o) => o.clientOrderId === 'o3')).toHaveLength(1);
  });

  // Venues that are unkind about client ids: a lost answer must still end in one order, booked.
  const unkind: [string, SimClientIdRules][] = [
    [
      'finds an order by id only while it rests and accepts a reused id (Gate spot)',
      { findsFinished: false, refusesReused: 'never' },
    ],
    ['refuses a reused id only while the first order rests (Binance)', { refusesReused: 'while-open' }],
  ];
  for (const [venueIs, clientIds] of unkind) {
    it(`a venue that ${venueIs}: a market order whose answer is lost is found, filled once`, async () => {
      const s = setup([{ atRequest: 1, fault: 'timeoutAfterPlace' }], 5, { clientIds });
      const out = await run(s, buy('u1'));
      expect(s.venue.allOrders().filter((o) => o.clientOrderId === 'u1')).toHaveLength(1);
      expect(out.outcome).toBe('filled');
      expect(out.order?.filled).toBeCloseTo(0.01, 12);
    });

    it(`a venue that ${venueIs}: a request that lands after the client gave up is not sent again`, async () => {
      const s = setup([{ atRequest: 1, fault: 'lateArrival' }], 5, { clientIds });
      const out = await run(s, buy('u2'));
      expect(s.venue.allOrders().filter((o) => o.clientOrderId === 'u2')).toHaveLength(1);
      expect(out.outcome).toBe('filled');
      expect(out.order?.filled).toBeCloseTo(0.01, 12);
    });
  }

  it('rate limit and 503 are retried after a pause; a reject is final', async () => {
    const s = setup([
      { atRequest: 1, fault: 'rateLimit' },
      { atRequest: 2, fault: 'unavailable' },
    ]);
    expect((await run(s, buy('o4'))).outcome).toBe('filled');
    const r = setup([{ atRequest: 1, fault: 'reject' }]);
    const out = await run(r, buy('o5'));
    expect(out.outcome).toBe('rejected');
    expect(out.error?.name).toBe('InvalidOrder');
    const funds = setup();
    const big = await run(funds, buy('o6', { amount: 100 }));
    expect(big.outcome).toBe('rejected');
    expect(big.error?.name).toBe('InsufficientFunds');
  });

  it('a resting order reports partial fills, then cancels', async () => {
    const s = setup();
    const progress: number[] = [];
    const actor = createActor(s.machine, {
      input: { venue: 'sim', request: buy('o7', { type: 'limit', price: 59_990, amount: 0.5 }) },
    });
    actor.start();
    await s.clock.advanceBy(50);
    expect(actor.getSnapshot().value).toEqual({ live: 'open' });
    s.venue.onBookTicker(quote(SPOT, 59_980, 59_985, 1, 0.2));
    await s.clock.advanceBy(50);
    expect(actor.getSnapshot().value).toEqual({ live: 'partiallyFilled' });
    progress.push(actor.getSnapshot().context.order!.filled);
    actor.send({ type: 'CANCEL' });
    await s.clock.advanceBy(50);
    const out = actor.getSnapshot().output!;
    expect(out.outcome).toBe('canceled');
    expect(out.order?.filled).toBeCloseTo(0.2, 12);
    expect(progress[0]).toBeCloseTo(0.2, 12);
  });

  it('cancel of an order that filled meanwhile ends filled, not canceled', async () => {
    const s = setup([], 20);
    const actor = createActor(s.machine, {
      input: { venue: 'sim', request: buy('o8', { type: 'limit', price: 59_990, amount: 0.5 }) },
    });
    actor.start();
    await s.clock.advanceBy(100);
    actor.send({ type: 'CANCEL' }); // cancel leaves now and reaches the venue in 20 ms…
    s.venue.onBookTicker(quote(SPOT, 59_980, 59_985, 1, 5)); // …but the order fills first
    await s.clock.advanceBy(500);
    const out = actor.getSnapshot().output!;
    expect(out.outcome).toBe('filled');
    expect(out.order?.filled).toBeCloseTo(0.5, 12);
  });

  it('restored from a snapshot taken while placing, it asks the venue first and never sends twice', async () => {
    const s = setup([], 20);
    const a1 = createActor(s.machine, { input: { venue: 'sim', request: buy('o9') } });
    a1.start();
    await s.clock.advanceBy(25); // request reached the venue, answer still on its way
    const snap = a1.getPersistedSnapshot();
    a1.stop(); // the process dies
    expect(JSON.parse(JSON.stringify(snap))).toEqual(snap);
    const a2 = createActor(s.machine, {
      snapshot: JSON.parse(JSON.stringify(snap)),
      input: undefined as never,
    });
    a2.start();
    await s.clock.advanceBy(1000);
    await waitFor(a2, (x) => x.status === 'done');
    expect(a2.getSnapshot().output!.outcome).toBe('filled');
    expect(s.venue.allOrders().filter((o) => o.clientOrderId === 'o9')).toHaveLength(1);
  });
});
