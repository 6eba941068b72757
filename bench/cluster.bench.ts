/**
 * Takeover time on PostgreSQL: two `statearb run` processes share a store and a standalone
 * simulated venue; one is SIGKILLed and the time until the other has claimed, rehydrated and
 * reconciled its strategies is measured from the survivor's "strategies taken over" log line.
 * Lease 3 s, checked every second: takeover = time left on the lease + up to one check + the work.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import {
  describeEngine,
  exited,
  killAll,
  owned,
  startPair,
  startVenue,
  until,
  writeClusterConfig,
} from '../test/cluster/cluster-helpers.ts';
import { type Figure, median } from './lib.ts';

const PG_URL = process.env.STATEARB_BENCH_PG ?? 'postgres://postgres@127.0.0.1:5432/test';
const LEASE_MS = 3_000;
const RUNS = 3;

export async function clusterBench(): Promise<Figure[]> {
  try {
    const c = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 3_000 });
    await c.connect();
    await c.end();
  } catch (e) {
    process.stderr.write(`cluster bench skipped: no PostgreSQL at ${PG_URL} (${(e as Error).message})\n`);
    return [];
  }
  const dir = mkdtempSync(join(tmpdir(), 'statearb-cluster-bench-'));
  const venue = await startVenue();
  const config = writeClusterConfig(dir, venue.url, LEASE_MS);
  const takeovers: number[] = [];
  const schemas: string[] = [];
  try {
    for (let run = 0; run < RUNS; run++) {
      const schema = `bench_cluster_${process.pid}_${run}`;
      schemas.push(schema);
      const store = `${PG_URL}?schema=${schema}`;
      const { a, b } = await startPair(config, store);
      await new Promise((r) => setTimeout(r, 1_000 + run * 700)); // a different point of the lease each run
      a.child.kill('SIGKILL');
      const killedAt = Date.now();
      await exited(a.child);
      await until(
        () => owned(b) === 4,
        LEASE_MS + 10_000,
        () => describeEngine(b),
        [b],
      );
      const line = b.logs.find((l) => l.includes('"strategies taken over"'));
      const at = line ? (JSON.parse(line) as { time: number }).time : Date.now();
      takeovers.push(at - killedAt);
      b.child.kill('SIGTERM');
      await exited(b.child);
    }
  } finally {
    killAll();
    const c = new pg.Client({ connectionString: PG_URL });
    await c.connect();
    for (const s of schemas) await c.query(`DROP SCHEMA IF EXISTS ${s} CASCADE`);
    await c.end();
  }
  const med = median(takeovers);
  const spread = (Math.max(...takeovers) - Math.min(...takeovers)) / med;
  return [
    {
      name: `takeover after SIGKILL, 2 strategies (lease ${LEASE_MS} ms, checked every ${LEASE_MS / 3} ms)`,
      value: Math.round(med),
      unit: 'ms',
      runs: RUNS,
      spread: Number(spread.toFixed(2)),
      note: `each run: ${takeovers.join(', ')} ms; goal lease + 5 s = ${LEASE_MS + 5_000} ms`,
    },
    {
      name: 'takeover beyond the lease (detection + claim + rehydrate + reconcile)',
      value: Math.round(med - LEASE_MS),
      unit: 'ms',
      runs: RUNS,
      spread: 0,
      note: 'negative: the lease had been renewed up to a check interval before the kill',
    },
  ];
}
