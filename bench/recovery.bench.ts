/**
 * Recovery time against the size of the order journal: five market makers on a simulated venue
 * with a real round trip (15 ms each way), their quotes resting, then killed (no final write).
 * A fresh engine starts on the store: start() → every strategy restored, reconciled and running.
 * Once with the journal the makers wrote, once with 100,000 more finished orders journalled
 * before the last snapshot, 1,000 of them in the last minute. Reports the medians, their ratio,
 * and the venue reads each recovery made: the order reads (one open-orders list per symbol for
 * the resting quotes — the figure that must not grow with the journal) and the rest (each
 * maker's position check and funding reads).
 */
import { copyFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { WallClock } from '../src/clock/clock.ts';
import { createEngine, type Engine } from '../src/engine/engine.ts';
import { SimExchangeClient } from '../src/exchange/sim/client.ts';
import { simMarket } from '../src/exchange/sim/markets.ts';
import { SimVenue } from '../src/exchange/sim/venue.ts';
import { SqliteStore } from '../src/store/sqlite.ts';
import { type Figure, median } from './lib.ts';

const SYMBOLS = ['BTC', 'ETH', 'SOL', 'XRP', 'DOGE'].map((b) => `${b}/USDT:USDT`);
const MIDS: Record<string, number> = { BTC: 60_000, ETH: 3_000, SOL: 150, XRP: 0.6, DOGE: 0.15 };
const ARCHIVED = 100_000;
const RECENT = 1_000;
const RUNS = 5;
/** Two levels a side per maker. */
const QUOTES = SYMBOLS.length * 4;

function venueWorld(clock: WallClock) {
  const venue = new SimVenue({
    name: 'sim',
    clock,
    markets: SYMBOLS.map((s) => simMarket('sim', s)),
    balances: { USDT: 10_000_000 },
  });
  const client = new SimExchangeClient(venue, {
    latency: { requestMs: 15, streamMs: 1 },
    requestTimeoutMs: 5_000,
  });
  const quote = () => {
    for (const s of SYMBOLS) {
      const mid = MIDS[s.split('/')[0]!]!;
      venue.onBookTicker({
        symbol: s,
        bid: mid * 0.9999,
        ask: mid * 1.0001,
        bidSize: 1e6,
        askSize: 1e6,
        timestamp: clock.now(),
      });
    }
  };
  const timer = setInterval(quote, 100);
  quote();
  return {
    venue,
    client,
    stop: () => {
      clearInterval(timer);
      venue.dispose(); // its funding timers would keep the bench alive until the next settlement
    },
  };
}

const maker = (symbol: string) => ({
  market: { venue: 'sim', symbol },
  orderAmount: symbol.startsWith('BTC') ? 0.01 : symbol.startsWith('ETH') ? 0.1 : 100,
  levels: 2,
  spreadBps: 20,
  levelSpacingBps: 10,
  reference: 'mid',
  inventorySkewBpsPerUnit: 0,
  maxInventoryBase: 1e6,
  refreshToleranceBps: 5,
  minOrderAgeMs: 500,
  staleAfterMs: 5_000,
  rejectBackoffMs: 500,
  maxPositionNotional: 1e9,
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Five makers quoting, then the process "dies": a store file whose strategies have quotes resting. */
async function crashedStore(dir: string): Promise<{ file: string; world: ReturnType<typeof venueWorld> }> {
  const clock = new WallClock();
  const world = venueWorld(clock);
  const file = join(dir, `base-${Date.now()}.db`);
  const engine = createEngine({
    store: new SqliteStore(file),
    venues: { sim: world.client },
    clock,
    positionCheckMs: 0,
  });
  await engine.start();
  for (const [i, s] of SYMBOLS.entries())
    await engine.addStrategy({ kind: 'market-making', id: `mm-${i}`, params: maker(s) });
  await sleep(1_500);
  kill(engine);
  return { file, world };
}

function kill(engine: Engine): void {
  for (const r of (
    engine as unknown as { running: Map<string, { actor: { stop(): void } }> }
  ).running.values())
    r.actor.stop();
  // The process is gone in a real crash: nothing of it keeps running (its order-poll timers).
  const e = engine as unknown as { ticker: { dispose(): void }; exchange?: { dispose(): void } };
  e.ticker.dispose();
  e.exchange?.dispose();
}

/** Finished orders journalled before the last snapshot: `total`, `recent` of them in the last minute. */
function journalHistory(file: string, total: number, recent: number): void {
  const db = new Database(file);
  const lastSaved = (db.prepare('SELECT MIN(updated_at) AS t FROM strategies').get() as { t: number }).t;
  const insert = db.prepare(
    'INSERT INTO intents (venue, client_order_id, strategy_id, request, created_at) VALUES (?, ?, ?, ?, ?)',
  );
  db.transaction(() => {
    for (let i = 0; i < total; i++) {
      const strategy = `mm-${i % SYMBOLS.length}`;
      const id = `Sbench${String(i).padStart(12, '0')}`;
      const at = i < recent ? lastSaved - 2_000 - (i % 58_000) : lastSaved - 3_600_000 - i * 10;
      const req = {
        symbol: SYMBOLS[i % SYMBOLS.length],
        side: 'buy',
        type: 'limit',
        amount: 1,
        price: 1,
        clientOrderId: id,
      };
      insert.run('sim', id, strategy, JSON.stringify(req), at);
    }
  })();
  db.close();
  // What the engine's hourly archive does: the hour-old ones leave the hot journal.
  const store = new SqliteStore(file);
  archived = store.archiveIntents(Date.now() - 3_600_000);
  store.close();
}

let archived = 0;

/** Reads about orders (what grows with the strategies' quotes) and every other venue read. */
const ORDER_CALLS = new Set(['fetchOrder', 'fetchOpenOrders', 'cancelOrder']);

async function recoverOnce(
  file: string,
  world: ReturnType<typeof venueWorld>,
): Promise<{ ms: number; orderCalls: number; otherCalls: number }> {
  let orderCalls = 0;
  let otherCalls = 0;
  const client = world.client;
  const counted = new Proxy(client, {
    get(target, prop) {
      const v = Reflect.get(target, prop, target);
      if (typeof v !== 'function' || typeof prop !== 'string') return v;
      return (...a: unknown[]) => {
        if (ORDER_CALLS.has(prop)) orderCalls++;
        else if (prop.startsWith('fetch')) otherCalls++;
        return (v as (...x: unknown[]) => unknown).apply(target, a);
      };
    },
  });
  const clock = new WallClock();
  const t0 = performance.now();
  const engine = createEngine({
    store: new SqliteStore(file),
    venues: { sim: counted },
    clock,
    positionCheckMs: 0,
  });
  await engine.start({ recover: true });
  const ms = performance.now() - t0;
  // The restored order machines' catch-up reads leave as they start: a few round trips later
  // they are all counted, before the graceful stop cancels the quotes (not recovery's calls).
  await sleep(200);
  const counts = { orderCalls, otherCalls };
  await engine.stop();
  return { ms, ...counts };
}

export async function recoveryBench(): Promise<Figure[]> {
  const dir = mkdtempSync(join(tmpdir(), 'statearb-recovery-bench-'));
  const { file, world } = await crashedStore(dir);
  const big = join(dir, 'big.db');
  copyFileSync(file, big);
  for (const ext of ['-wal', '-shm'])
    try {
      copyFileSync(file + ext, big + ext);
    } catch {}
  journalHistory(big, ARCHIVED, RECENT);
  type Runs = { ms: number[]; orderCalls: number[]; otherCalls: number[] };
  const runs = (): Runs => ({ ms: [], orderCalls: [], otherCalls: [] });
  const results: Record<'empty' | 'big', Runs> = { empty: runs(), big: runs() };
  // Interleaved, each from a fresh copy of its crashed store (a recovery changes what it recovers).
  for (let i = 0; i < RUNS; i++)
    for (const [key, src] of [
      ['empty', file],
      ['big', big],
    ] as const) {
      const copy = join(dir, `${key}-${i}.db`);
      copyFileSync(src, copy);
      for (const ext of ['-wal', '-shm'])
        try {
          copyFileSync(src + ext, copy + ext);
        } catch {}
      const r = await recoverOnce(copy, world);
      results[key].ms.push(r.ms);
      results[key].orderCalls.push(r.orderCalls);
      results[key].otherCalls.push(r.otherCalls);
    }
  world.stop();
  const fig = (name: string, xs: number[], unit: string, note?: string): Figure => {
    const m = median(xs);
    return {
      name,
      value: Number(m.toFixed(1)),
      unit,
      runs: xs.length,
      spread: m === 0 ? 0 : Number(((Math.max(...xs) - Math.min(...xs)) / m).toFixed(2)),
      ...(note ? { note } : {}),
    };
  };
  const empty = median(results.empty.ms);
  const bigMs = median(results.big.ms);
  return [
    fig(
      'recovery, 5 makers, journal of the run only: start → running',
      results.empty.ms,
      'ms',
      '15 ms each way to the venue',
    ),
    fig(
      `recovery, + ${ARCHIVED.toLocaleString('en')} journalled (${RECENT.toLocaleString('en')} in the last minute)`,
      results.big.ms,
      'ms',
      `${archived.toLocaleString('en')} of them archived`,
    ),
    {
      name: 'recovery time ratio, large journal / run only',
      value: Number((bigMs / empty).toFixed(2)),
      unit: 'x',
      runs: RUNS,
      spread: 0,
    },
    fig(
      'order reads at recovery, journal of the run only',
      results.empty.orderCalls,
      'calls',
      `${QUOTES} quotes resting on ${SYMBOLS.length} symbols: one open-orders read per symbol`,
    ),
    fig('order reads at recovery, large journal', results.big.orderCalls, 'calls'),
    fig('other venue reads at recovery (positions, funding), large journal', results.big.otherCalls, 'calls'),
  ];
}
