import type { Clock } from '../../clock/clock.ts';
import {
  type AccountEvent,
  assertOrderLimits,
  type Balances,
  type BookTicker,
  DuplicateClientOrderId,
  type Fee,
  type Fill,
  type FundingPayment,
  type FundingRate,
  InsufficientFunds,
  InvalidOrder,
  isDerivativeMarket,
  type Market,
  type Order,
  type OrderBook,
  OrderImmediatelyFillable,
  OrderNotFound,
  type OrderRef,
  type OrderRequest,
  type Position,
  roundToStep,
  type Side,
  type TimeInForce,
} from '../../domain/index.ts';
import { type AccountState, SimAccount } from './account.ts';
import { type BookFill, type LiquidityModel, SimBook } from './book.ts';

export type QueueModel = 'cross' | 'queue';

export interface SimVenueOptions {
  name: string;
  markets: Market[];
  clock: Clock;
  /** Starting balances, e.g. { USDT: 100_000, BTC: 1 }. */
  balances?: Record<string, number>;
  defaultLeverage?: number;
  /**
   * How resting limit orders fill:
   * - 'cross' (default): when the opposite touch reaches the order's price, up to the displayed size;
   * - 'queue': as 'cross', but only after the size displayed ahead of the order at its price when
   *   it was placed has traded (decreases at that level are counted as trades ahead of us).
   */
  queueModel?: QueueModel;
  /** Funding interval for perpetuals, aligned to the epoch (00:00/08:00/16:00 UTC for 8 h). */
  fundingIntervalMs?: number;
  /** Funding rate used until the market-data source publishes one. */
  defaultFundingRate?: number;
  /** How long closed orders stay queryable (and their client ids reserved). */
  closedOrderRetentionMs?: number;
  /**
   * Prices, in the quote currency, of assets the venue has no book for — a third fee asset such
   * as BNB. A venue with an `ASSET/QUOTE` market uses its mid instead.
   */
  assetPrices?: Record<string, number>;
  /** What taker consumption does across recorded book updates (default 'persistent'). */
  liquidity?: LiquidityModel;
  /**
   * Unified-account collateral: each spot holding counts toward the derivatives' margin at its
   * mark less this haircut (by asset; `default` for the rest). Default: BTC and ETH 5 %, other
   * assets 10 %, the settle currency 0 — close to the base-tier collateral ratios of Bybit's
   * unified account and OKX's multi-currency margin. `false`: only the settle wallet counts.
   * The venue presets (markets.ts: venueCollateralHaircuts) say which each named venue is.
   */
  collateralHaircuts?: Record<string, number> | false;
  /** How the venue treats client order ids (default: the kindest — found always, reuse refused). */
  clientIds?: SimClientIdRules;
}

/**
 * Client-id rules venues differ on, to simulate the unkind ones. Gate spot finds an order by its
 * `text` only while it rests and accepts a reused one; Binance refuses a reused id only while
 * the first order rests.
 */
export interface SimClientIdRules {
  /** A finished order is found by client id (default true); false: only while it rests. */
  findsFinished?: boolean;
  /** An order under a client id another order had is refused 'always' (default), 'while-open', or 'never'. */
  refusesReused?: 'always' | 'while-open' | 'never';
}

const DEFAULT_HAIRCUTS: Record<string, number> = { BTC: 0.05, ETH: 0.05, default: 0.1 };

interface SimOrder extends Order {
  /** Quote (buy) or base (sell) reserved for a resting spot order. */
  reserved: number;
  reservedAsset: string;
  /** Queue model: displayed size still ahead of this order at its price. */
  queueAhead: number;
  seq: number;
}

export type VenueEvent =
  | {
      type: 'funding';
      /** The payment's id in fundingPayments(): the same payment, pushed or polled. */
      id: string;
      symbol: string;
      rate: number;
      markPrice: number;
      received: number;
      timestamp: number;
    }
  | {
      type: 'liquidation' | 'adl';
      symbol: string;
      /** The position closed (signed, contracts) and the price it was closed at. */
      size: number;
      price: number;
      /** The venue's own close, as a trade of the account (its fee included): books take it. */
      fill: Fill;
      timestamp: number;
    }
  | { type: 'settlement'; symbol: string; price: number; realizedPnl: number; timestamp: number };

export interface SimVenueState {
  version: 1;
  name: string;
  savedAt: number;
  account: AccountState;
  orders: Order[];
  openQueue: Record<string, number>;
  nextOrderId: number;
  nextTradeId: number;
  books: BookTicker[];
  funding: FundingRate[];
  fundingHistory?: FundingPayment[];
  venueCloses?: VenueCloseRecord[];
}

/** A liquidation or auto-deleveraging of this account, as its history keeps it. */
export type VenueCloseRecord = Extract<AccountEvent, { type: 'liquidation' | 'adl' }> & { fill: Fill };

const DAY_MS = 86_400_000;
const EPS = 1e-12;

/**
 * A simulated exchange: markets, books fed by a market-data source, one account with spot
 * balances and USDT-margined positions, and a matching engine for market, limit, IOC, FOK and
 * post-only orders. It is synchronous and knows nothing of latency or faults: those belong to
 * the network between a client and the venue, see SimExchangeClient.
 */
export class SimVenue {
  readonly name: string;
  readonly clock: Clock;
  private acct: SimAccount;
  private readonly markets = new Map<string, Market>();
  private readonly books = new Map<string, SimBook>();
  private readonly orders = new Map<string, SimOrder>();
  private readonly byClientId = new Map<string, string>();
  private readonly openBySymbol = new Map<string, SimOrder[]>();
  private readonly fundingRates = new Map<string, FundingRate>();
  /** Rates announced for a settlement, by symbol and settlement time (the file's next_funding_ts). */
  private readonly ratesForSettlement = new Map<string, Map<number, number>>();
  private readonly fundingHistory: FundingPayment[] = [];
  /** Positions the venue closed itself, as the account's history reports them. */
  private readonly closesByVenue: VenueCloseRecord[] = [];
  private readonly scheduled = new Set<string>();
  private readonly timers = new Set<unknown>();
  private readonly bookListeners = new Map<string, Set<(t: BookTicker) => void>>();
  private readonly depthListeners = new Map<string, Set<(b: OrderBook) => void>>();
  private readonly orderListeners = new Set<(o: Order) => void>();
  private readonly eventListeners = new Set<(e: VenueEvent) => void>();
  private readonly queueModel: QueueModel;
  private readonly fundingIntervalMs: number;
  private readonly defaultFundingRate: number;
  private readonly retentionMs: number;
  private readonly assetPrices: Record<string, number>;
  private readonly haircuts: Record<string, number> | false;
  readonly clientIds: Required<SimClientIdRules>;
  private nextOrderId = 1;
  private nextTradeId = 1;
  private seq = 0;
  private lastPrune = 0;

  constructor(opts: SimVenueOptions) {
    this.name = opts.name;
    this.clock = opts.clock;
    this.acct = new SimAccount(opts.balances ?? {}, opts.defaultLeverage ?? 5);
    this.queueModel = opts.queueModel ?? 'cross';
    this.fundingIntervalMs = opts.fundingIntervalMs ?? 8 * 3_600_000;
    this.defaultFundingRate = opts.defaultFundingRate ?? 0.0001;
    this.retentionMs = opts.closedOrderRetentionMs ?? 7 * DAY_MS;
    this.assetPrices = opts.assetPrices ?? {};
    this.clientIds = { findsFinished: true, refusesReused: 'always', ...opts.clientIds };
    this.haircuts =
      opts.collateralHaircuts === false ? false : { ...DEFAULT_HAIRCUTS, ...opts.collateralHaircuts };
    for (const m of opts.markets) {
      if (m.venue !== this.name)
        throw new Error(`market ${m.symbol} belongs to ${m.venue}, not ${this.name}`);
      this.markets.set(m.symbol, m);
      this.books.set(m.symbol, new SimBook(m.symbol, opts.liquidity ?? 'persistent'));
    }
    for (const m of opts.markets) {
      const fc = m.feeCurrency;
      if (
        typeof fc === 'object' &&
        !this.markets.has(`${fc.asset}/${m.quote}`) &&
        !(this.assetPrices[fc.asset]! > 0)
      )
        throw new Error(
          `${this.name} ${m.symbol}: fees are charged in ${fc.asset} but the venue has no price for it — add the market ${fc.asset}/${m.quote} or a price in assetPrices.${fc.asset}`,
        );
    }
  }

  get account(): SimAccount {
    return this.acct;
  }

  // ---------------------------------------------------------------- market data in

  /** A new top of book from the market-data source. The hot path of every backtest. */
  onBookTicker(t: BookTicker): void {
    const book = this.books.get(t.symbol);
    if (!book) return;
    book.applyTicker(t);
    this.afterBookChange(book);
    const ls = this.bookListeners.get(t.symbol);
    if (ls) for (const l of ls) l(t);
  }

  onOrderBook(b: OrderBook): void {
    const book = this.books.get(b.symbol);
    if (!book) return;
    book.applyOrderBook(b);
    this.afterBookChange(book);
    const ls = this.bookListeners.get(b.symbol);
    if (ls) {
      const t = book.ticker();
      for (const l of ls) l(t);
    }
    const ds = this.depthListeners.get(b.symbol);
    if (ds) for (const l of ds) l(b);
  }

  onFundingRate(f: FundingRate): void {
    if (!this.markets.has(f.symbol)) return;
    this.fundingRates.set(f.symbol, f);
    if (f.nextFundingTimestamp > 0) {
      const byTs = this.ratesForSettlement.get(f.symbol) ?? new Map<number, number>();
      this.ratesForSettlement.set(f.symbol, byTs);
      byTs.set(f.nextFundingTimestamp, f.rate);
    }
  }

  private afterBookChange(book: SimBook): void {
    const open = this.openBySymbol.get(book.symbol);
    if (open && open.length > 0) this.matchResting(book, open);
    if (!this.scheduled.has(book.symbol)) this.scheduleDerivativeEvents(book.symbol);
    if (this.account.positions.size > 0) {
      const m = this.markets.get(book.symbol)!;
      if (isDerivativeMarket(m) && this.account.positions.get(book.symbol)?.size) this.checkLiquidation(m);
    }
  }

  // ---------------------------------------------------------------- orders

  placeOrder(req: OrderRequest): Order {
    const now = this.clock.now();
    this.pruneClosed(now);
    const m = this.marketOrThrow(req.symbol);
    if (!req.clientOrderId) throw new InvalidOrder('clientOrderId is required', 'clientOrderId');
    if (this.reuseRefused(req.clientOrderId)) throw new DuplicateClientOrderId(req.clientOrderId);
    if (m.expiry !== undefined && now >= m.expiry)
      throw new InvalidOrder(`${m.symbol} has expired`, 'symbol');
    if (req.side !== 'buy' && req.side !== 'sell') throw new InvalidOrder(`side must be buy or sell`, 'side');
    if (req.type !== 'market' && req.type !== 'limit')
      throw new InvalidOrder(`type must be market or limit`, 'type');
    const tif: TimeInForce = req.type === 'market' ? 'IOC' : (req.timeInForce ?? 'GTC');
    if (req.type === 'market' && req.timeInForce === 'PO')
      throw new InvalidOrder('a market order cannot be post-only', 'timeInForce');
    const book = this.books.get(m.symbol)!;
    const refPrice = req.side === 'buy' ? book.ask : book.bid;
    assertOrderLimits(m, req, Number.isFinite(refPrice) ? refPrice : undefined);
    const limit = req.type === 'limit' ? req.price : undefined;
    const derivative = isDerivativeMarket(m);

    let amount = req.amount;
    if (req.reduceOnly) {
      if (!derivative) throw new InvalidOrder('reduceOnly is only valid for derivatives', 'reduceOnly');
      const pos = this.account.positions.get(m.symbol)?.size ?? 0;
      const reduces = (req.side === 'sell' && pos > 0) || (req.side === 'buy' && pos < 0);
      if (!reduces || req.amount > Math.abs(pos) + EPS)
        throw new InvalidOrder(
          `reduce-only ${req.side} ${req.amount} would not reduce position ${pos}`,
          'reduceOnly',
        );
      amount = req.amount;
    }

    if (tif === 'PO' && limit !== undefined && book.hasQuote()) {
      const crosses = req.side === 'buy' ? limit >= book.ask : limit <= book.bid;
      if (crosses)
        throw new OrderImmediatelyFillable(`post-only ${req.side} at ${limit} would take liquidity`);
    }

    const takerFills = tif === 'PO' ? [] : book.take(req.side, amount, limit, false);
    const takeable = sum(takerFills);
    if (tif === 'FOK' && takeable < amount - EPS) {
      return this.recordDeadOrder(req, m, tif, 'expired', now);
    }
    const rests = tif === 'GTC' || tif === 'PO';
    const restAmount = rests ? Math.max(0, amount - takeable) : 0;
    this.checkFunds(m, req, takerFills, restAmount, limit);

    const o: SimOrder = {
      id: String(this.nextOrderId++),
      clientOrderId: req.clientOrderId,
      symbol: m.symbol,
      side: req.side,
      type: req.type,
      timeInForce: tif,
      amount,
      filled: 0,
      remaining: amount,
      cost: 0,
      status: 'open',
      fee: { cost: 0, currency: m.settle ?? m.quote },
      trades: [],
      reduceOnly: req.reduceOnly ?? false,
      timestamp: now,
      lastUpdateTimestamp: now,
      reserved: 0,
      reservedAsset: '',
      queueAhead: 0,
      seq: this.seq++,
      ...(limit !== undefined ? { price: limit } : {}),
    };
    this.orders.set(o.id, o);
    this.byClientId.set(o.clientOrderId, o.id);

    if (takerFills.length > 0) {
      for (const f of book.take(req.side, amount, limit, true))
        this.fill(o, m, f.price, f.amount, 'taker', now);
    }
    if (o.remaining > EPS) {
      if (rests) this.rest(o, m, book);
      else o.status = 'expired';
    }
    this.emitOrder(o);
    return copyOrder(o);
  }

  cancelOrder(ref: OrderRef): Order {
    const o = this.findOrder(ref);
    if (!o) throw new OrderNotFound(`${this.name}: no order ${describeRef(ref)}`);
    if (o.status !== 'open')
      throw new OrderNotFound(`${this.name}: order ${describeRef(ref)} is ${o.status}`);
    o.status = 'canceled';
    o.lastUpdateTimestamp = this.clock.now();
    this.unrest(o);
    this.emitOrder(o);
    return copyOrder(o);
  }

  fetchOrder(ref: OrderRef): Order {
    const o = this.findOrder(ref);
    if (!o) throw new OrderNotFound(`${this.name}: no order ${describeRef(ref)}`);
    return copyOrder(o);
  }

  /**
   * Finished orders on `symbol` updated at or after `since`, newest first: the venue's order
   * history (Gate's `status=finished` list), which carries client ids where a lookup by id may not.
   */
  closedOrders(symbol: string, since = 0): Order[] {
    const out: Order[] = [];
    for (const o of this.orders.values())
      if (o.symbol === symbol && o.status !== 'open' && o.lastUpdateTimestamp >= since)
        out.push(copyOrder(o));
    return out.sort((a, b) => b.lastUpdateTimestamp - a.lastUpdateTimestamp || Number(b.id) - Number(a.id));
  }

  private reuseRefused(clientOrderId: string): boolean {
    const id = this.byClientId.get(clientOrderId);
    if (id === undefined) return false;
    const rule = this.clientIds.refusesReused;
    return rule === 'always' || (rule === 'while-open' && this.orders.get(id)?.status === 'open');
  }

  fetchOpenOrders(symbol?: string): Order[] {
    const out: Order[] = [];
    for (const [sym, list] of this.openBySymbol) {
      if (symbol !== undefined && sym !== symbol) continue;
      for (const o of list) out.push(copyOrder(o));
    }
    return out.sort((a, b) => Number(a.id) - Number(b.id));
  }

  /** Every order still retained, open or closed (tests and reconciliation). */
  allOrders(): Order[] {
    return [...this.orders.values()].map(copyOrder);
  }

  private findOrder(ref: OrderRef): SimOrder | undefined {
    if ('id' in ref) return this.orders.get(ref.id);
    const id = this.byClientId.get(ref.clientOrderId);
    const o = id === undefined ? undefined : this.orders.get(id);
    // A venue that finds orders by client id only while they rest.
    return o && (this.clientIds.findsFinished || o.status === 'open') ? o : undefined;
  }

  private recordDeadOrder(
    req: OrderRequest,
    m: Market,
    tif: TimeInForce,
    status: 'expired',
    now: number,
  ): Order {
    const o: SimOrder = {
      id: String(this.nextOrderId++),
      clientOrderId: req.clientOrderId,
      symbol: m.symbol,
      side: req.side,
      type: req.type,
      timeInForce: tif,
      amount: req.amount,
      filled: 0,
      remaining: req.amount,
      cost: 0,
      status,
      fee: { cost: 0, currency: m.settle ?? m.quote },
      trades: [],
      reduceOnly: req.reduceOnly ?? false,
      timestamp: now,
      lastUpdateTimestamp: now,
      reserved: 0,
      reservedAsset: '',
      queueAhead: 0,
      seq: this.seq++,
      ...(req.price !== undefined ? { price: req.price } : {}),
    };
    this.orders.set(o.id, o);
    this.byClientId.set(o.clientOrderId, o.id);
    this.emitOrder(o);
    return copyOrder(o);
  }

  /**
   * Refuse an order the account cannot pay for, before anything happens. Spot buys need the
   * quote for the taker part at the prices it would get plus the resting part at its limit,
   * fees included; spot sells need the base; derivatives need initial margin for the part that
   * opens or increases a position, checked against equity less margin already committed.
   */
  private checkFunds(
    m: Market,
    req: OrderRequest,
    takerFills: BookFill[],
    restAmount: number,
    limit?: number,
  ): void {
    if (!isDerivativeMarket(m)) {
      if (req.side === 'buy') {
        const feeRate = Math.max(m.taker, m.maker, 0);
        let need = 0;
        for (const f of takerFills) need += f.amount * f.price * (1 + m.taker);
        if (limit !== undefined) need += restAmount * limit * (1 + feeRate);
        const free = this.account.free(m.quote);
        if (need > free + 1e-9)
          throw new InsufficientFunds(
            `${this.name}: need ${need.toFixed(8)} ${m.quote}, free ${free.toFixed(8)}`,
          );
      } else {
        const free = this.account.free(m.base);
        const need = sum(takerFills) + restAmount;
        if (need > free + 1e-12)
          throw new InsufficientFunds(`${this.name}: need ${need} ${m.base}, free ${free}`);
      }
      return;
    }
    if (req.reduceOnly) return;
    const pos = this.account.positions.get(m.symbol)?.size ?? 0;
    const signed = req.side === 'buy' ? 1 : -1;
    const total = sum(takerFills) + restAmount;
    const closing = Math.sign(pos) === -signed ? Math.min(Math.abs(pos), total) : 0;
    const opening = total - closing;
    if (opening <= EPS) return;
    const px = limit ?? (takerFills[takerFills.length - 1]?.price || this.mark(m.symbol));
    if (!(px > 0))
      throw new InvalidOrder(`${this.name} ${m.symbol}: no price to margin the order against`, 'price');
    const need =
      (opening * m.contractSize * px) / this.account.leverage(m.symbol) +
      opening * m.contractSize * px * m.taker;
    const available = this.availableMargin(m.settle ?? m.quote);
    if (need > available + 1e-9)
      throw new InsufficientFunds(
        `${this.name}: margin needed ${need.toFixed(4)} ${m.settle}, available ${available.toFixed(4)}`,
      );
  }

  /** Settle-currency equity less initial margin of positions and open orders and spot reservations. */
  availableMargin(settle: string): number {
    let upnl = 0;
    let im = 0;
    for (const p of this.account.positions.values()) {
      if (p.size === 0) continue;
      const m = this.markets.get(p.symbol)!;
      if ((m.settle ?? m.quote) !== settle) continue;
      const mark = this.mark(p.symbol) || p.entryPrice;
      upnl += p.size * m.contractSize * (mark - p.entryPrice);
      im += (Math.abs(p.size) * m.contractSize * mark) / p.leverage;
    }
    for (const list of this.openBySymbol.values()) {
      for (const o of list) {
        const m = this.markets.get(o.symbol)!;
        if (!isDerivativeMarket(m) || o.reduceOnly || (m.settle ?? m.quote) !== settle) continue;
        im += (o.remaining * m.contractSize * (o.price ?? 0)) / this.account.leverage(o.symbol);
      }
    }
    return this.account.free(settle) + upnl - im;
  }

  private rest(o: SimOrder, m: Market, book: SimBook): void {
    if (!isDerivativeMarket(m)) {
      if (o.side === 'buy') {
        o.reservedAsset = m.quote;
        o.reserved = o.remaining * o.price! * (1 + Math.max(m.taker, m.maker, 0));
      } else {
        o.reservedAsset = m.base;
        o.reserved = o.remaining;
      }
      this.account.reserve(o.reservedAsset, o.reserved);
    }
    if (this.queueModel === 'queue') {
      const sameBest = o.side === 'buy' ? book.bid : book.ask;
      const sameSize = o.side === 'buy' ? book.bidSize : book.askSize;
      const better = o.side === 'buy' ? o.price! > sameBest : o.price! < sameBest;
      o.queueAhead = !(sameBest > 0) || better ? 0 : sameSize;
    }
    let list = this.openBySymbol.get(o.symbol);
    if (!list) {
      list = [];
      this.openBySymbol.set(o.symbol, list);
    }
    list.push(o);
  }

  private unrest(o: SimOrder): void {
    const list = this.openBySymbol.get(o.symbol);
    if (list) {
      const i = list.indexOf(o);
      if (i >= 0) list.splice(i, 1);
      if (list.length === 0) this.openBySymbol.delete(o.symbol);
    }
    if (o.reserved > 0) {
      this.account.release(o.reservedAsset, o.reserved);
      o.reserved = 0;
    }
  }

  /** Resting orders against a new book: best price first, then time priority. */
  private matchResting(book: SimBook, open: SimOrder[]): void {
    if (this.queueModel === 'queue') this.advanceQueues(book, open);
    const buys: SimOrder[] = [];
    const sells: SimOrder[] = [];
    for (const o of open) {
      if (o.side === 'buy') {
        if (book.ask > 0 && book.ask <= o.price!) buys.push(o);
      } else if (book.bid > 0 && book.bid >= o.price!) sells.push(o);
    }
    if (buys.length > 0)
      this.fillCrossing(
        book,
        buys.sort((a, b) => b.price! - a.price! || a.seq - b.seq),
      );
    if (sells.length > 0)
      this.fillCrossing(
        book,
        sells.sort((a, b) => a.price! - b.price! || a.seq - b.seq),
      );
  }

  private fillCrossing(book: SimBook, crossing: SimOrder[]): void {
    const m = this.markets.get(book.symbol)!;
    const now = this.clock.now();
    for (const o of crossing) {
      if (o.queueAhead > EPS) o.queueAhead -= book.consume(o.side, o.queueAhead, o.price!);
      if (o.queueAhead > EPS) continue;
      o.queueAhead = 0;
      let filled = 0;
      for (const f of book.take(o.side, o.remaining, o.price, true)) filled += f.amount;
      if (filled > EPS) {
        this.fill(o, m, o.price!, filled, 'maker', now);
        if (o.status === 'closed') this.unrest(o);
        this.emitOrder(o);
      }
    }
  }

  /**
   * Queue model: a shrinking displayed size at our price counts as trades ahead of us; a level
   * that disappeared without being crossed means everyone ahead of us has gone.
   */
  private advanceQueues(book: SimBook, open: SimOrder[]): void {
    for (const o of open) {
      if (o.queueAhead <= 0) continue;
      const best = o.side === 'buy' ? book.bid : book.ask;
      const prevBest = o.side === 'buy' ? book.prevBid : book.prevAsk;
      if (best === o.price && prevBest === o.price) {
        const before = o.side === 'buy' ? book.prevBidSize : book.prevAskSize;
        const after = o.side === 'buy' ? book.bidSize : book.askSize;
        if (after < before) o.queueAhead = Math.max(0, o.queueAhead - (before - after));
      } else {
        const levelGone = o.side === 'buy' ? best < o.price! : best > o.price!;
        const crossed = o.side === 'buy' ? book.ask <= o.price! : book.bid >= o.price!;
        // Gone without the opposite side reaching us: the orders ahead were cancelled or filled.
        // Gone because the opposite side reached us: the crossing volume is charged to the queue instead.
        if (levelGone && !crossed) o.queueAhead = 0;
      }
    }
  }

  private fill(
    o: SimOrder,
    m: Market,
    price: number,
    amount: number,
    role: 'taker' | 'maker',
    now: number,
  ): void {
    const cost = amount * price * m.contractSize;
    const rate = role === 'taker' ? m.taker : m.maker;
    const feeQuote = cost * rate;
    let fee: Fee = { cost: feeQuote, currency: m.settle ?? m.quote };
    if (isDerivativeMarket(m)) {
      this.account.applyDerivativeFill(m, o.side, amount, price, feeQuote);
    } else {
      fee = this.spotFee(m, o.side, amount, rate, feeQuote);
      if (o.reserved > 0) {
        const release =
          o.side === 'buy'
            ? Math.min(o.reserved, amount * o.price! * (1 + Math.max(m.taker, m.maker, 0)))
            : Math.min(o.reserved, amount);
        this.account.release(o.reservedAsset, release);
        o.reserved -= release;
      }
      this.account.applySpotFill(m, o.side, amount, price, fee);
    }
    const t: Fill = {
      id: `${this.name}-${this.nextTradeId++}`,
      orderId: o.id,
      clientOrderId: o.clientOrderId,
      symbol: o.symbol,
      side: o.side,
      price,
      amount,
      cost,
      fee,
      takerOrMaker: role,
      timestamp: now,
    };
    o.trades.push(t);
    o.filled += amount;
    o.remaining = Math.max(0, o.amount - o.filled);
    if (o.remaining < m.precision.amount / 2) o.remaining = 0;
    o.cost += cost;
    o.average = o.cost / (o.filled * m.contractSize);
    // The order's fee is its fills' worth in quote, whatever each was charged in.
    o.fee.cost += feeQuote;
    o.lastUpdateTimestamp = now;
    if (o.remaining === 0) o.status = 'closed';
  }

  /**
   * A spot fill's fee as the venue charges it (`Market.feeCurrency`): in the quote, in the asset
   * received, or in a third asset at its current price — falling back to the asset received
   * when the account holds too little of it, as Binance does with BNB.
   */
  private spotFee(m: Market, side: Side, amount: number, rate: number, feeQuote: number): Fee {
    const mode = m.feeCurrency ?? 'quote';
    if (typeof mode === 'object') {
      const px = this.assetPrice(mode.asset, m.quote);
      const cost = px > 0 ? feeQuote / px : Number.POSITIVE_INFINITY;
      if (cost <= this.account.free(mode.asset) + 1e-12)
        return { cost, currency: mode.asset, quoteCost: feeQuote };
    } else if (mode === 'quote') return { cost: feeQuote, currency: m.quote };
    return side === 'buy' ? { cost: amount * rate, currency: m.base } : { cost: feeQuote, currency: m.quote };
  }

  /** An asset's price in `currency`: its book's mid on this venue, else the configured price. */
  assetPrice(asset: string, currency: string): number {
    if (asset === currency) return 1;
    return this.mark(`${asset}/${currency}`) || (this.assetPrices[asset] ?? 0);
  }

  // ---------------------------------------------------------------- derivatives: funding, expiry, liquidation

  private scheduleDerivativeEvents(symbol: string): void {
    this.scheduled.add(symbol);
    const m = this.markets.get(symbol)!;
    if (m.type === 'swap') {
      const now = this.clock.now();
      const next = Math.floor(now / this.fundingIntervalMs) * this.fundingIntervalMs + this.fundingIntervalMs;
      this.at(next, () => this.payFunding(m, next));
    } else if (m.type === 'future' && m.expiry !== undefined) {
      this.at(m.expiry, () => this.settleExpiry(m));
    }
  }

  private at(ts: number, fn: () => void): void {
    const h = this.clock.setTimeout(
      () => {
        this.timers.delete(h);
        fn();
      },
      Math.max(0, ts - this.clock.now()),
    );
    this.timers.add(h);
  }

  private payFunding(m: Market, ts: number): void {
    const mark = this.mark(m.symbol);
    // The rate announced for this settlement; else the latest known (a feed without settlement times).
    const byTs = this.ratesForSettlement.get(m.symbol);
    const rate = byTs?.get(ts) ?? this.currentFundingRate(m.symbol).rate;
    if (byTs) for (const t of byTs.keys()) if (t <= ts) byTs.delete(t);
    if (mark > 0) {
      const received = this.account.applyFunding(m, rate, mark);
      if (received !== 0) {
        const id = `${this.name}-F${m.symbol}-${ts}`;
        this.fundingHistory.push({
          id,
          symbol: m.symbol,
          amount: received,
          rate,
          timestamp: ts,
        });
        if (this.fundingHistory.length > 10_000) this.fundingHistory.splice(0, 5_000);
        this.emitEvent({
          type: 'funding',
          id,
          symbol: m.symbol,
          rate,
          markPrice: mark,
          received,
          timestamp: ts,
        });
      }
    }
    const next = ts + this.fundingIntervalMs;
    this.at(next, () => this.payFunding(m, next));
  }

  private settleExpiry(m: Market): void {
    const price = this.mark(m.symbol);
    for (const o of [...(this.openBySymbol.get(m.symbol) ?? [])]) {
      o.status = 'expired';
      o.lastUpdateTimestamp = this.clock.now();
      this.unrest(o);
      this.emitOrder(o);
    }
    if (price > 0) {
      const realized = this.account.settlePosition(m, price);
      this.emitEvent({
        type: 'settlement',
        symbol: m.symbol,
        price,
        realizedPnl: realized,
        timestamp: this.clock.now(),
      });
    }
  }

  /**
   * The account's margin in the settle currency: the settle wallet less what resting spot buys
   * reserve, plus every other holding at its mark less its haircut (a unified account: the spot
   * leg of a basis trade backs its perp).
   */
  private collateral(settle: string): number {
    const balances = this.account.balanceView();
    let c = (balances[settle]?.total ?? 0) - (balances[settle]?.used ?? 0);
    if (this.haircuts === false) return c;
    for (const [asset, b] of Object.entries(balances)) {
      if (asset === settle) continue;
      const held = b.total - b.used;
      if (held <= 0) continue;
      const haircut = this.haircuts[asset] ?? this.haircuts.default ?? 0.1;
      c += held * this.assetPrice(asset, settle) * (1 - haircut);
    }
    return c;
  }

  /**
   * Cross-margin liquidation: when the collateral plus unrealized PnL falls below the positions'
   * maintenance margin, every position in that currency is closed at the book.
   */
  private checkLiquidation(trigger: Market): void {
    const settle = trigger.settle ?? trigger.quote;
    let upnl = 0;
    let maint = 0;
    for (const p of this.account.positions.values()) {
      if (p.size === 0) continue;
      const m = this.markets.get(p.symbol)!;
      if ((m.settle ?? m.quote) !== settle) continue;
      const mark = this.mark(p.symbol) || p.entryPrice;
      upnl += p.size * m.contractSize * (mark - p.entryPrice);
      maint += Math.abs(p.size) * m.contractSize * mark * (m.maintenanceMarginRate ?? 0.005);
    }
    if (this.collateral(settle) + upnl >= maint) return;
    const now = this.clock.now();
    for (const p of [...this.account.positions.values()]) {
      if (p.size === 0) continue;
      const m = this.markets.get(p.symbol)!;
      if ((m.settle ?? m.quote) !== settle) continue;
      for (const o of [...(this.openBySymbol.get(m.symbol) ?? [])]) {
        o.status = 'canceled';
        o.lastUpdateTimestamp = now;
        this.unrest(o);
        this.emitOrder(o);
      }
      const book = this.books.get(p.symbol)!;
      const price = p.size > 0 ? book.bid : book.ask;
      // The liquidation fee: the taker rate on the closed notional, in the settle currency.
      this.closeByVenue('liquidation', m, p.size, price > 0 ? price : this.mark(p.symbol), m.taker);
    }
  }

  /**
   * Auto-deleveraging: the venue closes (part of) a profitable position against a liquidated
   * counterparty its insurance fund could not cover — at the mark, without a fee. Nothing in a
   * single account's own numbers triggers it, so a test (or a scenario) calls it. `fraction` of
   * the position (on the amount step); returns the size closed (0: no position).
   */
  autoDeleverage(symbol: string, fraction = 1): number {
    const m = this.marketOrThrow(symbol);
    const p = this.account.positions.get(symbol);
    if (!isDerivativeMarket(m) || !p || p.size === 0) return 0;
    const part = Math.abs(p.size) * Math.min(1, Math.max(0, fraction));
    const size = Math.sign(p.size) * roundToStep(part, m.precision.amount, 'floor');
    if (size === 0) return 0;
    this.closeByVenue('adl', m, size, this.mark(symbol) || p.entryPrice, 0);
    return size;
  }

  /** A position the venue closes itself: booked as a trade of the account and pushed. */
  private closeByVenue(
    type: 'liquidation' | 'adl',
    m: Market,
    size: number,
    price: number,
    feeRate: number,
  ): void {
    const now = this.clock.now();
    const amount = Math.abs(size);
    const side = size > 0 ? 'sell' : 'buy';
    const cost = amount * m.contractSize * price;
    const fee = { currency: m.settle ?? m.quote, cost: cost * feeRate };
    this.account.applyDerivativeFill(m, side, amount, price, fee.cost);
    const id = `${this.name}-${this.nextTradeId++}`;
    const fill: Fill = {
      id,
      orderId: `${type}-${id}`,
      clientOrderId: '',
      symbol: m.symbol,
      side,
      price,
      amount,
      cost,
      fee,
      takerOrMaker: 'taker',
      timestamp: now,
    };
    this.closesByVenue.push({ type, symbol: m.symbol, size, price, fill, timestamp: now });
    if (this.closesByVenue.length > 10_000) this.closesByVenue.splice(0, 5_000);
    this.emitEvent({ type, symbol: m.symbol, size, price, fill, timestamp: now });
  }

  // ---------------------------------------------------------------- queries

  market(symbol: string): Market {
    return this.marketOrThrow(symbol);
  }

  listMarkets(): Market[] {
    return [...this.markets.values()];
  }

  ticker(symbol: string): BookTicker | undefined {
    const b = this.books.get(symbol);
    return b?.hasQuote() ? b.ticker() : undefined;
  }

  /** Mark price: mid of the book (0 when no quote yet). */
  mark(symbol: string): number {
    const b = this.books.get(symbol);
    return b?.hasQuote() ? b.mid() : 0;
  }

  balances(): Balances {
    return this.account.balanceView();
  }

  positions(symbols?: string[]): Position[] {
    const now = this.clock.now();
    const out: Position[] = [];
    for (const p of this.account.positions.values()) {
      if (symbols && !symbols.includes(p.symbol)) continue;
      if (p.size === 0 && !symbols) continue;
      const m = this.markets.get(p.symbol)!;
      out.push(this.account.positionView(m, this.mark(p.symbol) || p.entryPrice, now));
    }
    return out;
  }

  fundingRate(symbol: string): FundingRate {
    const m = this.marketOrThrow(symbol);
    if (m.type !== 'swap') throw new InvalidOrder(`${symbol} is not a perpetual`, 'symbol');
    return this.currentFundingRate(symbol);
  }

  private currentFundingRate(symbol: string): FundingRate {
    const now = this.clock.now();
    const next = Math.floor(now / this.fundingIntervalMs) * this.fundingIntervalMs + this.fundingIntervalMs;
    const f = this.fundingRates.get(symbol);
    return {
      symbol,
      rate: f?.rate ?? this.defaultFundingRate,
      nextFundingTimestamp: next,
      intervalMs: this.fundingIntervalMs,
      markPrice: this.mark(symbol),
      timestamp: f?.timestamp ?? now,
    };
  }

  /** The liquidations and auto-deleveragings of `symbol` since `since`, oldest first. */
  venueCloses(symbol: string, since = 0): VenueCloseRecord[] {
    return this.closesByVenue
      .filter((c) => c.symbol === symbol && c.timestamp >= since)
      .map((c) => ({ ...c, fill: { ...c.fill, fee: { ...c.fill.fee } } }));
  }

  fundingPayments(symbol: string, since = 0): FundingPayment[] {
    return this.fundingHistory
      .filter((p) => p.symbol === symbol && p.timestamp >= since)
      .map((p) => ({ ...p }));
  }

  setLeverage(symbol: string, leverage: number): void {
    const m = this.marketOrThrow(symbol);
    const max = m.limits.leverage?.max ?? 1;
    if (!isDerivativeMarket(m) || !(leverage >= 1 && leverage <= max))
      throw new InvalidOrder(
        `leverage for ${symbol} must be between 1 and ${max}, got ${leverage}`,
        'leverage',
      );
    this.account.setLeverage(symbol, leverage);
  }

  /**
   * Account equity in `currency` valuing every other asset at its `X/currency` mid and adding
   * derivative unrealized PnL: the figure a strategy's reported PnL must reconcile with.
   * `markOf` overrides the mark of a symbol (a strategy's valuation marks).
   */
  equity(currency = 'USDT', markOf?: (symbol: string) => number | undefined): number {
    let eq = 0;
    for (const [asset, b] of Object.entries(this.account.balanceView()))
      if (b.total !== 0) eq += b.total * this.valueOf(asset, currency, markOf);
    for (const p of this.account.positions.values()) {
      if (p.size === 0) continue;
      const m = this.markets.get(p.symbol)!;
      if ((m.settle ?? m.quote) !== currency) continue;
      const mark = markOf?.(p.symbol) ?? (this.mark(p.symbol) || p.entryPrice);
      eq += p.size * m.contractSize * (mark - p.entryPrice);
    }
    return eq;
  }

  /** One unit of `asset` in `currency`: at `markOf(ASSET/CURRENCY)` when given, else its price here. */
  valueOf(asset: string, currency: string, markOf?: (symbol: string) => number | undefined): number {
    if (asset === currency) return 1;
    return markOf?.(`${asset}/${currency}`) ?? this.assetPrice(asset, currency);
  }

  private marketOrThrow(symbol: string): Market {
    const m = this.markets.get(symbol);
    if (!m) throw new InvalidOrder(`${this.name} has no market ${symbol}`, 'symbol');
    return m;
  }

  // ---------------------------------------------------------------- listeners

  subscribeBook(symbol: string, l: (t: BookTicker) => void): () => void {
    this.marketOrThrow(symbol);
    let set = this.bookListeners.get(symbol);
    if (!set) {
      set = new Set();
      this.bookListeners.set(symbol, set);
    }
    set.add(l);
    return () => set.delete(l);
  }

  subscribeDepth(symbol: string, l: (b: OrderBook) => void): () => void {
    this.marketOrThrow(symbol);
    let set = this.depthListeners.get(symbol);
    if (!set) {
      set = new Set();
      this.depthListeners.set(symbol, set);
    }
    set.add(l);
    return () => set.delete(l);
  }

  subscribeOrders(l: (o: Order) => void): () => void {
    this.orderListeners.add(l);
    return () => this.orderListeners.delete(l);
  }

  subscribeEvents(l: (e: VenueEvent) => void): () => void {
    this.eventListeners.add(l);
    return () => this.eventListeners.delete(l);
  }

  private emitOrder(o: SimOrder): void {
    if (this.orderListeners.size === 0) return;
    const c = copyOrder(o);
    for (const l of this.orderListeners) l(c);
  }

  private emitEvent(e: VenueEvent): void {
    for (const l of this.eventListeners) l(e);
  }

  /** Drop closed orders past retention; their client ids become free again, as on real venues. */
  private pruneClosed(now: number): void {
    if (now - this.lastPrune < 60_000) return;
    this.lastPrune = now;
    for (const [id, o] of this.orders) {
      if (o.status !== 'open' && now - o.lastUpdateTimestamp > this.retentionMs) {
        this.orders.delete(id);
        this.byClientId.delete(o.clientOrderId);
      }
    }
  }

  // ---------------------------------------------------------------- save / load

  /** Everything needed to resume paper trading after a restart (timers are re-armed on the next quote). */
  toState(): SimVenueState {
    return {
      version: 1,
      name: this.name,
      savedAt: this.clock.now(),
      account: this.account.toState(),
      orders: [...this.orders.values()].map(copyOrder),
      openQueue: Object.fromEntries(
        [...this.orders.values()].filter((o) => o.status === 'open').map((o) => [o.id, o.queueAhead]),
      ),
      nextOrderId: this.nextOrderId,
      nextTradeId: this.nextTradeId,
      books: [...this.books.values()].filter((b) => b.hasQuote()).map((b) => b.ticker()),
      funding: [...this.fundingRates.values()],
      fundingHistory: this.fundingHistory.map((p) => ({ ...p })),
      venueCloses: this.closesByVenue.map((c) => ({ ...c })),
    };
  }

  /** Restore a saved state into this (freshly constructed) venue. */
  loadState(s: SimVenueState): void {
    if (s.version !== 1) throw new Error(`venue state version ${String(s.version)} is not supported`);
    if (s.name !== this.name) throw new Error(`venue state is for ${s.name}, not ${this.name}`);
    if (this.orders.size > 0) throw new Error('loadState needs a fresh venue');
    this.acct = SimAccount.fromState(s.account);
    this.nextOrderId = s.nextOrderId;
    this.nextTradeId = s.nextTradeId;
    for (const b of s.books) this.books.get(b.symbol)?.applyTicker(b);
    for (const f of s.funding) this.fundingRates.set(f.symbol, f);
    for (const p of s.fundingHistory ?? []) this.fundingHistory.push({ ...p });
    for (const c of s.venueCloses ?? []) this.closesByVenue.push({ ...c });
    for (const saved of s.orders) {
      const m = this.markets.get(saved.symbol);
      if (!m) throw new Error(`venue state has an order on unknown market ${saved.symbol}`);
      const o: SimOrder = {
        ...saved,
        fee: { ...saved.fee },
        trades: saved.trades.map((t) => ({ ...t, fee: { ...t.fee } })),
        reserved: 0,
        reservedAsset: '',
        queueAhead: s.openQueue[saved.id] ?? 0,
        seq: this.seq++,
      };
      this.orders.set(o.id, o);
      this.byClientId.set(o.clientOrderId, o.id);
      if (o.status === 'open') {
        // Reservations are part of the saved balances' `used`; re-derive the per-order share.
        if (!isDerivativeMarket(m)) {
          o.reservedAsset = o.side === 'buy' ? m.quote : m.base;
          o.reserved =
            o.side === 'buy' ? o.remaining * o.price! * (1 + Math.max(m.taker, m.maker, 0)) : o.remaining;
        }
        let list = this.openBySymbol.get(o.symbol);
        if (!list) {
          list = [];
          this.openBySymbol.set(o.symbol, list);
        }
        list.push(o);
      }
    }
  }

  /** Cancel pending funding/expiry timers (on shutdown). */
  dispose(): void {
    for (const h of this.timers) this.clock.clearTimeout(h);
    this.timers.clear();
    this.scheduled.clear();
  }
}

function sum(fills: BookFill[]): number {
  let s = 0;
  for (const f of fills) s += f.amount;
  return s;
}

function describeRef(ref: OrderRef): string {
  return 'id' in ref ? `id ${ref.id}` : `clientOrderId ${ref.clientOrderId}`;
}

function copyOrder(o: Order): Order {
  const c: Order = {
    id: o.id,
    clientOrderId: o.clientOrderId,
    symbol: o.symbol,
    side: o.side,
    type: o.type,
    timeInForce: o.timeInForce,
    amount: o.amount,
    filled: o.filled,
    remaining: o.remaining,
    cost: o.cost,
    status: o.status,
    fee: { ...o.fee },
    trades: o.trades.map((t) => ({ ...t, fee: { ...t.fee } })),
    reduceOnly: o.reduceOnly,
    timestamp: o.timestamp,
    lastUpdateTimestamp: o.lastUpdateTimestamp,
  };
  if (o.price !== undefined) c.price = o.price;
  if (o.average !== undefined) c.average = o.average;
  return c;
}

export type { Side };
