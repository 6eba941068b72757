/**
 * The backtest's reconciliation: what the venues say against what the strategies booked.
 *
 * Per strategy, its net PnL next to the PnL rebuilt from the venue's own records — every fill
 * the venue made under the strategy's client ids and every funding payment on its perpetuals —
 * at the same valuation. In total, the venues' equity change (every balance and position, at the
 * strategies' valuation marks where a strategy trades the instrument, at the venue's mid
 * elsewhere) next to the sum of the strategies' net PnL. A fill or payment a strategy missed, a
 * fee booked in the wrong currency or a funding booked late shows as a difference.
 */
import { applyFill, type LegBook, legPnl, newLeg } from '../../machines/accounting.ts';
import type { AnyStrategyKind } from '../../machines/strategies/index.ts';
import { type Fill, isDerivativeMarket } from '../domain/index.ts';
import type { SimVenue } from '../exchange/sim/venue.ts';

export interface ReconciliationLine {
  /** The strategy's own net PnL (or the sum of them). */
  netPnl: number;
  /** The venue's figure: rebuilt from its fills and funding (per strategy), its equity change (total). */
  venue: number;
  difference: number;
}

export interface Reconciliation {
  strategies: Record<string, ReconciliationLine>;
  total: ReconciliationLine;
}

export interface ReconcileStrategy {
  id: string;
  kind: AnyStrategyKind;
  context: unknown;
  netPnl: number;
}

/** Fills the venues made for each strategy, by strategy id (collected from the order stream). */
export type VenueFills = Map<string, { venue: string; fill: Fill }[]>;

export function reconcile(
  venues: SimVenue[],
  startBalances: Map<string, Record<string, number>>,
  strategies: ReconcileStrategy[],
  fills: VenueFills,
): Reconciliation {
  const byName = new Map(venues.map((v) => [v.name, v]));
  /** The price each strategy's legs are valued at, by venue|symbol. */
  const valuation = new Map<string, number>();
  const out: Record<string, ReconciliationLine> = {};
  let sumPnl = 0;
  for (const s of strategies) {
    const legs: LegBook[] = s.kind.legs(s.context as never);
    const own = legs.map((l) => byName.get(l.venue)?.mark(l.symbol) ?? 0);
    const marks = s.kind.valuation ? s.kind.valuation(own) : own;
    legs.forEach((l, i) => {
      valuation.set(`${l.venue}|${l.symbol}`, marks[i]!);
    });
    // The venue's version of the strategy's books: its fills and its funding, nothing else.
    const rebuilt = legs.map((l) => {
      let book = newLeg(l.venue, l.symbol, l.contractSize);
      for (const f of fills.get(s.id) ?? [])
        if (f.venue === l.venue && f.fill.symbol === l.symbol) book = applyFill(book, f.fill);
      const v = byName.get(l.venue);
      if (v && isDerivativeMarket(v.market(l.symbol)))
        book = { ...book, funding: v.fundingPayments(l.symbol).reduce((x, p) => x + p.amount, 0) };
      return book;
    });
    const venue = rebuilt.reduce((x, b, i) => x + legPnl(b, marks[i]!), 0);
    out[s.id] = line(s.netPnl, venue);
    sumPnl += s.netPnl;
  }
  let equityChange = 0;
  for (const v of venues) {
    const markOf = (symbol: string) => valuation.get(`${v.name}|${symbol}`);
    // The start held balances only (no positions), valued at the same prices as the end.
    const start = Object.entries(startBalances.get(v.name) ?? {}).reduce(
      (x, [asset, amount]) => x + amount * v.valueOf(asset, 'USDT', markOf),
      0,
    );
    equityChange += v.equity('USDT', markOf) - start;
  }
  return { strategies: out, total: line(sumPnl, equityChange) };
}

function line(netPnl: number, venue: number): ReconciliationLine {
  return { netPnl, venue, difference: netPnl - venue };
}
