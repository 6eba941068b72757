import type { BookTicker, FundingRate } from '../domain/index.ts';

/** A top-of-book update from one venue. `timestamp` is the venue time in epoch ms. */
export interface QuoteEvent extends BookTicker {
  kind: 'quote';
  venue: string;
}

/** A published funding rate for a perpetual. */
export interface FundingEvent extends FundingRate {
  kind: 'funding';
  venue: string;
}

export type MarketEvent = QuoteEvent | FundingEvent;

/**
 * A time-ordered market-data stream, consumed in batches: one await per few thousand events
 * instead of one per event keeps a replay's cost in the strategies, not in the plumbing.
 */
export interface MarketDataSource {
  batches(): AsyncIterable<MarketEvent[]>;
}
