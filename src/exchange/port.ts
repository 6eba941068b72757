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
  /** Places an order. The request must carry a clientOrderId; on an outcome-unknown error, ask fetchOrder. */
  createOrder(req: OrderRequest): Promise<Order>;
  cancelOrder(ref: OrderRef, symbol: string): Promise<Order>;
  fetchOrder(ref: OrderRef, symbol: string): Promise<Order>;
  fetchOpenOrders(symbol?: string): Promise<Order[]>;
  /** Every change to any order of this account (fills, cancels, expiries). */
  watchOrders(sink: StreamSink<Order>): Subscription;
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
