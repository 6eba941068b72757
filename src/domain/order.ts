export type Side = 'buy' | 'sell';
export type OrderType = 'market' | 'limit';
/** GTC rests; IOC takes what it can and cancels the rest; FOK fills fully or not at all; PO = post-only. */
export type TimeInForce = 'GTC' | 'IOC' | 'FOK' | 'PO';
/** ccxt's order statuses. `closed` = fully filled. */
export type OrderStatus = 'open' | 'closed' | 'canceled' | 'expired' | 'rejected';

export interface OrderRequest {
  symbol: string;
  side: Side;
  type: OrderType;
  amount: number;
  price?: number;
  timeInForce?: TimeInForce;
  /** Deterministic id chosen by the caller; the key for idempotent placement. */
  clientOrderId: string;
  reduceOnly?: boolean;
}

export interface Fee {
  cost: number;
  currency: string;
  /**
   * The fee's worth in the market's quote (settle) currency at the fill, when it is charged in a
   * third asset (BNB): set by whoever knows that asset's price — the simulated venue, or the
   * engine's fee valuer for a live venue. Absent for fees in the base or quote currency.
   */
  quoteCost?: number;
}

export interface Fill {
  id: string;
  orderId: string;
  clientOrderId: string;
  symbol: string;
  side: Side;
  price: number;
  amount: number;
  /** amount × price × contractSize */
  cost: number;
  fee: Fee;
  takerOrMaker: 'taker' | 'maker';
  timestamp: number;
}

export interface Order {
  id: string;
  clientOrderId: string;
  symbol: string;
  side: Side;
  type: OrderType;
  timeInForce: TimeInForce;
  price?: number;
  amount: number;
  filled: number;
  remaining: number;
  /** Filled notional in quote currency. */
  cost: number;
  average?: number;
  status: OrderStatus;
  fee: Fee;
  /**
   * Every fill of `filled`: adapters read the trade history until the fills cover it (a fill
   * the books cannot see makes the order's outcome unknown to the hedged pair).
   */
  trades: Fill[];
  reduceOnly: boolean;
  timestamp: number;
  lastUpdateTimestamp: number;
}

/**
 * An order by the venue's id, or by our client id — with, where known, a time it was placed no
 * earlier than (when its intent was journalled): how far back a venue's history must be searched.
 */
export type OrderRef = { id: string } | { clientOrderId: string; placedAfter?: number };

export function oppositeSide(s: Side): Side {
  return s === 'buy' ? 'sell' : 'buy';
}

/** +1 for buy, −1 for sell. */
export function sideSign(s: Side): 1 | -1 {
  return s === 'buy' ? 1 : -1;
}

/** Portable client order id: 1–26 letters/digits, not starting with 't' (Gate reserves 't-'). */
export const CLIENT_ORDER_ID_RE = /^(?![tT])[A-Za-z0-9]{1,26}$/;

export function isPortableClientOrderId(id: string): boolean {
  return CLIENT_ORDER_ID_RE.test(id);
}
