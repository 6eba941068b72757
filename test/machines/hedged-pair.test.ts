import { describe, expect, it } from 'vitest';
import { createActor, fromPromise } from 'xstate';
import { applyOrderFills, newLeg, unaccountedFill } from '../../machines/accounting.ts';
import {
  type HedgedPairInput,
  type HedgedPairOutput,
  hedgedPairMachine,
  type LegSpec,
} from '../../machines/hedged-pair.ts';
import { clientOrderId } from '../../machines/ids.ts';
import type { OrderMachineInput, OrderOutput } from '../../machines/order.ts';
import { bindActors } from '../../src/actors/bind.ts';
import { createExchangeActors } from '../../src/actors/exchange-actors.ts';
import type { Fill, Order, OrderRequest } from '../../src/domain/index.ts';
import { SimExchangeClient } from '../../src/exchange/sim/client.ts';
import { FaultInjector, type ScriptedFault } from '../../src/exchange/sim/faults.ts';
import { makeVenue, PERP, quote, SPOT } from '../helpers.ts';

function setup(
  script: ScriptedFault[] = [],
  perpAskSize = 5,
  perpBidSize = 5,
  balances?: Record<string, number>,
) {
  const { venue, clock } = makeVenue(balances ? { balances } : {});
  const client = new SimExchangeClient(venue, {
    faults: new FaultInjector({ script }),
    latency: { requestMs: 5, streamMs: 1 },
    requestTimeoutMs: 200,
  });
  const { actors } = createExchangeActors({ venues: { sim: client }, clock, orderPollMs: 100 });
  const machine = hedgedPairMachine.provide({ actors: bindActors(actors) });
  venue.onBookTicker(quote(SPOT, 60_000, 60_010, 5, 5));
  venue.onBookTicker(quote(PERP, 60_100, 60_101, perpBidSize, perpAskSize));
  return { venue, clock, machine, client };
}

function leg(
  symbol: string,
  startBase: number,
  targetBase: number,
  book: [number, number, number, number],
): LegSpec {
  const spot = symbol === SPOT;
  const [bid, ask, bidSize, askSize] = book;
  return {
    venue: 'sim',
    symbol,
    startBase,
    targetBase,
    bid,
    ask,
    bidSize,
    askSize,
    contractSize: 1,
    amountStep: spot ? 0.00001 : 0.001,
    minAmount: spot ? 0.00001 : 0.001,
    minNotional: 5,
    derivative: !spot,
  };
}

const SPOT_BOOK: [number, number, number, number] = [60_000, 60_010, 5, 5];
const PERP_BOOK: [number, number, number, number] = [60_100, 60_101, 5, 5];

function entry(amount = 0.5): HedgedPairInput {
  return {
    tag: 'test001',
    cycle: 1,
    phase: 'e',
    execution: 0,
    mode: 'open',
    legs: [leg(SPOT, 0, amount, SPOT_BOOK), leg(PERP, 0, -amount, PERP_BOOK)],
    toleranceBase: 0.0005,
    retryDelayMs: 100,
  };
}

function exit(spot: number, perp: number): HedgedPairInput {
  return {
    tag: 'test001',
    cycle: 1,
    phase: 'x',
    execution: 0,
    mode: 'close',
    legs: [leg(SPOT, spot, 0, SPOT_BOOK), leg(PERP, perp, 0, PERP_BOOK)],
    toleranceBase: 0.0005,
    retryDelayMs: 100,
  };
}

async function run(
  s: ReturnType<typeof setup>,
  input: HedgedPairInput,
  onTick?: (t: number) => void,
): Promise<HedgedPairOutput> {
  const actor = createActor(s.machine, { input });
  actor.start();
  for (let t = 0; t < 400; t++) {
    await s.clock.advanceBy(50);
    onTick?.(t);
    if (actor.getSnapshot().status === 'done') break;
  }
  expect(actor.getSnapshot().status).toBe('done');
  return actor.getSnapshot().output!;
}

/** Every request the venue receives. */
function sent(s: ReturnType<typeof setup>): OrderRequest[] {
  const out: OrderRequest[] = [];
  const place = s.venue.placeOrder.bind(s.venue);
  s.venue.placeOrder = (req: OrderRequest) => {
    out.push({ ...req });
    return place(req);
  };
  return out;
}

const position = (s: ReturnType<typeof setup>, spotStart = 1) => ({
  spot: s.venue.balances().BTC!.total - spotStart,
  perp: s.venue.positions([PERP])[0]?.size ?? 0,
});

describe('hedged pair: converging on target positions against the simulated venue', () => {
  it('both legs fill: targets reached, residual zero, fees and prices reported, ids from the layout', async () => {
    const s = setup();
    const out = await run(s, entry());
    expect(out.outcome).toBe('reached');
    expect(out.residualBase).toBeCloseTo(0, 12);
    expect(out.legs[0].signedBase).toBeCloseTo(0.5, 12);
    expect(out.legs[1].signedBase).toBeCloseTo(-0.5, 12);
    expect(out.legs[0].averagePrice).toBe(60_010);
    expect(out.fees).toBeCloseTo(0.5 * 60_010 * 0.002 + 0.5 * 60_100 * 0.0005, 9);
    expect(out.orders.map((o) => o.order.clientOrderId)).toEqual([
      clientOrderId({ tag: 'test001', cycle: 1, phase: 'e', execution: 0, leg: 'a', attempt: 0 }),
      clientOrderId({ tag: 'test001', cycle: 1, phase: 'e', execution: 0, leg: 'b', attempt: 0 }),
    ]);
    const p = position(s);
    expect(p.spot + p.perp).toBeCloseTo(0, 12);
  });

  it('a thin perp book: both legs go for what both touches show, then the rest once the book refreshes', async () => {
    const s = setup([], 5, 5);
    const requests = sent(s);
    s.venue.onBookTicker(quote(PERP, 60_100, 60_101, 0.2, 5)); // only 0.2 bid for our sell
    const input = entry();
    input.legs[1] = { ...input.legs[1], bidSize: 0.2 };
    const actor = createActor(s.machine, { input });
    actor.start();
    await s.clock.advanceBy(60);
    // The first round never sends more spot than the perp can hedge.
    expect(requests.map((r) => r.amount)).toEqual([0.2, 0.2]);
    s.venue.onBookTicker(quote(PERP, 60_099, 60_100, 5, 5));
    actor.send({
      type: 'QUOTE',
      venue: 'sim',
      symbol: PERP,
      bid: 60_099,
      ask: 60_100,
      bidSize: 5,
      askSize: 5,
      timestamp: s.clock.now(),
      receivedAt: s.clock.now(),
    });
    for (let t = 0; t < 100 && actor.getSnapshot().status === 'active'; t++) await s.clock.advanceBy(50);
    const out = actor.getSnapshot().output!;
    expect(out.outcome).toBe('reached');
    expect(out.legs[1].signedBase).toBeCloseTo(-0.5, 12);
    expect(out.legs[1].averagePrice).toBeCloseTo((0.2 * 60_100 + 0.3 * 60_099) / 0.5, 9);
    const p = position(s);
    expect(p.spot + p.perp).toBeCloseTo(0, 12);
  });

  it('one leg refused for its whole budget: the entry keeps the hedge it has — here nothing — and ends flat', async () => {
    // The spot leg fills; the perp order and its two retries (requests 2–4) are refused.
    const s = setup([2, 3, 4].map((n) => ({ atRequest: n, fault: 'reject' as const })));
    const out = await run(s, { ...entry(), maxRounds: 3 });
    expect(out.outcome).toBe('flat');
    expect(out.residualBase).toBeCloseTo(0, 12);
    const p = position(s);
    expect(p.spot).toBeCloseTo(0, 12);
    expect(p.perp).toBeCloseTo(0, 12);
  });

  it('an answer lost after placement is resolved by client id, not treated as a reject', async () => {
    const s = setup([{ atRequest: 1, fault: 'timeoutAfterPlace' }]);
    const out = await run(s, entry());
    expect(out.outcome).toBe('reached');
    expect(s.venue.allOrders()).toHaveLength(2);
  });

  it('an order whose outcome stays unknown stops the execution: nothing is sent against it (defect 3)', async () => {
    const s = setup([{ atRequest: 2, fault: 'timeoutAfterPlace' }]);
    const requests = sent(s);
    // Order queries fail for longer than the order machine asks.
    const client = s.client;
    client.faults.addOutage(s.clock.now(), 600_000, ['fetchOrder', 'fetchOpenOrders'], 'timeoutBeforePlace');
    const actor = createActor(s.machine, { input: entry() });
    actor.start();
    for (let t = 0; t < 4_000 && actor.getSnapshot().status === 'active'; t++) await s.clock.advanceBy(100);
    const out = actor.getSnapshot().output!;
    expect(out.outcome).toBe('unresolved');
    expect(out.unknown.map((u) => u.request.symbol)).toEqual([PERP]);
    // Exactly the two first orders: no top-up, no unwind while the perp order's fill is unknown.
    expect(requests).toHaveLength(2);
    expect(position(s).perp).toBeCloseTo(-0.5, 12); // it did fill; the pair never guessed otherwise
  });

  it('an exit from books of different sizes (spot +0.04, perp −0.02) closes both legs, buying nothing back (defect 5)', async () => {
    const s = setup([], 5, 5, { USDT: 100_000, BTC: 0.04 });
    // The perp is short 0.02 at the venue, as the books say.
    s.venue.placeOrder({
      symbol: PERP,
      side: 'sell',
      type: 'market',
      amount: 0.02,
      clientOrderId: 'Sseed01',
    });
    const requests = sent(s);
    const out = await run(s, exit(0.04, -0.02));
    expect(['flat', 'reached']).toContain(out.outcome);
    expect(requests.filter((r) => r.symbol === SPOT && r.side === 'buy')).toEqual([]);
    expect(requests.filter((r) => r.symbol === PERP && r.side === 'sell')).toEqual([]);
    expect(s.venue.balances().BTC!.total).toBeCloseTo(0, 12);
    expect(s.venue.positions([PERP])[0]?.size ?? 0).toBeCloseTo(0, 12);
  });

  it('closing never re-opens a leg it closed: with the spot leg refused, only spot is retried (defect 2)', async () => {
    const s = setup([], 5, 5, { USDT: 100_000, BTC: 0.5 });
    s.venue.placeOrder({ symbol: PERP, side: 'sell', type: 'market', amount: 0.5, clientOrderId: 'Sseed02' });
    const requests = sent(s);
    s.client.faults.addOutage(s.clock.now(), 2_000, ['createOrder'], 'unavailable');
    const out = await run(s, exit(0.5, -0.5));
    expect(out.outcome).toBe('flat');
    // Every perp order buys back (reduce-only), every spot order sells: nothing re-opens.
    for (const r of requests) {
      if (r.symbol === PERP) expect([r.side, r.reduceOnly]).toEqual(['buy', true]);
      else expect(r.side).toBe('sell');
    }
    expect(position(s, 0).spot).toBeCloseTo(0, 12);
    expect(position(s, 0).perp).toBeCloseTo(0, 12);
  });

  it('when the budget is spent with a naked leg it says so: unhedged with the residual', async () => {
    const s = setup([{ atRequest: 2, fault: 'reject' }]);
    // The perp leg is refused and the spot leg cannot trade back (its orders are refused too).
    s.client.faults.addOutage(s.clock.now() + 20, 600_000, ['createOrder'], 'reject');
    const out = await run(s, { ...entry(), maxRounds: 2 });
    expect(out.outcome).toBe('unhedged');
    expect(out.residualBase).toBeCloseTo(0.5, 12);
  });
});

/** A pair whose orders are answered by `answer` (the order machine replaced: one output per request). */
function pairAnswering(answer: (req: OrderRequest) => OrderOutput) {
  return hedgedPairMachine.provide({
    actors: {
      order: fromPromise(async ({ input }: { input: OrderMachineInput }) => answer(input.request)) as never,
      wait: fromPromise(async () => undefined) as never,
    },
  });
}

function filledOrder(req: OrderRequest, price: number, trades: Fill[]): Order {
  return {
    id: `x-${req.clientOrderId}`,
    clientOrderId: req.clientOrderId,
    symbol: req.symbol,
    side: req.side,
    type: 'market',
    timeInForce: 'IOC',
    amount: req.amount,
    filled: req.amount,
    remaining: 0,
    cost: req.amount * price,
    average: price,
    status: 'closed',
    fee: { cost: req.amount * price * 0.001, currency: 'USDT' },
    trades,
    reduceOnly: req.reduceOnly ?? false,
    timestamp: 0,
    lastUpdateTimestamp: 0,
  };
}

function fill(req: OrderRequest, n: number, amount: number, price: number, fee: Fill['fee']): Fill {
  return {
    id: `${req.clientOrderId}-t${n}`,
    orderId: `x-${req.clientOrderId}`,
    clientOrderId: req.clientOrderId,
    symbol: req.symbol,
    side: req.side,
    price,
    amount,
    cost: amount * price,
    fee,
    takerOrMaker: 'taker',
    timestamp: 0,
  };
}

async function settle(machine: ReturnType<typeof pairAnswering>, input: HedgedPairInput) {
  const actor = createActor(machine, { input });
  actor.start();
  for (let i = 0; i < 100 && actor.getSnapshot().status !== 'done'; i++) await Promise.resolve();
  await new Promise((r) => setTimeout(r, 0));
  expect(actor.getSnapshot().status).toBe('done');
  return actor.getSnapshot().output!;
}

describe('hedged pair: one fill path with the books', () => {
  it('an order reported filled without the fills that make it up is of unknown outcome: nothing of it is counted, nothing sent against it', async () => {
    const sentIds: string[] = [];
    const machine = pairAnswering((req) => {
      sentIds.push(req.clientOrderId);
      // The perp leg's answer says filled but carries no fills: a port that breaks its contract.
      const trades =
        req.symbol === SPOT ? [fill(req, 0, req.amount, 60_010, { cost: 0.3, currency: 'USDT' })] : [];
      return {
        clientOrderId: req.clientOrderId,
        venue: 'sim',
        outcome: 'filled',
        order: filledOrder(req, 60_010, trades),
      };
    });
    const out = await settle(machine, entry());
    expect(out.outcome).toBe('unresolved');
    expect(out.unknown.map((u) => u.symbol)).toEqual([PERP]);
    // The books see the perp order's fills only (none): the pair's tallies say the same.
    expect(out.legs[1].positionBase).toBe(0);
    expect(sentIds).toHaveLength(2);
  });

  it('the pair tallies each fill as the books do: a fee in the base moves the position, every fee counts once in quote', async () => {
    const machine = pairAnswering((req) => {
      const half = req.amount / 2;
      const trades =
        req.symbol === SPOT
          ? [
              // Binance spot: a buy's fee in the coin received, one fill in BNB valued by the venue.
              fill(req, 0, half, 60_010, { cost: half * 0.001, currency: 'BTC' }),
              fill(req, 1, half, 60_012, { cost: 0.02, currency: 'BNB', quoteCost: 12.5 }),
            ]
          : [fill(req, 0, req.amount, 60_100, { cost: req.amount * 60_100 * 0.0005, currency: 'USDT' })];
      return {
        clientOrderId: req.clientOrderId,
        venue: 'sim',
        outcome: 'filled',
        order: filledOrder(req, 60_011, trades),
      };
    });
    const out = await settle(machine, { ...entry(), maxRounds: 1 });
    for (const leg of [0, 1] as const) {
      let book = newLeg('sim', leg === 0 ? SPOT : PERP);
      for (const o of out.orders.filter((o) => o.leg === leg)) book = applyOrderFills(book, o.order);
      expect(out.legs[leg].positionBase).toBeCloseTo(book.position, 12);
      expect(out.legs[leg].fees).toBeCloseTo(book.fees, 9);
    }
    expect(out.legs[0].positionBase).toBeCloseTo(0.5 - 0.25 * 0.001, 12);
  });

  it('a fill the venue reports twice in one order is tallied once, as the books book it once', async () => {
    const machine = pairAnswering((req) => {
      const f = fill(req, 0, req.amount, 60_010, { cost: 0.3, currency: 'USDT' });
      return {
        clientOrderId: req.clientOrderId,
        venue: 'sim',
        outcome: 'filled',
        order: filledOrder(req, 60_010, [f, { ...f }]),
      };
    });
    const out = await settle(machine, { ...entry(), maxRounds: 1 });
    expect(out.legs[0].positionBase).toBeCloseTo(0.5, 12);
    expect(out.legs[0].fees).toBeCloseTo(0.3, 12);
  });

  it('fills reported twice do not cover what an order filled: the rest is unaccounted for', () => {
    const req: OrderRequest = {
      symbol: SPOT,
      side: 'buy',
      type: 'market',
      amount: 0.5,
      clientOrderId: 'Sdup',
    };
    const f = fill(req, 0, 0.25, 60_010, { cost: 0.1, currency: 'USDT' });
    expect(unaccountedFill(filledOrder(req, 60_010, [f, { ...f }]))).toBeCloseTo(0.25, 12);
    expect(unaccountedFill(filledOrder(req, 60_010, [f, { ...f, id: `${f.id}b` }]))).toBe(0);
  });
});
