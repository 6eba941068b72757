import { describe, expect, it } from 'vitest';
import { createActor, waitFor } from 'xstate';
import { type OrderOutput, orderMachine } from '../../machines/order.ts';
import { createExchangeActors, InMemoryIntentJournal } from '../../src/actors/exchange-actors.ts';
import type { OrderRequest } from '../../src/domain/index.ts';
import { SimExchangeClient } from '../../src/exchange/sim/client.ts';
import { FaultInjector, type ScriptedFault } from '../../src/exchange/sim/faults.ts';
import { makeVenue, quote, SPOT } from '../helpers.ts';

function setup(script: ScriptedFault[] = [], latencyMs = 5, journal = new InMemoryIntentJournal()) {
  const { venue, clock } = makeVenue();
  const client = new SimExchangeClient(venue, {
    faults: new FaultInjector({ script }),
    latency: { requestMs: latencyMs, streamMs: 1 },
    requestTimeoutMs: 200,
  });
  const { actors } = createExchangeActors({ venues: { sim: client }, clock, orderPollMs: 100, journal });
  const machine = orderMachine.provide({ actors });
  venue.onBookTicker(quote(SPOT, 60_000, 60_010, 5, 5));
  return { venue, clock, machine };
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
    const journal = new InMemoryIntentJournal();
    const s = setup([], 5, journal);
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
