/**
 * Several `statearb run` processes sharing one PostgreSQL schema, trading on one standalone
 * simulated venue (`statearb venue`): what a deployment on several hosts looks like, on loopback.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { EngineStatus } from '../../src/engine/engine.ts';
import type { SimVenueState } from '../../src/exchange/sim/venue.ts';

export const ROOT = join(import.meta.dirname, '../..');
const CLI = join(ROOT, 'bin/statearb.mjs');
export const BALANCES = { USDT: 1_000_000, BTC: 10, ETH: 100 };

export interface Proc {
  child: ChildProcess;
  /** Every stderr line (logs), for failure messages. */
  logs: string[];
}

export interface EngineProc extends Proc {
  /** The last status line printed (`statearb run --json`). */
  status: EngineStatus | undefined;
}

const procs: ChildProcess[] = [];

export function killAll(): void {
  for (const c of procs) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
}

function track(child: ChildProcess): Proc {
  procs.push(child);
  const logs: string[] = [];
  createInterface({ input: child.stderr! }).on('line', (l) => {
    logs.push(l);
    if (logs.length > 2_000) logs.shift();
  });
  return { child, logs };
}

export async function startVenue(): Promise<Proc & { url: string }> {
  const balances = Object.entries(BALANCES)
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
  const child = spawn(
    process.execPath,
    [
      CLI,
      'venue',
      '--port',
      '0',
      '--step-ms',
      '50',
      '--latency-ms',
      '3',
      '--balances',
      balances,
      '--seed',
      '11',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'], cwd: ROOT },
  );
  const p = track(child);
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`venue exited ${code}: ${p.logs.join('\n')}`)));
  });
  return { ...p, url: (JSON.parse(line) as { url: string }).url };
}

/** Four spot–futures strategies that enter whenever the books are fresh and leave ~1.5 s later. */
export function writeClusterConfig(dir: string, venueUrl: string, leaseMs: number): string {
  const strategies = ['binance', 'bybit'].flatMap((venue) =>
    ['BTC', 'ETH'].map((asset) => ({
      id: `basis-${venue}-${asset.toLowerCase()}`,
      kind: 'spot-futures',
      params: {
        spot: { venue, symbol: `${asset}/USDT` },
        perp: { venue, symbol: `${asset}/USDT:USDT` },
        amount: asset === 'BTC' ? 0.05 : 0.5,
        minEntryBasisBps: -500,
        exitBasisBps: -600,
        maxEntryCostPct: 5,
        slippageBps: 0,
        maxHoldingHours: 1.5 / 3600,
        staleAfterMs: 3_000,
        cooldownMs: 300,
      },
    })),
  );
  const config = {
    mode: 'paper',
    venues: {
      binance: { type: 'remote', url: venueUrl },
      bybit: { type: 'remote', url: venueUrl },
    },
    logging: { level: 'info' },
    inspector: { enabled: false },
    engine: { statusEveryMs: 200, leaseMs, quotePersistMs: 1_000, shutdownTimeoutMs: 10_000 },
    strategies,
  };
  const file = join(dir, 'cluster.json');
  writeFileSync(file, JSON.stringify(config, null, 2));
  return file;
}

export function startEngine(
  config: string,
  store: string,
  node: string,
  env: Record<string, string> = {},
): EngineProc {
  const child = spawn(process.execPath, [CLI, 'run', '--config', config, '--store', store, '--json'], {
    stdio: ['ignore', 'pipe', 'pipe'],
    cwd: ROOT,
    env: { ...process.env, ARB_NODE_ID: node, ...env },
  });
  const p: EngineProc = { ...track(child), status: undefined };
  createInterface({ input: child.stdout! }).on('line', (l) => {
    if (l.startsWith('{')) p.status = JSON.parse(l) as EngineStatus;
  });
  return p;
}

/**
 * Two engines on one store with the cluster config: A with capacity 2 runs two strategies and
 * stores the other two for any node; B starts after it and takes those. Resolves when both run two.
 */
export async function startPair(config: string, store: string): Promise<{ a: EngineProc; b: EngineProc }> {
  const a = startEngine(config, store, 'node-a', { ARB_CAPACITY: '2' });
  await until(
    () => owned(a) === 2,
    30_000,
    () => describeEngine(a),
    [a],
  );
  const b = startEngine(config, store, 'node-b');
  await until(
    () => owned(b) === 2,
    30_000,
    () => describeEngine(b),
    [b],
  );
  return { a, b };
}

/**
 * Wait until `ok` holds (checked every 50 ms); the message says what did not happen. Fails at
 * once when a process in `alive` has exited.
 */
export async function until(
  ok: () => boolean,
  timeoutMs: number,
  what: () => string,
  alive: Proc[] = [],
): Promise<number> {
  const t0 = Date.now();
  while (!ok()) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`not within ${timeoutMs} ms: ${what()}`);
    const dead = alive.find((p) => p.child.exitCode !== null || p.child.signalCode !== null);
    if (dead) throw new Error(`process exited (${dead.child.exitCode ?? dead.child.signalCode}): ${what()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return Date.now() - t0;
}

/** The exit code (null after a signal); fails after `timeoutMs` naming the process's last logs. */
export const exited = (c: ChildProcess, timeoutMs = 30_000, logs: string[] = []) =>
  new Promise<number | null>((resolve, reject) => {
    if (c.exitCode !== null || c.signalCode !== null) return resolve(c.exitCode);
    const timer = setTimeout(
      () =>
        reject(new Error(`pid ${c.pid} did not exit within ${timeoutMs} ms:\n${logs.slice(-20).join('\n')}`)),
      timeoutMs,
    );
    c.once('exit', (code) => {
      clearTimeout(timer);
      resolve(code);
    });
  });

export async function venueState(url: string, venue: string): Promise<SimVenueState> {
  const res = await fetch(`${url}/v1/${venue}/admin/state`);
  return ((await res.json()) as { result: SimVenueState }).result;
}

export const owned = (e: EngineProc) => e.status?.node?.owned ?? -1;

export const describeEngine = (e: EngineProc) =>
  `${JSON.stringify(e.status?.node)} ${e.status?.strategies.map((s) => `${s.id}:${s.state}`).join(' ')}\n` +
  e.logs.slice(-15).join('\n');
