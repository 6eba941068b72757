/**
 * Actor contracts: what the machines ask of the outside world, as types only. The engine
 * provides implementations (src/actors) through `machine.provide({ actors })`; tests provide
 * their own. Nothing here touches an exchange, a store, a logger or a clock.
 */
import type { BookTicker, Fill, Order, OrderRequest } from '../src/domain/index.ts';

/** Place an order idempotently: if the venue already knows the clientOrderId, return that order. */
export interface PlaceOrderInput {
  venue: string;
  request: OrderRequest;
}

export interface CancelOrderInput {
  venue: string;
  symbol: string;
  clientOrderId: string;
}

/** Ask the venue for an order by client id; resolves null when the venue has no such order. */
export interface QueryOrderInput {
  venue: string;
  symbol: string;
  clientOrderId: string;
}

/** Stream updates of one order (and poll it while the stream is down). Sends ORDER.UPDATE. */
export interface WatchOrderInput {
  venue: string;
  symbol: string;
  clientOrderId: string;
}

/** Stream top of book for one instrument. Sends QUOTE, FEED.DOWN, FEED.UP. */
export interface WatchQuotesInput {
  venue: string;
  symbol: string;
}

/**
 * Stream funding rates and funding payments of a perpetual (pushed when the venue pushes, polled
 * as the fallback), and positions the venue closed itself. Sends FUNDING.RATE, FUNDING.PAYMENT,
 * ATTENTION.
 */
export interface WatchFundingInput {
  venue: string;
  symbol: string;
}

/** Balances of one venue account. */
export interface FetchBalanceInput {
  venue: string;
}

/** Send TIME.TICK every `everyMs` of actor-system time. */
export interface ClockTickInput {
  everyMs: number;
}

/** Wait `ms` of actor-system time, then resolve. Relative: restarted in full after a restore. */
export interface WaitInput {
  ms: number;
}

/** Serializable form of an error, for context and snapshots. */
export interface ErrorInfo {
  name: string;
  message: string;
  retryable: boolean;
  outcomeUnknown: boolean;
}

/** A strategy's own verdict (not an exchange error): final, nothing to retry. */
export function failure(name: string, message: string): ErrorInfo {
  return { name, message, retryable: false, outcomeUnknown: false };
}

export function toErrorInfo(e: unknown): ErrorInfo {
  const x = e as Partial<ErrorInfo> & { name?: string; message?: string };
  return {
    name: typeof x?.name === 'string' ? x.name : 'Error',
    message: typeof x?.message === 'string' ? x.message : String(e),
    retryable: x?.retryable === true,
    outcomeUnknown: x?.outcomeUnknown === true,
  };
}

export interface QuoteEvent extends BookTicker {
  type: 'QUOTE';
  venue: string;
  /** Actor-system time at which the quote reached the strategy. */
  receivedAt: number;
}

/**
 * Several legs' latest quotes at once, in arrival order: what a quote gate sends when the machine
 * needs the current book on every leg evaluated together, as a machine fed every quote would
 * have it at the moment of the last one.
 */
export interface QuoteBatchEvent {
  type: 'QUOTES';
  quotes: QuoteEvent[];
}

export interface FeedStatusEvent {
  type: 'FEED.DOWN' | 'FEED.UP';
  venue: string;
  symbol: string;
  at: number;
}

export interface OrderUpdateEvent {
  type: 'ORDER.UPDATE';
  order: Order;
}

export interface FundingRateEvent {
  type: 'FUNDING.RATE';
  venue: string;
  symbol: string;
  rate: number;
  nextFundingTimestamp: number;
  at: number;
}

export interface FundingPaymentEvent {
  type: 'FUNDING.PAYMENT';
  venue: string;
  symbol: string;
  /** Received (> 0) or paid (< 0), settle currency. */
  amount: number;
  /** Venue's id of the payment, for de-duplication across restarts. */
  id: string;
  timestamp: number;
}

export interface TimeTickEvent {
  type: 'TIME.TICK';
  now: number;
}

/**
 * The venue closed a position itself (liquidation, auto-deleveraging): the strategy's books no
 * longer say what it holds. Sent by watchFunding from the venue's account push.
 */
export interface VenueClosedPositionEvent {
  type: 'ATTENTION';
  reason: string;
  legs: { venue: string; symbol: string; position: number }[];
  /** The venue's own close as a trade: the owning leg books it (once, by its fill id). */
  closed?: { venue: string; fill: Fill };
}

export type MarketEvent =
  | QuoteEvent
  | VenueClosedPositionEvent
  | QuoteBatchEvent
  | FeedStatusEvent
  | FundingRateEvent
  | FundingPaymentEvent
  | TimeTickEvent;
