import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../src/clock/clock.ts';
import { ExchangeError, type Fill, type OrderRequest, type TimeInForce } from '../../src/domain/index.ts';
import { SimExchangeClient } from '../../src/exchange/sim/client.ts';
import { FaultInjector } from '../../src/exchange/sim/faults.ts';
import type { SimVenue, VenueEvent } from '../../src/exchange/sim/venue.ts';
import { makeVenue, PERP, SPOT } from '../helpers.ts';

type Action =
  | { kind: 'quote'; perp: boolean; mid: number; spreadTicks: number; bidSize: number; askSize: number }
  | {
      kind: 'order';
      perp: boolean;
      side: 'buy' | 'sell';
      type: 'market' | 'limit';
      tif: TimeInForce;
      amount: number;
      offsetBps: number;
      reduceOnly: boolean;
    }
  | { kind: 'cancel'; pick: number }
  | { kind: 'time'; ms: number }
  | { kind: 'funding'; rate: number };

const actionArb: fc.Arbitrary<Action> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant('quote' as const),
      perp: fc.boolean(),
      mid: fc.integer({ min: 40_000, max: 80_000 }),
      spreadTicks: fc.integer({ min: 1, max: 50 }),
      bidSize: fc.double({ min: 0.001, max: 3, noNaN: true }),
      askSize: fc.double({ min: 0.001, max: 3, noNaN: true }),
    }),
  },
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant('order' as const),
      perp: fc.boolean(),
      side: fc.constantFrom('buy' as const, 'sell' as const),
      type: fc.constantFrom('market' as const, 'limit' as const),
      tif: fc.constantFrom<TimeInForce>('GTC', 'IOC', 'FOK', 'PO'),
      amount: fc.integer({ min: 1, max: 2000 }).map((n) => n / 1000),
      offsetBps: fc.integer({ min: -30, max: 30 }),
      reduceOnly: fc.boolean(),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('cancel' as const), pick: fc.nat() }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('time' as const),
      ms: fc.integer({ min: 1, max: 6 * 3_600_000 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('funding' as const),
      rate: fc.integer({ min: -30, max: 30 }).map((n) => n / 1e5),
    }),
  },
);

/**
 * An independent ledger: starting equity plus, for every fill, the mark-to-market gain of the
 * traded quantity, less fees, plus funding, computed from the fills and venue events alone.
 */
function expectedEquity(
  venue: SimVenue,
  initial: { USDT: number; BTC: number },
  fills: Map<string, Fill>,
  events: VenueEvent[],
): number {
  const mSpot = venue.mark(SPOT);
  const mPerp = venue.mark(PERP);
  let eq = initial.USDT + initial.BTC * mSpot;
  const perpMarket = venue.market(PERP);
  for (const f of fills.values()) {
    const sign = f.side === 'buy' ? 1 : -1;
    const mark = f.symbol === SPOT ? mSpot : mPerp;
    eq += sign * f.amount * (mark - f.price) - f.fee.cost;
  }
  for (const e of events) {
    if (e.type === 'funding') eq += e.received;
    if (e.type === 'liquidation') {
      const q = -e.size;
      eq += q * (mPerp - e.price) - Math.abs(e.size) * e.price * perpMarket.taker;
    }
  }
  return eq;
}

function runActions(actions: Action[], queueModel: 'cross' | 'queue'): Promise<void> {
  return (async () => {
    const clock = new VirtualClock(Date.UTC(2026, 0, 1));
    const initial = { USDT: 50_000, BTC: 0.5 };
    const { venue } = makeVenue({ clock, balances: { ...initial }, queueModel, defaultLeverage: 3 });
    const fills = new Map<string, Fill>();
    const events: VenueEvent[] = [];
    const limitOf = new Map<string, { side: string; price?: number; type: string }>();
    venue.subscribeEvents((e) => events.push(e));
    venue.subscribeOrders((o) => {
      for (const t of o.trades) fills.set(t.id, t);
    });
    // Start with a two-sided book on both markets.
    venue.onBookTicker({
      symbol: SPOT,
      bid: 60_000,
      bidSize: 1,
      ask: 60_000.5,
      askSize: 1,
      timestamp: clock.now(),
    });
    venue.onBookTicker({
      symbol: PERP,
      bid: 60_010,
      bidSize: 1,
      ask: 60_010.1,
      askSize: 1,
      timestamp: clock.now(),
    });
    let n = 0;
    for (const a of actions) {
      const symbol = 'perp' in a && a.perp ? PERP : SPOT;
      const m = venue.market(symbol);
      if (a.kind === 'quote') {
        const tick = m.precision.price;
        const bid = Math.round(a.mid / tick) * tick;
        const ask = Number((bid + a.spreadTicks * tick).toFixed(2));
        venue.onBookTicker({
          symbol,
          bid,
          ask,
          bidSize: Number(a.bidSize.toFixed(3)),
          askSize: Number(a.askSize.toFixed(3)),
          timestamp: clock.now(),
        });
      } else if (a.kind === 'order') {
        const t = venue.ticker(symbol)!;
        const ref = a.side === 'buy' ? t.bid : t.ask;
        const raw = ref * (1 + a.offsetBps / 1e4);
        const price = Math.round(raw / m.precision.price) * m.precision.price;
        const amount = a.perp ? a.amount : a.amount / 10;
        const req: OrderRequest = {
          symbol,
          side: a.side,
          type: a.type,
          amount: Number(amount.toFixed(5)),
          clientOrderId: `o${n++}`,
          ...(a.type === 'limit' ? { price: Number(price.toFixed(2)), timeInForce: a.tif } : {}),
          ...(a.perp && a.reduceOnly ? { reduceOnly: true } : {}),
        };
        try {
          venue.placeOrder(req);
          limitOf.set(req.clientOrderId, { side: req.side, type: req.type, price: req.price });
        } catch (e) {
          expect(e).toBeInstanceOf(ExchangeError);
        }
      } else if (a.kind === 'cancel') {
        const open = venue.fetchOpenOrders();
        if (open.length > 0) venue.cancelOrder({ id: open[a.pick % open.length]!.id });
      } else if (a.kind === 'time') {
        await clock.advanceBy(a.ms);
      } else {
        venue.onFundingRate({
          symbol: PERP,
          rate: a.rate,
          nextFundingTimestamp: 0,
          intervalMs: 0,
          timestamp: clock.now(),
        });
      }

      // --- invariants after every step
      const eq = venue.equity('USDT');
      const exp = expectedEquity(venue, initial, fills, events);
      expect(Math.abs(eq - exp)).toBeLessThanOrEqual(1e-6 * Math.max(1, Math.abs(exp)));
      for (const [asset, b] of Object.entries(venue.balances())) {
        expect(b.used, `${asset} used`).toBeGreaterThanOrEqual(-1e-9);
        if (asset !== 'USDT') expect(b.free, `${asset} free`).toBeGreaterThanOrEqual(-1e-9);
      }
      const ids = new Set<string>();
      for (const o of venue.allOrders()) {
        expect(ids.has(o.clientOrderId)).toBe(false);
        ids.add(o.clientOrderId);
        expect(o.filled + o.remaining).toBeCloseTo(o.amount, 9);
        const lim = limitOf.get(o.clientOrderId);
        for (const f of o.trades) {
          if (lim?.type === 'limit') {
            if (o.side === 'buy') expect(f.price).toBeLessThanOrEqual(lim.price!);
            else expect(f.price).toBeGreaterThanOrEqual(lim.price!);
          }
        }
        if (o.status === 'closed') expect(o.remaining).toBe(0);
      }
    }
  })();
}

describe('simulated venue properties', () => {
  it('conserves value, never fills a limit through its price, never reuses a client id (cross model)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(actionArb, { minLength: 1, maxLength: 60 }), (actions) =>
        runActions(actions, 'cross'),
      ),
      { numRuns: 500 },
    );
  });

  it('the same holds with the queue model', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(actionArb, { minLength: 1, maxLength: 60 }), (actions) =>
        runActions(actions, 'queue'),
      ),
      { numRuns: 300 },
    );
  });

  it('through a faulty network, every order outcome is recoverable by client id and none is placed twice', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 1_000_000 }),
        fc.array(fc.constantFrom('buy' as const, 'sell' as const), { minLength: 1, maxLength: 25 }),
        async (seed, sides) => {
          const { venue, clock } = makeVenue();
          const faults = new FaultInjector({
            seed,
            rates: { timeoutBeforePlace: 0.15, timeoutAfterPlace: 0.15, reject: 0.1, unavailable: 0.1 },
          });
          const client = new SimExchangeClient(venue, {
            faults,
            latency: { requestMs: 3, jitterMs: 4 },
            requestTimeoutMs: 50,
          });
          venue.onBookTicker({
            symbol: SPOT,
            bid: 60_000,
            bidSize: 100,
            ask: 60_001,
            askSize: 100,
            timestamp: 0,
          });
          const accepted = new Set<string>();
          for (const [i, side] of sides.entries()) {
            const clientOrderId = `c${i}`;
            const req = { symbol: SPOT, side, type: 'market' as const, amount: 0.001, clientOrderId };
            // The idempotent placement rule: on unknown outcome, ask by client id; resend only when absent.
            for (let attempt = 0; attempt < 10; attempt++) {
              const r = client.createOrder(req).then(
                (o) => ({ ok: true as const, o }),
                (e: ExchangeError) => ({ ok: false as const, e }),
              );
              await clock.advanceBy(60);
              const res = await r;
              if (res.ok) {
                accepted.add(clientOrderId);
                break;
              }
              if (!res.e.retryable && !res.e.outcomeUnknown) break;
              if (res.e.outcomeUnknown) {
                const probe = venue.allOrders().some((o) => o.clientOrderId === clientOrderId);
                if (probe) {
                  accepted.add(clientOrderId);
                  break;
                }
              }
            }
          }
          const ids = venue.allOrders().map((o) => o.clientOrderId);
          expect(new Set(ids).size).toBe(ids.length);
          expect(new Set(ids)).toEqual(accepted);
        },
      ),
      { numRuns: 150 },
    );
  });
});
