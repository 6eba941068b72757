import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { renderHtml } from '../../src/backtest/html.ts';
import { type BacktestSummary, buildSummary, maxDrawdown, sharpeLike } from '../../src/backtest/report.ts';
import { runBacktest } from '../../src/backtest/run.ts';
import { backtestCommand, defaultSampleMs } from '../../src/cli/commands/backtest.ts';
import { validateConfig } from '../../src/config/load.ts';
import { QUOTES_HEADER } from '../../src/marketdata/csv.ts';
import { SyntheticMarket } from '../../src/marketdata/synthetic.ts';
import { runCli } from '../cli/cli-helpers.ts';

const dir = mkdtempSync(join(tmpdir(), 'statearb-backtest-'));
const START = Date.UTC(2026, 2, 1);

/**
 * A recorded-quote fixture: 40 minutes of the synthetic market for BTC spot and perp on one
 * venue, written as CSV, with known bad rows mixed in and quotes for an instrument the config
 * does not list.
 */
function writeFixture(): { file: string; rows: number; bad: Record<string, number>; unknown: number } {
  const m = new SyntheticMarket({
    seed: 17,
    startTs: START,
    endTs: START + 40 * 60_000,
    stepMs: 250,
    venues: [{ name: 'binance', spotSpreadBps: 0.4, perpSpreadBps: 0.3, touchNotional: 40_000, perp: true }],
    assets: [{ base: 'BTC', price: 60_000, annualVol: 0.6 }],
    basis: { meanBps: 12, volBps: 10, halfLifeMin: 5, shocksPerHour: 6, shockBps: 25 },
  });
  const lines = [QUOTES_HEADER];
  let e = m.next();
  let i = 0;
  let unknown = 0;
  const bad = { 'unparsable number': 0, 'crossed book': 0, 'out of order': 0, 'wrong column count': 0 };
  while (e) {
    if (e.kind === 'quote') {
      lines.push(`${e.timestamp},${e.venue},${e.symbol},${e.bid},${e.bidSize},${e.ask},${e.askSize}`);
      i++;
      if (i % 997 === 0) {
        lines.push(`${e.timestamp},binance,BTC/USDT,abc,1,${e.ask},1`);
        bad['unparsable number']++;
      }
      if (i % 1499 === 0) {
        lines.push(`${e.timestamp},binance,BTC/USDT,${e.ask + 10},1,${e.ask},1`);
        bad['crossed book']++;
      }
      if (i % 2003 === 0) {
        lines.push(`${e.timestamp - 60_000},binance,BTC/USDT,${e.bid},1,${e.ask},1`);
        bad['out of order']++;
      }
      if (i % 2501 === 0) {
        lines.push(`${e.timestamp},binance,BTC/USDT,${e.bid},1`);
        bad['wrong column count']++;
      }
      if (i % 500 === 0) {
        lines.push(`${e.timestamp},kraken,BTC/USD,${e.bid},1,${e.ask},1`);
        unknown++;
      }
    }
    e = m.next();
  }
  const file = join(dir, 'quotes.csv');
  writeFileSync(file, `${lines.join('\n')}\n`);
  return { file, rows: lines.length - 1, bad, unknown };
}

const fixture = writeFixture();

const configObject = {
  venues: { binance: { type: 'simulated', latencyMs: 10, fees: { maker: 0, taker: 0.0002 } } },
  assets: ['BTC'],
  strategies: [
    {
      id: 'basis',
      kind: 'spot-futures',
      params: {
        spot: { venue: 'binance', symbol: 'BTC/USDT' },
        perp: { venue: 'binance', symbol: 'BTC/USDT:USDT' },
        amount: 0.05,
        minEntryBasisBps: 2,
        exitBasisBps: 0,
        slippageBps: 0.5,
        maxHoldingHours: 0.1,
        cooldownMs: 30_000,
      },
    },
  ],
};
const config = () => validateConfig(structuredClone(configObject), 'backtest config');

describe('backtest', () => {
  it('replays recorded quotes through the strategy; bad rows are counted by reason and never used', async () => {
    const run = await runBacktest(config(), { quotes: fixture.file });
    const s = buildSummary(run);
    const f = s.input.files[0]!;
    expect(f.rowsRead).toBe(fixture.rows);
    expect(f.skipped).toEqual(fixture.bad);
    expect(f.rowsSkipped).toBe(Object.values(fixture.bad).reduce((a, b) => a + b, 0));
    expect(f.rowsUsed).toBe(fixture.rows - f.rowsSkipped);
    expect(f.examples.length).toBeGreaterThan(0);
    expect(s.input.unknownInstruments).toEqual({ 'kraken|BTC/USD': fixture.unknown });
    expect(s.input.events).toBe(f.rowsUsed);

    const b = s.strategies.basis!;
    expect(b.trades).toBeGreaterThan(0);
    expect(b.entries).toBeGreaterThan(0);
    expect(b.exits).toBeGreaterThan(0);
    expect(b.trades).toBe(b.entries + b.exits);
    expect(b.cycles).toBeGreaterThan(0);
    // Fees booked by the strategy are the venue's fees on its fills.
    expect(b.fees).toBeCloseTo(
      run.trades.reduce((a, t) => a + t.fee, 0),
      6,
    );
    expect(b.netPnl).toBeCloseTo(b.realizedPnl + b.unrealizedPnl - b.fees + b.funding, 6);
    expect(s.totals.netPnl).toBeCloseTo(b.netPnl, 8);
    // The reconciliation: the venue's own fills and funding, and its equity change, give the
    // strategy's PnL to 1e-9 relative.
    const rel = (l: { netPnl: number; difference: number }) =>
      Math.abs(l.difference) / Math.max(1, Math.abs(l.netPnl));
    expect(rel(s.reconciliation.strategies.basis!)).toBeLessThanOrEqual(1e-9);
    expect(rel(s.reconciliation.total)).toBeLessThanOrEqual(1e-9);
    expect(run.samples.at(-1)!.equity).toBeCloseTo(s.totals.netPnl, 6);
    const pct = Object.values(b.timeInState).reduce((a, x) => a + x.pct, 0);
    expect(pct).toBeCloseTo(100, 6);
    expect(Object.keys(b.timeInState)).toEqual(expect.arrayContaining(['watching', 'holding']));
    expect(b.maxDrawdown).toBeGreaterThanOrEqual(0);
    expect(s.period.firstTs).toBe(START);
  });

  it('a decision leaves at its own market time: its first fill comes one venue latency later', async () => {
    // The placement waits on the intent journal (a promise), not on the clock; the replay must let
    // it through before the next quote moves time, or the order would fill against a later book.
    const run = await runBacktest(config(), { quotes: fixture.file });
    const decisions = run.transitions.filter((t) => t.to === 'entering' || t.to === 'exiting');
    expect(decisions.length).toBeGreaterThan(2);
    for (const d of decisions) {
      const first = run.trades.find((t) => t.ts >= d.at);
      expect(first, `a fill after the decision at ${d.at}`).toBeDefined();
      expect(first!.ts - d.at, `decision at ${d.at} (${d.from} → ${d.to})`).toBe(10);
    }
  });

  it('is deterministic: the same input gives byte-identical JSON and HTML', async () => {
    const a = await runBacktest(config(), { quotes: fixture.file });
    const b = await runBacktest(config(), { quotes: fixture.file });
    const sa = buildSummary(a);
    const sb = buildSummary(b);
    expect(JSON.stringify(sa)).toBe(JSON.stringify(sb));
    expect(renderHtml(sa, a)).toBe(renderHtml(sb, b));
  });

  it('the HTML page is offline and marks entries and exits on the price chart', async () => {
    const run = await runBacktest(config(), { quotes: fixture.file });
    const html = renderHtml(buildSummary(run), run);
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).not.toMatch(/<script|https?:\/\/(?!www\.w3\.org)/);
    expect((html.match(/<svg /g) ?? []).length).toBe(2);
    expect((html.match(/class="entry"/g) ?? []).length).toBe(
      run.trades.filter((t) => t.symbol === 'BTC/USDT' && t.effect === 'entry').length,
    );
    expect(html).toContain('class="exit"');
    expect(html).toContain('basis bps');
  });

  it('runs on the synthetic market when no data is given', async () => {
    const c = validateConfig(
      {
        ...structuredClone(configObject),
        marketData: { source: 'synthetic', seed: 2, durationHours: 0.5, basisMeanBps: 15 },
      },
      'synthetic',
    );
    const run = await runBacktest(c);
    const s = buildSummary(run);
    expect(s.input.source).toBe('synthetic');
    expect(s.input.files).toEqual([]);
    expect(s.period.hours).toBeCloseTo(0.5, 2);
    expect(s.strategies.basis!.trades).toBeGreaterThan(0);
  });

  it('a strategy whose instrument the venues do not list stops the backtest before it starts, named as run names it (exit 2)', async () => {
    const bad = structuredClone(configObject);
    bad.strategies[0]!.params.perp = { venue: 'binance', symbol: 'ETH/USDT:USDT' }; // not listed (assets: BTC)
    const file = join(dir, 'bad-params.json');
    writeFileSync(file, JSON.stringify({ ...bad, marketData: { source: 'synthetic', durationHours: 0.1 } }));
    const r = await runCli(['backtest', '--config', file, '--json']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/strategies\[0\] \(basis\)\.params\.perp: binance does not list ETH\/USDT:USDT/);
  });

  it('a strategy that ends in needs attention is in the report with its reason and each leg; --fail-on-attention exits 4', async () => {
    // Every order answer is lost half the time and every order query times out: the entry's
    // fills are unknown, so the strategy stops and says so instead of guessing.
    const o = structuredClone(configObject) as typeof configObject & {
      venues: { binance: Record<string, unknown> };
    };
    o.venues.binance.faults = { timeoutRate: 1, orderQueryTimeoutRate: 1 };
    const cfg = join(dir, 'attention.json');
    writeFileSync(cfg, JSON.stringify(o));
    const out = join(dir, 'attention-report');
    const quiet = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    const err = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const plain = await backtestCommand(['--config', cfg, '--data', fixture.file, '--report', out]);
    const strict = await backtestCommand(['--config', cfg, '--data', fixture.file, '--fail-on-attention']);
    quiet.mockRestore();
    err.mockRestore();
    expect(plain).toBe(0);
    expect(strict).toBe(4);
    const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as BacktestSummary;
    const s = report.strategies.basis!;
    expect(s.finalState).toBe('needsAttention');
    expect(s.attention?.reason).toMatch(/unknown/);
    expect(s.attention?.legs.map((l) => l.symbol)).toEqual(['BTC/USDT', 'BTC/USDT:USDT']);
    expect(s.positions.map((p) => p.symbol)).toEqual(['BTC/USDT', 'BTC/USDT:USDT']);
    expect(readFileSync(join(out, 'report.html'), 'utf8')).toContain('NEEDS ATTENTION');
  });

  it('the sample period follows the span replayed: a 42 s recording is sampled every second, a day every minute', () => {
    expect(defaultSampleMs(42_000)).toBe(1_000);
    expect(defaultSampleMs(40 * 60_000)).toBe(5_000);
    expect(defaultSampleMs(86_400_000)).toBe(60_000);
    expect(defaultSampleMs(undefined)).toBe(60_000);
  });

  it('drawdown and the Sharpe-like ratio', () => {
    expect(maxDrawdown([0, 5, 3, 8, 2, 4])).toBe(6);
    expect(maxDrawdown([-1, -2, -3])).toBe(3);
    const H = 3_600_000;
    // +1 every hour, with a wobble: positive, finite; a flat line has no ratio.
    const up = Array.from({ length: 10 }, (_, i) => ({ ts: i * H + 1, v: i + (i % 2) * 0.5 }));
    expect(sharpeLike(up)).toBeGreaterThan(0);
    expect(sharpeLike(up.slice(0, 3))).toBeNull();
    expect(sharpeLike(up.map((p) => ({ ...p, v: 0 })))).toBeNull();
  });

  it('statearb backtest: report files, --from/--to, --json; bad files exit 2 naming them', async () => {
    const cfgFile = join(dir, 'bt.json');
    writeFileSync(cfgFile, JSON.stringify(configObject));
    const out1 = join(dir, 'r1');
    const out2 = join(dir, 'r2');
    const from = new Date(START + 5 * 60_000).toISOString();
    const args = [
      'backtest',
      '--config',
      cfgFile,
      '--data',
      fixture.file,
      '--from',
      from,
      '--to',
      String(START + 30 * 60_000),
    ];
    const r1 = await runCli([...args, '--report', out1, '--json']);
    expect(r1.code, r1.stderr).toBe(0);
    const summary = JSON.parse(r1.stdout);
    expect(summary.input.files[0].rowsOutsideRange).toBeGreaterThan(0);
    expect(summary.period.firstTs).toBeGreaterThanOrEqual(START + 5 * 60_000);
    expect(summary.period.lastTs).toBeLessThanOrEqual(START + 30 * 60_000);
    expect(r1.stderr).toMatch(/events\/s/);
    const r2 = await runCli([...args, '--report', out2]);
    expect(r2.code).toBe(0);
    expect(r2.stdout).toMatch(/net .* realized .* fees/);
    for (const f of ['report.json', 'report.html'])
      expect(readFileSync(join(out1, f)).equals(readFileSync(join(out2, f)))).toBe(true);
    expect(JSON.parse(readFileSync(join(out1, 'report.json'), 'utf8'))).toEqual(summary);

    const missing = await runCli(['backtest', '--config', cfgFile, '--data', join(dir, 'nope.csv')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/nope\.csv: file not found/);
    const wrongHeader = join(dir, 'wrong.csv');
    writeFileSync(wrongHeader, 'time,bid,ask\n1,2,3\n');
    const bad = await runCli(['backtest', '--config', cfgFile, '--data', wrongHeader]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/wrong\.csv:1: expected header "ts,venue,symbol,bid,bid_size,ask,ask_size"/);
    // A range past the data replays nothing: said, exit 2 (it printed an empty report, exit 0).
    const past = await runCli([
      'backtest',
      '--config',
      cfgFile,
      '--data',
      fixture.file,
      '--from',
      String(START + 2 * 3_600_000),
    ]);
    expect(past.code).toBe(2);
    expect(past.stderr).toMatch(/no market data in the range asked \(--from 2026-03-01T02:00:00\.000Z\)/);
    const badTime = await runCli(['backtest', '--config', cfgFile, '--from', 'yesterday']);
    expect(badTime.code).toBe(2);
    expect(badTime.stderr).toMatch(/--from: expected epoch ms or an ISO 8601 time/);
  });
});
