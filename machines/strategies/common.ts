/**
 * Pieces shared by the strategy machines: quotes in context, freshness, legs built from
 * markets, applying execution results and funding to the books. Pure functions only.
 */
import type { Market, Side } from '../../src/domain/index.ts';
import { amountToPrecision } from '../../src/domain/index.ts';
import { applyOrderFills, type LegBook, legPnl } from '../accounting.ts';
import type { FundingPaymentEvent, QuoteEvent, WaitInput } from '../contracts.ts';
import type { HedgedPairOutput, LegSpec } from '../hedged-pair.ts';
import type { OrderOutput } from '../order.ts';

export interface Quote {
  bid: number;
  ask: number;
  bidSize: number;
  askSize: number;
  /** Venue time of the quote. */
  timestamp: number;
  /** Actor-system time it arrived. */
  receivedAt: number;
}

export function toQuote(e: QuoteEvent): Quote {
  return {
    bid: e.bid,
    ask: e.ask,
    bidSize: e.bidSize,
    askSize: e.askSize,
    timestamp: e.timestamp,
    receivedAt: e.receivedAt,
  };
}

export const mid = (q: Quote | undefined): number => (q ? (q.bid + q.ask) / 2 : 0);

/** A quote is fresh when its venue time is within `staleAfterMs` of now. */
export function isFresh(q: Quote | undefined, now: number, staleAfterMs: number): boolean {
  return q !== undefined && now - q.timestamp <= staleAfterMs && now - q.receivedAt <= staleAfterMs;
}

export function legSpec(
  m: Market,
  side: Side,
  amount: number,
  refPrice: number,
  limitPrice?: number,
): LegSpec {
  return {
    venue: m.venue,
    symbol: m.symbol,
    side,
    amount,
    contractSize: m.contractSize,
    amountStep: m.precision.amount,
    minAmount: m.limits.amount.min,
    minNotional: m.limits.cost.min,
    refPrice,
    derivative: m.type !== 'spot',
    ...(limitPrice !== undefined ? { limitPrice } : {}),
  };
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

export const HOUR_MS = 3_600_000;

/**
 * How a hedged cycle ends, shared by the spot–futures and futures–futures machines: after an
 * exit, flat → the cycle is done (stop, complete, or cool down and watch again); not flat → exit
 * again within the attempt budget, then fail saying so. The machines define the named guards
 * (positionsFlat, exitAttemptsLeft, stopRequested, maxCyclesReached) and actions (finishCycle,
 * recordExitIncomplete) after their own rules.
 */
/**
 * The pause before watching again: `cooldownMs`, but after entries that filled nothing (the venue
 * refused them: funds, min notional, a market that moved) at least 1 s, doubling per repeat up to
 * a minute — otherwise a refused entry with cooldownMs 0 is retried as fast as the venue answers.
 */
export function cooldownMs(context: { params: { cooldownMs: number }; emptyEntries?: number }): number {
  const n = context.emptyEntries ?? 0;
  if (n === 0) return context.params.cooldownMs;
  return Math.max(context.params.cooldownMs, Math.min(60_000, 1_000 * 2 ** (n - 1)));
}

export function cycleEndStates() {
  return {
    afterExit: {
      always: [
        { guard: 'positionsFlat', target: 'cycleDone', actions: 'finishCycle' },
        { guard: 'exitAttemptsLeft', target: 'exiting' },
        { target: 'failed', actions: 'recordExitIncomplete' },
      ],
    },
    cycleDone: {
      always: [
        { guard: 'stopRequested', target: 'stopped' },
        { guard: 'maxCyclesReached', target: 'completed' },
        { target: 'cooldown' },
      ],
    },
    cooldown: {
      invoke: {
        id: 'pause',
        src: 'wait',
        input: ({
          context,
        }: {
          context: { params: { cooldownMs: number }; emptyEntries?: number };
        }): WaitInput => ({ ms: cooldownMs(context) }),
        onDone: 'watching',
      },
      always: { guard: 'stopRequested', target: 'stopped' },
    },
    completed: { type: 'final' },
    stopped: { type: 'final' },
    failed: { type: 'final' },
  } as const;
}

/** Stop and risk controls every strategy takes, as context updates (the machines assign them). */
export interface ControlState {
  stopRequested: { flatten: boolean } | undefined;
  riskBlocked: string | undefined;
}

/** RISK.BREACH: no new entries; a breach that asks to flatten is also a stop with flatten. */
export function riskBreachUpdate(
  c: ControlState,
  e: { reason: string; flatten?: boolean },
): Partial<ControlState> {
  return { riskBlocked: e.reason, stopRequested: e.flatten ? { flatten: true } : c.stopRequested };
}
