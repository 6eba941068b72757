/**
 * Crash torture: an engine child process trading three strategies against the standalone
 * simulated venue is SIGKILLed at seeded random moments and restarted with recovery. After
 * every kill: no venue order is unknown to the engine's journal, no client id produced two
 * orders, and the lock table matches the strategies. At the end the kill switch flattens
 * everything: the venue holds no positions and every strategy's books equal the venue's.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import type { EngineStatus } from '../../src/engine/engine.ts';
import type { SimVenueState } from '../../src/exchange/sim/venue.ts';
import { Rng } from '../../src/util/random.ts';

const KILLS = Number(process.env.CRASH_KILLS ?? 50);
const ROOT = join(import.meta.dirname, '../..');
const BALANCES = { USDT: 1_000_000, BTC: 10, ETH: 100 };
const children: ChildProcess[] = [];
afterAll(() => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
});

function firstLine(c: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    createInterface({ input: c.stdout! }).once('line', resolve);
    c.once('exit', (code) => reject(new Error(`exited ${code} before it was ready`)));
  });
}

const exited = (c: ChildProcess) =>
  new Promise<number | null>((r) =>
    c.exitCode !== null || c.signalCode !== null ? r(c.exitCode) : c.once('exit', (code) => r(code)),
  );

async function venueState(url: string, venue: string): Promise<SimVenueState> {
  const res = await fetch(`${url}/v1/${venue}/admin/state`);
  return ((await res.json()) as { result: SimVenueState }).result;
}

describe('crash torture: SIGKILL the engine at random moments', () => {
  it(`${KILLS} kills: no unknown or duplicate orders, locks intact, books equal the venue`, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'statearb-crash-'));
    const db = join(dir, 'engine.db');
    const statusFile = join(dir, 'status.json');
    const balances = Object.entries(BALANCES)
      .map(([k, v]) => `${k}=${v}`)
      .join(',');
    const venue = spawn(
      process.execPath,
      [
        join(ROOT, 'bin/statearb.mjs'),
        'venue',
        '--port',
        '0',
        '--venues',
        'binance,bybit',
        '--assets',
        'BTC,ETH',
        '--step-ms',
        '50',
        '--latency-ms',
        '3',
        '--timeout-rate',
        '0.03',
        '--balances',
        balances,
        '--seed',
        '7',
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    children.push(venue);
    const { url } = JSON.parse(await firstLine(venue)) as { url: string };
    const rng = new Rng(20261122);
    const runChild = (final: boolean) => {
      const c = spawn(
        process.execPath,
        ['--import', 'tsx', join(import.meta.dirname, 'engine-child.ts'), url, db, statusFile],
        {
          stdio: ['ignore', 'pipe', 'inherit'],
          env: { ...process.env, FINAL: final ? '1' : '0' },
          cwd: ROOT,
        },
      );
      children.push(c);
      return c;
    };

    let killedWhileBusy = 0;
    for (let k = 0; k < KILLS; k++) {
      const child = runChild(false);
      await firstLine(child); // recovered and running
      await new Promise((r) => setTimeout(r, 200 + rng.int(0, 1_300)));
      if (existsSync(statusFile)) {
        const st = JSON.parse(readFileSync(statusFile, 'utf8')) as EngineStatus;
        if (st.strategies.some((s) => ['entering', 'exiting'].includes(s.state))) killedWhileBusy++;
      }
      child.kill('SIGKILL');
      await exited(child);

      // ---- after every kill
      const store = new Database(db, { readonly: true });
      const journalled = new Set(
        (
          store.prepare('SELECT venue, client_order_id FROM intents').all() as {
            venue: string;
            client_order_id: string;
          }[]
        ).map((r) => `${r.venue}|${r.client_order_id}`),
      );
      const active = store
        .prepare("SELECT id, instruments FROM strategies WHERE status = 'active'")
        .all() as { id: string; instruments: string }[];
      const locks = store.prepare('SELECT key, strategy_id FROM locks').all() as {
        key: string;
        strategy_id: string;
      }[];
      store.close();
      for (const name of ['binance', 'bybit']) {
        const state = await venueState(url, name);
        const ids = state.orders.map((o) => o.clientOrderId);
        expect(new Set(ids).size, `${name}: two orders share a client id`).toBe(ids.length);
        for (const id of ids)
          expect(journalled.has(`${name}|${id}`), `${name} order ${id} is not in the engine's journal`).toBe(
            true,
          );
      }
      const expectedLocks = active
        .flatMap((a) => (JSON.parse(a.instruments) as string[]).map((key) => `${key}=${a.id}`))
        .sort();
      expect(locks.map((l) => `${l.key}=${l.strategy_id}`).sort()).toEqual(expectedLocks);
    }
    expect(killedWhileBusy).toBeGreaterThan(0);

    // ---- the last run flattens everything through the kill switch and exits cleanly
    const last = runChild(true);
    const started = JSON.parse(await firstLine(last)) as { report: { quarantined: unknown[] } };
    expect(started.report.quarantined).toEqual([]);
    expect(await exited(last)).toBe(0);
    const final = JSON.parse(readFileSync(statusFile, 'utf8')) as EngineStatus;
    expect(final.strategies.map((s) => [s.id, s.state]).sort()).toEqual([
      ['basis-binance', 'stopped'],
      ['basis-bybit', 'stopped'],
      ['maker-eth', 'stopped'],
    ]);
    for (const name of ['binance', 'bybit']) {
      const state = await venueState(url, name);
      const positions = state.account.positions.filter((p) => p.size !== 0);
      expect(positions, `${name} positions`).toEqual([]);
      expect(
        state.orders.filter((o) => o.status === 'open'),
        `${name} open orders`,
      ).toEqual([]);
      // Each spot asset on each venue is traded by one strategy only: its books equal the balance change.
      for (const s of final.strategies) {
        for (const leg of s.legs) {
          if (leg.venue !== name || leg.symbol.includes(':')) continue;
          const asset = leg.symbol.split('/')[0] as keyof typeof BALANCES;
          expect(leg.position, `${s.id} ${leg.symbol}`).toBeCloseTo(
            state.account.balances[asset]!.total - BALANCES[asset],
            9,
          );
        }
      }
    }
    // The torture traded: orders every run, many of them cut short by a kill.
    const orders =
      (await venueState(url, 'binance')).orders.length + (await venueState(url, 'bybit')).orders.length;
    expect(orders).toBeGreaterThan(KILLS * 2);
    console.log(JSON.stringify({ kills: KILLS, killedWhileBusy, venueOrders: orders }));
    venue.kill('SIGTERM');
    await exited(venue);
  }, 600_000);
});
