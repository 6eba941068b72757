/**
 * /healthz and /metrics of a running engine, as an operator's Prometheus sees them: a real
 * `statearb run` process with a maker and a basis strategy on a paper venue, scraped on
 * --metrics-port and on the inspector's server, the text parsed by a Prometheus text parser.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { afterAll, describe, expect, it } from 'vitest';
import { collect, startCli, writePaperConfig } from '../cli/cli-helpers.ts';

const children: ReturnType<typeof startCli>[] = [];
afterAll(() => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
});

function config(dir: string): string {
  return writePaperConfig(dir, {
    inspector: { enabled: false },
    strategies: [
      {
        id: 'maker',
        kind: 'market-making',
        params: {
          market: { venue: 'binance', symbol: 'ETH/USDT:USDT' },
          orderAmount: 0.05,
          levels: 1,
          spreadBps: 5,
          maxInventoryBase: 0.5,
        },
      },
      {
        id: 'basis',
        kind: 'spot-futures',
        params: {
          spot: { venue: 'binance', symbol: 'BTC/USDT' },
          perp: { venue: 'binance', symbol: 'BTC/USDT:USDT' },
          amount: 0.01,
          minEntryBasisBps: -500,
          exitBasisBps: -600,
          maxEntryCostPct: 5,
          maxHoldingHours: 1 / 3600,
          cooldownMs: 500,
        },
      },
    ],
  });
}

/** The first `name: URL` line the child prints on stderr. */
function urlPrinted(child: ReturnType<typeof startCli>, name: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const t = setTimeout(() => reject(new Error(`no ${name} URL within 30 s:\n${seen}`)), 30_000);
    child.stderr!.on('data', (d) => {
      seen += String(d);
      const m = new RegExp(`^${name}: (http://\\S+)$`, 'm').exec(seen);
      if (m) {
        clearTimeout(t);
        resolve(m[1]!);
      }
    });
  });
}

const REQUESTS = 'statearb_venue_request_duration_seconds';
const CREATE = 'venue="binance",method="createOrder"';

type Family = {
  name: string;
  type: string;
  metrics: { labels?: Record<string, string>; value?: string; count?: string }[];
};

let lastText = '';

async function scrape(base: string): Promise<Map<string, Family>> {
  const res = await fetch(new URL('metrics', base));
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  lastText = await res.text();
  const families = parsePrometheusTextFormat(lastText) as Family[];
  return new Map(families.map((f) => [f.name, f]));
}

/** A histogram's _count for one label set (the parser folds labelled histograms into one). */
function histogramCount(name: string, labels: string): number {
  const m = new RegExp(`^${name}_count\\{${labels.replace(/[{}]/g, '')}\\} (\\S+)$`, 'm').exec(lastText);
  return m ? Number(m[1]) : Number.NaN;
}

describe('health and metrics', () => {
  it('/healthz reports engine, store and venue streams; /metrics is Prometheus text with strategy, venue and engine figures', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'statearb-metrics-'));
    const child = startCli(['run', '--config', config(dir), '--metrics-port', '0', '--inspect=0', '--json']);
    children.push(child);
    const done = collect(child);
    const [metricsUrl, inspectorUrl] = await Promise.all([
      urlPrinted(child, 'metrics'),
      urlPrinted(child, 'inspector'),
    ]);
    // Trading for a few seconds: quotes resting, a basis cycle or two.
    let families = new Map<string, Family>();
    for (let i = 0; i < 60; i++) {
      await new Promise((r) => setTimeout(r, 250));
      families = await scrape(metricsUrl);
      const orders = families.get('statearb_strategy_orders_in_flight')?.metrics ?? [];
      const placed = histogramCount(REQUESTS, CREATE);
      if (orders.some((m) => m.labels?.strategy === 'maker' && Number(m.value) > 0) && placed >= 3) break;
    }
    const health = await fetch(new URL('healthz', metricsUrl));
    const report = (await health.json()) as {
      status: string;
      engine: unknown;
      store: unknown;
      venues: Record<string, { status: string }>;
    };
    expect(report).toMatchObject({ engine: { status: 'ok', strategies: 2 }, store: { status: 'ok' } });
    expect(report.venues.binance!.status).toBe('ok');
    expect(health.status).toBe(report.status === 'ok' ? 200 : 503);
    expect(report.status).toBe('ok');

    const value = (name: string, labels: Record<string, string>) =>
      families.get(name)?.metrics.find((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v));
    expect(families.get('statearb_strategy_state')?.type).toBe('GAUGE');
    expect(value('statearb_strategy_state', { strategy: 'maker', state: 'quoting' })?.value).toBe('1');
    expect(value('statearb_strategy_position', { strategy: 'basis', symbol: 'BTC/USDT:USDT' })).toBeDefined();
    expect(value('statearb_strategy_net_pnl', { strategy: 'maker' })).toBeDefined();
    expect(Number(value('statearb_strategy_orders_in_flight', { strategy: 'maker' })?.value)).toBeGreaterThan(
      0,
    );
    expect(value('statearb_strategy_halted', { strategy: 'basis' })?.value).toBe('0');
    expect(families.get('statearb_venue_request_duration_seconds')?.type).toBe('HISTOGRAM');
    expect(histogramCount(REQUESTS, CREATE)).toBeGreaterThanOrEqual(3);
    expect(families.has('statearb_venue_rate_limited_total')).toBe(true);
    expect(families.has('statearb_venue_stream_reconnects_total')).toBe(true);
    expect(
      Number(value('statearb_quote_age_seconds', { venue: 'binance', symbol: 'ETH/USDT:USDT' })?.value),
    ).toBeLessThan(30);
    expect(Number(families.get('statearb_recovery_seconds')?.metrics[0]?.value)).toBeGreaterThan(0);
    expect(families.has('statearb_persist_last_write_seconds')).toBe(true);
    expect(families.has('nodejs_eventloop_lag_seconds')).toBe(true);
    // The inspector's server answers both too.
    expect((await scrape(inspectorUrl)).has('statearb_strategy_state')).toBe(true);
    expect((await fetch(new URL('healthz', inspectorUrl))).status).toBe(200);

    child.kill('SIGTERM');
    expect((await done).code).toBe(0);
  }, 90_000);
});
