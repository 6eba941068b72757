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

/** Apply one fill; returns a new LegBook (machines assign immutably). */
export function applyFill(leg: LegBook, f: Fill): LegBook {
  if (leg.seenFills.includes(f.id)) return leg;
  const q = f.amount * leg.contractSize * (f.side === 'buy' ? 1 : -1);
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

/** Fee in quote currency (a base-currency fee is valued at the fill price). */
function feeInQuote(f: Fill): number {
  const base = f.symbol.split('/')[0];
  return f.fee.currency === base ? f.fee.cost * f.price : f.fee.cost;
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
