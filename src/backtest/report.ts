/**
 * The backtest report: a JSON summary whose bytes depend only on the config and the data
 * (no wall-clock times, fixed key order, numbers rounded to 1e-8).
 */
import type { BacktestRun, Sample, TradeRecord } from './run.ts';

export const REPORT_VERSION = 1;
const HOUR_MS = 3_600_000;

/** Rounded for stable, readable output: 1e-8 is below any price tick or fee we deal in. */
export function r8(x: number): number {
  if (!Number.isFinite(x)) return x;
  const v = Math.round(x * 1e8) / 1e8;
  return Object.is(v, -0) ? 0 : v;
}

export interface StrategyReport {
  kind: string;
  finalState: string;
  trades: number;
  entries: number;
  exits: number;
  volume: number;
  fees: number;
  funding: number;
  realizedPnl: number;
  unrealizedPnl: number;
  netPnl: number;
  maxDrawdown: number;
  sharpeLike: number | null;
  cycles: number | null;
  timeInState: Record<string, { ms: number; pct: number }>;
  halted: string | null;
  /** Each leg's position at the end. */
  positions: { venue: string; symbol: string; position: number }[];
  /** Ended in needs attention: why, and each leg's position then (null otherwise). */
  attention: { reason: string; legs: { venue: string; symbol: string; position: number }[] } | null;
}

export interface BacktestSummary {
  report: { kind: 'statearb-backtest'; version: number };
  period: { from: string; to: string; firstTs: number; lastTs: number; hours: number };
  input: {
    source: 'csv' | 'synthetic';
    events: number;
    files: {
      file: string;
      rowsRead: number;
      rowsUsed: number;
      rowsOutsideRange: number;
      rowsSkipped: number;
      skipped: Record<string, number>;
      examples: { line: number; reason: string; text: string }[];
    }[];
    unknownInstruments: Record<string, number>;
  };
  totals: {
    trades: number;
    volume: number;
    fees: number;
    funding: number;
    realizedPnl: number;
    unrealizedPnl: number;
    netPnl: number;
    maxDrawdown: number;
    sharpeLike: number | null;
    cycles: number;
  };
  strategies: Record<string, StrategyReport>;
  /** The venues' figures next to the strategies' own (difference 0 within 1e-9 relative). */
  reconciliation: BacktestRun['reconciliation'];
  adjustments: BacktestRun['adjustments'];
  definitions: Record<string, string>;
}

/** Largest fall of a PnL series from its running peak (≥ 0), quote currency. */
export function maxDrawdown(series: number[]): number {
  let peak = 0;
  let worst = 0;
  for (const x of series) {
    if (x > peak) peak = x;
    if (peak - x > worst) worst = peak - x;
  }
  return worst;
}

/**
 * Mean over standard deviation of hourly PnL changes, annualised by √8760; no risk-free rate.
 * Null with fewer than three hours or no variation.
 */
export function sharpeLike(points: { ts: number; v: number }[]): number | null {
  const hourly: number[] = [];
  let hour = Number.NaN;
  let last = 0;
  let startValue = 0;
  for (const p of points) {
    const h = Math.floor(p.ts / HOUR_MS);
    if (Number.isNaN(hour)) {
      hour = h;
      startValue = 0;
    } else if (h !== hour) {
      hourly.push(last - startValue);
      startValue = last;
      hour = h;
    }
    last = p.v;
  }
  if (hourly.length < 3) return null;
  const mean = hourly.reduce((a, b) => a + b, 0) / hourly.length;
  const variance = hourly.reduce((a, b) => a + (b - mean) ** 2, 0) / (hourly.length - 1);
  const sd = Math.sqrt(variance);
  return sd > 1e-12 ? (mean / sd) * Math.sqrt(24 * 365) : null;
}

function timeInState(run: BacktestRun, id: string): Record<string, { ms: number; pct: number }> {
  const ts = run.transitions.filter((t) => t.strategy === id);
  const ms = new Map<string, number>();
  const end = Math.max(run.lastTs, ts.at(-1)?.at ?? run.lastTs);
  ts.forEach((t, i) => {
    const until = ts[i + 1]?.at ?? end;
    ms.set(t.to, (ms.get(t.to) ?? 0) + Math.max(0, until - t.at));
  });
  const total = [...ms.values()].reduce((a, b) => a + b, 0) || 1;
  return Object.fromEntries(
    [...ms.entries()]
      .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
      .map(([state, v]) => [state, { ms: v, pct: r8((v / total) * 100) }]),
  );
}

function sum(trades: TradeRecord[], f: (t: TradeRecord) => number): number {
  return trades.reduce((a, t) => a + f(t), 0);
}

/** Rounded for the report; the difference is kept exact (a report must show a 1e-12 drift too). */
function reconciliationLine(l: { netPnl: number; venue: number; difference: number }) {
  return { netPnl: r8(l.netPnl), venue: r8(l.venue), difference: l.difference };
}

export function buildSummary(run: BacktestRun): BacktestSummary {
  const strategies: Record<string, StrategyReport> = {};
  const series = (pick: (s: Sample) => number) => run.samples.map((s) => ({ ts: s.ts, v: pick(s) }));
  for (const s of run.final.strategies) {
    const trades = run.trades.filter((t) => t.strategy === s.id);
    const pnl = series((x) => x.strategies[s.id]?.pnl ?? 0);
    const sharpe = sharpeLike(pnl);
    strategies[s.id] = {
      kind: s.kind,
      finalState: s.state,
      trades: trades.length,
      entries: trades.filter((t) => t.effect === 'entry').length,
      exits: trades.filter((t) => t.effect === 'exit').length,
      volume: r8(sum(trades, (t) => t.price * t.amount)),
      fees: r8(s.fees),
      funding: r8(s.funding),
      realizedPnl: r8(s.realizedPnl),
      unrealizedPnl: r8(s.unrealizedPnl),
      netPnl: r8(s.netPnl),
      maxDrawdown: r8(maxDrawdown(pnl.map((p) => p.v))),
      sharpeLike: sharpe === null ? null : r8(sharpe),
      cycles: s.cycles ?? null,
      timeInState: timeInState(run, s.id),
      halted: s.halted ?? null,
      positions: s.legs.map((l) => ({ venue: l.venue, symbol: l.symbol, position: r8(l.position) })),
      attention: s.attention ? { reason: s.attention.reason, legs: s.attention.legs } : null,
    };
  }
  const all = Object.values(strategies);
  const total = (f: (s: StrategyReport) => number) => r8(all.reduce((a, s) => a + f(s), 0));
  const equity = series((x) => x.equity);
  const sharpe = sharpeLike(equity);
  return {
    report: { kind: 'statearb-backtest', version: REPORT_VERSION },
    period: {
      from: new Date(run.firstTs).toISOString(),
      to: new Date(run.lastTs).toISOString(),
      firstTs: run.firstTs,
      lastTs: run.lastTs,
      hours: r8((run.lastTs - run.firstTs) / HOUR_MS),
    },
    input: {
      source: run.input.source,
      events: run.events,
      files: run.input.files.map((f) => {
        const skipped = Object.fromEntries(Object.entries(f.skipped).sort(([a], [b]) => a.localeCompare(b)));
        return {
          file: f.file,
          rowsRead: f.rowsRead,
          rowsUsed: f.rowsEmitted,
          rowsOutsideRange: f.rowsOutsideRange,
          rowsSkipped: Object.values(skipped).reduce((a, b) => a + (b ?? 0), 0),
          skipped: skipped as Record<string, number>,
          examples: f.examples,
        };
      }),
      unknownInstruments: Object.fromEntries(
        Object.entries(run.input.unknownInstruments).sort(([a], [b]) => a.localeCompare(b)),
      ),
    },
    totals: {
      trades: run.trades.length,
      volume: total((s) => s.volume),
      fees: total((s) => s.fees),
      funding: total((s) => s.funding),
      realizedPnl: total((s) => s.realizedPnl),
      unrealizedPnl: total((s) => s.unrealizedPnl),
      netPnl: total((s) => s.netPnl),
      maxDrawdown: r8(maxDrawdown(equity.map((p) => p.v))),
      sharpeLike: sharpe === null ? null : r8(sharpe),
      cycles: all.reduce((a, s) => a + (s.cycles ?? 0), 0),
    },
    strategies,
    reconciliation: {
      strategies: Object.fromEntries(
        Object.entries(run.reconciliation.strategies).map(([id, l]) => [id, reconciliationLine(l)]),
      ),
      total: reconciliationLine(run.reconciliation.total),
    },
    adjustments: run.adjustments,
    definitions: {
      netPnl: 'realized + unrealized (at the last mid) − fees + funding, quote currency',
      maxDrawdown: 'largest fall of net PnL from its running peak, sampled every sampleMs and at the end',
      sharpeLike:
        'mean / standard deviation of hourly net-PnL changes × √8760; no risk-free rate; null under 3 hours',
      volume: 'Σ price × amount of every fill',
      entries: 'fills that grew the strategy’s position on that leg; exits: fills that shrank it',
      timeInState: 'virtual time in each top-level state of the machine',
      reconciliation:
        'per strategy: its net PnL vs the PnL rebuilt from the venue’s own fills and funding; total: Σ net PnL vs the venues’ equity change, both at the strategies’ valuation marks',
    },
  };
}
