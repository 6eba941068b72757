/**
 * The exchange port over ccxt: one ccxt pro instance does REST and websockets for one venue
 * (account). Orders carry the caller's client order id; a placement whose answer is lost is an
 * unknown outcome, resolved by asking for that id — never by sending again (ccxt's own retries
 * on failure are off). Every order handed back carries its fills, fetched when the venue's answer
 * has none, because strategies book positions and fees from fills.
 */
import type { Order as CcxtOrder, Exchange, Trade } from 'ccxt';
import {
  type AccountEvent,
  type Balances,
  type BookTicker,
  ExchangeError,
  type Fill,
  type FundingPayment,
  type FundingRate,
  InvalidOrder,
  type Market,
  NetworkError,
  type Order,
  OrderNotFound,
  type OrderRef,
  type OrderRequest,
  type Position,
  RateLimitExceeded,
  RequestTimeout,
} from '../../domain/index.ts';
import type { ExchangeClient, SendOptions, StreamSink, Subscription, VenueCapabilities } from '../port.ts';
import { orderBookTop, tickerTop, toBalances, toFill, toMarket, toOrder, toPosition } from './convert.ts';
import { fromCcxtError } from './errors.ts';
import type { RateBudget } from './rate-budget.ts';
import { venueCloseEvent, venueCloseKind } from './venue-closes.ts';
import { type CcxtVenueProfile, PRE_SEND_LIMIT_MS, venueProfile } from './venues.ts';

export interface CcxtClientLogger {
  warn(obj: object, msg: string): void;
}

export interface CcxtClientOptions {
  /** statearb's name of the venue. */
  venue: string;
  /** A configured ccxt pro instance (keys, sandbox or demo, options). */
  exchange: Exchange;
  /** What the venue's API does about orders (venues.ts); default: its exchange id's profile. */
  profile?: CcxtVenueProfile;
  /** The account's shared request budget. */
  budget: RateBudget;
  /** A book stream silent this long is presumed dead: reported, and its socket dropped. */
  streamStaleMs?: number;
  /** Reads refused for rate limits are retried this many times, after the account's back-off. */
  readRetries?: number;
  /** Filled orders without fills in the answer: how often to ask for them before giving up. */
  fillFetchTries?: number;
  logger?: CcxtClientLogger;
  /** Set when the URLs were rewritten to ws:// (a local fake): ccxt needs an http agent for those. */
  plainWebsockets?: boolean;
  /**
   * Quote-currency prices of fee assets (BNB) that win over the venue's own book; without one the
   * adapter asks the venue for `ASSET/QUOTE` (kept a minute), and an order whose fee it cannot
   * value is not reported until it can (its books would be wrong otherwise).
   */
  assetPrices?: Record<string, number>;
}

const SILENT: CcxtClientLogger = { warn() {} };
/** How far back a venue's finished orders are searched for a client id, when its journal time is unknown. */
const FINISHED_SEARCH_MS = 7 * 86_400_000;
/** Before the journal time: clocks differ. */
const FINISHED_SEARCH_MARGIN_MS = 60_000;
/** One page of finished orders: a full one that lacks the id proves nothing. */
const FINISHED_PAGE = 1_000;
/** A venue's answer to setting the margin mode it has (Binance -4046 "No need to change margin type"…). */
const MARGIN_MODE_UNCHANGED = /no need to change|already/i;
/** A venue's answer to setting the leverage it has (Bybit 110043 "leverage not modified"). */
const LEVERAGE_UNCHANGED = /"retCode":\s*110043\b/;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class CcxtExchangeClient implements ExchangeClient {
  readonly venue: string;
  private readonly ex: Exchange;
  private readonly budget: RateBudget;
  private readonly staleMs: number;
  private readonly readRetries: number;
  private readonly fillTries: number;
  private readonly log: CcxtClientLogger;
  private readonly profile: CcxtVenueProfile;
  private readonly markets = new Map<string, Market>();
  private readonly lastBook = new Map<string, BookTicker>();
  /** Fee assets' prices asked of the venue, by ASSET/QUOTE, with when. */
  private readonly feePrices = new Map<string, { price: number; at: number }>();
  /** Market types present (spot, swap, future): user streams and open orders are per type. */
  private readonly types = new Set<string>();
  private agentLoaded = false;
  /**
   * Subscribers of the order streams, each with the market type it reads (undefined: all), and
   * of the venue's own closes: one reader per type serves both.
   */
  private readonly orderSinks = new Map<StreamSink<Order>, string | undefined>();
  private readonly closeSinks = new Set<StreamSink<AccountEvent>>();
  private readonly orderReaders = new Set<string>();
  private readonly closesSeen = new Set<string>();

  constructor(private readonly opts: CcxtClientOptions) {
    this.venue = opts.venue;
    this.ex = opts.exchange;
    this.budget = opts.budget;
    this.staleMs = opts.streamStaleMs ?? 15_000;
    this.readRetries = opts.readRetries ?? 3;
    this.fillTries = opts.fillFetchTries ?? 3;
    this.log = opts.logger ?? SILENT;
    this.profile = opts.profile ?? venueProfile(this.ex.id);
  }

  get capabilities(): VenueCapabilities {
    return this.profile.capabilities;
  }

  /** The ccxt instance (tests, and venue-specific calls the port does not cover). */
  get exchange(): Exchange {
    return this.ex;
  }

  // ── requests ────────────────────────────────────────────────────────────────────────────────

  /** A read: rate-limit answers pause the account and are retried; other errors are mapped. */
  private async read<T>(what: string, fn: () => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      await this.budget.ready();
      try {
        const out = await fn();
        this.budget.ok();
        return out;
      } catch (e) {
        const err = fromCcxtError(e, this.venue);
        if (err instanceof RateLimitExceeded) {
          const wait = this.budget.limited(err.retryAfterMs);
          this.log.warn({ venue: this.venue, what, backoffMs: wait }, 'rate limited: backing off');
          if (attempt < this.readRetries) continue;
        }
        throw err;
      }
    }
  }

  async loadMarkets(reload = false): Promise<Record<string, Market>> {
    if (this.opts.plainWebsockets && !this.agentLoaded) {
      await this.ex.loadHttpProxyAgent();
      this.agentLoaded = true;
    }
    const raw = await this.read('loadMarkets', () => this.ex.loadMarkets(reload));
    this.markets.clear();
    this.types.clear();
    for (const m of Object.values(raw)) {
      if (!m) continue;
      const d = toMarket(this.venue, m, this.ex.precisionMode ?? 4);
      if (!d) continue;
      this.markets.set(d.symbol, d);
      this.types.add(d.type);
    }
    return Object.fromEntries(this.markets);
  }

  market(symbol: string): Market {
    const m = this.markets.get(symbol);
    if (!m) throw new InvalidOrder(`${this.venue}: unknown market ${symbol} (loadMarkets first?)`, 'symbol');
    return m;
  }

  /**
   * ccxt checks precision but not the minimum notional, and the venue's refusal costs a request
   * (and, for a hedge, time). A market order is valued at the last book seen, or at the venue's
   * current one when the stream has not been watched.
   */
  private async checkMinNotional(m: Market, req: OrderRequest): Promise<void> {
    if (!(m.limits.cost.min > 0)) return;
    let price = req.price;
    if (price === undefined) {
      const book = await this.book(m).catch(() => undefined);
      price = book ? (req.side === 'buy' ? book.ask : book.bid) : undefined;
    }
    if (price === undefined) return;
    const notional = req.amount * price * m.contractSize;
    if (notional < m.limits.cost.min)
      throw new InvalidOrder(
        `${this.venue} ${m.symbol}: order notional ${notional.toFixed(2)} ${m.quote} is below the minimum ${m.limits.cost.min}`,
        'amount',
      );
  }

  /** The top of book: the stream's last if fresh, else the venue's current one. */
  private async book(m: Market): Promise<BookTicker> {
    const last = this.lastBook.get(m.symbol);
    if (last && Date.now() - last.timestamp <= 5_000) return last;
    const b = await this.read('fetchOrderBook', () => this.ex.fetchOrderBook(m.symbol, 5));
    const top = orderBookTop(m.symbol, b, Date.now());
    if (!top) throw new NetworkError(`${this.venue} ${m.symbol}: the book is empty`);
    return top;
  }

  /** The venue's parameter naming an order by our client id. */
  private byClientId(clientOrderId: string): Record<string, string> {
    return { [this.profile.clientIdParam]: clientOrderId };
  }

  /** An order by the venue's id or by our client id, as ccxt answers for it. */
  private fetchRaw(ref: OrderRef, m: Market): Promise<CcxtOrder> {
    if ('id' in ref) return this.read('fetchOrder', () => this.ex.fetchOrder(ref.id, m.symbol));
    if (this.profile.lookupByClientId === 'recentOrdersList')
      return this.listedByClientId(ref.clientOrderId, m);
    return this.read('fetchOrder', () =>
      this.ex.fetchOrder(undefined as unknown as string, m.symbol, this.byClientId(ref.clientOrderId)),
    );
  }

  /**
   * By client id from the venue's order list filtered by it (Bybit's /order/realtime: the open
   * orders and the latest finished ones): none is not found, two under one id are for a person.
   */
  private async listedByClientId(clientOrderId: string, m: Market): Promise<CcxtOrder> {
    const listed = await this.read('fetchOpenOrders', () =>
      this.ex.fetchOpenOrders(m.symbol, undefined, undefined, this.byClientId(clientOrderId)),
    );
    // The venue ranks the client id above the symbol: another market's order under it is not this one.
    const match = this.onlyOrderUnder(
      clientOrderId,
      listed.filter((o) => o.symbol === m.symbol),
    );
    if (!match)
      throw new OrderNotFound(`${this.venue} ${m.symbol}: no order with client id ${clientOrderId}`);
    return match;
  }

  /** The one order among `orders` under our client id; two are a reuse the venue accepted, for a person. */
  private onlyOrderUnder(clientOrderId: string, orders: CcxtOrder[]): CcxtOrder | undefined {
    const matches = orders.filter((o) => this.clientIdOf(o) === clientOrderId);
    if (new Set(matches.map((o) => String(o.id))).size > 1)
      throw new ExchangeError(
        `${this.venue}: ${matches.length} orders under client id ${clientOrderId} (the venue accepted a reused id): resolve by hand`,
      );
    return matches[0];
  }

  /** Our client id in a venue's answer, without the prefix the venue puts before it (Gate's `t-`). */
  private clientIdOf(o: CcxtOrder): string | undefined {
    const raw = o.clientOrderId;
    const prefix = this.profile.clientIdPrefix;
    return raw && prefix && raw.startsWith(prefix) ? raw.slice(prefix.length) : raw;
  }

  private orderParams(m: Market, req: OrderRequest): Record<string, unknown> {
    const p: Record<string, unknown> = { clientOrderId: req.clientOrderId };
    if (req.timeInForce === 'PO') p.postOnly = true;
    else if (req.timeInForce === 'IOC' || req.timeInForce === 'FOK') p.timeInForce = req.timeInForce;
    if (req.reduceOnly && m.type !== 'spot') p.reduceOnly = true;
    return p;
  }

  async createOrder(req: OrderRequest, opts: SendOptions = {}): Promise<Order> {
    const calledAt = Date.now();
    const m = this.market(req.symbol);
    await this.checkMinNotional(m, req);
    // A venue that sizes a spot market buy in quote (Gate) gets the ask to convert at: ccxt sends
    // amount × price as the budget, and the fills say what it bought.
    const price =
      req.price ??
      (this.profile.marketBuyInQuote && m.type === 'spot' && req.type === 'market' && req.side === 'buy'
        ? (await this.book(m)).ask
        : undefined);
    await this.budget.ready();
    // What waited here is not sent: a stopped strategy's order, and one held so long that the
    // time it was journalled no longer bounds when it can land (venues.ts: PRE_SEND_LIMIT_MS).
    if (opts.signal?.aborted)
      throw new ExchangeError(`${this.venue}: ${req.clientOrderId} not sent: its strategy stopped`);
    const waited = Date.now() - calledAt;
    if (waited > PRE_SEND_LIMIT_MS)
      throw new RateLimitExceeded(
        `${this.venue}: ${req.clientOrderId} not sent: it waited ${waited} ms for the account's budget (limit ${PRE_SEND_LIMIT_MS} ms)`,
        0,
      );
    let o: CcxtOrder;
    try {
      o = await this.ex.createOrder(
        m.symbol,
        req.type,
        req.side,
        req.amount,
        price,
        this.orderParams(m, req),
      );
      this.budget.ok();
    } catch (e) {
      const err = fromCcxtError(e, this.venue, { placing: true, clientOrderId: req.clientOrderId });
      if (err instanceof RateLimitExceeded) this.budget.limited(err.retryAfterMs);
      throw err;
    }
    try {
      return await this.withFills(await this.withState(o, m, req.clientOrderId), m, req.clientOrderId);
    } catch (e) {
      // Placed, but its state or fills could not be read: the caller asks again by client id.
      throw new RequestTimeout(
        `${this.venue}: order ${req.clientOrderId} placed, its state not readable yet (${(e as Error).message})`,
      );
    }
  }

  /**
   * An answer with ids only (no status: MEXC spot, Bybit and OKX answer every new order so, and
   * Binance when asked for ACK) says nothing about the order's state — it may rest, or have
   * filled. It is never read as an order that ended unfilled: the order is fetched by its
   * exchange id (then by client id) first.
   */
  private async withState(o: CcxtOrder, m: Market, clientOrderId: string | undefined): Promise<CcxtOrder> {
    if (o.status && this.profile.placeAnswer === 'full') return o;
    const byId = o.id ? String(o.id) : undefined;
    const fetched = await this.fetchRaw(byId ? { id: byId } : { clientOrderId: clientOrderId ?? '' }, m);
    if (!fetched.status)
      throw new NetworkError(
        `${this.venue}: order ${byId ?? clientOrderId} has no status in the venue's answer`,
      );
    return fetched;
  }

  async cancelOrder(ref: OrderRef, symbol: string): Promise<Order> {
    const m = this.market(symbol);
    const prefix = this.profile.clientIdPrefix;
    const o = await this.read('cancelOrder', () =>
      'id' in ref
        ? this.ex.cancelOrder(ref.id, m.symbol)
        : prefix
          ? // The venue takes its prefixed client id as the order's id (Gate: orders/t-…).
            this.ex.cancelOrder(`${prefix}${ref.clientOrderId}`, m.symbol)
          : this.ex.cancelOrder(undefined as unknown as string, m.symbol, this.byClientId(ref.clientOrderId)),
    );
    const cid = 'clientOrderId' in ref ? ref.clientOrderId : undefined;
    return this.withFills(await this.withState(o, m, cid), m, cid);
  }

  async fetchOrder(ref: OrderRef, symbol: string): Promise<Order> {
    const m = this.market(symbol);
    let o: CcxtOrder;
    try {
      o = await this.fetchRaw(ref, m);
    } catch (e) {
      if (!(e instanceof OrderNotFound) || 'id' in ref || this.profile.findsFinishedByClientId) throw e;
      o = await this.findFinished(m, ref, e);
    }
    return this.withFills(o, m, 'clientOrderId' in ref ? ref.clientOrderId : undefined);
  }

  /**
   * A venue that finds orders by client id only while they rest (Gate spot; Gate futures a
   * minute after they end): its finished orders carry the id — searched from when the order was
   * journalled (or the last week, when that is not known). Not found only when the venue
   * listed everything since: a full page without it is unknown, and so are two orders under the
   * one id (a reuse the venue accepted): neither may be taken for "never placed".
   */
  private async findFinished(
    m: Market,
    ref: { clientOrderId: string; placedAfter?: number },
    notFound: OrderNotFound,
  ): Promise<CcxtOrder> {
    const call = this.profile.finishedOrders ?? 'fetchClosedOrders';
    const page = this.profile.finishedPage ?? FINISHED_PAGE;
    const since =
      ref.placedAfter !== undefined
        ? ref.placedAfter - FINISHED_SEARCH_MARGIN_MS
        : Date.now() - FINISHED_SEARCH_MS;
    const filter = this.profile.historyFiltersByClientId ? this.byClientId(ref.clientOrderId) : {};
    const finished = await this.read(call, () => this.ex[call](m.symbol, since, page, filter));
    const match = this.onlyOrderUnder(ref.clientOrderId, finished);
    if (match) return match;
    if (finished.length >= page)
      throw new NetworkError(
        `${this.venue}: ${ref.clientOrderId} not among the ${finished.length} finished orders listed since ${new Date(since).toISOString()}, and there are more: unknown`,
      );
    throw notFound;
  }

  async fetchOpenOrders(symbol?: string): Promise<Order[]> {
    const raw: CcxtOrder[] = [];
    if (symbol) raw.push(...(await this.read('fetchOpenOrders', () => this.ex.fetchOpenOrders(symbol))));
    else if (this.profile.openOrdersInOneList)
      raw.push(...(await this.read('fetchOpenOrders', () => this.ex.fetchOpenOrders())));
    else
      for (const type of this.types)
        raw.push(
          ...(await this.read('fetchOpenOrders', () =>
            this.ex.fetchOpenOrders(undefined, undefined, undefined, { type }),
          )),
        );
    const out: Order[] = [];
    for (const o of raw) {
      const m = o.symbol ? this.markets.get(o.symbol) : undefined;
      if (m) out.push(await this.withFills(o, m, undefined));
    }
    return out;
  }

  /**
   * The order with every fill. Venues answer placements and updates without fills (Binance
   * USD-M) or with the last one only (websocket updates): the rest come from the trade history,
   * filtered to this order and de-duplicated by trade id.
   */
  private async withFills(o: CcxtOrder, m: Market, clientOrderId: string | undefined): Promise<Order> {
    const cid = this.clientIdOf(o) ?? clientOrderId ?? '';
    const filled = o.filled ?? 0;
    const byId = new Map<string, Fill>();
    for (const t of (o.trades ?? []) as Trade[]) if (t.id) byId.set(String(t.id), toFill(t, m, cid, o.side));
    const covered = () => [...byId.values()].reduce((s, f) => s + f.amount, 0);
    const eps = m.precision.amount / 2;
    for (let attempt = 0; filled > 0 && covered() < filled - eps; attempt++) {
      if (attempt >= this.fillTries)
        throw new NetworkError(
          `${this.venue}: ${covered()} of ${filled} ${m.symbol} filled on order ${o.id} found in the trade history`,
        );
      if (attempt > 0) await sleep(100 * 2 ** attempt);
      const trades = await this.read('fetchMyTrades', () =>
        this.ex.fetchMyTrades(
          m.symbol,
          o.timestamp ? o.timestamp - 60_000 : undefined,
          this.profile.tradesPage,
          {
            [this.profile.tradesOrderParam]: o.id,
          },
        ),
      );
      for (const t of trades)
        if (String(t.order) === String(o.id) && t.id) byId.set(String(t.id), toFill(t, m, cid, o.side));
    }
    const fills = await Promise.all([...byId.values()].map((f) => this.valueFee(f, m)));
    const quoteSized =
      Boolean(this.profile.marketBuyInQuote) && m.type === 'spot' && o.type === 'market' && o.side === 'buy';
    const order = toOrder({ ...o, clientOrderId: cid } as CcxtOrder, m, fills, quoteSized);
    return order;
  }

  /** A fee charged in a third asset (BNB) gets its quote worth at that asset's price. */
  private async valueFee(f: Fill, m: Market): Promise<Fill> {
    const c = f.fee.currency;
    if (
      f.fee.cost === 0 ||
      c === m.base ||
      c === m.quote ||
      c === (m.settle ?? m.quote) ||
      f.fee.quoteCost !== undefined
    )
      return f;
    const price = await this.feeAssetPrice(c, m.settle ?? m.quote);
    return { ...f, fee: { ...f.fee, quoteCost: f.fee.cost * price } };
  }

  private async feeAssetPrice(asset: string, quote: string): Promise<number> {
    const configured = this.opts.assetPrices?.[asset];
    if (configured !== undefined && configured > 0) return configured;
    const symbol = `${asset}/${quote}`;
    const hit = this.feePrices.get(symbol);
    if (hit && Date.now() - hit.at < 60_000) return hit.price;
    // The book, not a 24 h ticker: every venue serves it, and its mid is what the fee was worth.
    const book = await this.read('fetchOrderBook', () => this.ex.fetchOrderBook(symbol, 5));
    const bid = Number(book.bids[0]?.[0] ?? 0);
    const ask = Number(book.asks[0]?.[0] ?? 0);
    const price = bid > 0 && ask > 0 ? (bid + ask) / 2 : 0;
    if (!(price > 0))
      throw new NetworkError(
        `${this.venue}: a fee was charged in ${asset} and no ${symbol} price is known; set venues.${this.venue}.assetPrices.${asset}`,
      );
    this.feePrices.set(symbol, { price, at: Date.now() });
    return price;
  }

  async fetchBalance(): Promise<Balances> {
    // Spot and futures in separate wallets (Binance, Gate): one request each, summed per asset.
    const types = this.profile.walletPerType ? [...this.types].filter((t) => t !== 'future') : [undefined];
    const out: Balances = {};
    for (const type of types.length > 0 ? types : [undefined]) {
      const b = toBalances(await this.read('fetchBalance', () => this.ex.fetchBalance(type ? { type } : {})));
      for (const [asset, e] of Object.entries(b)) {
        const acc = out[asset] ?? { free: 0, used: 0, total: 0 };
        out[asset] = { free: acc.free + e.free, used: acc.used + e.used, total: acc.total + e.total };
      }
    }
    return out;
  }

  async fetchPositions(symbols?: string[]): Promise<Position[]> {
    const raw = await this.read('fetchPositions', () => this.ex.fetchPositions(symbols));
    const out: Position[] = [];
    for (const p of raw) {
      const m = p.symbol ? this.markets.get(p.symbol) : undefined;
      if (m && (p.contracts ?? 0) !== 0) out.push(toPosition(p, m));
    }
    return out;
  }

  async fetchFundingRate(symbol: string): Promise<FundingRate> {
    const fr = await this.read('fetchFundingRate', () => this.ex.fetchFundingRate(symbol));
    const interval = /^(\d+)h$/.exec(fr.interval ?? '')?.[1];
    const out: FundingRate = {
      symbol,
      rate: fr.fundingRate ?? 0,
      nextFundingTimestamp: fr.nextFundingTimestamp ?? fr.fundingTimestamp ?? 0,
      intervalMs: interval ? Number(interval) * 3_600_000 : 8 * 3_600_000,
      timestamp: fr.timestamp ?? Date.now(),
    };
    if (fr.markPrice) out.markPrice = fr.markPrice;
    return out;
  }

  async fetchFundingHistory(symbol: string, since?: number): Promise<FundingPayment[]> {
    // A venue that answers a bounded span from `since` (Bybit: 7 days) answers nothing for an
    // older one: ask from the oldest it keeps, page by page.
    const window = this.profile.fundingHistoryWindowMs;
    const from = window !== undefined ? Math.max(since ?? 0, Date.now() - window + 60_000) : since;
    const rows = await this.read('fetchFundingHistory', () =>
      this.ex.fetchFundingHistory(symbol, from, undefined, window !== undefined ? { paginate: true } : {}),
    );
    const sign = this.profile.fundingSignedAsFee ? -1 : 1;
    return rows.map((r) => ({
      id: String(r.id ?? `${symbol}-${r.timestamp}`),
      symbol,
      // Received is positive; a venue that signs funding as a fee says paid is.
      amount: sign * (r.amount ?? 0),
      // The venue's income history does not carry the rate that produced a payment.
      rate: 0,
      timestamp: r.timestamp ?? 0,
    }));
  }

  /** The leverage of a derivative symbol; the venue's "already so" answer counts as done. */
  async setLeverage(symbol: string, leverage: number): Promise<void> {
    await this.setting('setLeverage', LEVERAGE_UNCHANGED, () => this.ex.setLeverage(leverage, symbol));
  }

  /** Cross or isolated margin for a derivative symbol; "already set" answers count as done. */
  async setMarginMode(symbol: string, mode: 'cross' | 'isolated'): Promise<void> {
    await this.setting('setMarginMode', MARGIN_MODE_UNCHANGED, () => this.ex.setMarginMode(mode, symbol));
  }

  /** A setting: the venue's refusal to set what it already has (`unchanged`) is done. */
  private async setting(what: string, unchanged: RegExp, fn: () => Promise<unknown>): Promise<void> {
    try {
      await this.read(what, fn);
    } catch (e) {
      if (!unchanged.test((e as Error).message)) throw e;
    }
  }

  // ── streams ─────────────────────────────────────────────────────────────────────────────────

  /**
   * Top of book over the venue's websocket. A pending watch rejects when the socket drops; ccxt
   * pings (keepAlive) so a dead socket is seen in seconds, and a stream silent for
   * `streamStaleMs` is treated as dead too: its socket is closed and the error reported, and the
   * caller resubscribes (ccxt reconnects on the next watch).
   */
  watchBookTicker(symbol: string, sink: StreamSink<BookTicker>): Subscription {
    const ex = this.ex;
    let closed = false;
    let last = Date.now();
    const fail = (e: ExchangeError) => {
      if (closed) return;
      closed = true;
      clearInterval(watchdog);
      sink.error?.(e);
    };
    const watchdog = setInterval(
      () => {
        if (Date.now() - last <= this.staleMs) return;
        fail(new NetworkError(`${this.venue} ${symbol}: no book update for ${this.staleMs} ms`));
        void this.dropSockets();
      },
      Math.max(50, this.staleMs / 4),
    );
    watchdog.unref?.();
    const emit = (t: BookTicker) => {
      last = Date.now();
      this.lastBook.set(symbol, t);
      sink.data(t);
    };
    // One read of the venue's book stream: MEXC's ticker (its bids/asks stream never resolves in
    // ccxt), bids/asks where the venue has them, else the top of a 5-level book.
    const next = this.profile.bookFromTicker
      ? () => ex.watchTicker(symbol).then((t) => tickerTop(symbol, t))
      : ex.has.watchBidsAsks
        ? () => ex.watchBidsAsks([symbol]).then((all) => tickerTop(symbol, all[symbol]))
        : () => ex.watchOrderBook(symbol, 5).then((b) => orderBookTop(symbol, b, b.timestamp ?? Date.now()));
    void (async () => {
      try {
        while (!closed) {
          const t = await next();
          if (closed) return;
          if (t) emit(t);
        }
      } catch (e) {
        fail(fromCcxtError(e, this.venue));
      }
    })();
    return {
      close: () => {
        closed = true;
        clearInterval(watchdog);
      },
    };
  }

  /**
   * Order updates of every market type (or of `stream`, one market type) over the user-data
   * streams, each with its fills. An update whose fills cannot be read yet is skipped: the caller
   * polls by client id while the stream is down and after it returns (see OrderUpdateHub), so
   * nothing is lost.
   */
  watchOrders(sink: StreamSink<Order>, stream?: string): Subscription {
    this.orderSinks.set(sink, stream);
    return this.readOrderStreams(() => this.orderSinks.delete(sink));
  }

  /**
   * The order stream a symbol's orders travel on: its market type where ccxt streams each type
   * apart (a user stream or subscription per type), one for all where one stream carries every
   * type (Bybit, OKX); a symbol not loaded yet is watched on all of them.
   */
  orderStreamOf(symbol: string): string {
    return this.profile.oneOrderStream ? '' : (this.markets.get(symbol)?.type ?? '');
  }

  /**
   * Positions the venue closed itself, seen in the derivatives' order streams by each venue's
   * marker (venue-closes.ts). Funding is not pushed through ccxt: the strategies poll it. A close
   * missed while the stream is down is the engine's position check's to find.
   */
  watchAccountEvents(sink: StreamSink<AccountEvent>): Subscription {
    this.closeSinks.add(sink);
    return this.readOrderStreams(() => this.closeSinks.delete(sink));
  }

  /** A subscription to the order streams' readers (started where not running), ended by `unsubscribe`. */
  private readOrderStreams(unsubscribe: () => void): Subscription {
    this.runOrderStreams();
    return { close: () => void unsubscribe() };
  }

  /**
   * The order subscribers a market type's stream serves: those of that type and of every type
   * (no type: the one reader of every type serves them all).
   */
  private orderSinksOf(type: string | undefined): StreamSink<Order>[] {
    return [...this.orderSinks].filter(([, t]) => !t || type === undefined || t === type).map(([s]) => s);
  }

  /**
   * One reader per market type of ccxt's order stream, for every subscriber: ccxt keeps one
   * order cache per exchange and counts what is new per read, so two readers of one stream would
   * each miss what the other read while it was busy (fetching fills) — and where one stream
   * carries every type (Bybit, OKX), one reader serves them all. A venue's own close goes to
   * the account subscribers (once, by its order id), every other order of ours to the order
   * subscribers of its type. A reader stops when nobody listens; its error ends the subscriptions
   * it served — those of its type and of every type, not another type's alone (they resubscribe,
   * and the next subscriber starts the reader again).
   */
  private runOrderStreams(): void {
    const types = this.types.size > 0 && !this.profile.oneOrderStream ? [...this.types] : [undefined];
    for (const type of types) {
      const key = type ?? '';
      if (this.orderReaders.has(key)) continue;
      const listening = () => this.orderSinksOf(type).length + this.closeSinks.size > 0;
      if (!listening()) continue;
      this.orderReaders.add(key);
      void (async () => {
        try {
          while (listening()) {
            const updates = await this.ex.watchOrders(undefined, undefined, undefined, type ? { type } : {});
            for (const o of updates) {
              const m = o.symbol ? this.markets.get(o.symbol) : undefined;
              if (!m) continue;
              const kind = m.type !== 'spot' ? venueCloseKind(this.ex.id, o) : undefined;
              if (kind) {
                const e = venueCloseEvent(kind, o, m);
                if (!e || this.closesSeen.has(e.fill!.id)) continue;
                this.closesSeen.add(e.fill!.id);
                if (this.closesSeen.size > 10_000) this.closesSeen.clear();
                for (const s of this.closeSinks) s.data(e);
                continue;
              }
              const cid = this.clientIdOf(o);
              if (!cid || this.orderSinksOf(m.type).length === 0) continue;
              try {
                const order = await this.withFills(o, m, cid);
                for (const s of this.orderSinksOf(m.type)) s.data(order);
              } catch (e) {
                this.log.warn(
                  { venue: this.venue, clientOrderId: cid, err: String(e) },
                  'order update without its fills yet',
                );
              }
            }
          }
          this.orderReaders.delete(key);
        } catch (e) {
          // Free the type first: a subscriber that resubscribes from its error handler starts a reader.
          this.orderReaders.delete(key);
          const err = fromCcxtError(e, this.venue);
          const sinks = this.orderSinksOf(type);
          for (const s of sinks) this.orderSinks.delete(s);
          const closes = [...this.closeSinks];
          this.closeSinks.clear();
          for (const s of [...sinks, ...closes]) s.error?.(err);
        }
      })();
    }
  }

  /** Close the websockets (ccxt opens new ones on the next watch). */
  private async dropSockets(): Promise<void> {
    const clients =
      (this.ex as unknown as { clients: Record<string, { close(): Promise<void> }> }).clients ?? {};
    for (const c of Object.values(clients)) await c.close().catch(() => {});
  }

  async close(): Promise<void> {
    await this.ex.close();
  }
}
