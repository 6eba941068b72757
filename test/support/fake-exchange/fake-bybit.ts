/**
 * A local fake of Bybit API v5 on a unified trading account (spot and USDT linear perpetuals in
 * one wallet) for driving ccxt's real `bybit` class offline, in Bybit's wire format as ccxt 4.5
 * sends and parses it (wire/bybit.md): the `retCode` envelope on every answer (errors too, with
 * HTTP 200), HMAC-SHA256 over timestamp + key + recvWindow + query or body, `orderLinkId` client
 * ids, the public book and private order websockets with JSON ping/pong and `auth`.
 *
 * Bybit's unkind rules are the fake's too: a new order or a cancel is answered with ids only;
 * `/v5/order/realtime` finds an order by id or `orderLinkId` while it rests and among the last
 * `realtimeClosedKept` finished orders of its category (500 at Bybit), after that only
 * `/v5/order/history` has it (50 a page at most, seven days a window); a cancel by a key other
 * than `orderId`/`orderLinkId` is refused; setting the leverage it already has is an error
 * (110043); funding in the execution list is signed as a fee (positive: paid); a linear order
 * or execution is told from a spot one only by the fields that only contracts carry.
 */
import { createHmac } from 'node:crypto';
import type { WebSocket } from 'ws';
import type { Clock } from '../../../src/clock/clock.ts';
import type {
  BookTicker,
  FundingPayment,
  Market,
  Order,
  OrderRequest,
  TimeInForce,
} from '../../../src/domain/index.ts';
import { simMarket } from '../../../src/exchange/sim/markets.ts';
import { SimVenue } from '../../../src/exchange/sim/venue.ts';
import { decimal, FakeExchange, type FakeRequest, VenueAnswer } from './kit.ts';

export interface FakeBybitOptions {
  clock: Clock;
  apiKey: string;
  secret: string;
  balances?: Record<string, number>;
  /** Finished orders per category that `/v5/order/realtime` still finds by id (Bybit: 500). */
  realtimeClosedKept?: number;
  /** Funding interval of the perpetual (default 8 h). */
  fundingIntervalMs?: number;
}

type Category = 'spot' | 'linear';
const WEEK_MS = 7 * 86_400_000;
/** Bybit's leverage on a symbol nobody set. */
const DEFAULT_LEVERAGE = 10;

/** Every answer, refusals included, is this envelope with HTTP 200. */
const envelope = (retCode: number, retMsg: string, result: unknown = {}) => ({
  retCode,
  retMsg,
  result,
  retExtInfo: {},
  time: Date.now(),
});
const bybitError = (retCode: number, retMsg: string) => new VenueAnswer(200, envelope(retCode, retMsg));

/** Bybit's orderStatus (UTA): spot alone reports a partly filled cancel as PartiallyFilledCanceled. */
function orderStatus(o: Order, category: Category): string {
  if (o.status === 'open') return o.filled > 0 ? 'PartiallyFilled' : 'New';
  if (o.status === 'closed') return 'Filled';
  if (o.status === 'rejected') return 'Rejected';
  return o.filled > 0 && category === 'spot' ? 'PartiallyFilledCanceled' : 'Cancelled';
}

const TIF: Record<string, TimeInForce> = { GTC: 'GTC', IOC: 'IOC', FOK: 'FOK', PostOnly: 'PO' };
const tifName = (t: TimeInForce | undefined) => (t === 'PO' ? 'PostOnly' : (t ?? 'GTC'));

export class FakeBybit extends FakeExchange {
  /** The unified account: spot and perpetual share one wallet, as at Bybit. */
  readonly account: SimVenue;
  /** Per socket: where it connected and the topics it subscribed. */
  private readonly subs = new Map<WebSocket, { path: string; authed: boolean; topics: Set<string> }>();
  private readonly leverage = new Map<string, number>();
  /** Funding settlements from before the fake started (tests: a long history). */
  private readonly seededFunding: FundingPayment[] = [];
  private connId = 1;

  constructor(private readonly opts: FakeBybitOptions) {
    super();
    this.account = new SimVenue({
      name: 'bybit',
      clock: opts.clock,
      markets: [
        simMarket('bybit', 'BTC/USDT', {
          precision: { amount: 0.000001, price: 0.01 },
          limits: { amount: { min: 0.000048 }, cost: { min: 1 } },
          maker: 0.001,
          taker: 0.001,
          // Bybit charges a spot fee in what the order receives: base on a buy, quote on a sell.
          feeCurrency: 'received',
        }),
        simMarket('bybit', 'BTC/USDT:USDT', {
          precision: { amount: 0.001, price: 0.1 },
          limits: { amount: { min: 0.001 }, cost: { min: 5 }, leverage: { max: 100 } },
          maker: 0.0002,
          taker: 0.00055,
        }),
      ],
      balances: opts.balances ?? { USDT: 100_000, BTC: 1 },
      // Bybit refuses an orderLinkId it already has (110072 / 170141).
      clientIds: { findsFinished: true, refusesReused: 'always' },
      ...(opts.fundingIntervalMs ? { fundingIntervalMs: opts.fundingIntervalMs } : {}),
    });
  }

  /** The wallet behind both markets (the contract harness names one per market). */
  get spot(): SimVenue {
    return this.account;
  }

  get futures(): SimVenue {
    return this.account;
  }

  /** Settlements the account had before (a long history, for tests of reading it all). */
  seedFunding(payments: FundingPayment[]): void {
    this.seededFunding.push(...payments);
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
    switch (e.name) {
      case 'OrderNotFound':
        return bybitError(110001, 'order not exists or too late to cancel');
      case 'InvalidOrder':
        return bybitError(10001, `params error: ${e.message}`);
      default:
        return bybitError(10016, `Internal server error: ${e.message}`);
    }
  }

  // ── REST ────────────────────────────────────────────────────────────────────────────────────

  protected route(r: FakeRequest): unknown {
    if (!r.host.startsWith('api.')) throw bybitError(10001, `unknown host ${r.host}`);
    const q = Object.fromEntries(r.query);
    const key = `${r.method} ${r.path}`;
    const pub = this.publicRoute(key, q);
    if (pub !== undefined) return envelope(0, 'OK', pub);
    this.authenticate(r);
    this.signedRequest(key, () => bybitError(10006, 'Too many visits!'));
    const body = r.body ? (JSON.parse(r.body) as Record<string, unknown>) : {};
    const result = this.privateRoute(r, key, q, body);
    return result === undefined || typeof result === 'symbol' ? result : envelope(0, 'OK', result);
  }

  private publicRoute(key: string, q: Record<string, string>): unknown {
    switch (key) {
      case 'GET /v5/market/time':
        return { timeSecond: String(Math.floor(Date.now() / 1000)), timeNano: `${Date.now()}000000` };
      case 'GET /v5/market/instruments-info': {
        const category = this.category(q.category);
        // ccxt asks for the pre-launch contracts apart: there are none.
        const list = q.status === 'PreLaunch' ? [] : this.marketsOf(category).map((m) => this.instrument(m));
        return { category, nextPageCursor: '', list };
      }
      case 'GET /v5/market/orderbook': {
        const m = this.market(q.symbol, q.category);
        const t = this.account.ticker(m.symbol);
        return {
          s: m.id,
          b: t ? [[decimal(t.bid), decimal(t.bidSize)]] : [],
          a: t ? [[decimal(t.ask), decimal(t.askSize)]] : [],
          ts: this.opts.clock.now(),
          u: 1,
          seq: 1,
          cts: this.opts.clock.now(),
        };
      }
      case 'GET /v5/market/tickers': {
        const category = this.category(q.category);
        const list = this.marketsOf(category)
          .filter((m) => !q.symbol || m.id === q.symbol)
          .map((m) => this.ticker(m));
        return { category, list };
      }
    }
    return undefined;
  }

  /** X-BAPI-SIGN = HMAC-SHA256(timestamp + key + recvWindow + (query | body)), within recvWindow. */
  private authenticate(r: FakeRequest): void {
    const h = r.headers;
    if (h['x-bapi-api-key'] !== this.opts.apiKey) throw bybitError(10003, 'API key is invalid.');
    const ts = String(h['x-bapi-timestamp'] ?? '');
    const window = String(h['x-bapi-recv-window'] ?? '5000');
    const payload = r.method === 'GET' ? r.rawQuery : r.body;
    const expected = createHmac('sha256', this.opts.secret)
      .update(ts + this.opts.apiKey + window + payload)
      .digest('hex');
    if (h['x-bapi-sign'] !== expected) throw bybitError(10004, 'error sign! origin_string[...]');
    if (Math.abs(Date.now() - Number(ts)) > Number(window))
      throw bybitError(10002, 'invalid request, please check your server timestamp or recv_window param');
  }

  private privateRoute(
    r: FakeRequest,
    key: string,
    q: Record<string, string>,
    b: Record<string, unknown>,
  ): unknown {
    switch (key) {
      // ccxt asks for the coins' chains unless told not to: the adapter needs none of it.
      case 'GET /v5/asset/coin/query-info':
        return { rows: [] };
      // ccxt asks these only when it does not know whether the account is unified.
      case 'GET /v5/user/query-api':
        return { id: '1', apiKey: this.opts.apiKey, readOnly: 0, unified: 0, uta: 1, isMaster: true };
      case 'GET /v5/account/info':
        return { marginMode: 'REGULAR_MARGIN', unifiedMarginStatus: 6, updatedTime: '0' };
      case 'POST /v5/order/create':
        return this.place(r, b);
      case 'POST /v5/order/cancel':
        return this.cancel(b);
      case 'GET /v5/order/realtime':
        return this.realtime(q);
      case 'GET /v5/order/history':
        return this.history(q);
      case 'GET /v5/execution/list':
        return this.executions(q);
      case 'GET /v5/account/wallet-balance':
        if (q.accountType !== 'UNIFIED')
          throw bybitError(10001, `accountType only support UNIFIED, got ${q.accountType}`);
        return { list: [this.wallet()] };
      case 'GET /v5/position/list':
        return this.positionList(q);
      case 'POST /v5/position/set-leverage': {
        const m = this.market(b.symbol as string, b.category as string);
        const lev = Number(b.buyLeverage);
        if (lev !== Number(b.sellLeverage))
          throw bybitError(10001, 'buy and sell leverage must match (one-way mode)');
        if ((this.leverage.get(m.symbol) ?? DEFAULT_LEVERAGE) === lev)
          throw bybitError(110043, 'leverage not modified');
        this.account.setLeverage(m.symbol, lev);
        this.leverage.set(m.symbol, lev);
        return {};
      }
    }
    throw bybitError(10001, `no route ${key}`);
  }

  // ── orders ──────────────────────────────────────────────────────────────────────────────────

  private place(r: FakeRequest, b: Record<string, unknown>): unknown {
    const category = this.category(b.category as string);
    const m = this.market(b.symbol as string, category);
    const linkId = typeof b.orderLinkId === 'string' ? b.orderLinkId : '';
    if (!/^[A-Za-z0-9_-]{1,36}$/.test(linkId))
      throw bybitError(10001, `orderLinkId ${JSON.stringify(b.orderLinkId)}: 1-36 letters, digits, - or _`);
    const side = b.side === 'Sell' ? 'sell' : b.side === 'Buy' ? 'buy' : undefined;
    if (!side) throw bybitError(10001, `side ${String(b.side)}`);
    const market = b.orderType === 'Market';
    if (!market && b.orderType !== 'Limit') throw bybitError(10001, `orderType ${String(b.orderType)}`);
    let amount = Number(b.qty);
    // A spot market order is sized in quote unless it says baseCoin (a buy by default).
    const inQuote =
      category === 'spot' &&
      market &&
      (b.marketUnit === 'quoteCoin' || (b.marketUnit === undefined && side === 'buy'));
    if (inQuote) {
      const t = this.account.ticker(m.symbol);
      const px = side === 'buy' ? t?.ask : t?.bid;
      if (!px) throw bybitError(170133, 'Order price cannot be lower than the min price');
      amount = Math.floor(amount / px / m.precision.amount + 1e-9) * m.precision.amount;
    }
    const tif = market ? undefined : TIF[(b.timeInForce as string | undefined) ?? 'GTC'];
    if (!market && !tif) throw bybitError(10001, `timeInForce ${String(b.timeInForce)}`);
    const req: OrderRequest = {
      symbol: m.symbol,
      side,
      type: market ? 'market' : 'limit',
      amount,
      clientOrderId: linkId,
      ...(market ? {} : { price: Number(b.price), timeInForce: tif! }),
      ...(b.reduceOnly === true ? { reduceOnly: true } : {}),
    };
    let o: Order;
    try {
      o = this.account.placeOrder(req);
    } catch (e) {
      throw this.placeRefusal(e as Error & { field?: string }, category);
    }
    this.takeAckOnly(); // Bybit answers every placement with ids only, fault or not.
    return this.answerPlacement(r.res, () =>
      envelope(0, 'OK', { orderId: o.id, orderLinkId: o.clientOrderId }),
    );
  }

  private placeRefusal(e: Error & { field?: string }, category: Category): VenueAnswer {
    const spot = category === 'spot';
    switch (e.name) {
      case 'DuplicateClientOrderId':
        return spot
          ? bybitError(170141, 'Duplicate clientOrderId.')
          : bybitError(110072, 'OrderLinkedID is duplicate');
      case 'InsufficientFunds':
        return spot
          ? bybitError(170131, 'Insufficient balance.')
          : bybitError(110007, 'ab not enough for new order');
      case 'OrderImmediatelyFillable':
        // Spot refuses it so; linear accepts and cancels it at Bybit (EC_PostOnlyWillTakeLiquidity),
        // refused here alike — statearb reads either as "not resting".
        return bybitError(170218, 'The LIMIT-MAKER order is rejected due to invalid price.');
      case 'InvalidOrder':
        if (e.field === 'reduceOnly') return bybitError(110017, 'Reduce-only rule not satisfied');
        if (e.field === 'cost')
          return spot
            ? bybitError(170140, 'Order value exceeded lower limit.')
            : bybitError(110094, 'Order does not meet minimum order value');
        if (e.field === 'amount' && spot) return bybitError(170136, 'Order quantity exceeded lower limit.');
        return bybitError(10001, `params error: ${e.message}`);
      default:
        return this.errorAnswer(e);
    }
  }

  /** By `orderId` or `orderLinkId` only (a `clientOrderId` key is not Bybit's): answered with ids. */
  private cancel(b: Record<string, unknown>): unknown {
    const category = this.category(b.category as string);
    const m = this.market(b.symbol as string, category);
    const notFound =
      category === 'spot'
        ? bybitError(170213, 'Order does not exist.')
        : bybitError(110001, 'order not exists or too late to cancel');
    let o: Order | undefined;
    if (typeof b.orderId === 'string') o = this.ordersOf(m).find((x) => x.id === b.orderId);
    else if (typeof b.orderLinkId === 'string') o = this.newestByLinkId(m, b.orderLinkId);
    else throw bybitError(10001, 'orderId or orderLinkId is required');
    if (o?.status !== 'open') throw notFound;
    this.account.cancelOrder({ id: o.id });
    return { orderId: o.id, orderLinkId: o.clientOrderId };
  }

  /**
   * Open orders of a category; by `orderId` (first) or `orderLinkId`, also the category's last
   * `realtimeClosedKept` finished ones — and nothing older.
   */
  private realtime(q: Record<string, string>): unknown {
    const category = this.category(q.category);
    if (category === 'linear' && !q.symbol && !q.settleCoin && !q.baseCoin)
      throw bybitError(10001, 'symbol, settleCoin or baseCoin is required for linear');
    // Bybit ranks orderId over orderLinkId over symbol: a lookup by id ignores the symbol.
    const byId = Boolean(q.orderId || q.orderLinkId);
    const markets = this.marketsOf(category).filter((m) => byId || !q.symbol || m.id === q.symbol);
    const open = markets.flatMap((m) => this.account.fetchOpenOrders(m.symbol));
    let list: Order[];
    if (q.orderId || q.orderLinkId) {
      const recent = this.recentlyFinished(category).filter((o) =>
        markets.some((m) => m.symbol === o.symbol),
      );
      const pool = [...open, ...recent];
      list = q.orderId
        ? pool.filter((o) => o.id === q.orderId)
        : pool.filter((o) => o.clientOrderId === q.orderLinkId).sort((a, b) => Number(b.id) - Number(a.id));
    } else list = open.sort((a, b) => Number(b.id) - Number(a.id));
    return {
      category,
      nextPageCursor: '',
      list: list.slice(0, this.limit(q, 20, 50)).map((o) => this.orderJson(o)),
    };
  }

  /** Finished orders in a window of at most seven days (the last seven without one), newest first. */
  private history(q: Record<string, string>): unknown {
    const category = this.category(q.category);
    const { from, to } = this.window(q);
    const list = this.marketsOf(category)
      .filter((m) => !q.symbol || m.id === q.symbol)
      .flatMap((m) => this.ordersOf(m))
      .filter(
        (o) =>
          o.status !== 'open' &&
          o.lastUpdateTimestamp >= from &&
          o.lastUpdateTimestamp <= to &&
          (!q.orderId || o.id === q.orderId) &&
          (!q.orderLinkId || o.clientOrderId === q.orderLinkId) &&
          (!q.orderStatus || orderStatus(o, category) === q.orderStatus),
      )
      .sort((a, b) => b.lastUpdateTimestamp - a.lastUpdateTimestamp);
    return {
      category,
      nextPageCursor: '',
      list: list.slice(0, this.limit(q, 20, 50)).map((o) => this.orderJson(o)),
    };
  }

  /** Trades (execType Trade) or funding settlements (Funding) of a symbol, newest first. */
  private executions(q: Record<string, string>): unknown {
    const category = this.category(q.category);
    const m = this.market(q.symbol, category);
    const { from, to } = this.window(q);
    const within = (t: number) => t >= from && t <= to;
    if (q.execType === 'Funding') {
      const list = [
        ...this.seededFunding.filter((p) => p.symbol === m.symbol),
        ...this.account.fundingPayments(m.symbol, from),
      ]
        .filter((p) => within(p.timestamp))
        .sort((a, b) => b.timestamp - a.timestamp)
        .map((p) => ({
          symbol: m.id,
          orderId: '',
          orderLinkId: '',
          side: p.amount > 0 === p.rate > 0 ? 'Sell' : 'Buy',
          orderType: 'UNKNOWN',
          // A fee: positive is what the account paid.
          execFee: decimal(-p.amount),
          execId: p.id,
          execPrice: decimal(this.account.mark(m.symbol)),
          execQty: '0',
          execType: 'Funding',
          execValue: '0',
          execTime: String(p.timestamp),
          feeRate: decimal(p.rate),
          isMaker: false,
          createType: '',
          closedSize: '0',
        }));
      return this.page(category, list, q);
    }
    const list = this.ordersOf(m)
      .filter(
        (o) => (!q.orderId || o.id === q.orderId) && (!q.orderLinkId || o.clientOrderId === q.orderLinkId),
      )
      .flatMap((o) =>
        o.trades
          .filter((t) => within(t.timestamp))
          .map((t) => ({
            symbol: m.id,
            orderId: o.id,
            orderLinkId: o.clientOrderId,
            side: t.side === 'buy' ? 'Buy' : 'Sell',
            orderPrice: decimal(o.price ?? 0),
            orderQty: decimal(o.amount),
            leavesQty: decimal(o.remaining),
            orderType: o.type === 'market' ? 'Market' : 'Limit',
            stopOrderType: '',
            execFee: decimal(t.fee.cost),
            feeCurrency: t.fee.currency,
            execId: t.id,
            execPrice: decimal(t.price),
            execQty: decimal(t.amount),
            execType: 'Trade',
            execValue: decimal(t.cost),
            execTime: String(t.timestamp),
            isMaker: t.takerOrMaker === 'maker',
            feeRate: decimal(t.takerOrMaker === 'maker' ? m.maker : m.taker),
            blockTradeId: '',
            markPrice: '',
            indexPrice: '',
            closedSize: '',
            seq: Number(t.id.replace(/\D/g, '')) || 0,
            // Only contracts' executions carry createType: ccxt tells spot from linear by it.
            ...(category === 'linear' ? { createType: 'CreateByUser', closedSize: '0' } : {}),
          })),
      )
      .sort((a, b) => Number(b.execTime) - Number(a.execTime));
    return this.page(category, list, q);
  }

  private wallet(): Record<string, unknown> {
    const coins = Object.entries(this.account.balances()).map(([coin, b]) => ({
      coin,
      equity: decimal(b.total),
      usdValue: decimal(b.total),
      walletBalance: decimal(b.total),
      // Deprecated on unified accounts: empty, as Bybit answers; free is total less what is locked.
      availableToWithdraw: '',
      availableToBorrow: '',
      borrowAmount: '0',
      accruedInterest: '0',
      locked: decimal(b.used),
      totalOrderIM: '0',
      totalPositionIM: '0',
      totalPositionMM: '0',
      unrealisedPnl: '0',
      cumRealisedPnl: '0',
    }));
    return { accountType: 'UNIFIED', totalEquity: '0', totalWalletBalance: '0', coin: coins };
  }

  /** A symbol with no position is listed with size 0, as at Bybit. */
  private positionList(q: Record<string, string>): unknown {
    const category = this.category(q.category);
    if (category !== 'linear') return { category, nextPageCursor: '', list: [] };
    const markets = this.marketsOf('linear').filter((m) => !q.symbol || m.id === q.symbol);
    const list = markets.map((m) => {
      const p = this.account.positions([m.symbol])[0];
      const size = p?.size ?? 0;
      return {
        positionIdx: 0,
        symbol: m.id,
        side: size > 0 ? 'Buy' : size < 0 ? 'Sell' : '',
        size: decimal(Math.abs(size)),
        avgPrice: decimal(p?.entryPrice ?? 0),
        positionValue: decimal(Math.abs(size) * (p?.entryPrice ?? 0)),
        leverage: String(this.leverage.get(m.symbol) ?? DEFAULT_LEVERAGE),
        markPrice: decimal(p?.markPrice ?? 0),
        liqPrice: p?.liquidationPrice ? decimal(p.liquidationPrice) : '',
        bustPrice: '',
        positionIM: decimal(p?.initialMargin ?? 0),
        positionMM: decimal(p?.maintenanceMargin ?? 0),
        positionBalance: decimal(p?.initialMargin ?? 0),
        tpslMode: 'Full',
        unrealisedPnl: decimal(p?.unrealizedPnl ?? 0),
        curRealisedPnl: decimal(p?.realizedPnl ?? 0),
        createdTime: String(p?.timestamp ?? 0),
        updatedTime: String(p?.timestamp ?? 0),
      };
    });
    return { category, nextPageCursor: '', list };
  }

  private orderJson(o: Order, withCategory = false): Record<string, unknown> {
    const m = this.account.market(o.symbol);
    const category = this.categoryOf(m);
    const market = o.type === 'market';
    return {
      ...(withCategory ? { category } : {}),
      orderId: o.id,
      orderLinkId: o.clientOrderId,
      blockTradeId: '',
      symbol: m.id,
      price: market ? '0' : decimal(o.price ?? 0),
      qty: decimal(o.amount),
      side: o.side === 'buy' ? 'Buy' : 'Sell',
      isLeverage: '',
      positionIdx: 0,
      orderStatus: orderStatus(o, category),
      cancelType: o.status === 'canceled' ? 'CancelByUser' : 'UNKNOWN',
      rejectReason: 'EC_NoError',
      avgPrice: o.average ? decimal(o.average) : '',
      leavesQty: decimal(o.status === 'open' ? o.remaining : 0),
      leavesValue: decimal(o.status === 'open' ? o.remaining * (o.price ?? 0) : 0),
      cumExecQty: decimal(o.filled),
      cumExecValue: decimal(o.cost),
      cumExecFee: decimal(o.fee.cost),
      ...(o.filled > 0 ? { cumFeeDetail: { [o.fee.currency]: decimal(o.fee.cost) } } : {}),
      timeInForce: market ? 'IOC' : tifName(o.timeInForce),
      orderType: market ? 'Market' : 'Limit',
      stopOrderType: '',
      triggerPrice: '',
      takeProfit: '',
      stopLoss: '',
      reduceOnly: o.reduceOnly,
      closeOnTrigger: false,
      createdTime: String(o.timestamp),
      updatedTime: String(o.lastUpdateTimestamp),
      // Only contracts carry tpslMode and createType (ccxt tells spot from linear by them); a
      // spot market order says its quantity is in base.
      ...(category === 'linear'
        ? { tpslMode: 'UNKNOWN', createType: 'CreateByUser' }
        : { marketUnit: market ? 'baseCoin' : '' }),
    };
  }

  // ── lookups ─────────────────────────────────────────────────────────────────────────────────

  private category(raw: string | undefined): Category {
    if (raw === 'spot' || raw === 'linear') return raw;
    throw bybitError(10001, `category ${raw ?? '(none)'} not supported here`);
  }

  private categoryOf(m: Market): Category {
    return m.type === 'spot' ? 'spot' : 'linear';
  }

  private marketsOf(category: Category): Market[] {
    return this.account.listMarkets().filter((m) => this.categoryOf(m) === category);
  }

  /** BTCUSDT names the pair and the perpetual: the category says which. */
  private market(id: string | undefined, category: string | undefined): Market {
    const m = this.marketsOf(this.category(category)).find((x) => x.id === id);
    if (!m) throw bybitError(10001, `params error: symbol ${id} invalid`);
    return m;
  }

  private ordersOf(m: Market): Order[] {
    return this.account.allOrders().filter((o) => o.symbol === m.symbol);
  }

  private newestByLinkId(m: Market, linkId: string): Order | undefined {
    return this.ordersOf(m)
      .filter((o) => o.clientOrderId === linkId)
      .sort((a, b) => Number(b.id) - Number(a.id))[0];
  }

  private recentlyFinished(category: Category): Order[] {
    return this.marketsOf(category)
      .flatMap((m) => this.ordersOf(m))
      .filter((o) => o.status !== 'open')
      .sort((a, b) => b.lastUpdateTimestamp - a.lastUpdateTimestamp || Number(b.id) - Number(a.id))
      .slice(0, this.opts.realtimeClosedKept ?? 500);
  }

  /**
   * One page of the execution list: `limit` rows (50 unless asked, at most 100; ccxt's `size` is
   * not Bybit's and is ignored), the next page's `cursor` while there are more.
   */
  private page(category: Category, rows: unknown[], q: Record<string, string>): unknown {
    const start = q.cursor ? Number(q.cursor) : 0;
    const n = this.limit(q, 50, 100);
    const more = start + n < rows.length;
    return { category, nextPageCursor: more ? String(start + n) : '', list: rows.slice(start, start + n) };
  }

  /** `limit` within Bybit's bounds: anything above the maximum is a parameter error. */
  private limit(q: Record<string, string>, byDefault: number, max: number): number {
    if (q.limit === undefined) return byDefault;
    const n = Number(q.limit);
    if (!(Number.isInteger(n) && n >= 1 && n <= max))
      throw bybitError(10001, `params error: limit ${q.limit} (1-${max})`);
    return n;
  }

  /** startTime/endTime at most seven days apart; one of them alone spans seven days from it. */
  private window(q: Record<string, string>): { from: number; to: number } {
    const start = q.startTime ? Number(q.startTime) : undefined;
    const end = q.endTime ? Number(q.endTime) : undefined;
    if (start !== undefined && end !== undefined && end - start > WEEK_MS)
      throw bybitError(10001, 'params error: the time range must be within 7 days');
    const to = end ?? (start !== undefined ? start + WEEK_MS : Date.now() + 60_000);
    return { from: start ?? to - WEEK_MS, to };
  }

  private instrument(m: Market): Record<string, unknown> {
    if (m.type === 'spot')
      return {
        symbol: m.id,
        baseCoin: m.base,
        quoteCoin: m.quote,
        innovation: '0',
        status: 'Trading',
        marginTrading: 'none',
        lotSizeFilter: {
          basePrecision: decimal(m.precision.amount),
          quotePrecision: '0.00000001',
          minOrderQty: decimal(m.limits.amount.min),
          maxOrderQty: '1000',
          minOrderAmt: decimal(m.limits.cost.min),
          maxOrderAmt: '2000000',
        },
        priceFilter: { tickSize: decimal(m.precision.price) },
      };
    return {
      symbol: m.id,
      contractType: 'LinearPerpetual',
      status: 'Trading',
      baseCoin: m.base,
      quoteCoin: m.quote,
      settleCoin: m.settle ?? m.quote,
      launchTime: '1585526400000',
      deliveryTime: '0',
      priceScale: String(Math.round(-Math.log10(m.precision.price))),
      fundingInterval: this.account.fundingRate(m.symbol).intervalMs / 60_000,
      leverageFilter: {
        minLeverage: '1',
        maxLeverage: decimal(m.limits.leverage?.max ?? 100),
        leverageStep: '0.01',
      },
      priceFilter: {
        minPrice: decimal(m.precision.price),
        maxPrice: '1999999.8',
        tickSize: decimal(m.precision.price),
      },
      lotSizeFilter: {
        maxOrderQty: '1190',
        minOrderQty: decimal(m.limits.amount.min),
        qtyStep: decimal(m.precision.amount),
        postOnlyMaxOrderQty: '1190',
        maxMktOrderQty: '119',
        minNotionalValue: decimal(m.limits.cost.min),
      },
      unifiedMarginTrade: true,
    };
  }

  private ticker(m: Market): Record<string, unknown> {
    const t = this.account.ticker(m.symbol);
    const last = t ? decimal((t.bid + t.ask) / 2) : '0';
    const common = {
      symbol: m.id,
      bid1Price: decimal(t?.bid ?? 0),
      bid1Size: decimal(t?.bidSize ?? 0),
      ask1Price: decimal(t?.ask ?? 0),
      ask1Size: decimal(t?.askSize ?? 0),
      lastPrice: last,
      prevPrice24h: last,
      price24hPcnt: '0',
      highPrice24h: last,
      lowPrice24h: last,
      turnover24h: '0',
      volume24h: '0',
    };
    if (m.type === 'spot') return { ...common, usdIndexPrice: last };
    const fr = this.account.fundingRate(m.symbol);
    const mark = t ? decimal(this.account.mark(m.symbol)) : '0';
    return {
      ...common,
      markPrice: mark,
      indexPrice: mark,
      openInterest: '0',
      openInterestValue: '0',
      fundingRate: decimal(fr.rate),
      nextFundingTime: String(fr.nextFundingTimestamp),
    };
  }

  // ── websockets ──────────────────────────────────────────────────────────────────────────────

  /** stream.bybit.com: /v5/public/{spot,linear} (books) and /v5/private (orders, after auth). */
  protected onSocket(ws: WebSocket, host: string, path: string): void {
    const known = ['/v5/public/spot', '/v5/public/linear', '/v5/private'];
    if (!host.startsWith('stream.') || !known.includes(path)) {
      ws.close();
      return;
    }
    const s = { path, authed: false, topics: new Set<string>() };
    this.subs.set(ws, s);
    const connId = `c${this.connId++}`;
    ws.on('close', () => this.subs.delete(ws));
    ws.on('message', (raw) => {
      const m = JSON.parse(String(raw)) as { op: string; req_id?: string | number; args?: string[] };
      const reqId = m.req_id === undefined ? undefined : String(m.req_id);
      const reply = (msg: Record<string, unknown>) =>
        ws.send(JSON.stringify({ ...msg, conn_id: connId, ...(reqId ? { req_id: reqId } : {}) }));
      if (m.op === 'ping')
        return path === '/v5/private'
          ? reply({ op: 'pong', args: [String(Date.now())] })
          : reply({ success: true, ret_msg: 'pong', op: 'ping' });
      if (m.op === 'auth') {
        const [key, expires, sign] = m.args ?? [];
        const expected = createHmac('sha256', this.opts.secret)
          .update(`GET/realtime${expires}`)
          .digest('hex');
        s.authed = key === this.opts.apiKey && sign === expected && Number(expires) > Date.now();
        return reply(
          s.authed
            ? { success: true, ret_msg: '', op: 'auth' }
            : { success: false, ret_msg: 'error:USVC1111', op: 'auth' },
        );
      }
      if (m.op === 'subscribe' || m.op === 'unsubscribe') {
        if (path === '/v5/private' && !s.authed)
          return reply({ success: false, ret_msg: 'Request not authorized', op: m.op });
        for (const t of m.args ?? []) m.op === 'subscribe' ? s.topics.add(t) : s.topics.delete(t);
        return reply({ success: true, ret_msg: '', op: m.op });
      }
    });
  }

  private pushBook(m: Market, t: BookTicker): void {
    const path = `/v5/public/${this.categoryOf(m)}`;
    const topic = `orderbook.1.${m.id}`;
    const msg = {
      topic,
      type: 'snapshot',
      ts: Math.floor(t.timestamp),
      data: {
        s: m.id,
        b: [[decimal(t.bid), decimal(t.bidSize)]],
        a: [[decimal(t.ask), decimal(t.askSize)]],
        u: 1,
        seq: 1,
      },
      cts: Math.floor(t.timestamp),
    };
    for (const [ws, s] of this.subs)
      if (ws.readyState === ws.OPEN && s.path === path && s.topics.has(topic)) ws.send(JSON.stringify(msg));
  }

  /** The all-in-one `order` topic: spot and linear orders on one private socket. */
  private pushOrder(o: Order): void {
    const msg = {
      id: `${o.id}-${o.lastUpdateTimestamp}`,
      topic: 'order',
      creationTime: this.opts.clock.now(),
      data: [this.orderJson(o, true)],
    };
    for (const [ws, s] of this.subs)
      if (ws.readyState === ws.OPEN && s.path === '/v5/private' && s.topics.has('order'))
        ws.send(JSON.stringify(msg));
  }
}
