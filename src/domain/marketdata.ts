import type { Fill } from './order.ts';

/** Top of book. Sizes in the market's amount unit (base or contracts). */
export interface BookTicker {
  symbol: string;
  bid: number;
  bidSize: number;
  ask: number;
  askSize: number;
  /** Venue time of the quote, epoch ms. */
  timestamp: number;
}

export type PriceLevel = [price: number, size: number];

export interface OrderBook {
  symbol: string;
  /** Best first. */
  bids: PriceLevel[];
  asks: PriceLevel[];
  timestamp: number;
}

export interface FundingRate {
  symbol: string;
  /** Rate for the coming interval as a fraction; > 0 means longs pay shorts. */
  rate: number;
  nextFundingTimestamp: number;
  intervalMs: number;
  markPrice?: number;
  timestamp: number;
}

/** One funding exchange on the account: received (> 0) or paid (< 0), settle currency. */
export interface FundingPayment {
  id: string;
  symbol: string;
  amount: number;
  rate: number;
  timestamp: number;
}

/**
 * What a venue pushes about the account besides orders: a funding payment the moment it is
 * settled, and a position closed by the venue itself (liquidation, auto-deleveraging).
 */
export type AccountEvent =
  | { type: 'funding'; payment: FundingPayment }
  | {
      type: 'liquidation' | 'adl';
      symbol: string;
      /** The position the venue closed (signed, market units) and at what price. */
      size: number;
      price: number;
      /** The close as a trade of the account, fee included, when the venue reports one. */
      fill?: Fill;
      timestamp: number;
    };

export function mid(t: Pick<BookTicker, 'bid' | 'ask'>): number {
  return (t.bid + t.ask) / 2;
}

/** Size-weighted micro-price: leans toward the side with less displayed size. */
export function microPrice(t: BookTicker): number {
  const w = t.bidSize + t.askSize;
  return w > 0 ? (t.bid * t.askSize + t.ask * t.bidSize) / w : mid(t);
}

export function spreadBps(t: Pick<BookTicker, 'bid' | 'ask'>): number {
  return ((t.ask - t.bid) / mid(t)) * 1e4;
}
