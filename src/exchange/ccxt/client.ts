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
  type ExchangeError,
  type Fill,
  type FundingPayment,
  type FundingRate,
  InvalidOrder,
  type Market,
  NetworkError,
  type Order,
  type OrderRef,
  type OrderRequest,
  type Position,
  RateLimitExceeded,
  RequestTimeout,
} from '../../domain/index.ts';
import type { ExchangeClient, StreamSink, Subscription } from '../port.ts';
import { toBalances, toFill, toMarket, toOrder, toPosition } from './convert.ts';
import { fromCcxtError } from './errors.ts';
import type { RateBudget } from './rate-budget.ts';
import { venueCloseEvent, venueCloseKind } from './venue-closes.ts';

export interface CcxtClientLogger {
  warn(obj: object, msg: string): void;
}

export interface CcxtClientOptions {
  /** statearb's name of the venue. */
  venue: string;
  /** A configured ccxt pro instance (keys, sandbox or demo, options). */
  exchange: Exchange;
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

/** How each venue finds an order by the client id it was placed with (ccxt's unified name first). */
function clientIdParams(exchangeId: string, clientOrderId: string): Record<string, string> {
  if (exchangeId.startsWith('bybit')) return { orderLinkId: clientOrderId };
  if (exchangeId.startsWith('okx')) return { clOrdId: clientOrderId };
  return { clientOrderId };
}

const SILENT: CcxtClientLogger = { warn() {} };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class CcxtExchangeClient implements ExchangeClient {
  readonly venue: string;
  private readonly ex: Exchange;
  private readonly budget: RateBudget;
  private readonly staleMs: number;
  private readonly readRetries: number;
  private readonly fillTries: number;
  private readonly log: CcxtClientLogger;
  private readonly markets = new Map<string, Market>();
  private readonly lastBook = new Map<string, BookTicker>();
  /** Fee assets' prices asked of the venue, by ASSET/QUOTE, with when. */
  private readonly feePrices = new Map<string, { price: number; at: number }>();
  /** Market types present (spot, swap, future): user streams and open orders are per type. */
  private readonly types = new Set<string>();
  private agentLoaded = false;
  /** Subscribers of the order stream and of the venue's own closes (one reader per type serves both). */
  private readonly orderSinks = new Set<StreamSink<Order>>();
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
      let book = this.lastBook.get(m.symbol);
      if (!book || Date.now() - book.timestamp > 5_000) {
        const b = await this.read('fetchOrderBook', () => this.ex.fetchOrderBook(m.symbol, 5));
        const bid = b.bids[0];
        const ask = b.asks[0];
        if (bid?.[0] && ask?.[0])
          book = {
            symbol: m.symbol,
            bid: bid[0],
            ask: ask[0],
            bidSize: bid[1] ?? 0,
            askSize: ask[1] ?? 0,
            timestamp: Date.now(),
          };
      }
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

  private orderParams(m: Market, req: OrderRequest): Record<string, unknown> {
    const p: Record<string, unknown> = { clientOrderId: req.clientOrderId };
    if (req.timeInForce === 'PO') p.postOnly = true;
    else if (req.timeInForce === 'IOC' || req.timeInForce === 'FOK') p.timeInForce = req.timeInForce;
    if (req.reduceOnly && m.type !== 'spot') p.reduceOnly = true;
    return p;
  }

  async createOrder(req: OrderRequest): Promise<Order> {
    const m = this.market(req.symbol);
    await this.checkMinNotional(m, req);
    await this.budget.ready();
    let o: CcxtOrder;
    try {
      o = await this.ex.createOrder(
        m.symbol,
        req.type,
        req.side,
        req.amount,
        req.price,
        this.orderParams(m, req),
      );
      this.budget.ok();
    } catch (e) {
      const err = fromCcxtError(e, this.venue, { placing: true, clientOrderId: req.clientOrderId });
      if (err instanceof RateLimitExceeded) this.budget.limited(err.retryAfterMs);
      throw err;
    }
    try {
      return await this.withFills(o, m, req.clientOrderId);
    } catch (e) {
      // Placed, but its fills could not be read: the caller asks again by client id.
      throw new RequestTimeout(
        `${this.venue}: order ${req.clientOrderId} placed, its fills not readable yet (${(e as Error).message})`,
      );
    }
  }

  async cancelOrder(ref: OrderRef, symbol: string): Promise<Order> {
    const m = this.market(symbol);
    const o = await this.read('cancelOrder', () =>
      'id' in ref
        ? this.ex.cancelOrder(ref.id, m.symbol)
        : this.ex.cancelOrder(
            undefined as unknown as string,
            m.symbol,
            clientIdParams(this.ex.id, ref.clientOrderId),
          ),
    );
    return this.withFills(o, m, 'clientOrderId' in ref ? ref.clientOrderId : undefined);
  }

  async fetchOrder(ref: OrderRef, symbol: string): Promise<Order> {
    const m = this.market(symbol);
    const o = await this.read('fetchOrder', () =>
      'id' in ref
        ? this.ex.fetchOrder(ref.id, m.symbol)
        : this.ex.fetchOrder(
            undefined as unknown as string,
            m.symbol,
            clientIdParams(this.ex.id, ref.clientOrderId),
          ),
    );
    return this.withFills(o, m, 'clientOrderId' in ref ? ref.clientOrderId : undefined);
  }

  async fetchOpenOrders(symbol?: string): Promise<Order[]> {
    const raw: CcxtOrder[] = [];
    if (symbol) raw.push(...(await this.read('fetchOpenOrders', () => this.ex.fetchOpenOrders(symbol))));
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
    const cid = o.clientOrderId ?? clientOrderId ?? '';
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
        this.ex.fetchMyTrades(m.symbol, o.timestamp ? o.timestamp - 60_000 : undefined, undefined, {
          orderId: o.id,
        }),
      );
      for (const t of trades)
        if (String(t.order) === String(o.id) && t.id) byId.set(String(t.id), toFill(t, m, cid, o.side));
    }
    const fills = await Promise.all([...byId.values()].map((f) => this.valueFee(f, m)));
    const order = toOrder({ ...o, clientOrderId: cid } as CcxtOrder, m, fills);
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
    // Binance keeps spot and futures in separate wallets: one request each, summed per asset.
    const types = this.ex.id === 'binance' ? [...this.types].filter((t) => t !== 'future') : [undefined];
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
    const rows = await this.read('fetchFundingHistory', () => this.ex.fetchFundingHistory(symbol, since));
    return rows.map((r) => ({
      id: String(r.id ?? `${symbol}-${r.timestamp}`),
      symbol,
      amount: r.amount ?? 0,
      // The venue's income history does not carry the rate that produced a payment.
      rate: 0,
      timestamp: r.timestamp ?? 0,
    }));
  }

  async setLeverage(symbol: string, leverage: number): Promise<void> {
    await this.read('setLeverage', () => this.ex.setLeverage(leverage, symbol));
  }

  /** Cross or isolated margin for a derivative symbol; "already set" answers count as done. */
  async setMarginMode(symbol: string, mode: 'cross' | 'isolated'): Promise<void> {
    try {
      await this.read('setMarginMode', () => this.ex.setMarginMode(mode, symbol));
    } catch (e) {
      if (!/no need to change|already/i.test((e as Error).message)) throw e;
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
    void (async () => {
      try {
        while (!closed) {
          if (ex.has.watchBidsAsks) {
            const all = await ex.watchBidsAsks([symbol]);
            const t = all[symbol];
            if (closed) return;
            if (t?.bid && t.ask)
              emit({
                symbol,
                bid: t.bid,
                ask: t.ask,
                bidSize: t.bidVolume ?? 0,
                askSize: t.askVolume ?? 0,
                timestamp: t.timestamp ?? Date.now(),
              });
          } else {
            const b = await ex.watchOrderBook(symbol, 5);
            if (closed) return;
            const bid = b.bids[0];
            const ask = b.asks[0];
            if (bid?.[0] && ask?.[0])
              emit({
                symbol,
                bid: bid[0],
                ask: ask[0],
                bidSize: bid[1] ?? 0,
                askSize: ask[1] ?? 0,
                timestamp: b.timestamp ?? Date.now(),
              });
          }
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
   * Order updates of every market type over the user-data streams, each with its fills. An
   * update whose fills cannot be read yet is skipped: the caller polls by client id while the
   * stream is down and after it returns (see OrderUpdateHub), so nothing is lost.
   */
  watchOrders(sink: StreamSink<Order>): Subscription {
    return this.subscribeOrderStream(this.orderSinks, sink);
  }

  /**
   * Positions the venue closed itself, seen in the derivatives' order streams by each venue's
   * marker (venue-closes.ts). Funding is not pushed through ccxt: the strategies poll it. A close
   * missed while the stream is down is the engine's position check's to find.
   */
  watchAccountEvents(sink: StreamSink<AccountEvent>): Subscription {
    return this.subscribeOrderStream(this.closeSinks, sink);
  }

  private subscribeOrderStream<T>(sinks: Set<StreamSink<T>>, sink: StreamSink<T>): Subscription {
    sinks.add(sink);
    this.runOrderStreams();
    return {
      close: () => {
        sinks.delete(sink);
      },
    };
  }

  /**
   * One reader per market type of ccxt's order stream, for every subscriber: ccxt keeps one
   * order cache per exchange and counts what is new per read, so two readers of one stream would
   * each miss what the other read while it was busy (fetching fills). A venue's own close goes to
   * the account subscribers (once, by its order id), every other order of ours to the order
   * subscribers. A reader stops when nobody listens; an error ends every subscription (they
   * resubscribe, and the next subscriber starts the readers again).
   */
  private runOrderStreams(): void {
    const types = this.types.size > 0 ? [...this.types] : [undefined];
    const listening = () => this.orderSinks.size + this.closeSinks.size > 0;
    for (const type of types) {
      const key = type ?? '';
      if (this.orderReaders.has(key)) continue;
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
              if (!o.clientOrderId || this.orderSinks.size === 0) continue;
              try {
                const order = await this.withFills(o, m, o.clientOrderId);
                for (const s of this.orderSinks) s.data(order);
              } catch (e) {
                this.log.warn(
                  { venue: this.venue, clientOrderId: o.clientOrderId, err: String(e) },
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
          const sinks = [...this.orderSinks, ...this.closeSinks];
          this.orderSinks.clear();
          this.closeSinks.clear();
          for (const s of sinks) s.error?.(err);
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
