/**
 * Recovery demo: an engine trading against a standalone simulated venue is killed with SIGKILL
 * in the middle of its work, started again, and carries on — rehydrated from its snapshots,
 * its orders reconciled with the venue by client order id, its positions checked against the
 * venue's.
 *
 *   node --import tsx examples/recovery-demo.ts [--keep]
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const keep = process.argv.includes('--keep');
const bin = fileURLToPath(new URL('../bin/statearb.mjs', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'statearb-recovery-'));
const say = (s: string) => process.stdout.write(`${s}\n`);

/** Start a statearb child; resolve each stdout/stderr JSON line through the callbacks. */
function statearb(args: string[], onLine: (line: Record<string, unknown>, stream: 'out' | 'err') => void) {
  const child = spawn(process.execPath, [bin, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  for (const [name, stream] of [
    ['out', child.stdout],
    ['err', child.stderr],
  ] as const) {
    createInterface({ input: stream }).on('line', (l) => {
      try {
        onLine(JSON.parse(l) as Record<string, unknown>, name);
      } catch {
        if (l.trim()) process.stderr.write(`  [${name}] ${l}\n`);
      }
    });
  }
  return child;
}

function until<T>(what: string, ms: number, test: () => T | undefined): Promise<T> {
  const t0 = Date.now();
  return new Promise((resolve, reject) => {
    const poll = () => {
      const v = test();
      if (v !== undefined) return resolve(v);
      if (Date.now() - t0 > ms) return reject(new Error(`timed out waiting for ${what}`));
      setTimeout(poll, 50);
    };
    poll();
  });
}

const exited = (c: ChildProcess) => new Promise<number | null>((r) => c.once('exit', (code) => r(code)));

// 1. The venue: its own process, so it outlives the engine like a real exchange does.
let venueUrl: string | undefined;
const venue = statearb(
  ['venue', '--port', '0', '--venues', 'binance', '--assets', 'BTC,ETH', '--latency-ms', '5', '--seed', '4'],
  (l) => {
    if (l.event === 'listening') venueUrl = String(l.url);
  },
);
await until('the venue to listen', 15_000, () => venueUrl);
say(`venue service at ${venueUrl}`);

// 2. The engine's config: two strategies on the remote venue, SQLite in the temp directory.
const config = join(dir, 'recovery.json');
writeFileSync(
  config,
  JSON.stringify(
    {
      dataDir: dir,
      venues: { binance: { type: 'remote', url: venueUrl, requestTimeoutMs: 2_000 } },
      logging: { level: 'info', pretty: false },
      engine: { quotePersistMs: 1_000 },
      strategies: [
        {
          id: 'basis-btc',
          kind: 'spot-futures',
          // Enter at any basis and leave after two seconds: a hedge is in flight most of the time.
          params: {
            spot: { venue: 'binance', symbol: 'BTC/USDT' },
            perp: { venue: 'binance', symbol: 'BTC/USDT:USDT' },
            amount: 0.05,
            minEntryBasisBps: -500,
            exitBasisBps: -600,
            maxEntryCostPct: 5,
            maxHoldingHours: 2 / 3600,
            cooldownMs: 500,
          },
        },
        {
          id: 'maker-eth',
          kind: 'market-making',
          params: {
            market: { venue: 'binance', symbol: 'ETH/USDT:USDT' },
            orderAmount: 0.05,
            levels: 2,
            spreadBps: 2,
            maxInventoryBase: 0.5,
          },
        },
      ],
    },
    null,
    2,
  ),
);

type Status = {
  strategies: {
    id: string;
    state: string;
    openOrders: string[];
    legs: { symbol: string; position: number }[];
  }[];
};
const describe = (s: Status) =>
  s.strategies
    .map(
      (x) =>
        `${x.id}: ${x.state}, ${x.openOrders.length} open orders, positions ${x.legs.map((l) => `${l.symbol} ${+l.position.toFixed(6)}`).join(' / ')}`,
    )
    .join('\n    ');

// 3. First run: wait until the basis strategy holds a hedge and the maker has orders out, then kill -9.
let last: Status | undefined;
const first = statearb(['run', '--config', config, '--json', '--status-every-ms', '250'], (l, s) => {
  if (s === 'out' && Array.isArray(l.strategies)) last = l as unknown as Status;
});
await until('a position and resting orders', 30_000, () =>
  last?.strategies.some((x) => x.id === 'basis-btc' && x.legs.some((g) => g.position !== 0)) &&
  last.strategies.some((x) => x.id === 'maker-eth' && x.openOrders.length > 0)
    ? true
    : undefined,
);
await new Promise((r) => setTimeout(r, 300 + Math.random() * 700));
say(`\nkill -9 the engine while:\n    ${describe(last!)}`);
first.kill('SIGKILL');
await exited(first);

// 4. Restart: recovery and reconciliation happen before anything trades again.
say('\nrestarting the engine on the same store …');
const recoveryLog: string[] = [];
let started: Record<string, unknown> | undefined;
last = undefined;
const second = statearb(['run', '--config', config, '--json', '--status-every-ms', '500'], (l, s) => {
  if (s === 'out' && Array.isArray(l.strategies)) last = l as unknown as Status;
  if (s !== 'err') return;
  if (l.msg === 'engine started') started = l;
  if (l.msg === 'transition' && l.from === '(restored)')
    recoveryLog.push(`${l.strategy} restored in ${l.to}`);
  if (
    ['orphan order cancelled', 'strategy halted', 'snapshot quarantined', 'snapshot migrated'].includes(
      String(l.msg),
    )
  )
    recoveryLog.push(
      `${l.msg}: ${JSON.stringify({ ...l, level: undefined, time: undefined, msg: undefined })}`,
    );
});
await until('the engine to start', 30_000, () => started);
say(
  `recovered ${started!.recovered} strategies; reconciled with the venue: ${JSON.stringify(started!.checked)}; orphans cancelled: ${JSON.stringify(started!.orphansCancelled)}; ` +
    `halted: ${JSON.stringify(started!.halted)}; quarantined: ${JSON.stringify(started!.quarantined)}`,
);
for (const l of recoveryLog) say(`    ${l}`);
await until('status after the restart', 15_000, () => last);
await new Promise((r) => setTimeout(r, 2_000));
say(`\nafter the restart:\n    ${describe(last!)}`);

// 5. Graceful stop (SIGTERM): in-flight orders settle, everything persisted, exit 0.
second.kill('SIGTERM');
const code = await exited(second);
venue.kill('SIGTERM');
await exited(venue);
say(`\nengine stopped with exit code ${code}; store and logs in ${dir}`);
if (!keep) rmSync(dir, { recursive: true, force: true });
process.exitCode = code === 0 ? 0 : 1;
