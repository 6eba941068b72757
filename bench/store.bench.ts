import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createActor } from 'xstate';
import { spotFuturesMachine } from '../machines/strategies/spot-futures/machine.ts';
import { simMarket } from '../src/exchange/sim/markets.ts';
import { PostgresStore } from '../src/store/postgres/store.ts';
import { SqliteStore } from '../src/store/sqlite.ts';
import type { SnapshotStore } from '../src/store/types.ts';
import { type Figure, percentile } from './lib.ts';

/** PostgreSQL for the bench (STATEARB_BENCH_PG, default the local test database); skipped if absent. */
const PG_URL = process.env.STATEARB_BENCH_PG ?? 'postgres://postgres@127.0.0.1:5432/test';

/**
 * Persist latency of a real strategy snapshot, and durable intent writes per second: SQLite
 * (synchronous FULL and NORMAL) and PostgreSQL (fenced writes, synchronous_commit on), each
 * PostgreSQL figure also as a ratio of SQLite FULL's.
 */
export async function storeBench(): Promise<Figure[]> {
  const figures: Figure[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'statearb-store-bench-'));
  const actor = createActor(spotFuturesMachine, {
    input: {
      id: 'bench',
      params: {
        spot: { venue: 'sim', symbol: 'BTC/USDT' },
        perp: { venue: 'sim', symbol: 'BTC/USDT:USDT' },
        amount: 0.1,
        direction: 'long-spot',
        minEntryBasisBps: 10,
        exitBasisBps: 2,
        maxEntryCostPct: 1,
        slippageBps: 0,
        maxHoldingHours: 24,
        maxAdverseFundingHours: 8,
        deltaToleranceBase: 0.001,
        staleAfterMs: 5000,
        maxPositionNotional: 1e6,
        maxCycles: 0,
        cooldownMs: 0,
      },
      markets: { spot: simMarket('sim', 'BTC/USDT'), perp: simMarket('sim', 'BTC/USDT:USDT') },
    },
  });
  const snapshot = actor.getPersistedSnapshot();
  const bytes = JSON.stringify(snapshot).length;
  const schema = `bench_${process.pid}`;
  const stores: [string, () => SnapshotStore | undefined][] = [
    ['SQLite WAL, synchronous=FULL', () => new SqliteStore(join(dir, 'FULL.db'), { synchronous: 'FULL' })],
    [
      'SQLite WAL, synchronous=NORMAL',
      () => new SqliteStore(join(dir, 'NORMAL.db'), { synchronous: 'NORMAL' }),
    ],
    [
      'PostgreSQL, fenced, synchronous_commit=on',
      () => {
        try {
          return new PostgresStore({ url: `${PG_URL}?schema=${schema}`, nodeId: 'bench' });
        } catch (e) {
          process.stderr.write(`store bench: PostgreSQL skipped (${(e as Error).message})\n`);
          return undefined;
        }
      },
    ],
  ];
  const sqliteFull: Record<string, number> = {};
  for (const [label, open] of stores) {
    const store = open();
    if (!store) continue;
    store.createStrategy({
      id: 's',
      kind: 'spot-futures',
      machineVersion: 1,
      status: 'active',
      spec: {},
      snapshot,
      instruments: [],
      createdAt: 0,
      updatedAt: 0,
    });
    const lat: number[] = [];
    const N = 3_000;
    for (let i = 0; i < N; i++) {
      const t0 = process.hrtime.bigint();
      store.saveSnapshot('s', snapshot, 'active', i);
      lat.push(Number(process.hrtime.bigint() - t0) / 1e3);
    }
    const p50 = percentile(lat, 50);
    const p99 = percentile(lat, 99);
    const vsFull = (key: string, v: number) => {
      if (label.endsWith('FULL')) sqliteFull[key] = v;
      return sqliteFull[key] && !label.startsWith('SQLite')
        ? `${(v / sqliteFull[key]!).toFixed(2)}× SQLite FULL`
        : undefined;
    };
    const n50 = vsFull('p50', p50);
    const n99 = vsFull('p99', p99);
    figures.push(
      {
        name: `snapshot persist p50 (${label}, ${bytes} B)`,
        value: Number(p50.toFixed(1)),
        unit: 'µs',
        runs: N,
        spread: 0,
        ...(n50 ? { note: n50 } : {}),
      },
      {
        name: `snapshot persist p99 (${label})`,
        value: Number(p99.toFixed(1)),
        unit: 'µs',
        runs: N,
        spread: 0,
        ...(n99 ? { note: n99 } : {}),
      },
    );
    const M = 3_000;
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < M; i++) {
      store.appendIntent({
        strategyId: 's',
        venue: 'v',
        request: { symbol: 'A/B', side: 'buy', type: 'market', amount: 1, clientOrderId: `I${i}` },
        createdAt: i,
      });
    }
    const secs = Number(process.hrtime.bigint() - t0) / 1e9;
    const perSec = Math.round(M / secs);
    const n = vsFull('intents', perSec);
    figures.push({
      name: `durable intent writes/s (${label})`,
      value: perSec,
      unit: 'writes/s',
      runs: 1,
      spread: 0,
      ...(n ? { note: n } : {}),
    });
    store.close();
  }
  if (sqliteFull.p50 !== undefined) await dropSchema(schema);
  return figures;
}

async function dropSchema(schema: string): Promise<void> {
  const pg = (await import('pg')).default;
  const c = new pg.Client({ connectionString: PG_URL });
  try {
    await c.connect();
    await c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  } catch {
    // no server: nothing was created
  } finally {
    await c.end().catch(() => {});
  }
}
