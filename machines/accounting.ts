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
 * What one fill does to the account on its leg — the one fee rule, used by the books (applyFill)
 * and by the hedged pair's tallies alike. A fee charged in the base asset (Binance spot charges a
 * buy's fee in the coin received) is base the account never got: the position moves by
 * `amount − fee`, as a venue's balance does, and the fee is still valued at the fill price —
 * together they reconcile with the account to the last unit.
 */
export function fillEffect(
  f: Pick<Fill, 'side' | 'amount' | 'fee' | 'price' | 'symbol'>,
  contractSize: number,
): { base: number; feeQuote: number } {
  const baseFee = f.fee.currency === baseOf(f.symbol) ? f.fee.cost : 0;
  return {
    base: f.amount * contractSize * (f.side === 'buy' ? 1 : -1) - baseFee,
    feeQuote: feeInQuote(f),
  };
}

/** Apply one fill (see fillEffect); returns a new LegBook (machines assign immutably). */
export function applyFill(leg: LegBook, f: Fill): LegBook {
  if (leg.seenFills.includes(f.id)) return leg;
  const { base: q, feeQuote } = fillEffect(f, leg.contractSize);
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
    fees: leg.fees + feeQuote,
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
 * The part of an order's `filled` its fills do not account for, in the order's amount units
 * (contracts for a derivative); 0 when they cover it. A fill id counts once, as the books count
 * it. The port's contract is that `trades` carries every fill of `filled` (the ccxt adapter reads
 * the trade history until they do); an answer that breaks it leaves fills the books cannot see,
 * so the order's outcome counts as unknown.
 */
export function unaccountedFill(o: Pick<Order, 'trades' | 'filled'>): number {
  let covered = 0;
  for (const t of distinctFills(o.trades)) covered += t.amount;
  return Math.max(0, o.filled - covered);
}

/** More of the order filled than its fills show, beyond half an amount step: its outcome is unknown. */
export function fillsMissing(o: Pick<Order, 'trades' | 'filled'>, amountStep: number): boolean {
  return unaccountedFill(o) > amountStep / 2;
}

/** An order's fills, each fill id once (a venue may report one twice; the books book it once). */
export function distinctFills<F extends { id: string }>(trades: F[]): F[] {
  if (trades.length < 2) return trades;
  const seen = new Set<string>();
  const out: F[] = [];
  for (const t of trades) {
    if (seen.has(t.id)) continue;
    seen.add(t.id);
    out.push(t);
  }
  return out;
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
