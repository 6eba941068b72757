/**
 * A local fake of Gate.io API v4 (spot and USDT perpetuals) for driving ccxt's real `gate` class
 * offline, in Gate's wire format as ccxt 4.5 sends and parses it: signed REST (HMAC-SHA512 over
 * method, path, query, body hash and timestamp), `text` client ids with their `t-` prefix,
 * contracts sized in whole contracts of `quanto_multiplier`, spot market buys sized in quote,
 * open spot orders grouped by pair, and the websockets' book tickers and order channels (the
 * futures one subscribed by user id). Spot and futures are separate wallets, as at Gate.
 *
 * Gate's unkind rules are the fake's too: a reused `text` is not refused; a spot order is found
 * by `text` only while it rests, a futures order until 60 s after it ended; an order id of
 * `undefined` (what ccxt sends to cancel by client id) is not found.
 */
import { createHash, createHmac } from 'node:crypto';
import type { WebSocket } from 'ws';
import type { Clock } from '../../../src/clock/clock.ts';
import type {
  BookTicker,
  Fill,
  Market,
  Order,
  OrderRequest,
  TimeInForce,
} from '../../../src/domain/index.ts';
import { simMarket } from '../../../src/exchange/sim/markets.ts';
import { SimVenue } from '../../../src/exchange/sim/venue.ts';
import { decimal, FakeExchange, type FakeRequest, VenueAnswer } from './kit.ts';

export interface FakeGateOptions {
  clock: Clock;
  apiKey: string;
  secret: string;
  uid: string;
  spotBalances?: Record<string, number>;
  futuresBalances?: Record<string, number>;
}

/** BTC_USDT perpetual: one contract is 0.0001 BTC. */
export const GATE_BTC_CONTRACT = 0.0001;
const FUTURES_LOOKUP_AFTER_END_MS = 60_000;
const REST = 'api.gateio.ws';

const gateError = (status: number, label: string, message: string) =>
  new VenueAnswer(status, { label, message });
const sec = (ms: number) => Math.floor(ms / 1000);
/** Gate's `from` (seconds) as ms; none: everything. */
const fromMs = (q: Record<string, string>) => (q.from ? Number(q.from) * 1000 : 0);
type Kind = 'spot' | 'futures';
const tif = (o: Order): string => (o.timeInForce === 'PO' ? 'poc' : o.timeInForce === 'GTC' ? 'gtc' : 'ioc');

/** Gate's `finish_as`: open, filled, cancelled, or ioc (an immediate-or-cancel that ended unfilled). */
function finishAs(o: Order): string {
  if (o.status === 'open') return 'open';
  if (o.status === 'closed') return 'filled';
  if (o.status === 'expired') return 'ioc';
  return 'cancelled';
}

export class FakeGate extends FakeExchange {
  readonly spot: SimVenue;
  readonly futures: SimVenue;
  /** A spot market buy's quote budget, by order id (Gate reports its amounts in quote). */
  private readonly buyBudget = new Map<string, number>();
  /** Per socket: its market type and the channels it subscribed, with their payloads. */
  private readonly subs = new Map<WebSocket, Map<string, string[]>>();
  private readonly kindOf = new Map<WebSocket, Kind>();

  constructor(private readonly opts: FakeGateOptions) {
    super();
    const clientIds = { findsFinished: true, refusesReused: 'never' as const };
    this.spot = new SimVenue({
      name: 'gate',
      clock: opts.clock,
      markets: [simMarket('gate', 'BTC/USDT', { maker: 0.002, taker: 0.002, feeCurrency: 'received' })],
      balances: opts.spotBalances ?? { USDT: 100_000, BTC: 1 },
      clientIds,
    });
    this.futures = new SimVenue({
      name: 'gate',
      clock: opts.clock,
      markets: [
        simMarket('gate', 'BTC/USDT:USDT', {
          contractSize: GATE_BTC_CONTRACT,
          precision: { amount: 1, price: 0.1 },
          limits: { amount: { min: 1 }, cost: { min: 0 }, leverage: { max: 125 } },
          maker: 0.0002,
          taker: 0.0005,
        }),
      ],
      balances: opts.futuresBalances ?? { USDT: 100_000 },
      clientIds,
    });
  }

  /** A new top of book (BTC/USDT or BTC/USDT:USDT; futures sizes in contracts). */
  quote(symbol: string, bid: number, ask: number, size = 5): void {
    const v = symbol.includes(':') ? this.futures : this.spot;
    v.onBookTicker({ symbol, bid, ask, bidSize: size, askSize: size, timestamp: this.opts.clock.now() });
  }

  protected started(): void {
    for (const [kind, v] of [
      ['spot', this.spot],
      ['futures', this.futures],
    ] as const) {
      v.subscribeOrders((o) => this.pushOrder(kind, o));
      for (const m of v.listMarkets()) v.subscribeBook(m.symbol, (t) => this.pushBook(kind, m, t));
    }
  }

  protected disposed(): void {
    this.spot.dispose();
    this.futures.dispose();
  }

  protected errorAnswer(e: Error): VenueAnswer {
    switch (e.name) {
      case 'InsufficientFunds':
        return gateError(400, 'BALANCE_NOT_ENOUGH', e.message);
      case 'OrderImmediatelyFillable':
        return gateError(400, 'POC_FILL_IMMEDIATELY', e.message);
      case 'OrderNotFound':
        return gateError(404, 'ORDER_NOT_FOUND', 'Order not found');
      case 'InvalidOrder':
        return gateError(400, 'INVALID_PARAM_VALUE', e.message);
      default:
        return gateError(500, 'SERVER_ERROR', e.message);
    }
  }

  // ── REST ────────────────────────────────────────────────────────────────────────────────────

  protected route(r: FakeRequest): unknown {
    if (r.host !== REST) throw gateError(404, 'NOT_FOUND', `unknown host ${r.host}`);
    const path = r.path.replace(/^\/api\/v4/, '');
    const q = Object.fromEntries(r.query);
    const key = `${r.method} ${path}`;
    const pub = this.publicRoute(key, path, q);
    if (pub !== undefined) return pub;
    this.authenticate(r);
    this.signedRequest(key, () => gateError(429, 'TOO_MANY_REQUESTS', 'Request Rate limit Exceeded'));
    const body = r.body ? (JSON.parse(r.body) as Record<string, unknown>) : {};
    if (key === 'GET /account/detail') return { user_id: Number(this.opts.uid), key: { mode: 1 } };
    if (path.startsWith('/spot/')) return this.spotRoute(r, key, path, q, body);
    if (path.startsWith('/futures/usdt/')) return this.futuresRoute(r, key, path, q, body);
    throw gateError(404, 'NOT_FOUND', `no route ${key}`);
  }

  private publicRoute(key: string, path: string, q: Record<string, string>): unknown {
    switch (key) {
      case 'GET /margin/currency_pairs':
      case 'GET /spot/currencies':
      case 'GET /delivery/usdt/contracts':
      case 'GET /options/underlyings':
      case 'GET /futures/btc/contracts':
        return [];
      case 'GET /spot/currency_pairs':
        return this.spot.listMarkets().map((m) => ({
          id: this.id(m),
          base: m.base,
          quote: m.quote,
          fee: String(m.taker * 100),
          min_base_amount: decimal(m.limits.amount.min),
          min_quote_amount: decimal(m.limits.cost.min || 1),
          amount_precision: Math.round(-Math.log10(m.precision.amount)),
          precision: Math.round(-Math.log10(m.precision.price)),
          trade_status: 'tradable',
          buy_start: 0,
        }));
      case 'GET /futures/usdt/contracts':
        return this.futures.listMarkets().map((m) => this.contract(m));
      case 'GET /spot/order_book': {
        const m = this.market(this.spot, q.currency_pair);
        const t = this.spot.ticker(m.symbol);
        return {
          id: 1,
          current: this.opts.clock.now(),
          update: this.opts.clock.now(),
          bids: t ? [[decimal(t.bid), decimal(t.bidSize)]] : [],
          asks: t ? [[decimal(t.ask), decimal(t.askSize)]] : [],
        };
      }
      case 'GET /futures/usdt/order_book': {
        const m = this.market(this.futures, q.contract);
        const t = this.futures.ticker(m.symbol);
        return {
          id: 1,
          current: this.opts.clock.now() / 1000,
          update: this.opts.clock.now() / 1000,
          bids: t ? [{ p: decimal(t.bid), s: t.bidSize }] : [],
          asks: t ? [{ p: decimal(t.ask), s: t.askSize }] : [],
        };
      }
    }
    const contract = /^\/futures\/usdt\/contracts\/([A-Z0-9_]+)$/.exec(path);
    if (key.startsWith('GET ') && contract) return this.contract(this.market(this.futures, contract[1]));
    return undefined;
  }

  /** KEY, Timestamp and SIGN = HMAC-SHA512(method \n /api/v4path \n query \n sha512(body) \n ts). */
  private authenticate(r: FakeRequest): void {
    if (r.headers.key !== this.opts.apiKey) throw gateError(401, 'INVALID_KEY', 'Invalid key provided');
    const ts = String(r.headers.timestamp ?? '');
    const payload = [
      r.method,
      r.path,
      decodeURIComponent(r.rawQuery),
      createHash('sha512').update(r.body).digest('hex'),
      ts,
    ].join('\n');
    const expected = createHmac('sha512', this.opts.secret).update(payload).digest('hex');
    if (r.headers.sign !== expected) throw gateError(401, 'INVALID_SIGNATURE', 'Signature mismatch');
    if (Math.abs(Date.now() / 1000 - Number(ts)) > 60)
      throw gateError(401, 'REQUEST_EXPIRED', 'gap too large');
  }

  private spotRoute(
    r: FakeRequest,
    key: string,
    path: string,
    q: Record<string, string>,
    body: Record<string, unknown>,
  ): unknown {
    const v = this.spot;
    const byId = /^\/spot\/orders\/([^/]+)$/.exec(path);
    if (byId) return this.orderById('spot', r.method, byId[1]!, q.currency_pair);
    switch (key) {
      case 'POST /spot/orders':
        return this.placeSpot(r, body);
      case 'GET /spot/open_orders': {
        const out: { currency_pair: string; total: number; orders: unknown[] }[] = [];
        for (const m of v.listMarkets()) {
          if (q.currency_pair && q.currency_pair !== this.id(m)) continue;
          const orders = v.fetchOpenOrders(m.symbol).map((o) => this.spotOrder(o));
          if (orders.length > 0) out.push({ currency_pair: this.id(m), total: orders.length, orders });
        }
        return out;
      }
      case 'GET /spot/orders':
        return this.listOrders('spot', q, q.currency_pair);
      case 'GET /spot/my_trades':
        return this.myTrades('spot', q, q.currency_pair);
      case 'GET /spot/accounts':
        return Object.entries(v.balances()).map(([currency, b]) => ({
          currency,
          available: decimal(b.free),
          locked: decimal(b.used),
        }));
    }
    throw gateError(404, 'NOT_FOUND', `no route ${key}`);
  }

  private futuresRoute(
    r: FakeRequest,
    key: string,
    path: string,
    q: Record<string, string>,
    body: Record<string, unknown>,
  ): unknown {
    const v = this.futures;
    const byId = /^\/futures\/usdt\/orders\/([^/]+)$/.exec(path);
    if (byId) return this.orderById('futures', r.method, byId[1]!, q.contract);
    const leverage = /^\/futures\/usdt\/positions\/([A-Z0-9_]+)\/leverage$/.exec(path);
    if (leverage && r.method === 'POST') {
      const m = this.market(v, leverage[1]);
      v.setLeverage(m.symbol, Number(q.leverage));
      return { contract: this.id(m), leverage: q.leverage, size: 0 };
    }
    switch (key) {
      case 'POST /futures/usdt/orders':
        return this.placeFutures(r, body);
      case 'GET /futures/usdt/orders':
      case 'GET /futures/usdt/orders_timerange':
        return this.listOrders('futures', q, q.contract);
      case 'GET /futures/usdt/my_trades_timerange':
      case 'GET /futures/usdt/my_trades':
        return this.myTrades('futures', q, q.contract);
      case 'GET /futures/usdt/accounts': {
        const b = v.balances().USDT ?? { free: 0, used: 0, total: 0 };
        return {
          currency: 'USDT',
          total: decimal(b.total),
          available: decimal(b.free),
          order_margin: '0',
          position_margin: decimal(b.used),
          unrealised_pnl: '0',
          in_dual_mode: false,
          user: Number(this.opts.uid),
        };
      }
      case 'GET /futures/usdt/positions':
        return v.positions().map((p) => ({
          contract: this.id(v.market(p.symbol)),
          size: p.size,
          leverage: String(p.leverage),
          value: decimal(Math.abs(p.size) * p.contractSize * p.markPrice),
          margin: decimal(p.initialMargin),
          entry_price: decimal(p.entryPrice),
          mark_price: decimal(p.markPrice),
          liq_price: decimal(p.liquidationPrice ?? 0),
          unrealised_pnl: decimal(p.unrealizedPnl),
          realised_pnl: decimal(p.realizedPnl),
          initial_margin: decimal(p.initialMargin),
          maintenance_margin: decimal(p.maintenanceMargin),
          mode: 'single',
          update_time: sec(p.timestamp),
          open_time: sec(p.timestamp),
          user: Number(this.opts.uid),
        }));
      case 'GET /futures/usdt/account_book': {
        const m = this.market(v, q.contract);
        const from = q.from ? Number(q.from) * 1000 : 0;
        return v.fundingPayments(m.symbol, from).map((f) => ({
          time: sec(f.timestamp),
          change: decimal(f.amount),
          balance: decimal(v.balances().USDT?.total ?? 0),
          type: 'fund',
          text: this.id(m),
        }));
      }
    }
    throw gateError(404, 'NOT_FOUND', `no route ${key}`);
  }

  /** GET or DELETE orders/{id}: by id or `t-` text, as `find` says Gate finds them. */
  private orderById(kind: Kind, method: string, ref: string, marketId: string | undefined): unknown {
    const o = this.find(kind, ref, marketId);
    if (method === 'GET') return this.orderJson(kind, o);
    if (method !== 'DELETE') throw gateError(405, 'METHOD_NOT_ALLOWED', method);
    if (o.status !== 'open')
      throw kind === 'spot'
        ? gateError(400, 'ORDER_CLOSED', 'Order already closed')
        : gateError(400, 'ORDER_FINISHED', 'Order finished');
    return this.orderJson(kind, this.wallet(kind).cancelOrder({ id: o.id }));
  }

  /**
   * status=open: the resting orders (of every contract where none is named, as Gate's futures
   * list allows); otherwise the finished ones of a market since `from` (seconds), newest first.
   */
  private listOrders(kind: Kind, q: Record<string, string>, marketId: string | undefined): unknown[] {
    const v = this.wallet(kind);
    if (q.status === 'open' && kind === 'futures' && marketId === undefined)
      return v.fetchOpenOrders().map((o) => this.orderJson(kind, o));
    const m = this.market(v, marketId);
    if (q.status === 'open') return v.fetchOpenOrders(m.symbol).map((o) => this.orderJson(kind, o));
    return v
      .closedOrders(m.symbol, fromMs(q))
      .slice(0, Number(q.limit ?? 100))
      .map((o) => this.orderJson(kind, o));
  }

  /** The account's trades on a market since `from`, of one order where `order_id` says. */
  private myTrades(kind: Kind, q: Record<string, string>, marketId: string | undefined): unknown[] {
    const v = this.wallet(kind);
    const m = this.market(v, marketId);
    const orderId = q.order_id ?? q.orderId ?? q.order;
    const from = fromMs(q);
    return v
      .allOrders()
      .filter((o) => o.symbol === m.symbol && (!orderId || o.id === orderId))
      .flatMap((o) => o.trades.filter((t) => t.timestamp >= from).map((t) => this.tradeJson(kind, m, o, t)));
  }

  private tradeJson(kind: Kind, m: Market, o: Order, t: Fill): Record<string, unknown> {
    const common = {
      order_id: o.id,
      price: decimal(t.price),
      role: t.takerOrMaker,
      text: o.clientOrderId,
      fee: decimal(t.fee.cost),
    };
    return kind === 'spot'
      ? {
          ...common,
          id: t.id.replace(/\D/g, '') || t.id,
          create_time: String(sec(t.timestamp)),
          create_time_ms: String(t.timestamp),
          currency_pair: this.id(m),
          side: t.side,
          amount: decimal(t.amount),
          fee_currency: t.fee.currency,
        }
      : {
          ...common,
          id: Number(t.id.replace(/\D/g, '')) || t.id,
          create_time: t.timestamp / 1000,
          contract: this.id(m),
          size: t.side === 'buy' ? t.amount : -t.amount,
        };
  }

  private orderJson(kind: Kind, o: Order): Record<string, unknown> {
    return kind === 'spot' ? this.spotOrder(o) : this.futuresOrder(o);
  }

  private wallet(kind: Kind): SimVenue {
    return kind === 'spot' ? this.spot : this.futures;
  }

  // ── orders ──────────────────────────────────────────────────────────────────────────────────

  private placeSpot(r: FakeRequest, b: Record<string, unknown>): unknown {
    const m = this.market(this.spot, b.currency_pair as string);
    const text = this.text(b.text);
    const side = b.side === 'sell' ? 'sell' : 'buy';
    const market = b.type === 'market';
    let amount = Number(b.amount);
    let budget: number | undefined;
    if (market && side === 'buy') {
      // Gate sizes a market buy in quote: it buys what the budget pays for at the ask.
      budget = amount;
      const ask = this.spot.ticker(m.symbol)?.ask;
      if (!ask) throw gateError(400, 'INVALID_PARAM_VALUE', 'no price to size a market buy');
      const step = m.precision.amount;
      amount = Math.floor(budget / ask / step + 1e-9) * step;
    }
    const req: OrderRequest = {
      symbol: m.symbol,
      side,
      type: market ? 'market' : 'limit',
      amount,
      clientOrderId: text,
      ...(market ? {} : { price: Number(b.price) }),
      ...(this.tifOf(b.time_in_force as string | undefined)
        ? { timeInForce: this.tifOf(b.time_in_force as string)! }
        : {}),
    };
    const o = this.spot.placeOrder(req);
    if (budget !== undefined) this.buyBudget.set(o.id, budget);
    return this.answerPlacement(r.res, () => (this.takeAckOnly() ? { id: o.id, text } : this.spotOrder(o)));
  }

  private placeFutures(r: FakeRequest, b: Record<string, unknown>): unknown {
    const m = this.market(this.futures, b.contract as string);
    const size = Number(b.size);
    if (!Number.isInteger(size) || size === 0)
      throw gateError(400, 'INVALID_PARAM_VALUE', 'size must be a non-zero integer');
    const market = b.price === '0' && b.tif === 'ioc';
    const req: OrderRequest = {
      symbol: m.symbol,
      side: size > 0 ? 'buy' : 'sell',
      type: market ? 'market' : 'limit',
      amount: Math.abs(size),
      clientOrderId: this.text(b.text),
      ...(market ? {} : { price: Number(b.price) }),
      ...(!market && this.tifOf(b.tif as string | undefined)
        ? { timeInForce: this.tifOf(b.tif as string)! }
        : {}),
      ...(b.reduce_only === true ? { reduceOnly: true } : {}),
    };
    const o = this.futures.placeOrder(req);
    return this.answerPlacement(r.res, () =>
      this.takeAckOnly() ? { id: Number(o.id), text: o.clientOrderId } : this.futuresOrder(o),
    );
  }

  /** Gate's `text`: `t-` and at most 28 characters of [0-9A-Za-z_.-] after it. */
  private text(raw: unknown): string {
    const t = typeof raw === 'string' ? raw : '';
    if (!/^t-[0-9A-Za-z_.-]{1,28}$/.test(t))
      throw gateError(400, 'INVALID_PARAM_VALUE', `invalid text ${JSON.stringify(raw)}: must start with t-`);
    return t;
  }

  private tifOf(t: string | undefined): TimeInForce | undefined {
    if (t === 'poc') return 'PO';
    if (t === 'ioc') return 'IOC';
    if (t === 'fok') return 'FOK';
    if (t === 'gtc') return 'GTC';
    return undefined;
  }

  /**
   * An order by id or by `t-` text. By text, as at Gate: a spot order only while it rests, a
   * futures order until 60 s after it ended; a reused text names the newest order.
   */
  private find(kind: Kind, ref: string, marketId: string | undefined): Order {
    const v = this.wallet(kind);
    const m = this.market(v, marketId);
    let o: Order | undefined;
    if (ref.startsWith('t-')) {
      const now = this.opts.clock.now();
      o = v
        .allOrders()
        .filter((x) => x.symbol === m.symbol && x.clientOrderId === ref)
        .sort((a, b) => Number(b.id) - Number(a.id))[0];
      const findable =
        o &&
        (o.status === 'open' ||
          (kind === 'futures' && now - o.lastUpdateTimestamp <= FUTURES_LOOKUP_AFTER_END_MS));
      if (!findable) o = undefined;
    } else if (/^\d+$/.test(ref)) {
      o = v.allOrders().find((x) => x.id === ref && x.symbol === m.symbol);
    }
    if (!o) throw gateError(404, 'ORDER_NOT_FOUND', 'Order not found');
    return o;
  }

  private spotOrder(o: Order): Record<string, unknown> {
    const m = this.spot.market(o.symbol);
    const budget = this.buyBudget.get(o.id);
    // A market buy is reported in quote: its budget, and what of it was not spent.
    const amount = budget ?? o.amount;
    const left = budget !== undefined ? Math.max(0, budget - o.cost) : o.remaining;
    return {
      id: o.id,
      text: o.clientOrderId,
      create_time: String(sec(o.timestamp)),
      update_time: String(sec(o.lastUpdateTimestamp)),
      create_time_ms: o.timestamp,
      update_time_ms: o.lastUpdateTimestamp,
      status: o.status === 'open' ? 'open' : o.status === 'closed' ? 'closed' : 'cancelled',
      finish_as: budget !== undefined && o.status !== 'open' && o.filled > 0 ? 'filled' : finishAs(o),
      currency_pair: this.id(m),
      type: o.type,
      account: 'spot',
      side: o.side,
      amount: decimal(amount),
      price: decimal(o.price ?? 0),
      time_in_force: tif(o),
      left: decimal(left),
      filled_amount: decimal(o.filled),
      filled_total: decimal(o.cost),
      avg_deal_price: decimal(o.average ?? 0),
      fill_price: decimal(o.cost),
      fee: decimal(o.fee.cost),
      fee_currency: o.fee.currency,
    };
  }

  private futuresOrder(o: Order): Record<string, unknown> {
    const sign = o.side === 'buy' ? 1 : -1;
    const market = o.type === 'market';
    return {
      id: Number(o.id),
      user: Number(this.opts.uid),
      contract: this.id(this.futures.market(o.symbol)),
      create_time: o.timestamp / 1000,
      update_time: o.lastUpdateTimestamp / 1000,
      ...(o.status !== 'open' ? { finish_time: o.lastUpdateTimestamp / 1000 } : {}),
      finish_as: o.status === 'open' ? '' : finishAs(o),
      status: o.status === 'open' ? 'open' : 'finished',
      size: sign * o.amount,
      left: sign * o.remaining,
      price: market ? '0' : decimal(o.price ?? 0),
      fill_price: decimal(o.average ?? 0),
      tif: market ? 'ioc' : tif(o),
      is_reduce_only: o.reduceOnly,
      is_close: false,
      text: o.clientOrderId,
      iceberg: 0,
      mkfr: '0.0002',
      tkfr: '0.0005',
    };
  }

  private contract(m: Market): Record<string, unknown> {
    const fr = this.futures.fundingRate(m.symbol);
    const mark = this.futures.ticker(m.symbol) ? this.futures.mark(m.symbol) : 0;
    return {
      name: this.id(m),
      type: 'direct',
      quanto_multiplier: decimal(m.contractSize),
      order_price_round: decimal(m.precision.price),
      order_size_min: m.limits.amount.min,
      order_size_max: 1_000_000,
      leverage_min: '1',
      leverage_max: String(m.limits.leverage?.max ?? 100),
      mark_price: decimal(mark),
      index_price: decimal(mark),
      order_price_deviate: '0.5',
      status: 'trading',
      create_time: 1_600_000_000,
      funding_rate: decimal(fr.rate),
      funding_next_apply: sec(fr.nextFundingTimestamp),
      funding_interval: fr.intervalMs / 1000,
    };
  }

  /** Gate's market id: BTC_USDT for both the pair and the contract. */
  private id(m: Market): string {
    return `${m.base}_${m.quote}`;
  }

  private market(v: SimVenue, id: string | undefined): Market {
    const m = v.listMarkets().find((x) => this.id(x) === id);
    if (!m) throw gateError(400, 'INVALID_CURRENCY_PAIR', `Invalid currency pair ${id}`);
    return m;
  }

  // ── websockets ──────────────────────────────────────────────────────────────────────────────

  protected onSocket(ws: WebSocket, host: string, path: string): void {
    const kind =
      host === REST && path.startsWith('/ws/v4')
        ? 'spot'
        : host === 'fx-ws.gateio.ws'
          ? 'futures'
          : undefined;
    if (!kind) {
      ws.close();
      return;
    }
    const channels = new Map<string, string[]>();
    this.subs.set(ws, channels);
    ws.on('close', () => {
      this.subs.delete(ws);
      this.kindOf.delete(ws);
    });
    ws.on('message', (raw) => {
      const m = JSON.parse(String(raw)) as {
        id: number;
        time: number;
        channel: string;
        event: string;
        payload?: string[];
        auth?: { KEY: string; SIGN: string };
      };
      const ack = (error?: { code: number; message: string }) =>
        ws.send(
          JSON.stringify({
            time: sec(Date.now()),
            time_ms: Date.now(),
            id: m.id,
            channel: m.channel,
            event: m.event,
            ...(error ? { error } : {}),
            result: { status: error ? 'fail' : 'success' },
          }),
        );
      if (m.event !== 'subscribe') return;
      if (m.channel.endsWith('.orders')) {
        const sign = createHmac('sha512', this.opts.secret)
          .update(`channel=${m.channel}&event=subscribe&time=${m.time}`)
          .digest('hex');
        if (m.auth?.KEY !== this.opts.apiKey || m.auth.SIGN !== sign)
          return ack({ code: 4, message: '{"label":"INVALID_KEY","message":"invalid key or signature"}' });
        // The futures order channel names the user first.
        if (kind === 'futures' && m.payload?.[0] !== this.opts.uid)
          return ack({ code: 2, message: `user id ${m.payload?.[0]} is not this key's` });
      }
      channels.set(m.channel, m.payload ?? []);
      ack();
    });
    this.kindOf.set(ws, kind);
  }

  private subscribed(kind: Kind, channel: string, id: string): (ws: WebSocket) => boolean {
    return (ws) => {
      if (this.kindOf.get(ws) !== kind) return false;
      const p = this.subs.get(ws)?.get(channel);
      return p !== undefined && (p.includes(id) || p.includes('!all'));
    };
  }

  private pushBook(kind: Kind, m: Market, t: BookTicker): void {
    const channel = `${kind}.book_ticker`;
    this.broadcast(this.subscribed(kind, channel, this.id(m)), {
      time: sec(t.timestamp),
      time_ms: t.timestamp,
      channel,
      event: 'update',
      result: {
        t: t.timestamp,
        u: Math.floor(t.timestamp),
        s: this.id(m),
        b: decimal(t.bid),
        B: kind === 'spot' ? decimal(t.bidSize) : Math.floor(t.bidSize),
        a: decimal(t.ask),
        A: kind === 'spot' ? decimal(t.askSize) : Math.floor(t.askSize),
      },
    });
  }

  private pushOrder(kind: Kind, o: Order): void {
    const v = this.wallet(kind);
    const m = v.market(o.symbol);
    const channel = `${kind}.orders`;
    const body =
      kind === 'spot'
        ? { ...this.spotOrder(o), event: o.status === 'open' ? (o.filled > 0 ? 'update' : 'put') : 'finish' }
        : this.futuresOrder(o);
    this.broadcast(this.subscribed(kind, channel, this.id(m)), {
      time: sec(this.opts.clock.now()),
      time_ms: this.opts.clock.now(),
      channel,
      event: 'update',
      result: [body],
    });
  }
}
