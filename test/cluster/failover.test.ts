/**
 * Failover between engine processes sharing PostgreSQL (needs a server: test/support/postgres.ts).
 * Two `statearb run` processes trade four strategies on one standalone simulated venue.
 * - SIGKILL one: the other takes its strategies within lease expiry + 5 s; afterwards no venue
 *   order is unknown to the journal, no client id made two orders, no order is left open that no
 *   strategy knows, and every strategy's books equal the venue's positions and balances.
 * - SIGSTOP one until it has lost its leases, then SIGCONT: it drops its strategies and never
 *   writes again — no snapshot, no intent, no order under its old fencing tokens.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { STRATEGY_KINDS } from '../../src/config/kinds.ts';
import { strategyFigures } from '../../src/engine/figures.ts';
import { PostgresStore, parsePostgresUrl } from '../../src/store/postgres/store.ts';
import { Rng } from '../../src/util/random.ts';
import { dropTestSchemas, freshSchemaUrl, postgresAvailable } from '../support/postgres.ts';
import {
  BALANCES,
  describeEngine,
  type EngineProc,
  exited,
  killAll,
  owned,
  ROOT,
  startEngine,
  startPair,
  startVenue,
  until,
  venueState,
  writeClusterConfig,
} from './cluster-helpers.ts';

const available = await postgresAvailable();
const LEASE_MS = 3_000;
afterAll(async () => {
  killAll();
  await dropTestSchemas();
});

async function sql<T>(url: string, text: string, params: unknown[] = []): Promise<T[]> {
  const { connectionString, schema } = parsePostgresUrl(url);
  const c = new pg.Client({ connectionString, options: `-c search_path=${schema}` });
  await c.connect();
  try {
    return (await c.query(text, params)).rows as T[];
  } finally {
    await c.end();
  }
}

/** Everything the store and the venue must agree on once the cluster is at rest. */
async function expectConsistent(store: string, venueUrl: string): Promise<void> {
  const journalled = new Set(
    (
      await sql<{ venue: string; client_order_id: string }>(
        store,
        'SELECT venue, client_order_id FROM intents',
      )
    ).map((r) => `${r.venue}|${r.client_order_id}`),
  );
  const reader = new PostgresStore({ url: store, nodeId: 'checker' });
  const { records } = reader.listAll();
  reader.close();
  expect(records).toHaveLength(4);
  const books = records.map((r) => {
    const snap = r.snapshot as { context: unknown };
    return { id: r.id, figures: strategyFigures(STRATEGY_KINDS[r.kind]!, snap.context) };
  });
  for (const venue of ['binance', 'bybit']) {
    const state = await venueState(venueUrl, venue);
    const ids = state.orders.map((o) => o.clientOrderId);
    expect(new Set(ids).size, `${venue}: two orders share a client id`).toBe(ids.length);
    for (const id of ids)
      expect(journalled.has(`${venue}|${id}`), `${venue} order ${id} not journalled`).toBe(true);
    // At rest (graceful stop), no strategy has an order working: anything open is an orphan.
    expect(
      state.orders.filter((o) => o.status === 'open').map((o) => o.clientOrderId),
      `${venue} open orders`,
    ).toEqual([]);
    for (const { id, figures } of books)
      for (const leg of figures.legs) {
        if (leg.venue !== venue) continue;
        if (leg.symbol.includes(':')) {
          const p = state.account.positions.find((x) => x.symbol === leg.symbol);
          expect(p?.size ?? 0, `${id} ${leg.symbol} position`).toBeCloseTo(leg.position, 9);
        } else {
          const asset = leg.symbol.split('/')[0] as keyof typeof BALANCES;
          expect(state.account.balances[asset]!.total - BALANCES[asset], `${id} ${leg.symbol}`).toBeCloseTo(
            leg.position,
            9,
          );
        }
      }
  }
}

describe.runIf(available)('failover between engine processes on PostgreSQL', () => {
  it('SIGKILL one engine: the other takes its strategies within lease expiry + 5 s, books equal the venue', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'statearb-cluster-'));
    const venue = await startVenue();
    const config = writeClusterConfig(dir, venue.url, LEASE_MS);
    const store = freshSchemaUrl('failover');
    const rng = new Rng(Number(process.env.FAILOVER_SEED ?? 20261123));

    // A runs two strategies (its capacity) and stores the other two for any node; B takes those.
    const { a, b } = await startPair(config, store);
    const cyclesOf = (e: EngineProc) => e.status!.strategies.reduce((n, s) => n + (s.cycles ?? 0), 0);
    await until(
      () => cyclesOf(a) >= 2,
      30_000,
      () => describeEngine(a),
      [a],
    );
    const aStrategies = a.status!.strategies.map((s) => s.id).sort();
    const bStrategies = b.status!.strategies.map((s) => s.id).sort();
    expect([...aStrategies, ...bStrategies].sort()).toEqual([
      'basis-binance-btc',
      'basis-binance-eth',
      'basis-bybit-btc',
      'basis-bybit-eth',
    ]);

    await new Promise((r) => setTimeout(r, rng.int(0, 2_000))); // anywhere in a cycle
    const statesAtKill = a.status!.strategies.map((s) => s.state);
    a.child.kill('SIGKILL');
    const killedAt = Date.now();
    await exited(a.child);
    const takeoverMs = await until(
      () => owned(b) === 4,
      LEASE_MS + 5_000,
      () => describeEngine(b),
      [b],
    );
    expect(Date.now() - killedAt).toBeLessThanOrEqual(LEASE_MS + 5_000);
    expect(b.status!.node).toMatchObject({ takenOver: 4, lost: 0 });
    expect(b.status!.strategies.filter((s) => s.halted).map((s) => [s.id, s.halted])).toEqual([]);

    // B trades A's strategies on: at least one more cycle on one of them.
    const before = b
      .status!.strategies.filter((s) => aStrategies.includes(s.id))
      .reduce((n, s) => n + (s.cycles ?? 0), 0);
    await until(
      () =>
        b
          .status!.strategies.filter((s) => aStrategies.includes(s.id))
          .reduce((n, s) => n + (s.cycles ?? 0), 0) > before,
      30_000,
      () => describeEngine(b),
      [b],
    );
    // `statearb status` on the shared store says which node runs each strategy.
    const status = JSON.parse(
      execFileSync(process.execPath, [join(ROOT, 'bin/statearb.mjs'), 'status', '--store', store, '--json'], {
        encoding: 'utf8',
      }),
    ) as { strategies: { id: string; node: string | null }[] };
    expect(status.strategies.map((s) => s.node)).toEqual(['node-b', 'node-b', 'node-b', 'node-b']);
    b.child.kill('SIGTERM');
    expect(await exited(b.child, 30_000, b.logs)).toBe(0);
    await expectConsistent(store, venue.url);
    console.log(JSON.stringify({ failover: { takeoverMs, statesAtKill } }));
    venue.child.kill('SIGTERM');
    await exited(venue.child, 30_000, venue.logs);
  }, 180_000);

  it('a SIGSTOPped owner that wakes after losing its leases cannot write', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'statearb-cluster-'));
    const venue = await startVenue();
    const config = writeClusterConfig(dir, venue.url, LEASE_MS);
    const store = freshSchemaUrl('sigstop');
    const a = startEngine(config, store, 'node-a');
    await until(
      () => owned(a) === 4,
      30_000,
      () => describeEngine(a),
      [a],
    );
    const b = startEngine(config, store, 'node-b');
    await until(
      () => owned(b) === 0,
      30_000,
      () => describeEngine(b),
      [b],
    );
    await until(
      () => a.status!.strategies.some((s) => (s.cycles ?? 0) >= 1),
      30_000,
      () => describeEngine(a),
      [a],
    );
    const aTokens = await sql<{ id: string; fence: string }>(
      store,
      "SELECT id, fence FROM strategies WHERE owner = 'node-a'",
    );
    expect(aTokens).toHaveLength(4);

    a.child.kill('SIGSTOP');
    await until(
      () => owned(b) === 4,
      LEASE_MS + 5_000,
      () => describeEngine(b),
      [b],
    );
    const takenAt = Date.now();
    a.child.kill('SIGCONT');
    // A wakes with timers overdue, quotes queued and orders perhaps mid-flight: it must find out
    // it lost everything (renewal or a fenced write) and stop without another write.
    // (Later claims are legitimate: on a loaded machine B may miss a renewal and A take a lease
    // back — with a new token. What must never happen is a write under the old ones.)
    await until(
      () => (a.status?.node?.lost ?? 0) >= 4,
      15_000,
      () => describeEngine(a),
      [a],
    );
    expect(a.logs.some((l) => l.includes('strategy dropped'))).toBe(true);
    await new Promise((r) => setTimeout(r, 1_000));

    const rows = await sql<{ id: string; owner: string; fence: string }>(
      store,
      'SELECT id, owner, fence FROM strategies',
    );
    for (const r of rows) expect(aTokens.find((t) => t.id === r.id)!.fence).not.toBe(r.fence);
    // No intent under A's tokens was written after B took over (intents carry their token).
    const late = await sql<{ client_order_id: string }>(
      store,
      'SELECT client_order_id FROM intents WHERE fence = ANY($1::bigint[]) AND created_at > $2',
      [aTokens.map((t) => t.fence), takenAt],
    );
    expect(late).toEqual([]);
    a.child.kill('SIGTERM');
    expect(await exited(a.child, 30_000, a.logs)).toBe(0);
    b.child.kill('SIGTERM');
    expect(await exited(b.child, 30_000, b.logs)).toBe(0);
    await expectConsistent(store, venue.url);
    venue.child.kill('SIGTERM');
    await exited(venue.child, 30_000, venue.logs);
  }, 180_000);
});
