/**
 * A strategy's money figures from its context — legs, realized and unrealized PnL, fees,
 * funding — shared by the live engine's status and by views of stored snapshots.
 */
import { type LegBook, unrealizedPnl } from '../../machines/accounting.ts';
import type { AnyStrategyKind } from '../../machines/strategies/index.ts';

export interface StrategyFigures {
  legs: {
    venue: string;
    symbol: string;
    position: number;
    realizedPnl: number;
    fees: number;
    funding: number;
  }[];
  realizedPnl: number;
  unrealizedPnl: number;
  fees: number;
  funding: number;
  /** realized + unrealized − fees + funding. */
  netPnl: number;
  cycles: number | undefined;
}

/**
 * The one PnL of a strategy, at the kind's valuation (`StrategyKind.valuation`). `marks` (one per
 * leg, each at its own venue) overrides the marks the strategy's own context holds.
 */
export function strategyFigures(
  kind: AnyStrategyKind,
  context: unknown,
  legMarks?: number[],
): StrategyFigures {
  const ctx = context as never;
  const legs: LegBook[] = kind.legs(ctx);
  const own = legMarks ?? kind.marks(ctx);
  const marks = kind.valuation ? kind.valuation(own) : own;
  const realizedPnl = legs.reduce((x, l) => x + l.realizedPnl, 0);
  const unrealized = legs.reduce((x, l, i) => x + unrealizedPnl(l, marks[i] ?? 0), 0);
  const fees = legs.reduce((x, l) => x + l.fees, 0);
  const funding = legs.reduce((x, l) => x + l.funding, 0);
  return {
    legs: legs.map((l) => ({
      venue: l.venue,
      symbol: l.symbol,
      position: l.position,
      realizedPnl: l.realizedPnl,
      fees: l.fees,
      funding: l.funding,
    })),
    realizedPnl,
    unrealizedPnl: unrealized,
    fees,
    funding,
    netPnl: realizedPnl + unrealized - fees + funding,
    cycles: kind.cycles(ctx),
  };
}
