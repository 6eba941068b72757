/**
 * Engine-scale figures: tick-to-order with 1, 100 and 1,000 strategies running; backtest
 * throughput per strategy kind on a 1M-row synthetic CSV; heap per strategy with 10,000.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runBacktest } from '../src/backtest/run.ts';
import { VirtualClock } from '../src/clock/clock.ts';
import { validateConfig } from '../src/config/load.ts';
import type { OrderRequest } from '../src/domain/index.ts';
import { createEngine } from '../src/engine/engine.ts';
import { SimExchangeClient } from '../src/exchange/sim/client.ts';
import { simMarket, standardSymbols } from '../src/exchange/sim/markets.ts';
import { SimVenue } from '../src/exchange/sim/venue.ts';
import { readQuotesCsv } from '../src/marketdata/csv.ts';
import { MemoryStore } from '../src/store/memory.ts';
import { SqliteStore } from '../src/store/sqlite.ts';
import { type Figure, percentile } from './lib.ts';
import { replayThroughVenues, writeSyntheticCsv } from './marketdata.bench.ts';
import { xstateFloor } from './xstate-floor.ts';

const basisParams = (asset: string, over: Record<string, unknown> = {}) => ({
  spot: { venue: 'sim', symbol: `${asset}/USDT` },
  perp: { venue: 'sim', symbol: `${asset}/USDT:USDT` },
  amount: 1,
  direction: 'long-spot',
  minEntryBasisBps: 10,
  exitBasisBps: 2,
  maxEntryCostPct: 1,
  slippageBps: 0,
  maxHoldingHours: 24,
  maxAdverseFundingHours: 8,
  deltaToleranceBase: 0.001,
  staleAfterMs: 60_000,
  maxPositionNotional: 1e9,
  maxCycles: 0,
  cooldownMs: 0,
  ...over,
});

async function settle<T>(clock: VirtualClock, p: Promise<T>): Promise<T> {
  let done = false;
  const out = p.finally(() => {
    done = true;
  });
  while (!done) await clock.advanceBy(1);
  return out;
}

/**
 * Quote in (the venue's book changes) → the strategy's first order request at the port, with
 * `n` strategies running on their own instruments and every other instrument quoting between
 * triggers. Zero venue latency: this is the engine's own time.
 */
export async function tickToOrder(n: number, triggers: number): Promise<Figure[]> {
  const clock = new VirtualClock(Date.UTC(2026, 0, 1));
  const assets = Array.from({ length: n }, (_, i) => `A${i}`);
  const venue = new SimVenue({
    name: 'sim',
    clock,
    markets: standardSymbols(assets).map((s) => simMarket('sim', s)),
    balances: { USDT: 1e12 },
    defaultLeverage: 10,
    // The same quotes repeat every trigger: each is a fresh book (what one entry took is back),
    // so every trigger measures the same decision, not a book the previous triggers emptied.
    liquidity: 'refresh',
  });
  const client = new SimExchangeClient(venue);
  const engine = createEngine({
    store: new MemoryStore(),
    venues: { sim: client },
    clock,
    persistSnapshots: false,
    ...(process.env.BENCH_NO_CHECKS ? { positionCheckMs: 0, commandPollMs: 0 } : {}),
  });
  await settle(clock, engine.start());
  for (const a of assets)
    await engine.addStrategy({ kind: 'spot-futures', id: `s-${a}`, params: basisParams(a) });
  const samples: number[] = [];
  let quoteAt = 0n;
  let waiting = false;
  const create = client.createOrder.bind(client);
  client.createOrder = (req: OrderRequest) => {
    if (waiting) {
      samples.push(Number(process.hrtime.bigint() - quoteAt) / 1e3);
      waiting = false;
    }
    return create(req);
  };
  const book = (symbol: string, mid: number, half: number) =>
    venue.onBookTicker({
      symbol,
      bid: mid - half,
      ask: mid + half,
      bidSize: 5,
      askSize: 5,
      timestamp: clock.now(),
    });
  const background = (k: number) => {
    for (let i = 1; i < n; i++) {
      const w = (k + i) % 3;
      book(`A${i}/USDT`, 100 + w * 0.001, 0.005);
      book(`A${i}/USDT:USDT`, 100.01 + w * 0.001, 0.001);
    }
  };
  for (let k = 0; k < triggers; k++) {
    background(k);
    book('A0/USDT', 100, 0.005);
    await clock.advanceBy(5);
    waiting = true;
    quoteAt = process.hrtime.bigint();
    book('A0/USDT:USDT', 100.5, 0.001); // 50 bps rich: entry
    await clock.advanceBy(20);
    waiting = false;
    book('A0/USDT:USDT', 100.0, 0.001); // converged: exit
    await clock.advanceBy(20);
  }
  await engine.stop();
  venue.dispose();
  const fig = (p: number): Figure => ({
    name: `tick-to-order p${p} with ${n} strateg${n === 1 ? 'y' : 'ies'} running`,
    value: Number(percentile(samples, p).toFixed(1)),
    unit: 'µs',
    runs: samples.length,
    spread: 0,
  });
  return [fig(50), fig(99), fig(99.9)];
}

function backtestConfig(kind: string): unknown {
  const fees = { maker: 0, taker: 0.0002 };
  const venues = {
    binance: { type: 'simulated', latencyMs: 10, fees, balances: { USDT: 1e6, BTC: 10, ETH: 100 } },
    bybit: { type: 'simulated', latencyMs: 20, fees, balances: { USDT: 1e6, BTC: 10, ETH: 100 } },
  };
  const strategies: Record<string, unknown> = {
    'spot-futures': {
      spot: { venue: 'binance', symbol: 'BTC/USDT' },
      perp: { venue: 'binance', symbol: 'BTC/USDT:USDT' },
      amount: 0.05,
      minEntryBasisBps: 0,
      exitBasisBps: -2,
      slippageBps: 0.5,
      maxHoldingHours: 0.5,
    },
    'futures-spread': {
      legA: { venue: 'binance', symbol: 'BTC/USDT:USDT' },
      legB: { venue: 'bybit', symbol: 'BTC/USDT:USDT' },
      amount: 0.05,
    },
    'market-making': {
      market: { venue: 'bybit', symbol: 'ETH/USDT:USDT' },
      orderAmount: 0.5,
      spreadBps: 2,
      maxInventoryBase: 5,
    },
    'cross-arbitrage': {
      venueA: { venue: 'binance', symbol: 'ETH/USDT' },
      venueB: { venue: 'bybit', symbol: 'ETH/USDT' },
      minProfitBps: 1,
      maxNotional: 5_000,
    },
  };
  return { venues, assets: ['BTC', 'ETH'], strategies: [{ id: kind, kind, params: strategies[kind] }] };
}

/** The same file through the venues with no strategy at all, quotes/s: the backtest's own floor. */
async function noStrategyBaseline(file: string, rows: number): Promise<number> {
  const t0 = process.hrtime.bigint();
  await replayThroughVenues(file);
  return rows / (Number(process.hrtime.bigint() - t0) / 1e9);
}

/** One backtest of `kind` (the bench config), timed: the run and its quotes/s. */
async function timedBacktest(kind: string, opts: { quotes: string; to?: number }) {
  const config = validateConfig(backtestConfig(kind), `bench ${kind}`);
  const t0 = process.hrtime.bigint();
  const run = await runBacktest(config, opts);
  return { run, qps: run.events / (Number(process.hrtime.bigint() - t0) / 1e9) };
}

/**
 * Backtest quotes/s per kind: CSV → engine + strategy + simulated venues on a virtual clock.
 * Spot–futures also runs on a file ten times denser (the same 1M rows over 1.2 h instead of
 * 12 h): a strategy's per-second costs (its clock tick, the refresh quotes its gate lets
 * through, the risk check) are spread over ten times more quotes there.
 */
export async function backtestThroughput(): Promise<Figure[]> {
  const dir = mkdtempSync(join(tmpdir(), 'statearb-bt-bench-'));
  const file = join(dir, 'quotes-1m.csv');
  const dense = join(dir, 'quotes-1m-dense.csv');
  const ROWS = 1_000_000;
  await writeSyntheticCsv(file, ROWS);
  await writeSyntheticCsv(dense, ROWS, 1, 25);
  const figures: Figure[] = [];
  const baseline = await noStrategyBaseline(file, ROWS);
  figures.push({
    name: 'backtest baseline: CSV → venues, no strategy (1M rows)',
    value: Math.round(baseline),
    unit: 'quotes/s',
    runs: 1,
    spread: 0,
  });
  // The first row's time, to cut the slower kinds to a prefix of the file.
  const first = (await readQuotesCsv(file).batches().next()).value![0]!.timestamp;
  const limits: Record<string, number | undefined> = {
    'spot-futures': undefined,
    'futures-spread': 3 * 3_600_000,
    'market-making': 1 * 3_600_000,
    'cross-arbitrage': 3 * 3_600_000,
  };
  for (const [kind, hours] of Object.entries(limits)) {
    const { run, qps } = await timedBacktest(kind, { quotes: file, ...(hours ? { to: first + hours } : {}) });
    figures.push({
      name: `backtest ${kind}: quotes/s (${hours ? `first ${run.events.toLocaleString('en')} rows` : '1M rows'}, ${run.trades.length} fills)`,
      value: Math.round(qps),
      unit: 'quotes/s',
      runs: 1,
      spread: 0,
      note: `${(qps / baseline).toFixed(3)} of the no-strategy baseline`,
    });
  }
  const denseBaseline = await noStrategyBaseline(dense, ROWS);
  figures.push({
    name: 'backtest baseline, 10× denser quotes (1M rows over 1.2 h)',
    value: Math.round(denseBaseline),
    unit: 'quotes/s',
    runs: 1,
    spread: 0,
  });
  {
    const { run, qps } = await timedBacktest('spot-futures', { quotes: dense });
    figures.push({
      name: `backtest spot-futures, 10× denser quotes (1M rows, ${run.trades.length} fills)`,
      value: Math.round(qps),
      unit: 'quotes/s',
      runs: 1,
      spread: 0,
      note: `${(qps / denseBaseline).toFixed(3)} of the no-strategy baseline on the same file`,
    });
  }
  const shared = join(
    import.meta.dirname,
    '../../shared/data/bybit_spot_perp_2026-08-09/bybit_spot_perp_2026-08-09.quotes.csv',
  );
  if (existsSync(shared)) {
    const config = validateConfig(
      {
        venues: { bybit: { type: 'simulated', latencyMs: 10, balances: { USDT: 1e5, BTC: 1 } } },
        assets: ['BTC', 'ETH'],
        strategies: [
          {
            id: 'basis',
            kind: 'spot-futures',
            params: {
              spot: { venue: 'bybit', symbol: 'BTC/USDT' },
              perp: { venue: 'bybit', symbol: 'BTC/USDT:USDT' },
              amount: 0.01,
              minEntryBasisBps: -100,
              exitBasisBps: -200,
              maxHoldingHours: 0.001,
              cooldownMs: 1_000,
              staleAfterMs: 60_000,
            },
          },
        ],
      },
      'bench shared',
    );
    const t0 = process.hrtime.bigint();
    const run = await runBacktest(config, { quotes: shared });
    const s = Number(process.hrtime.bigint() - t0) / 1e9;
    figures.push({
      name: `backtest spot-futures on recorded Bybit quotes (shared/data, ${run.events} rows, ${run.trades.length} fills)`,
      value: Math.round(run.events / s),
      unit: 'quotes/s',
      runs: 1,
      spread: 0,
      note: 'a 600-row file: start-up dominates',
    });
  }
  rmSync(dir, { recursive: true, force: true }); // two 60 MB files
  return figures;
}

/** Heap per running strategy with `n` basis strategies (SQLite store on disk), and the RSS. */
export async function heapPerStrategy(n: number): Promise<Figure[]> {
  const gc = (globalThis as { gc?: () => void }).gc;
  const clock = new VirtualClock(Date.UTC(2026, 0, 1));
  const assets = Array.from({ length: n }, (_, i) => `H${i}`);
  const venue = new SimVenue({
    name: 'sim',
    clock,
    markets: standardSymbols(assets).map((s) => simMarket('sim', s)),
    balances: { USDT: 1e12 },
  });
  const file = join(mkdtempSync(join(tmpdir(), 'statearb-heap-')), 'h.db');
  const store = new SqliteStore(file, { synchronous: 'NORMAL' });
  const engine = createEngine({ store, venues: { sim: new SimExchangeClient(venue) }, clock });
  await settle(clock, engine.start());
  for (const a of assets) {
    venue.onBookTicker({
      symbol: `${a}/USDT`,
      bid: 99.99,
      ask: 100.01,
      bidSize: 5,
      askSize: 5,
      timestamp: clock.now(),
    });
    venue.onBookTicker({
      symbol: `${a}/USDT:USDT`,
      bid: 100.0,
      ask: 100.02,
      bidSize: 5,
      askSize: 5,
      timestamp: clock.now(),
    });
  }
  gc?.();
  const before = process.memoryUsage().heapUsed;
  for (const a of assets)
    await engine.addStrategy({ kind: 'spot-futures', id: `h-${a}`, params: basisParams(a) });
  await clock.advanceBy(1_500);
  gc?.();
  const after = process.memoryUsage();
  const perKiB = (after.heapUsed - before) / n / 1024;
  await engine.stop();
  store.close();
  return [
    {
      name: `heap per running strategy (${n.toLocaleString('en')} spot–futures strategies)`,
      value: Number(perKiB.toFixed(1)),
      unit: 'KiB',
      runs: 1,
      spread: 0,
      ...(gc ? {} : { note: 'run with --expose-gc for a clean figure' }),
    },
    {
      name: `RSS with ${n.toLocaleString('en')} strategies`,
      value: Math.round(after.rss / 2 ** 20),
      unit: 'MiB',
      runs: 1,
      spread: 0,
    },
  ];
}

/** Tick-to-order as a ratio to XState's entry-tree floor measured in the same run. */
function overFloorOf(floor: ReturnType<typeof xstateFloor>) {
  return (figs: Figure[]): Figure[] => {
    const p50 = figs[0]!;
    return [
      ...figs,
      {
        name: `${p50.name} ÷ XState entry-tree floor`,
        value: Number((p50.value / floor.entryTreeUs).toFixed(2)),
        unit: 'ratio',
        runs: p50.runs,
        spread: 0,
        note: 'tick-to-order cannot go below 1 while an entry builds this tree before sending',
      },
    ];
  };
}

export async function orderPathBench(): Promise<Figure[]> {
  const floor = xstateFloor();
  const overFloor = overFloorOf(floor);
  return [
    ...floor.figures,
    ...overFloor(await tickToOrder(1, 2_000)),
    ...overFloor(await tickToOrder(100, 2_000)),
  ];
}

export async function scaleBench(): Promise<Figure[]> {
  // The floor under tick-to-order, measured in this run: XState building an entry's actor tree.
  const floor = xstateFloor();
  const overFloor = overFloorOf(floor);
  return [
    ...floor.figures,
    ...overFloor(await tickToOrder(1, 2_000)),
    ...overFloor(await tickToOrder(100, 2_000)),
    ...overFloor(await tickToOrder(1_000, 1_000)),
    ...(await backtestThroughput()),
    ...(await heapPerStrategy(10_000)),
  ];
}
