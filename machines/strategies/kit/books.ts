/**
 * A strategy's books: legs built from markets, executions, orders, funding and the venue's own
 * closes applied to them, PnL and net delta, and the one rule for "hedged" at rest. Pure functions.
 */
import { amountToPrecision, type Fill, type Market } from '../../../src/domain/index.ts';
import { applyFill, applyOrderFills, type LegBook, legPnl } from '../../accounting.ts';
import type { FundingPaymentEvent, VenueClosedPositionEvent } from '../../contracts.ts';
import { type HedgedPairOutput, hedgeTolerance, type LegSpec, minTradableBase } from '../../hedged-pair.ts';
import type { OrderOutput } from '../../order.ts';
import { mid, type Quote } from './quotes.ts';

/** The market facts an execution needs about one leg. */
function legFacts(m: Market) {
  return {
    venue: m.venue,
    symbol: m.symbol,
    contractSize: m.contractSize,
    amountStep: m.precision.amount,
    minAmount: m.limits.amount.min,
    minNotional: m.limits.cost.min,
    derivative: m.type !== 'spot',
  };
}

/**
 * One leg of a hedged execution: from the position the books hold to `targetBase` (signed base
 * units), at the touch the strategy sees now. `limitPrice`: IOC limit for the paired orders.
 */
export function legSpec(
  m: Market,
  book: LegBook,
  targetBase: number,
  q: Quote | undefined,
  limitPrice?: number,
): LegSpec {
  return {
    ...legFacts(m),
    startBase: book.position,
    targetBase,
    bid: q?.bid ?? 0,
    ask: q?.ask ?? 0,
    bidSize: q?.bidSize ?? 0,
    askSize: q?.askSize ?? 0,
    ...(limitPrice !== undefined ? { limitPrice } : {}),
  };
}

/**
 * The one rule for "hedged", as every strategy applies it to its books: net delta within
 * max(delta tolerance, the smallest tradable size of the legs at their marks).
 */
export function sharedTolerance(
  markets: Market[],
  quotes: (Quote | undefined)[],
  deltaTolerance: number,
): number {
  return hedgeTolerance(
    markets.map(legFacts),
    quotes.map((q) => mid(q)),
    deltaTolerance,
  );
}

/** A position below the leg's minimum order cannot be traded away: dust, reported, never fatal. */
export function isDust(book: LegBook, m: Market, q: Quote | undefined): boolean {
  return Math.abs(book.position) < 1e-12 || Math.abs(book.position) < minTradableBase(legFacts(m), mid(q));
}

/** Flat: every leg holds nothing but dust. */
export function allDust(books: LegBook[], markets: Market[], quotes: (Quote | undefined)[]): boolean {
  return books.every((b, i) => isDust(b, markets[i]!, quotes[i]));
}

/** Hedged at rest: flat, or net delta within the shared tolerance. */
export function booksHedged(
  books: LegBook[],
  markets: Market[],
  quotes: (Quote | undefined)[],
  deltaTolerance: number,
): boolean {
  // The common case first, without the dust arithmetic: the guard runs on every quote while held.
  const net = Math.abs(netDelta(books));
  if (net <= deltaTolerance) return true;
  return allDust(books, markets, quotes) || net <= sharedTolerance(markets, quotes, deltaTolerance) + 1e-12;
}

/** Base amount tradable on both markets: rounded down to the coarser step. */
export function commonAmount(a: Market, b: Market, base: number): number {
  const x = amountToPrecision(a, base / a.contractSize) * a.contractSize;
  const y = amountToPrecision(b, x / b.contractSize) * b.contractSize;
  return Math.min(x, y);
}

/** Apply a pair's fills to the two books that correspond to its legs, in leg order. */
export function applyPair(books: [LegBook, LegBook], out: HedgedPairOutput): [LegBook, LegBook] {
  const next: [LegBook, LegBook] = [books[0], books[1]];
  for (const { leg, order } of out.orders) next[leg] = applyOrderFills(next[leg], order);
  return next;
}

export function applyOrderOutput(book: LegBook, out: OrderOutput): LegBook {
  return out.order ? applyOrderFills(book, out.order) : book;
}

export function applyFunding(book: LegBook, e: FundingPaymentEvent): LegBook {
  return { ...book, funding: book.funding + e.amount };
}

export function totalPnl(books: LegBook[], marks: number[]): number {
  return books.reduce((s, b, i) => s + legPnl(b, marks[i] ?? 0), 0);
}

export function netDelta(books: LegBook[]): number {
  return books.reduce((s, b) => s + b.position, 0);
}

/** Where a two-leg strategy keeps its books, markets and quotes, in leg order (A, B). */
export interface TwoLegBooks<C> {
  books(c: C): [LegBook, LegBook];
  withBooks(c: C, books: [LegBook, LegBook]): Partial<C>;
  markets(c: C): [Market, Market];
  quotes(c: C): [Quote | undefined, Quote | undefined];
  deltaTolerance(c: C): number;
  /**
   * What a flatten leaves (from needs attention, or a stop that asks for it): every leg flat (the
   * default), or the books hedged — an arbitrage's asset stays on the venues it was bought and
   * sold on, only a transfer moves it back, so its flatten brings the net to zero.
   */
  flattenTo?: 'flat' | 'hedged';
}

/** Hedged at rest by the shared rule, from a strategy's books. */
export function booksHedgedIn<C>(h: TwoLegBooks<C>, c: C): boolean {
  return booksHedged(h.books(c), h.markets(c), h.quotes(c), h.deltaTolerance(c));
}

/** Flat (every leg dust), from a strategy's books. */
export function booksFlatIn<C>(h: TwoLegBooks<C>, c: C): boolean {
  return allDust(h.books(c), h.markets(c), h.quotes(c));
}

/**
 * A liquidation or auto-deleveraging the venue pushed: its close is a trade of the leg it closed
 * (fee included), booked once by its fill id, so the books equal the venue's position and the
 * PnL carries the loss the venue realised.
 */
export function bookVenueClose<C>(
  h: TwoLegBooks<C>,
  c: C,
  event: unknown,
  /** An execution is running: its fills are not in the books yet, so the close is taken whole. */
  executing = false,
): Partial<C> {
  const closed = (event as Partial<VenueClosedPositionEvent>).closed;
  if (!closed) return {};
  const books = h.books(c);
  const i = books.findIndex((b) => b.venue === closed.venue && b.symbol === closed.fill.symbol);
  if (i < 0) return {};
  const next: [LegBook, LegBook] = [books[0], books[1]];
  next[i] = executing ? applyFill(books[i]!, closed.fill) : applyVenueClose(books[i]!, closed.fill);
  return h.withBooks(c, next);
}

/**
 * A venue's close booked on a leg — only what closes the leg's own position: a close larger than
 * the leg (the account also held a position nobody's books own, a predecessor's leftover) is
 * booked up to flat, fee in proportion, never flipping the leg; one that would add to it is not
 * the leg's. The position check names whatever is left.
 */
export function applyVenueClose(leg: LegBook, fill: Fill): LegBook {
  const q = fill.amount * leg.contractSize * (fill.side === 'buy' ? 1 : -1);
  if (leg.position === 0 || Math.sign(q) === Math.sign(leg.position)) return leg;
  const amount = Math.min(fill.amount, Math.abs(leg.position) / leg.contractSize);
  if (amount === fill.amount) return applyFill(leg, fill);
  const part = amount / fill.amount;
  return applyFill(leg, {
    ...fill,
    amount,
    cost: fill.cost * part,
    fee: {
      ...fill.fee,
      cost: fill.fee.cost * part,
      ...(fill.fee.quoteCost !== undefined ? { quoteCost: fill.fee.quoteCost * part } : {}),
    },
  });
}
