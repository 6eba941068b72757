import { closeSync, mkdirSync, openSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { renderHtml } from '../../backtest/html.ts';
import { buildSummary } from '../../backtest/report.ts';
import { runBacktest } from '../../backtest/run.ts';
import { writeFileAtomic } from '../../util/atomic-file.ts';
import { intFlag, UsageError } from '../args.ts';
import { loadCommandConfig } from '../config-flags.ts';
import { ProgressBar } from '../progress.ts';

export const backtestHelp = `statearb backtest — replay quotes through the strategies on a virtual clock, as fast as possible

Usage: statearb backtest [--config FILE] [--data quotes.csv] [--funding funding.csv]
                         [--from TIME] [--to TIME] [--report DIR] [--json] [--progress]
                         [--fail-on-attention]

  --config FILE           strategies, simulated venues (fees, latency, faults), risk (default: the
                          bundled paper config)
  --data FILE             recorded quotes: ts,venue,symbol,bid,bid_size,ask,ask_size (default: the
                          config's marketData: a csv file, or the synthetic market for
                          marketData.durationHours, 24 h by default)
  --funding FILE          funding rows: ts,venue,symbol,rate,next_funding_ts
  --from TIME, --to TIME  replay only this range (epoch ms or ISO 8601, e.g. 2026-01-01T12:00Z)
  --report DIR            write DIR/report.json and DIR/report.html (an offline page: equity curve,
                          price and basis with entries and exits marked)
  --json                  print the JSON summary on stdout instead of the short table
  --progress              draw the progress bar even when stderr is not a terminal
  --sample-ms N           equity/price sample period in virtual ms (default: about 500 samples
                          over the span replayed, between 1000 and 60000)
  --fail-on-attention     exit 4 when a strategy ends in needs attention (exposure it could not
                          close; the report names the reason and each leg's position either way)

The same config and data give a byte-identical report. Bad rows (unparsable, out of order,
crossed book …) are skipped, counted by reason and listed in the report, never used.`;

function timeFlag(name: string, raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const n = /^\d+$/.test(raw) ? Number(raw) : Date.parse(raw);
  if (!Number.isFinite(n))
    throw new UsageError(`--${name}: expected epoch ms or an ISO 8601 time, got "${raw}"`);
  return n;
}

/**
 * What the ends of a quotes CSV say, read once: its rows, estimated from the size and the length of
 * its first lines (for the progress bar), and the first and last row times (epoch ms in the first
 * column; for the sample period).
 */
function csvShape(file: string): { rows: number; span: { first: number; last: number } | undefined } {
  try {
    const size = statSync(file).size;
    const fd = openSync(file, 'r');
    const read = (at: number, n: number) => {
      const buf = Buffer.alloc(Math.min(n, size - at));
      readSync(fd, buf, 0, buf.length, at);
      return buf;
    };
    const head = read(0, 256 * 1024);
    const tail = read(Math.max(0, size - 64 * 1024), 64 * 1024)
      .toString('utf8')
      .split('\n');
    closeSync(fd);
    let lines = 0;
    for (const b of head) if (b === 10) lines++;
    const tsOf = (l: string | undefined) => Number(l?.slice(0, l.indexOf(',')));
    const first = tsOf(
      head
        .subarray(0, 64 * 1024)
        .toString('utf8')
        .split('\n')[1],
    );
    const last = tsOf(tail.filter((l) => l.trim() !== '').at(-1));
    return {
      rows: lines > 0 ? (size / head.length) * lines : 0,
      span: Number.isFinite(first) && Number.isFinite(last) && last >= first ? { first, last } : undefined,
    };
  } catch {
    return { rows: 0, span: undefined };
  }
}

/**
 * The sample period when none is given: about 500 samples over the span replayed, between 1 s and
 * 60 s (a 42 s recording gets 42 samples, not none at a 60 s period; a day gets 1,440).
 */
export function defaultSampleMs(spanMs: number | undefined): number {
  if (spanMs === undefined || !(spanMs > 0)) return 60_000;
  return Math.min(60_000, Math.max(1_000, Math.round(spanMs / 500 / 1_000) * 1_000));
}

export async function backtestCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      config: { type: 'string' },
      data: { type: 'string' },
      funding: { type: 'string' },
      from: { type: 'string' },
      to: { type: 'string' },
      report: { type: 'string' },
      json: { type: 'boolean' },
      progress: { type: 'boolean' },
      'sample-ms': { type: 'string' },
      'fail-on-attention': { type: 'boolean' },
    },
    strict: true,
  });
  if (values.funding && !values.data)
    throw new UsageError('--funding: give the quotes file with --data too (funding alone moves no prices)');
  const from = timeFlag('from', values.from);
  const to = timeFlag('to', values.to);
  if (from !== undefined && to !== undefined && to <= from) throw new UsageError('--to must be after --from');
  const { config } = await loadCommandConfig(values.config);
  const csv = values.data ?? (config.marketData.source === 'csv' ? config.marketData.quotes : undefined);
  const md = config.marketData.source === 'synthetic' ? config.marketData : undefined;
  const shape = csv ? csvShape(csv) : undefined;
  const estRows = shape?.rows ?? 0;
  const synthEnd =
    md && !csv
      ? (to ?? (from ?? md.startTs ?? Date.UTC(2026, 0, 1)) + (md.durationHours ?? 24) * 3_600_000)
      : undefined;
  // The span replayed, for the sample period: the file's (or the synthetic run's), cut by the range.
  const span = shape?.span;
  const spanStart = from ?? span?.first ?? (md ? (md.startTs ?? Date.UTC(2026, 0, 1)) : undefined);
  const spanEnd = to ?? span?.last ?? synthEnd;
  const spanMs = spanStart !== undefined && spanEnd !== undefined ? spanEnd - spanStart : undefined;
  const show = values.progress || Boolean(process.stderr.isTTY);
  const bar = show ? new ProgressBar(process.stderr, 'backtest') : undefined;
  let firstTs = Number.NaN;
  const t0 = process.hrtime.bigint();
  const run = await runBacktest(config, {
    ...(values.data ? { quotes: values.data } : {}),
    ...(values.funding ? { funding: values.funding } : {}),
    ...(from !== undefined ? { from } : {}),
    ...(to !== undefined ? { to } : {}),
    sampleMs: intFlag('sample-ms', values['sample-ms'], defaultSampleMs(spanMs), 1_000),
    onProgress: ({ events, ts }) => {
      if (!bar) return;
      if (Number.isNaN(firstTs)) firstTs = ts;
      const end = to ?? synthEnd;
      const fraction =
        end !== undefined ? (ts - firstTs) / Math.max(1, end - firstTs) : estRows ? events / estRows : 0;
      bar.update(
        fraction,
        `${(events / 1e6).toFixed(2)}M events, at ${new Date(ts).toISOString().slice(0, 19)}Z`,
      );
    },
  });
  bar?.done();
  // Nothing replayed is not a report: a range past the data, or a file with no rows, says so.
  if (run.events === 0) {
    const range = [
      from !== undefined ? `--from ${new Date(from).toISOString()}` : undefined,
      to !== undefined ? `--to ${new Date(to).toISOString()}` : undefined,
    ].filter(Boolean);
    throw new UsageError(
      range.length > 0
        ? `no market data in the range asked (${range.join(', ')}): nothing was replayed`
        : 'the market data has no events: nothing was replayed',
    );
  }
  const wallS = Number(process.hrtime.bigint() - t0) / 1e9;
  const summary = buildSummary(run);
  if (values.report) {
    mkdirSync(values.report, { recursive: true });
    writeFileAtomic(join(values.report, 'report.json'), `${JSON.stringify(summary, null, 2)}\n`);
    writeFileAtomic(join(values.report, 'report.html'), renderHtml(summary, run));
  }
  // Wall-clock figures go to stderr only: the report itself must not depend on the machine.
  process.stderr.write(
    `backtest: ${run.events} events in ${wallS.toFixed(2)} s (${Math.round(run.events / Math.max(wallS, 1e-9)).toLocaleString('en')} events/s)${
      values.report ? `; report in ${values.report}/report.{json,html}` : ''
    }\n`,
  );
  const attention = Object.entries(summary.strategies).filter(([, s]) => s.attention);
  for (const [id, s] of attention)
    process.stderr.write(
      `backtest: ${id} ended needing attention: ${s.attention!.reason} [${s.attention!.legs.map((l) => `${l.symbol}@${l.venue} ${l.position}`).join(', ')}]\n`,
    );
  // Exit 4 only when asked: a report with a strategy in needs attention is still a report.
  const exitCode = values['fail-on-attention'] && attention.length > 0 ? 4 : 0;
  if (values.json) {
    process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
    return exitCode;
  }
  const t = summary.totals;
  const lines = [
    `period   ${summary.period.from} → ${summary.period.to} (${summary.period.hours.toFixed(2)} h), ${summary.input.events} events`,
    ...summary.input.files.map(
      (f) =>
        `input    ${f.file}: ${f.rowsRead} rows, ${f.rowsUsed} used, ${f.rowsSkipped} skipped${
          f.rowsSkipped
            ? ` (${Object.entries(f.skipped)
                .map(([k, v]) => `${k}: ${v}`)
                .join(', ')})`
            : ''
        }`,
    ),
    `total    net ${t.netPnl.toFixed(2)}  realized ${t.realizedPnl.toFixed(2)}  unrealized ${t.unrealizedPnl.toFixed(2)}  fees ${t.fees.toFixed(2)}  funding ${t.funding.toFixed(2)}`,
    `         ${t.trades} trades, volume ${t.volume.toFixed(0)}, max drawdown ${t.maxDrawdown.toFixed(2)}, Sharpe-like ${t.sharpeLike === null ? '–' : t.sharpeLike.toFixed(2)}, ${t.cycles} cycles`,
    `venues   equity change ${summary.reconciliation.total.venue.toFixed(2)} vs net ${summary.reconciliation.total.netPnl.toFixed(2)}: difference ${summary.reconciliation.total.difference.toExponential(2)}`,
    '',
    ...Object.entries(summary.strategies).map(
      ([id, s]) =>
        `${id.padEnd(14)} ${s.kind.padEnd(16)} net ${s.netPnl.toFixed(2).padStart(10)}  fees ${s.fees.toFixed(2).padStart(8)}  trades ${String(s.trades).padStart(5)}  dd ${s.maxDrawdown.toFixed(2).padStart(8)}  ended ${s.attention ? `NEEDING ATTENTION: ${s.attention.reason}` : s.finalState}${s.halted ? ` (halted: ${s.halted})` : ''}`,
    ),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  return exitCode;
}
