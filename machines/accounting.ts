/**
 * Per-leg position accounting from fills, average-cost: the same rules as the venues, so a
 * strategy's reported PnL reconciles with the account's equity change to the last fee.
 * Everything is plain data, JSON-serialisable, so it lives in machine context and snapshots.
 */
import type { Fill, Order } from '../src/domain/index.ts';

export interface LegBook {
  venue: string;
  symbol: string;
  contractSize: number;
  /** Signed position in base units. */
  position: number;
  /** Average entry price of the open position. */
  entryPrice: number;
  realizedPnl: number;
  fees: number;
  funding: number;
  /** Traded notional, quote currency. */
  volume: number;
  /** Fill ids already applied (bounded), so a replayed update never double counts. */
  seenFills: string[];
}

export function newLeg(venue: string, symbol: string, contractSize = 1): LegBook {
  return {
    venue,
    symbol,
    contractSize,
    position: 0,
    entryPrice: 0,
    realizedPnl: 0,
    fees: 0,
    funding: 0,
    volume: 0,
    seenFills: [],
  };
}

const MAX_SEEN = 512;

/**
 * Apply one fill; returns a new LegBook (machines assign immutably). A fee charged in the base
 * asset (Binance spot charges a buy's fee in the coin received) is base the account never got:
 * the position moves by `amount − fee`, as a venue's balance does, and the fee is still valued
 * at the fill price — together they reconcile with the account to the last unit.
 */
export function applyFill(leg: LegBook, f: Fill): LegBook {
  if (leg.seenFills.includes(f.id)) return leg;
  const baseFee = f.fee.currency === baseOf(f.symbol) ? f.fee.cost : 0;
  const q = f.amount * leg.contractSize * (f.side === 'buy' ? 1 : -1) - baseFee;
  let { position, entryPrice, realizedPnl } = leg;
  if (position === 0 || Math.sign(position) === Math.sign(q)) {
    const size = Math.abs(position) + Math.abs(q);
    entryPrice = (Math.abs(position) * entryPrice + Math.abs(q) * f.price) / size;
    position += q;
  } else {
    const closed = Math.min(Math.abs(q), Math.abs(position));
    realizedPnl += closed * (f.price - entryPrice) * Math.sign(position);
    const flips = Math.abs(q) > Math.abs(position);
    position += q;
    if (flips) entryPrice = f.price;
  }
  if (Math.abs(position) < 1e-12) {
    position = 0;
    entryPrice = 0;
  }
  const seen = leg.seenFills.length >= MAX_SEEN ? leg.seenFills.slice(-MAX_SEEN / 2) : leg.seenFills;
  return {
    ...leg,
    position,
    entryPrice,
    realizedPnl,
    fees: leg.fees + feeInQuote(f),
    volume: leg.volume + f.cost,
    seenFills: [...seen, f.id],
  };
}

function baseOf(symbol: string): string {
  return symbol.slice(0, symbol.indexOf('/'));
}

/**
 * A fill's fee in quote currency: a base fee at the fill price, a third asset's (BNB) at the
 * worth the venue or the engine's fee valuer gave it (`quoteCost`). Every fill reaching a
 * machine from a venue charging a third asset carries that worth (the engine refuses to start
 * without a price for it), so the face value below is only ever the quote currency's own.
 */
export function feeInQuote(f: Pick<Fill, 'fee' | 'price' | 'symbol'>): number {
  if (f.fee.quoteCost !== undefined) return f.fee.quoteCost;
  return f.fee.currency === baseOf(f.symbol) ? f.fee.cost * f.price : f.fee.cost;
}

/**
 * What an order's fills did to the account: base received net of a fee charged in the base (a
 * Binance spot buy), and the fees' worth in quote. From the fills when the venue gave them, else
 * from the order's aggregate fee.
 */
export function orderFillEffect(o: Pick<Order, 'trades' | 'fee' | 'symbol' | 'average' | 'filled'>): {
  baseFee: number;
  feeQuote: number;
} {
  const base = baseOf(o.symbol);
  if (o.trades.length > 0) {
    let baseFee = 0;
    let feeQuote = 0;
    for (const t of o.trades) {
      if (t.fee.currency === base) baseFee += t.fee.cost;
      feeQuote += feeInQuote(t);
    }
    return { baseFee, feeQuote };
  }
  const price = o.average ?? 0;
  const baseFee = o.fee.currency === base ? o.fee.cost : 0;
  return { baseFee, feeQuote: feeInQuote({ fee: o.fee, price, symbol: o.symbol }) };
}

export function applyOrderFills(leg: LegBook, o: Pick<Order, 'trades'>): LegBook {
  let l = leg;
  for (const f of o.trades) l = applyFill(l, f);
  return l;
}

/**
 * Apply the fills of `next` that `previous` (the same order's last snapshot already booked) did
 * not have. Re-delivered snapshots of a long-lived order never count a fill twice, however many
 * other fills have passed through the leg since (its bounded `seenFills` window forgets them).
 */
export function applyNewFills(
  leg: LegBook,
  previous: Pick<Order, 'trades'> | undefined,
  next: Pick<Order, 'trades'>,
): LegBook {
  if (!previous || previous.trades.length === 0) return applyOrderFills(leg, next);
  const booked = new Set(previous.trades.map((t) => t.id));
  let l = leg;
  for (const f of next.trades) if (!booked.has(f.id)) l = applyFill(l, f);
  return l;
}

export function unrealizedPnl(leg: LegBook, mark: number): number {
  return leg.position === 0 || !(mark > 0) ? 0 : leg.position * (mark - leg.entryPrice);
}

/** Total PnL of the leg at `mark`: realized + unrealized − fees + funding. */
export function legPnl(leg: LegBook, mark: number): number {
  return leg.realizedPnl + unrealizedPnl(leg, mark) - leg.fees + leg.funding;
}
