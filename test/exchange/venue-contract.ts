/**
 * The adapter contract every ccxt venue must keep, whatever its wire format: run against each
 * venue's local fake (venues.contract.test.ts). A venue passes or it is not supported.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OrderUpdateHub } from '../../src/actors/order-hub.ts';
import { WallClock } from '../../src/clock/clock.ts';
import {
  type BookTicker,
  type Order,
  OrderNotFound,
  type OrderRequest,
  RateLimitExceeded,
  RequestTimeout,
  type Side,
} from '../../src/domain/index.ts';
import type { CcxtExchangeClient } from '../../src/exchange/ccxt/client.ts';
import { PRE_SEND_LIMIT_MS } from '../../src/exchange/ccxt/venues.ts';
import type { SimVenue } from '../../src/exchange/sim/venue.ts';
import type { FakeExchange } from '../support/fake-exchange/kit.ts';
import { until } from './wait.ts';

export interface ContractMarket {
  /** The client that trades it (one per account type where the venue has two: Binance). */
  client: () => CcxtExchangeClient;
  symbol: string;
  /** An order size in the market's amount unit (base, or contracts). */
  amount: number;
  /** Mid price the harness quotes. */
  mid: number;
  /** The simulated venue behind the fake for this market. */
  venue: () => SimVenue;
}

export interface VenueHarness {
  name: string;
  /** The venue's local fake: started and closed by the contract; its faults, drops and quotes. */
  fake: FakeExchange;
  /** The venue's ccxt clients, made once the fake listens (its URLs are known then); closed at the end. */
  connect(): CcxtExchangeClient[];
  spot: ContractMarket;
  /** The USDT perpetual, where the venue (as statearb supports it) has one. */
  perp?: ContractMarket;
  /** The client id as the venue keeps it (Gate: `t-…`). */
  stored(clientOrderId: string): string;
}

/** A buy resting at `price`. */
const limitBuy = (
  m: ContractMarket,
  price: number,
  clientOrderId: string,
  amount = m.amount,
): OrderRequest => ({
  symbol: m.symbol,
  side: 'buy',
  type: 'limit',
  price,
  amount,
  clientOrderId,
});

const marketOrder = (
  m: ContractMarket,
  side: Side,
  clientOrderId: string,
  amount = m.amount,
): OrderRequest => ({
  symbol: m.symbol,
  side,
  type: 'market',
  amount,
  clientOrderId,
});

export function venueContract(h: VenueHarness): void {
  /** The market the venue-wide cases trade: the perpetual where there is one. */
  const main = h.perp ?? h.spot;
  const markets = h.perp ? [h.spot, h.perp] : [h.spot];
  describe(`${h.name}: the adapter contract`, () => {
    let quoting: ReturnType<typeof setInterval> | undefined;
    const quoteAll = () => {
      for (const m of markets) h.fake.quote(m.symbol, m.mid * 0.99999, m.mid * 1.00001, m.amount * 50);
    };
    const resumeQuoting = () => {
      quoteAll();
      quoting = setInterval(quoteAll, 50);
    };
    const pauseQuoting = () => clearInterval(quoting);
    const ids = (() => {
      let n = 0;
      return (tag: string) => `Sc${h.name.slice(0, 3)}${tag}${++n}`;
    })();
    const atVenue = (m: ContractMarket, cid: string) =>
      m
        .venue()
        .allOrders()
        .filter((o) => o.clientOrderId === h.stored(cid));

    let clients: CcxtExchangeClient[] = [];
    beforeAll(async () => {
      await h.fake.start();
      clients = h.connect();
      resumeQuoting();
      for (const c of clients) await c.loadMarkets();
    });
    afterAll(async () => {
      pauseQuoting();
      for (const c of clients) await c.close();
      await h.fake.close();
    });

    it(`loads the spot market${h.perp ? ' and the USDT perpetual' : ', and no derivative'}`, () => {
      expect(h.spot.client().market(h.spot.symbol)).toMatchObject({
        type: 'spot',
        base: 'BTC',
        quote: 'USDT',
      });
      if (!h.perp) {
        expect(() => h.spot.client().market('BTC/USDT:USDT')).toThrow(/unknown market/);
        return;
      }
      const perp = h.perp.client().market(h.perp.symbol);
      expect(perp).toMatchObject({ type: 'swap', linear: true, settle: 'USDT' });
      expect(perp.contractSize).toBeGreaterThan(0);
    });

    it('streams the top of book, and resubscribes after the venue drops the socket', async () => {
      const c = main.client();
      const seen: BookTicker[] = [];
      let dropped: Error | undefined;
      const sub = c.watchBookTicker(main.symbol, {
        data: (t) => seen.push(t),
        error: (e) => {
          dropped = e;
        },
      });
      await until(() => seen.length >= 3, 'three book updates');
      expect(seen.at(-1)!.bid).toBeCloseTo(main.mid * 0.99999, 0);
      h.fake.dropStreams();
      await until(() => dropped !== undefined, 'the drop reported');
      expect(dropped!.name).toBe('NetworkError');
      sub.close();
      const again: BookTicker[] = [];
      const sub2 = c.watchBookTicker(main.symbol, { data: (t) => again.push(t) });
      await until(() => again.length >= 2, 'updates after resubscribing');
      sub2.close();
    });

    it('rests an order under its client id, lists and finds it by that id, cancels by it; then not found', async () => {
      const c = h.spot.client();
      const cid = ids('rest');
      const price = Math.round(h.spot.mid * 0.9);
      const o = await c.createOrder(limitBuy(h.spot, price, cid));
      expect(o).toMatchObject({ clientOrderId: cid, status: 'open', filled: 0 });
      expect((await c.fetchOpenOrders(h.spot.symbol)).map((x) => x.clientOrderId)).toContain(cid);
      // Listed once among every market's open orders (recovery's view), not once per market type.
      expect((await c.fetchOpenOrders()).filter((x) => x.clientOrderId === cid)).toHaveLength(1);
      expect(await c.fetchOrder({ clientOrderId: cid }, h.spot.symbol)).toMatchObject({
        id: o.id,
        status: 'open',
      });
      expect(await c.cancelOrder({ clientOrderId: cid }, h.spot.symbol)).toMatchObject({
        status: 'canceled',
        filled: 0,
      });
      await expect(c.cancelOrder({ clientOrderId: cid }, h.spot.symbol)).rejects.toBeInstanceOf(Error);
      await expect(c.fetchOrder({ clientOrderId: ids('never') }, h.spot.symbol)).rejects.toBeInstanceOf(
        OrderNotFound,
      );
    });

    it('a market order fills with all its fills and fees, and is found by client id after it ended', async () => {
      const c = main.client();
      const cid = ids('mkt');
      const o = await c.createOrder(marketOrder(main, 'sell', cid));
      expect(o).toMatchObject({ clientOrderId: cid, status: 'closed', filled: main.amount });
      expect(o.trades.reduce((s, t) => s + t.amount, 0)).toBeCloseTo(main.amount, 9);
      expect(o.fee.cost).toBeGreaterThan(0);
      const back = await c.fetchOrder({ clientOrderId: cid }, main.symbol);
      expect(back).toMatchObject({ id: o.id, status: 'closed', filled: main.amount });
      expect(back.trades.map((t) => t.id).sort()).toEqual(o.trades.map((t) => t.id).sort());
      // Flat again for the tests that follow.
      await c.createOrder(marketOrder(main, 'buy', ids('mktback')));
    });

    it('a placement whose answer never comes is an unknown outcome, found by client id, placed once', async () => {
      const c = main.client();
      const cid = ids('lost');
      h.fake.faults.timeoutAfterPlace = 1;
      const price = Math.round(main.mid * 0.9);
      const err = await c.createOrder(limitBuy(main, price, cid)).catch((e) => e);
      expect(err).toBeInstanceOf(RequestTimeout);
      expect((err as RequestTimeout).outcomeUnknown).toBe(true);
      expect(await c.fetchOrder({ clientOrderId: cid }, main.symbol)).toMatchObject({
        clientOrderId: cid,
        status: 'open',
      });
      expect(atVenue(main, cid)).toHaveLength(1);
      await c.cancelOrder({ clientOrderId: cid }, main.symbol);
    });

    it('an answer with ids only is not an order that ended unfilled: its state is fetched first', async () => {
      const c = h.spot.client();
      const cid = ids('ack');
      h.fake.faults.ackOnly = 1;
      const price = Math.round(h.spot.mid * 0.9);
      const o = await c.createOrder(limitBuy(h.spot, price, cid));
      expect(o).toMatchObject({ clientOrderId: cid, status: 'open', filled: 0 });
      await c.cancelOrder({ clientOrderId: cid }, h.spot.symbol);
      // And one that filled at once: its state and fills are read, not "nothing filled".
      h.fake.faults.ackOnly = 1;
      const p = main.client();
      const taken = await p.createOrder(marketOrder(main, 'sell', ids('acktake')));
      expect(taken).toMatchObject({ status: 'closed', filled: main.amount });
      expect(taken.trades.reduce((s, t) => s + t.amount, 0)).toBeCloseTo(main.amount, 9);
      await p.createOrder(marketOrder(main, 'buy', ids('ackback')));
    });

    it('a resting order fills in parts: each update carries every fill so far', async () => {
      const c = main.client();
      const cid = ids('part');
      const updates: Order[] = [];
      const sub = c.watchOrders({ data: (o) => o.clientOrderId === cid && updates.push(o) });
      await new Promise((r) => setTimeout(r, 300)); // the order stream is subscribed
      const amount = main.amount * 5;
      const price = Math.round(main.mid * 0.995);
      await c.createOrder(limitBuy(main, price, cid, amount));
      pauseQuoting();
      try {
        h.fake.quote(main.symbol, price - 2, price - 1, main.amount * 2); // crosses two fifths of it
        await until(() => updates.some((u) => u.filled > 0), 'a partial fill');
        const partial = await c.fetchOrder({ clientOrderId: cid }, main.symbol);
        expect(partial).toMatchObject({ status: 'open' });
        expect(partial.filled).toBeCloseTo(main.amount * 2, 9);
        expect(partial.trades).toHaveLength(1);
        h.fake.quote(main.symbol, price - 3, price - 2, amount * 10); // the rest
        await until(() => updates.some((u) => u.status === 'closed'), 'filled');
      } finally {
        resumeQuoting();
      }
      const done = updates.find((u) => u.status === 'closed')!;
      expect(done.filled).toBeCloseTo(amount, 9);
      expect(new Set(done.trades.map((t) => t.id)).size).toBe(2);
      expect(done.trades.reduce((s, t) => s + t.amount, 0)).toBeCloseTo(amount, 9);
      sub.close();
      await c.createOrder(marketOrder(main, 'sell', ids('partback'), amount));
    });

    it('an order held back by the account budget is not sent once its strategy stopped, nor after waiting too long', async () => {
      const c = main.client();
      const budget = (c as unknown as { budget: { limited(ms: number): number; ok(): void } }).budget;
      const price = Math.round(main.mid * 0.9);
      const order = (cid: string) => limitBuy(main, price, cid);
      const stopped = new AbortController();
      budget.limited(1_000);
      const held = c.createOrder(order(ids('held')), { signal: stopped.signal }).catch((e) => e);
      setTimeout(() => stopped.abort(), 100);
      expect(((await held) as Error).message).toMatch(/not sent: its strategy stopped/);
      budget.ok();
      budget.limited(PRE_SEND_LIMIT_MS + 300);
      const late = await c.createOrder(order(ids('late'))).catch((e) => e);
      expect(late).toBeInstanceOf(RateLimitExceeded);
      expect((late as RateLimitExceeded).outcomeUnknown).toBe(false);
      budget.ok();
      expect(
        main
          .venue()
          .allOrders()
          .filter((o) => o.clientOrderId.includes('held') || o.clientOrderId.includes('late')),
      ).toEqual([]);
    }, 15_000);

    it('rate-limit answers: reads back off and retry, orders are refused as not placed', async () => {
      const c = main.client();
      h.fake.faults.rateLimit = 2;
      await c.fetchOpenOrders(main.symbol);
      expect(h.fake.faults.rateLimit).toBe(0);
      h.fake.faults.rateLimit = 1;
      const cid = ids('rl');
      const err = await c.createOrder(marketOrder(main, 'buy', cid)).catch((e) => e);
      expect(err).toBeInstanceOf(RateLimitExceeded);
      expect((err as RateLimitExceeded).outcomeUnknown).toBe(false);
      expect(atVenue(main, cid)).toEqual([]);
    });

    it('an order that fills while the order stream is down is seen: the hub polls by client id and resubscribes', async () => {
      const c = h.spot.client();
      const hub = new OrderUpdateHub(c, new WallClock(), { reconnectMs: 300, pollMs: 200 });
      const cid = ids('gap');
      const seen: Order[] = [];
      const off = hub.watch(cid, h.spot.symbol, (o) => seen.push(o));
      await new Promise((r) => setTimeout(r, 300));
      const price = Math.round(h.spot.mid * 0.995);
      await c.createOrder(limitBuy(h.spot, price, cid));
      h.fake.dropStreams();
      pauseQuoting();
      try {
        h.fake.quote(h.spot.symbol, price - 2, price - 1, h.spot.amount * 10); // fills it while the stream is down
        await until(() => seen.some((o) => o.status === 'closed'), 'the fill seen');
      } finally {
        resumeQuoting();
      }
      expect(seen.find((o) => o.status === 'closed')!.trades.reduce((s, t) => s + t.amount, 0)).toBeCloseTo(
        h.spot.amount,
        9,
      );
      off();
      hub.dispose();
    });

    const perp = h.perp;
    it(`${perp ? 'positions, leverage and funding of the perpetual; ' : ''}balances of every wallet`, async () => {
      const usdt = (v: SimVenue) => v.balances().USDT?.total ?? 0;
      // Within a few cents: a venue may count an open position's unrealized PnL, or not.
      if (!perp) {
        expect((await h.spot.client().fetchBalance()).USDT!.total).toBeCloseTo(usdt(h.spot.venue()), 1);
        return;
      }
      const c = perp.client();
      const order = (side: 'buy' | 'sell', tag: string) => c.createOrder(marketOrder(perp, side, ids(tag)));
      // Asked again, the leverage it already has is no error (Bybit refuses it as not modified).
      await c.setLeverage?.(perp.symbol, 5);
      await c.setLeverage?.(perp.symbol, 5);
      await order('sell', 'pos');
      const net = perp
        .venue()
        .positions()
        .find((p) => p.symbol === perp.symbol)!.size;
      const positions = await c.fetchPositions([perp.symbol]);
      expect(positions.map((p) => [p.symbol, p.size])).toEqual([[perp.symbol, net]]);
      const fr = await c.fetchFundingRate(perp.symbol);
      expect(fr.symbol).toBe(perp.symbol);
      expect(fr.nextFundingTimestamp).toBeGreaterThan(0);
      // One client for both markets reads both wallets, or the one a unified account has (Bybit).
      const wallets =
        h.spot.client() !== c
          ? usdt(perp.venue())
          : h.spot.venue() === perp.venue()
            ? usdt(perp.venue())
            : usdt(h.spot.venue()) + usdt(perp.venue());
      expect((await c.fetchBalance()).USDT!.total).toBeCloseTo(wallets, 1);
      await order('buy', 'posback');
    });
  });
}
