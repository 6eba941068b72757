import type {
  AccountEvent,
  Balances,
  BookTicker,
  ExchangeError,
  FundingPayment,
  FundingRate,
  Market,
  Order,
  OrderBook,
  OrderRef,
  OrderRequest,
  Position,
} from '../domain/index.ts';

export {
  DuplicateClientOrderId,
  ExchangeError,
  ExchangeNotAvailable,
  InsufficientFunds,
  InvalidOrder,
  NetworkError,
  OrderImmediatelyFillable,
  OrderNotFound,
  RateLimitExceeded,
  RequestTimeout,
} from '../domain/errors.ts';

/**
 * Receives a stream's updates. After `error` the subscription is over (the stream dropped):
 * the consumer resubscribes and reconciles with REST, since updates during the gap are lost.
 */
export interface StreamSink<T> {
  data(value: T): void;
  error?(e: ExchangeError): void;
}

export interface Subscription {
  close(): void;
}

/**
 * What a venue's API guarantees about client order ids, written once per venue (the ccxt
 * adapter's capability map, the simulated venue's rules) and consulted wherever an order's fate
 * is decided from what the venue said.
 */
export interface VenueCapabilities {
  /**
   * Whether the venue refuses a new order under a client id another order already had: 'always';
   * 'while-open' (only while that order rests: Binance); 'never' (Gate's `text`). Re-sending an
   * order that is not found is safe at once only under 'always' — elsewhere a first request that
   * lands late, or that filled and is no longer findable, makes two orders.
   */
  refusesReusedClientId: 'always' | 'while-open' | 'never';
  /**
   * How long after it left a request can still reach the venue and be accepted, ms (the venue's
   * receive window and the client's own timeout): after that, "not found" means never placed.
   */
  landingWindowMs: number;
}

export interface SendOptions {
  /**
   * Aborted when the placing strategy stopped (a crash, a lost lease, a stop): an adapter that
   * waits before the request leaves (a rate budget, a price to size by) sends nothing after it.
   */
  signal?: AbortSignal;
}

/** Assumed of a client that does not say: reused ids accepted, a minute for a request to land. */
export const CAUTIOUS_VENUE: VenueCapabilities = { refusesReusedClientId: 'never', landingWindowMs: 60_000 };

export function capabilitiesOf(client: ExchangeClient): VenueCapabilities {
  return client.capabilities ?? CAUTIOUS_VENUE;
}

/** When a request that left at `sentAt` can no longer land at this venue: "not found" asked later proves it absent. */
export function landingEndsAt(client: ExchangeClient, sentAt: number): number {
  return sentAt + capabilitiesOf(client).landingWindowMs;
}

/**
 * One venue account. Every adapter (simulated, remote simulated, ccxt) implements this, and
 * every actor that touches an exchange goes through it.
 *
 * Streams are callback based rather than ccxt-style `await watchX()` loops: a backtest pushes
 * a million quotes per second through them, and a callback costs a call where a promise per
 * update costs an allocation and a microtask.
 */
export interface ExchangeClient {
  readonly venue: string;
  loadMarkets(reload?: boolean): Promise<Record<string, Market>>;
  /** Markets loaded by loadMarkets; throws for an unknown symbol. */
  market(symbol: string): Market;
  watchBookTicker(symbol: string, sink: StreamSink<BookTicker>): Subscription;
  watchOrderBook?(symbol: string, sink: StreamSink<OrderBook>, depth?: number): Subscription;
  /** What the venue's API guarantees about ids and answers (absent: the cautious CAUTIOUS_VENUE). */
  readonly capabilities?: VenueCapabilities;
  /**
   * Places an order. The request must carry a clientOrderId; on an outcome-unknown error, ask
   * fetchOrder. The answer carries the order's state: an adapter over a venue that answers with
   * ids only fetches it before answering.
   */
  createOrder(req: OrderRequest, opts?: SendOptions): Promise<Order>;
  cancelOrder(ref: OrderRef, symbol: string): Promise<Order>;
  /**
   * The order, open or finished. By client id it finds every order the venue accepted under the
   * id and still keeps: an adapter over a venue whose lookup forgets finished orders searches the
   * order history for the id itself. OrderNotFound then means the venue has no such order.
   */
  fetchOrder(ref: OrderRef, symbol: string): Promise<Order>;
  fetchOpenOrders(symbol?: string): Promise<Order[]>;
  /**
   * Every change to any order of this account (fills, cancels, expiries); with `stream` (one of
   * `orderStreamOf`'s answers) the orders of that stream only, whose failure is that stream's alone.
   */
  watchOrders(sink: StreamSink<Order>, stream?: string): Subscription;
  /**
   * Which of the venue's order streams carries `symbol`'s orders, where it has one per market
   * type (ccxt: spot, swap); absent, one stream carries them all.
   */
  orderStreamOf?(symbol: string): string;
  /**
   * Funding payments as they settle and positions the venue closed itself, pushed on the
   * account's private stream. Venues without such a push omit it (funding is then polled).
   */
  watchAccountEvents?(sink: StreamSink<AccountEvent>): Subscription;
  fetchBalance(): Promise<Balances>;
  fetchPositions(symbols?: string[]): Promise<Position[]>;
  fetchFundingRate(symbol: string): Promise<FundingRate>;
  /**
   * Positions on `symbol` the venue closed itself (liquidations, auto-deleveraging) since `since`,
   * oldest first: what a dropped account push missed. Venues that cannot list them omit it (the
   * engine's position check then finds the difference).
   */
  fetchVenueCloses?(
    symbol: string,
    since?: number,
  ): Promise<Extract<AccountEvent, { type: 'liquidation' | 'adl' }>[]>;
  /** Funding payments of this account on `symbol` since `since` (epoch ms), oldest first. */
  fetchFundingHistory(symbol: string, since?: number): Promise<FundingPayment[]>;
  /** Leverage for a derivative symbol (venues without per-symbol leverage omit it). */
  setLeverage?(symbol: string, leverage: number): Promise<void>;
  close(): Promise<void>;
}
