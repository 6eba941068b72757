/**
 * The backtest's HTML page: one self-contained file (inline SVG and CSS, no scripts, no network)
 * with the summary, the equity curve, and per strategy its price and basis/spread with every
 * entry and exit marked.
 */
import { STRATEGY_KINDS } from '../config/kinds.ts';
import type { BacktestSummary } from './report.ts';
import type { BacktestRun } from './run.ts';

const W = 960;
const H = 260;
const PAD = { l: 70, r: 70, t: 16, b: 28 };
const MAX_POINTS = 1_500;

const esc = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

const fmt = (n: number, d = 2) => (Number.isFinite(n) ? n.toFixed(d) : '–');

interface Pt {
  ts: number;
  v: number;
}

function thin(points: Pt[]): Pt[] {
  if (points.length <= MAX_POINTS) return points;
  const step = points.length / MAX_POINTS;
  const out: Pt[] = [];
  for (let i = 0; i < MAX_POINTS; i++) out.push(points[Math.floor(i * step)]!);
  out.push(points.at(-1)!);
  return out;
}

interface Axis {
  min: number;
  max: number;
}

function axis(values: number[]): Axis {
  let min = Math.min(...values);
  let max = Math.max(...values);
  if (!Number.isFinite(min) || !Number.isFinite(max)) return { min: 0, max: 1 };
  if (max - min < 1e-9) {
    min -= 1;
    max += 1;
  }
  const pad = (max - min) * 0.05;
  return { min: min - pad, max: max + pad };
}

function path(points: Pt[], t0: number, t1: number, a: Axis): string {
  const x = (ts: number) => PAD.l + ((ts - t0) / Math.max(1, t1 - t0)) * (W - PAD.l - PAD.r);
  const y = (v: number) => PAD.t + (1 - (v - a.min) / (a.max - a.min)) * (H - PAD.t - PAD.b);
  return points.map((p, i) => `${i ? 'L' : 'M'}${x(p.ts).toFixed(1)},${y(p.v).toFixed(1)}`).join('');
}

function ticks(a: Axis, side: 'l' | 'r', label: (v: number) => string): string {
  const out: string[] = [];
  for (let i = 0; i <= 4; i++) {
    const v = a.min + ((a.max - a.min) * i) / 4;
    const y = PAD.t + (1 - i / 4) * (H - PAD.t - PAD.b);
    const x = side === 'l' ? PAD.l - 6 : W - PAD.r + 6;
    out.push(
      `<text x="${x}" y="${(y + 4).toFixed(1)}" text-anchor="${side === 'l' ? 'end' : 'start'}">${esc(label(v))}</text>`,
    );
    if (side === 'l')
      out.push(
        `<line x1="${PAD.l}" x2="${W - PAD.r}" y1="${y.toFixed(1)}" y2="${y.toFixed(1)}" class="grid"/>`,
      );
  }
  return out.join('');
}

function timeLabels(t0: number, t1: number): string {
  const out: string[] = [];
  for (let i = 0; i <= 4; i++) {
    const ts = t0 + ((t1 - t0) * i) / 4;
    const x = PAD.l + (i / 4) * (W - PAD.l - PAD.r);
    out.push(
      `<text x="${x.toFixed(1)}" y="${H - 8}" text-anchor="middle">${new Date(ts).toISOString().slice(5, 16).replace('T', ' ')}</text>`,
    );
  }
  return out.join('');
}

function chart(opts: {
  title: string;
  t0: number;
  t1: number;
  left: { name: string; points: Pt[]; cls: string; label: (v: number) => string };
  right?: { name: string; points: Pt[]; cls: string; label: (v: number) => string } | undefined;
  markers?: { ts: number; v: number; kind: 'entry' | 'exit'; title: string }[];
}): string {
  const { t0, t1 } = opts;
  const left = thin(opts.left.points);
  const la = axis(left.map((p) => p.v).concat((opts.markers ?? []).map((m) => m.v)));
  const parts = [ticks(la, 'l', opts.left.label), timeLabels(t0, t1)];
  if (opts.right && opts.right.points.length > 1) {
    const right = thin(opts.right.points);
    const ra = axis(right.map((p) => p.v));
    parts.push(
      ticks(ra, 'r', opts.right.label),
      `<path d="${path(right, t0, t1, ra)}" class="${opts.right.cls}"/>`,
    );
  }
  parts.push(`<path d="${path(left, t0, t1, la)}" class="${opts.left.cls}"/>`);
  const x = (ts: number) => PAD.l + ((ts - t0) / Math.max(1, t1 - t0)) * (W - PAD.l - PAD.r);
  const y = (v: number) => PAD.t + (1 - (v - la.min) / (la.max - la.min)) * (H - PAD.t - PAD.b);
  for (const m of opts.markers ?? []) {
    const cx = x(m.ts);
    const cy = y(m.v);
    const tri =
      m.kind === 'entry'
        ? `${cx - 5},${cy + 6} ${cx + 5},${cy + 6} ${cx},${cy - 3}`
        : `${cx - 5},${cy - 6} ${cx + 5},${cy - 6} ${cx},${cy + 3}`;
    parts.push(`<polygon points="${tri}" class="${m.kind}"><title>${esc(m.title)}</title></polygon>`);
  }
  const legend = `<span class="key ${opts.left.cls}">${esc(opts.left.name)}</span>${
    opts.right ? `<span class="key ${opts.right.cls}">${esc(opts.right.name)}</span>` : ''
  }${opts.markers?.length ? '<span class="key entry">▲ entry</span><span class="key exit">▼ exit</span>' : ''}`;
  return `<figure><figcaption>${esc(opts.title)} ${legend}</figcaption><svg viewBox="0 0 ${W} ${H}" role="img" aria-label="${esc(opts.title)}">${parts.join('')}</svg></figure>`;
}

function table(rows: [string, string][]): string {
  return `<table>${rows.map(([k, v]) => `<tr><th>${esc(k)}</th><td>${esc(v)}</td></tr>`).join('')}</table>`;
}

export function renderHtml(summary: BacktestSummary, run: BacktestRun): string {
  const t0 = run.firstTs;
  const t1 = Math.max(run.lastTs, run.samples.at(-1)?.ts ?? run.lastTs);
  const tot = summary.totals;
  const sections: string[] = [];
  sections.push(
    chart({
      title: 'Equity (net PnL of all strategies, quote currency)',
      t0,
      t1,
      left: {
        name: 'net PnL',
        points: run.samples.map((s) => ({ ts: s.ts, v: s.equity })),
        cls: 'eq',
        label: (v) => fmt(v),
      },
    }),
  );
  for (const [id, s] of Object.entries(summary.strategies)) {
    const pts = run.samples.filter((x) => x.strategies[id]);
    const price = pts.map((x) => ({ ts: x.ts, v: x.strategies[id]!.price })).filter((p) => p.v > 0);
    const signal = pts
      .map((x) => ({ ts: x.ts, v: x.strategies[id]!.signalBps ?? Number.NaN }))
      .filter((p) => Number.isFinite(p.v));
    const firstLeg = run.final.strategies.find((x) => x.id === id)?.legs[0];
    const trades = run.trades.filter((t) => t.strategy === id);
    const onFirst = trades.filter((t) => t.venue === firstLeg?.venue && t.symbol === firstLeg?.symbol);
    const signalName = STRATEGY_KINDS[s.kind]?.signal?.name ?? '';
    const states = Object.entries(s.timeInState)
      .map(([k, v]) => `${k} ${fmt(v.pct, 1)}%`)
      .join(', ');
    sections.push(
      `<h2>${esc(id)} <small>${esc(s.kind)} · ended ${esc(s.finalState)}</small></h2>`,
      table([
        ['net PnL', fmt(s.netPnl)],
        ['realized / unrealized', `${fmt(s.realizedPnl)} / ${fmt(s.unrealizedPnl)}`],
        ['fees / funding', `${fmt(s.fees)} / ${fmt(s.funding)}`],
        [
          'venue’s figure (reconciliation)',
          `${fmt(summary.reconciliation.strategies[id]?.venue ?? 0)} (difference ${(summary.reconciliation.strategies[id]?.difference ?? 0).toExponential(2)})`,
        ],
        ['trades (entries / exits)', `${s.trades} (${s.entries} / ${s.exits})`],
        ['volume', fmt(s.volume, 0)],
        ['max drawdown', fmt(s.maxDrawdown)],
        ['Sharpe-like', s.sharpeLike === null ? '–' : fmt(s.sharpeLike)],
        ['cycles', s.cycles === null ? '–' : String(s.cycles)],
        ['time in state', states],
        [
          'positions at the end',
          s.positions.map((p) => `${p.symbol}@${p.venue} ${fmt(p.position, 6)}`).join(', '),
        ],
        ...(s.halted ? ([['halted', s.halted]] as [string, string][]) : []),
        ...(s.attention
          ? ([
              [
                'NEEDS ATTENTION',
                `${s.attention.reason} — ${s.attention.legs.map((l) => `${l.symbol}@${l.venue} ${fmt(l.position, 6)}`).join(', ')}`,
              ],
            ] as [string, string][])
          : []),
      ]),
      chart({
        title: `${firstLeg ? `${firstLeg.symbol} on ${firstLeg.venue}` : 'price'} with this strategy's fills on it`,
        t0,
        t1,
        left: { name: 'mid', points: price, cls: 'px', label: (v) => fmt(v, v < 10 ? 4 : 2) },
        right: signalName
          ? { name: signalName, points: signal, cls: 'sig', label: (v) => fmt(v, 1) }
          : undefined,
        markers: onFirst.map((t) => ({
          ts: t.ts,
          v: t.price,
          kind: t.effect,
          title: `${new Date(t.ts).toISOString()} ${t.side} ${t.amount} @ ${t.price} (${t.effect})`,
        })),
      }),
    );
  }
  const input = summary.input.files
    .map(
      (f) =>
        `${f.file}: ${f.rowsRead} rows read, ${f.rowsUsed} used, ${f.rowsSkipped} skipped${
          f.rowsSkipped
            ? ` (${Object.entries(f.skipped)
                .map(([k, v]) => `${k}: ${v}`)
                .join(', ')})`
            : ''
        }, ${f.rowsOutsideRange} outside --from/--to`,
    )
    .join('; ');
  const unknown = Object.entries(summary.input.unknownInstruments);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>statearb backtest ${esc(summary.period.from)} – ${esc(summary.period.to)}</title>
<style>
body{font:14px/1.45 system-ui,sans-serif;margin:24px auto;max-width:1000px;color:#1d2433;padding:0 12px}
h1{font-size:20px}h2{font-size:16px;margin-top:32px}small{color:#667;font-weight:normal}
table{border-collapse:collapse;margin:8px 0}th{text-align:left;font-weight:500;color:#556;padding:2px 16px 2px 0}td{font-variant-numeric:tabular-nums}
figure{margin:8px 0 16px}figcaption{font-size:13px;color:#445;margin-bottom:4px}
svg{width:100%;height:auto;background:#fbfcfe;border:1px solid #e3e7ef}svg text{font-size:11px;fill:#667}
.grid{stroke:#e8ebf2}path{fill:none;stroke-width:1.4}.eq{stroke:#2457c5}.px{stroke:#2b2f3a}.sig{stroke:#d08a1c;stroke-width:1}
polygon.entry{fill:#169c4b}polygon.exit{fill:#d33a2c}
.key{margin-left:12px;padding-left:14px;position:relative}.key:before{content:"";position:absolute;left:0;top:50%;width:10px;border-top:2px solid}
.key.eq:before{border-color:#2457c5}.key.px:before{border-color:#2b2f3a}.key.sig:before{border-color:#d08a1c}.key.entry{color:#169c4b}.key.exit{color:#d33a2c}.key.entry:before,.key.exit:before{display:none}
</style></head><body>
<h1>statearb backtest</h1>
${table([
  ['period', `${summary.period.from} → ${summary.period.to} (${fmt(summary.period.hours, 2)} h)`],
  ['input', `${summary.input.source}, ${summary.input.events} events${input ? `; ${input}` : ''}`],
  ...(unknown.length
    ? ([['ignored (not configured)', unknown.map(([k, v]) => `${k}: ${v}`).join(', ')]] as [string, string][])
    : []),
  ['net PnL', fmt(tot.netPnl)],
  ['realized / unrealized', `${fmt(tot.realizedPnl)} / ${fmt(tot.unrealizedPnl)}`],
  ['fees / funding', `${fmt(tot.fees)} / ${fmt(tot.funding)}`],
  [
    'venues’ equity change (reconciliation)',
    `${fmt(summary.reconciliation.total.venue)} (difference ${summary.reconciliation.total.difference.toExponential(2)})`,
  ],
  ['trades / volume', `${tot.trades} / ${fmt(tot.volume, 0)}`],
  ['max drawdown', fmt(tot.maxDrawdown)],
  ['Sharpe-like', tot.sharpeLike === null ? '–' : fmt(tot.sharpeLike)],
  ['cycles', String(tot.cycles)],
])}
${sections.join('\n')}
<p><small>${Object.entries(summary.definitions)
    .map(([k, v]) => `<b>${esc(k)}</b>: ${esc(v)}`)
    .join(' · ')}</small></p>
</body></html>
`;
}
