/**
 * A local fake of OKX API v5 on a trading account (spot and USDT perpetual swaps in one wallet)
 * for driving ccxt's real `okx` class offline, in OKX's wire format as ccxt 4.5 sends and parses
 * it (wire/okx.md): the `{code, msg, data}` envelope with a top-level `code: "1"` and the item's
 * `sCode` when an order operation fails, base64 HMAC-SHA256 over ISO timestamp + method + path
 * + query or body with the passphrase header, `clOrdId` client ids, swaps sized in contracts of
 * `ctVal`, negative fees, the public `bbo-tbt` and private `orders` websockets with `login` and
 * text ping/pong.
 *
 * OKX's unkind rules are the fake's too: new orders go to batch-orders and are answered with ids
 * only; a clOrdId is 1–32 letters and digits, refused (51016) only while its order is live; a
 * cancelled order that filled nothing is found for two hours only; lists cap `limit` at 100;
 * `orders-pending` ignores what it does not know (ccxt's `type`) and lists every instType; an
 * `orders` subscription receives only its own instType (`ANY`: all).
 */
import { createHmac } from 'node:crypto';
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

export interface FakeOkxOptions {
  clock: Clock;
  apiKey: string;
  secret: string;
  passphrase: string;
  balances?: Record<string, number>;
  /** How long a cancelled order that filled nothing stays findable (OKX: 2 h). */
  unfilledCanceledKeptMs?: number;
  fundingIntervalMs?: number;
}

/** BTC-USDT-SWAP: one contract is 0.01 BTC. */
export const OKX_BTC_CONTRACT = 0.01;
const REST = 'www.okx.com';
const WS = 'ws.okx.com';
const HISTORY_MS = 7 * 86_400_000;
const UID = '44705892343619584';

type InstType = 'SPOT' | 'SWAP';
const ok = (data: unknown[]) => ({ code: '0', msg: '', data });
const okxError = (code: string, msg: string, status = 200) =>
  new VenueAnswer(status, { code, msg, data: [] });
/** An order operation that failed: the top-level code says so, the item says why. */
const opFailed = (msg: string, sCode: string, sMsg: string, clOrdId = '') =>
  new VenueAnswer(200, {
    code: '1',
    msg,
    data: [{ clOrdId, ordId: '', tag: '', ts: String(Date.now()), sCode, sMsg }],
  });

function state(o: Order): string {
  if (o.status === 'open') return o.filled > 0 ? 'partially_filled' : 'live';
  if (o.status === 'closed') return 'filled';
  return 'canceled';
}

function ordType(o: Order): string {
  if (o.type === 'market') return 'market';
  if (o.timeInForce === 'PO') return 'post_only';
  if (o.timeInForce === 'IOC') return 'ioc';
  if (o.timeInForce === 'FOK') return 'fok';
  return 'limit';
}

export class FakeOkx extends FakeExchange {
  /** The trading account: spot and swaps share it, as at OKX. */
  readonly account: SimVenue;
  private readonly subs = new Map<
    WebSocket,
    { path: string; loggedIn: boolean; orders: { instType: string; instId?: string }[]; bbo: Set<string> }
  >();
  private connId = 1;

  constructor(private readonly opts: FakeOkxOptions) {
    super();
    this.account = new SimVenue({
      name: 'okx',
      clock: opts.clock,
      markets: [
        simMarket('okx', 'BTC/USDT', {
          precision: { amount: 0.00000001, price: 0.1 },
          limits: { amount: { min: 0.00001 }, cost: { min: 0 } },
          maker: 0.0008,
          taker: 0.001,
          // OKX charges a spot buy in base, a sell in quote.
          feeCurrency: 'received',
        }),
        simMarket('okx', 'BTC/USDT:USDT', {
          contractSize: OKX_BTC_CONTRACT,
          precision: { amount: 0.01, price: 0.1 },
          limits: { amount: { min: 0.01 }, cost: { min: 0 }, leverage: { max: 125 } },
          maker: 0.0002,
          taker: 0.0005,
        }),
      ],
      balances: opts.balances ?? { USDT: 100_000, BTC: 1 },
      // 51016 "Duplicated clOrdId" only while the first order is live.
      clientIds: { findsFinished: true, refusesReused: 'while-open' },
      ...(opts.fundingIntervalMs ? { fundingIntervalMs: opts.fundingIntervalMs } : {}),
    });
  }

  quote(symbol: string, bid: number, ask: number, size = 5): void {
    this.account.onBookTicker({
      symbol,
      bid,
      ask,
      bidSize: size,
      askSize: size,
      timestamp: this.opts.clock.now(),
    });
  }

  protected started(): void {
    this.account.subscribeOrders((o) => this.pushOrder(o));
    for (const m of this.account.listMarkets())
      this.account.subscribeBook(m.symbol, (t) => this.pushBook(m, t));
  }

  protected disposed(): void {
    this.account.dispose();
  }

  protected errorAnswer(e: Error): VenueAnswer {
    if (e.name === 'OrderNotFound') return okxError('51603', 'Order does not exist');
    if (e.name === 'InvalidOrder') return okxError('51000', `Parameter error: ${e.message}`);
    return okxError('50001', `Service temporarily unavailable: ${e.message}`, 503);
  }

  // ── REST ────────────────────────────────────────────────────────────────────────────────────

  protected route(r: FakeRequest): unknown {
    if (r.host !== REST) throw okxError('50001', `unknown host ${r.host}`, 404);
    const q = Object.fromEntries(r.query);
    const key = `${r.method} ${r.path}`;
    const pub = this.publicRoute(key, q);
    if (pub !== undefined) return ok(pub);
    this.authenticate(r);
    this.signedRequest(key, () => okxError('50011', 'Too Many Requests', 429));
    const body = r.body ? (JSON.parse(r.body) as unknown) : {};
    return this.privateRoute(r, key, q, body);
  }

  private publicRoute(key: string, q: Record<string, string>): unknown[] | undefined {
    switch (key) {
      case 'GET /api/v5/public/time':
        return [{ ts: String(Date.now()) }];
      case 'GET /api/v5/public/instruments': {
        const instType = this.instType(q.instType);
        return this.marketsOf(instType).map((m) => this.instrument(m));
      }
      case 'GET /api/v5/market/books': {
        const m = this.market(q.instId);
        const t = this.account.ticker(m.symbol);
        return [
          {
            asks: t ? [[decimal(t.ask), decimal(t.askSize), '0', '1']] : [],
            bids: t ? [[decimal(t.bid), decimal(t.bidSize), '0', '1']] : [],
            ts: String(this.opts.clock.now()),
          },
        ];
      }
      case 'GET /api/v5/market/ticker':
        return [this.ticker(this.market(q.instId))];
      case 'GET /api/v5/public/funding-rate': {
        const m = this.market(q.instId);
        const fr = this.account.fundingRate(m.symbol);
        return [
          {
            instType: 'SWAP',
            instId: this.id(m),
            fundingRate: decimal(fr.rate),
            nextFundingRate: '',
            fundingTime: String(fr.nextFundingTimestamp),
            nextFundingTime: String(fr.nextFundingTimestamp + fr.intervalMs),
            method: 'current_period',
            ts: String(Date.now()),
          },
        ];
      }
    }
    return undefined;
  }

  /** OK-ACCESS-SIGN = base64 HMAC-SHA256(ISO timestamp + METHOD + /api/v5/path[?query] + body), within 30 s. */
  private authenticate(r: FakeRequest): void {
    const h = r.headers;
    if (h['ok-access-key'] !== this.opts.apiKey) throw okxError('50111', 'Invalid OK-ACCESS-KEY', 401);
    if (h['ok-access-passphrase'] !== this.opts.passphrase)
      throw okxError('50105', 'Invalid OK-ACCESS-PASSPHRASE', 401);
    const ts = String(h['ok-access-timestamp'] ?? '');
    const target = r.path + (r.rawQuery ? `?${r.rawQuery}` : '');
    const expected = createHmac('sha256', this.opts.secret)
      .update(ts + r.method + target + (r.method === 'GET' ? '' : r.body))
      .digest('base64');
    if (h['ok-access-sign'] !== expected) throw okxError('50113', 'Invalid Sign', 401);
    if (Math.abs(Date.now() - Date.parse(ts)) > 30_000)
      throw okxError('50102', 'Timestamp request expired', 401);
  }

  private privateRoute(r: FakeRequest, key: string, q: Record<string, string>, body: unknown): unknown {
    switch (key) {
      // ccxt asks for every currency's chains unless told not to: the adapter needs none of it.
      case 'GET /api/v5/asset/currencies':
        return ok([]);
      case 'GET /api/v5/account/config':
        return ok([{ uid: UID, acctLv: '2', posMode: 'net_mode', autoLoan: false }]);
      case 'POST /api/v5/trade/batch-orders': {
        const items = body as Record<string, unknown>[];
        if (!Array.isArray(items) || items.length !== 1)
          throw okxError('51000', 'Parameter error: one order per batch here');
        return this.place(r, items[0]!, 'All operations failed');
      }
      case 'POST /api/v5/trade/order':
        return this.place(r, body as Record<string, unknown>, 'Operation failed.');
      case 'POST /api/v5/trade/cancel-order':
        return this.cancel(body as Record<string, unknown>);
      case 'GET /api/v5/trade/order':
        return ok([this.orderJson(this.find(q))]);
      case 'GET /api/v5/trade/orders-pending': {
        // Unknown parameters (ccxt's `type`) are ignored: every instType is listed.
        const instType = q.instType ? this.instType(q.instType) : undefined;
        const list = this.account
          .fetchOpenOrders()
          .filter((o) => this.matches(o, instType, q.instId))
          .sort((a, b) => Number(b.id) - Number(a.id));
        return ok(list.slice(0, this.limit(q)).map((o) => this.orderJson(o)));
      }
      case 'GET /api/v5/trade/orders-history':
      case 'GET /api/v5/trade/orders-history-archive':
        return ok(this.history(q, key.endsWith('archive') ? 90 * 86_400_000 : HISTORY_MS));
      case 'GET /api/v5/trade/fills':
      case 'GET /api/v5/trade/fills-history':
        return ok(this.fills(q));
      case 'GET /api/v5/account/balance':
        return ok([this.balance()]);
      case 'GET /api/v5/account/positions':
        return ok(this.positions(q));
      case 'GET /api/v5/account/bills':
      case 'GET /api/v5/account/bills-archive':
        return ok(this.bills(q));
      case 'POST /api/v5/account/set-leverage': {
        const b = body as Record<string, unknown>;
        const m = this.market(b.instId as string);
        this.account.setLeverage(m.symbol, Number(b.lever));
        return ok([{ instId: this.id(m), lever: String(b.lever), mgnMode: b.mgnMode, posSide: '' }]);
      }
    }
    throw okxError('50014', `no route ${key}`, 404);
  }

  // ── orders ──────────────────────────────────────────────────────────────────────────────────

  private place(r: FakeRequest, b: Record<string, unknown>, failed: string): unknown {
    const clOrdId = typeof b.clOrdId === 'string' ? b.clOrdId : '';
    const refuse = (sCode: string, sMsg: string) => opFailed(failed, sCode, sMsg, clOrdId);
    if (!/^[A-Za-z0-9]{1,32}$/.test(clOrdId)) throw refuse('51000', 'Parameter clOrdId error');
    const m = this.marketOrUndefined(b.instId as string | undefined);
    if (!m) throw refuse('51001', 'Instrument ID does not exist');
    const instType = this.instTypeOf(m);
    if (instType === 'SPOT' ? b.tdMode !== 'cash' : b.tdMode !== 'cross' && b.tdMode !== 'isolated')
      throw refuse('51000', 'Parameter tdMode error');
    const side = b.side === 'buy' || b.side === 'sell' ? b.side : undefined;
    if (!side) throw refuse('51000', 'Parameter side error');
    const t = b.ordType as string;
    const market = t === 'market' || t === 'optimal_limit_ioc';
    const tif: Record<string, TimeInForce> = { limit: 'GTC', post_only: 'PO', ioc: 'IOC', fok: 'FOK' };
    if (!market && !tif[t]) throw refuse('51000', 'Parameter ordType error');
    let amount = Number(b.sz);
    if (instType === 'SPOT' && market && b.tgtCcy === 'quote_ccy') {
      // Sized in quote: what it buys (or sells) at the touch.
      const tk = this.account.ticker(m.symbol);
      const px = side === 'buy' ? tk?.ask : tk?.bid;
      if (!px) throw refuse('51000', 'Parameter sz error');
      amount = Math.floor(amount / px / m.precision.amount + 1e-9) * m.precision.amount;
    }
    const req: OrderRequest = {
      symbol: m.symbol,
      side,
      type: market ? 'market' : 'limit',
      amount,
      clientOrderId: clOrdId,
      ...(market ? {} : { price: Number(b.px), timeInForce: tif[t]! }),
      ...(b.reduceOnly === true ? { reduceOnly: true } : {}),
    };
    let o: Order;
    try {
      o = this.account.placeOrder(req);
    } catch (e) {
      const err = e as Error & { field?: string };
      if (err.name === 'DuplicateClientOrderId') throw refuse('51016', 'Duplicated clOrdId');
      if (err.name === 'InsufficientFunds') throw refuse('51008', 'Order failed. Insufficient balance');
      // OKX accepts a post-only that would take and cancels it; refused here alike: not resting.
      if (err.name === 'OrderImmediatelyFillable')
        throw refuse('51006', 'Order price is not within the price limit');
      if (err.field === 'reduceOnly') throw refuse('51169', 'Order failed: no position to reduce');
      if (err.field === 'amount')
        throw refuse('51020', 'Your order should meet or exceed the minimum order amount');
      throw refuse('51000', `Parameter error: ${err.message}`);
    }
    this.takeAckOnly(); // OKX answers every placement with ids only, fault or not.
    return this.answerPlacement(r.res, () =>
      ok([
        {
          clOrdId: o.clientOrderId,
          ordId: o.id,
          tag: '',
          ts: String(o.timestamp),
          sCode: '0',
          sMsg: 'Order placed',
        },
      ]),
    );
  }

  private cancel(b: Record<string, unknown>): unknown {
    const clOrdId = typeof b.clOrdId === 'string' ? b.clOrdId : '';
    let o: Order | undefined;
    try {
      o = this.find({ instId: b.instId as string, ordId: b.ordId as string, clOrdId });
    } catch {
      o = undefined;
    }
    if (o?.status !== 'open')
      throw opFailed(
        'Operation failed.',
        '51400',
        'Order cancellation failed as the order has been filled, canceled or does not exist',
        clOrdId,
      );
    this.account.cancelOrder({ id: o.id });
    return ok([{ clOrdId: o.clientOrderId, ordId: o.id, ts: String(Date.now()), sCode: '0', sMsg: '' }]);
  }

  /** By ordId, else by clOrdId (the latest order under it); a cancelled one that filled nothing for two hours. */
  private find(q: Record<string, string | undefined>): Order {
    const m = this.market(q.instId);
    const orders = this.account.allOrders().filter((o) => o.symbol === m.symbol && this.findable(o));
    const o = q.ordId
      ? orders.find((x) => x.id === q.ordId)
      : q.clOrdId
        ? orders.filter((x) => x.clientOrderId === q.clOrdId).sort((a, b) => Number(b.id) - Number(a.id))[0]
        : undefined;
    if (!q.ordId && !q.clOrdId) throw okxError('51000', 'Parameter ordId error');
    if (!o) throw okxError('51603', 'Order does not exist');
    return o;
  }

  private findable(o: Order): boolean {
    if (o.status === 'open' || o.filled > 0) return true;
    return (
      this.opts.clock.now() - o.lastUpdateTimestamp <= (this.opts.unfilledCanceledKeptMs ?? 2 * 3_600_000)
    );
  }

  private history(q: Record<string, string>, spanMs: number): unknown[] {
    if (!q.instType) throw okxError('50014', 'Parameter instType can not be empty');
    const instType = this.instType(q.instType);
    const now = this.opts.clock.now();
    const begin = Math.max(Number(q.begin ?? 0), now - spanMs);
    const end = Number(q.end ?? Number.POSITIVE_INFINITY);
    return this.account
      .allOrders()
      .filter(
        (o) =>
          o.status !== 'open' &&
          this.findable(o) &&
          this.matches(o, instType, q.instId) &&
          (!q.state || state(o) === q.state) &&
          o.timestamp >= begin &&
          o.timestamp <= end,
      )
      .sort((a, b) => Number(b.id) - Number(a.id))
      .slice(0, this.limit(q))
      .map((o) => this.orderJson(o));
  }

  /**
   * Stricter than OKX, which ignores what it does not know: a filter under another name (say
   * `orderId` for `ordId`) would list every order's fills, and an adapter that counts on it
   * would miss its order's beyond the first page.
   */
  private fills(q: Record<string, string>): unknown[] {
    const known = [
      'instType',
      'instId',
      'ordId',
      'begin',
      'end',
      'limit',
      'after',
      'before',
      'uly',
      'instFamily',
    ];
    const unknown = Object.keys(q).filter((k) => !known.includes(k));
    if (unknown.length > 0) throw okxError('51000', `Parameter ${unknown[0]} error`);
    const instType = q.instType ? this.instType(q.instType) : undefined;
    const begin = Number(q.begin ?? 0);
    const end = Number(q.end ?? Number.POSITIVE_INFINITY);
    return this.account
      .allOrders()
      .filter((o) => this.matches(o, instType, q.instId) && (!q.ordId || o.id === q.ordId))
      .flatMap((o) =>
        o.trades.filter((t) => t.timestamp >= begin && t.timestamp <= end).map((t) => this.fillJson(o, t)),
      )
      .sort((a, b) => Number(b.ts) - Number(a.ts))
      .slice(0, this.limit(q));
  }

  private fillJson(o: Order, t: Fill): Record<string, string> {
    const m = this.account.market(o.symbol);
    return {
      instType: this.instTypeOf(m),
      instId: this.id(m),
      tradeId: t.id.replace(/\D/g, '') || t.id,
      ordId: o.id,
      clOrdId: o.clientOrderId,
      billId: `9${t.id.replace(/\D/g, '')}`,
      tag: '',
      side: t.side,
      posSide: 'net',
      fillPx: decimal(t.price),
      fillSz: decimal(t.amount),
      // A charge is negative at OKX.
      fee: decimal(-t.fee.cost),
      feeCcy: t.fee.currency,
      execType: t.takerOrMaker === 'maker' ? 'M' : 'T',
      ts: String(t.timestamp),
      fillTime: String(t.timestamp),
    };
  }

  private balance(): Record<string, unknown> {
    return {
      uTime: String(Date.now()),
      totalEq: '0',
      details: Object.entries(this.account.balances()).map(([ccy, b]) => ({
        ccy,
        eq: decimal(b.total),
        cashBal: decimal(b.total),
        availBal: decimal(b.free),
        frozenBal: decimal(b.used),
        ordFrozen: decimal(b.used),
        availEq: decimal(b.free),
        upl: '0',
        uTime: String(Date.now()),
      })),
    };
  }

  /** Open positions only; instId may name several, comma-separated. */
  private positions(q: Record<string, string>): unknown[] {
    const ids = q.instId ? q.instId.split(',') : undefined;
    return this.account
      .positions()
      .filter((p) => p.size !== 0)
      .map((p) => ({ p, m: this.account.market(p.symbol) }))
      .filter(({ m }) => !ids || ids.includes(this.id(m)))
      .map(({ p, m }) => ({
        instType: 'SWAP',
        instId: this.id(m),
        posId: '5',
        posSide: 'net',
        pos: decimal(p.size),
        availPos: '',
        avgPx: decimal(p.entryPrice),
        markPx: decimal(p.markPrice),
        lever: String(p.leverage),
        mgnMode: 'cross',
        liqPx: p.liquidationPrice ? decimal(p.liquidationPrice) : '',
        upl: decimal(p.unrealizedPnl),
        uplRatio: '0',
        imr: decimal(p.initialMargin),
        mmr: decimal(p.maintenanceMargin),
        margin: '',
        notionalUsd: decimal(Math.abs(p.size) * p.contractSize * p.markPrice),
        ccy: 'USDT',
        cTime: String(p.timestamp),
        uTime: String(p.timestamp),
      }));
  }

  /** Bills of type 8 (funding): balChg as the account saw it, income positive. */
  private bills(q: Record<string, string>): unknown[] {
    if (q.type !== '8') return [];
    return this.marketsOf('SWAP')
      .flatMap((m) =>
        this.account.fundingPayments(m.symbol).map((p) => ({
          billId: p.id.replace(/\D/g, ''),
          instId: this.id(m),
          instType: 'SWAP',
          ccy: m.settle ?? 'USDT',
          balChg: decimal(p.amount),
          posBalChg: '0',
          ts: String(p.timestamp),
          type: '8',
          subType: p.amount >= 0 ? '174' : '173',
        })),
      )
      .sort((a, b) => Number(b.ts) - Number(a.ts))
      .slice(0, this.limit(q));
  }

  private orderJson(o: Order): Record<string, string> {
    const m = this.account.market(o.symbol);
    const instType = this.instTypeOf(m);
    const last = o.trades.at(-1);
    return {
      instType,
      instId: this.id(m),
      ordId: o.id,
      clOrdId: o.clientOrderId,
      tag: '',
      px: o.type === 'market' ? '' : decimal(o.price ?? 0),
      sz: decimal(o.amount),
      ordType: ordType(o),
      side: o.side,
      posSide: instType === 'SWAP' ? 'net' : '',
      tdMode: instType === 'SWAP' ? 'cross' : 'cash',
      tgtCcy: '',
      accFillSz: decimal(o.filled),
      avgPx: o.average ? decimal(o.average) : '',
      state: state(o),
      fee: decimal(-o.fee.cost),
      feeCcy: o.fee.currency,
      rebate: '0',
      rebateCcy: m.quote,
      fillPx: last ? decimal(last.price) : '',
      fillSz: last ? decimal(last.amount) : '',
      tradeId: last ? last.id.replace(/\D/g, '') || last.id : '',
      fillTime: last ? String(last.timestamp) : '',
      reduceOnly: String(o.reduceOnly),
      cTime: String(o.timestamp),
      uTime: String(o.lastUpdateTimestamp),
      category: 'normal',
    };
  }

  // ── lookups ─────────────────────────────────────────────────────────────────────────────────

  private instType(raw: string | undefined): InstType {
    if (raw === 'SPOT' || raw === 'SWAP') return raw;
    throw okxError('51000', `Parameter instType error: ${raw}`);
  }

  private instTypeOf(m: Market): InstType {
    return m.type === 'spot' ? 'SPOT' : 'SWAP';
  }

  private marketsOf(t: InstType): Market[] {
    return this.account.listMarkets().filter((m) => this.instTypeOf(m) === t);
  }

  private matches(o: Order, instType: InstType | undefined, instId: string | undefined): boolean {
    const m = this.account.market(o.symbol);
    return (!instType || this.instTypeOf(m) === instType) && (!instId || this.id(m) === instId);
  }

  /** OKX's instId: BTC-USDT for the pair, BTC-USDT-SWAP for the perpetual. */
  private id(m: Market): string {
    return m.type === 'spot' ? `${m.base}-${m.quote}` : `${m.base}-${m.quote}-SWAP`;
  }

  private marketOrUndefined(instId: string | undefined): Market | undefined {
    return this.account.listMarkets().find((m) => this.id(m) === instId);
  }

  private market(instId: string | undefined): Market {
    const m = this.marketOrUndefined(instId);
    if (!m) throw okxError('51001', 'Instrument ID does not exist');
    return m;
  }

  /** `limit` 1–100 (default 100): more is a parameter error. */
  private limit(q: Record<string, string>): number {
    if (q.limit === undefined) return 100;
    const n = Number(q.limit);
    if (!(Number.isInteger(n) && n >= 1 && n <= 100)) throw okxError('51000', 'Parameter limit error');
    return n;
  }

  private instrument(m: Market): Record<string, string> {
    const common = {
      instType: this.instTypeOf(m),
      instId: this.id(m),
      lotSz: decimal(m.precision.amount),
      minSz: decimal(m.limits.amount.min),
      tickSz: decimal(m.precision.price),
      maxLmtSz: '9999999999',
      maxMktSz: '1000000',
      state: 'live',
      listTime: '1548133413000',
      expTime: '',
      optType: '',
      stk: '',
      alias: '',
      category: '1',
    };
    if (m.type === 'spot')
      return {
        ...common,
        uly: '',
        instFamily: '',
        baseCcy: m.base,
        quoteCcy: m.quote,
        settleCcy: '',
        ctVal: '',
        ctMult: '',
        ctValCcy: '',
        ctType: '',
        lever: '10',
      };
    return {
      ...common,
      uly: `${m.base}-${m.quote}`,
      instFamily: `${m.base}-${m.quote}`,
      baseCcy: '',
      quoteCcy: '',
      settleCcy: m.settle ?? m.quote,
      ctVal: decimal(m.contractSize),
      ctMult: '1',
      ctValCcy: m.base,
      ctType: 'linear',
      lever: String(m.limits.leverage?.max ?? 100),
    };
  }

  private ticker(m: Market): Record<string, string> {
    const t = this.account.ticker(m.symbol);
    const last = t ? decimal((t.bid + t.ask) / 2) : '';
    return {
      instType: this.instTypeOf(m),
      instId: this.id(m),
      last,
      lastSz: '0',
      askPx: decimal(t?.ask ?? 0),
      askSz: decimal(t?.askSize ?? 0),
      bidPx: decimal(t?.bid ?? 0),
      bidSz: decimal(t?.bidSize ?? 0),
      open24h: last,
      high24h: last,
      low24h: last,
      volCcy24h: '0',
      vol24h: '0',
      ts: String(this.opts.clock.now()),
    };
  }

  // ── websockets ──────────────────────────────────────────────────────────────────────────────

  /** ws.okx.com: /ws/v5/public (bbo-tbt) and /ws/v5/private (orders, after login); text ping → pong. */
  protected onSocket(ws: WebSocket, host: string, path: string): void {
    if (host !== WS || (path !== '/ws/v5/public' && path !== '/ws/v5/private')) {
      ws.close();
      return;
    }
    const s = {
      path,
      loggedIn: false,
      orders: [] as { instType: string; instId?: string }[],
      bbo: new Set<string>(),
    };
    this.subs.set(ws, s);
    const connId = `c${this.connId++}`;
    ws.on('close', () => this.subs.delete(ws));
    ws.on('message', (raw) => {
      const text = String(raw);
      if (text === 'ping') return ws.send('pong');
      const m = JSON.parse(text) as { op: string; args?: Record<string, string>[] };
      const send = (msg: Record<string, unknown>) => ws.send(JSON.stringify({ ...msg, connId }));
      if (m.op === 'login') {
        const a = m.args?.[0] ?? {};
        const sign = createHmac('sha256', this.opts.secret)
          .update(`${a.timestamp}GET/users/self/verify`)
          .digest('base64');
        s.loggedIn =
          path === '/ws/v5/private' &&
          a.apiKey === this.opts.apiKey &&
          a.passphrase === this.opts.passphrase &&
          a.sign === sign &&
          Math.abs(Date.now() / 1000 - Number(a.timestamp)) <= 30;
        return s.loggedIn
          ? send({ event: 'login', code: '0', msg: '' })
          : send({ event: 'error', code: '60009', msg: 'Login failed.' });
      }
      if (m.op !== 'subscribe') return;
      for (const arg of m.args ?? []) {
        if (arg.channel === 'orders') {
          if (path !== '/ws/v5/private' || !s.loggedIn)
            return send({ event: 'error', code: '60011', msg: 'Please log in' });
          s.orders.push({ instType: arg.instType ?? 'ANY', ...(arg.instId ? { instId: arg.instId } : {}) });
        } else if (arg.channel === 'bbo-tbt' && path === '/ws/v5/public' && arg.instId) s.bbo.add(arg.instId);
        else
          return send({
            event: 'error',
            code: '60018',
            msg: `Wrong URL or channel:${arg.channel} doesn't exist`,
          });
        send({ event: 'subscribe', arg });
      }
    });
  }

  private pushBook(m: Market, t: BookTicker): void {
    const instId = this.id(m);
    const msg = JSON.stringify({
      arg: { channel: 'bbo-tbt', instId },
      data: [
        {
          asks: [[decimal(t.ask), decimal(t.askSize), '0', '1']],
          bids: [[decimal(t.bid), decimal(t.bidSize), '0', '1']],
          ts: String(Math.floor(t.timestamp)),
          seqId: Math.floor(t.timestamp),
        },
      ],
    });
    for (const [ws, s] of this.subs) if (ws.readyState === ws.OPEN && s.bbo.has(instId)) ws.send(msg);
  }

  /** To each `orders` subscription of the order's instType (ANY: all) and, where it names one, instId. */
  private pushOrder(o: Order): void {
    const m = this.account.market(o.symbol);
    const instType = this.instTypeOf(m);
    const instId = this.id(m);
    const last = o.trades.at(-1);
    const data = {
      ...this.orderJson(o),
      fillFee: last ? decimal(-last.fee.cost) : '',
      fillFeeCcy: last ? last.fee.currency : '',
      execType: last ? (last.takerOrMaker === 'maker' ? 'M' : 'T') : '',
      code: '0',
      msg: '',
    };
    for (const [ws, s] of this.subs) {
      if (ws.readyState !== ws.OPEN) continue;
      for (const sub of s.orders)
        if ((sub.instType === 'ANY' || sub.instType === instType) && (!sub.instId || sub.instId === instId))
          ws.send(
            JSON.stringify({ arg: { channel: 'orders', instType: sub.instType, uid: UID }, data: [data] }),
          );
    }
  }
}
