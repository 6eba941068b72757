/**
 * Failover demo: two engine processes share one PostgreSQL store and one standalone simulated
 * venue. Node A runs two strategies (its capacity) and leaves two for node B; A is killed with
 * SIGKILL while trading, and B takes A's strategies over once their leases lapse — rehydrated,
 * reconciled with the venue, trading on.
 *
 *   node --import tsx examples/failover-demo.ts [--store postgres://user@host:5432/db] [--lease-ms 3000]
 *
 * Needs a PostgreSQL server (default postgres://postgres@127.0.0.1:5432/test, or STATEARB_PG);
 * the demo works in a schema of its own and drops it at the end.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import pg from 'pg';

const { values } = parseArgs({
  options: { store: { type: 'string' }, 'lease-ms': { type: 'string' } },
  strict: true,
});
const base = values.store ?? process.env.STATEARB_PG ?? 'postgres://postgres@127.0.0.1:5432/test';
const leaseMs = Number(values['lease-ms'] ?? 3_000);
const schema = `failover_demo_${process.pid}`;
const store = `${base}${base.includes('?') ? '&' : '?'}schema=${schema}`;
const bin = fileURLToPath(new URL('../bin/statearb.mjs', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'statearb-failover-'));
const say = (s: string) => process.stdout.write(`${s}\n`);
const children: ChildProcess[] = [];

interface NodeStatus {
  node?: { id: string; owned: number; takenOver: number; lost: number };
  strategies: { id: string; state: string; cycles?: number }[];
}

function statearb(
  args: string[],
  env: Record<string, string>,
  onJson: (line: Record<string, unknown>) => void,
) {
  const child = spawn(process.execPath, [bin, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  });
  children.push(child);
  for (const stream of [child.stdout, child.stderr])
    createInterface({ input: stream }).on('line', (l) => {
      if (!l.startsWith('{')) return;
      try {
        onJson(JSON.parse(l) as Record<string, unknown>);
      } catch {
        // not one of ours
      }
    });
  return child;
}

async function until(what: string, ms: number, ok: () => boolean): Promise<number> {
  const t0 = Date.now();
  while (!ok()) {
    if (Date.now() - t0 > ms) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return Date.now() - t0;
}

function engine(name: string, config: string, env: Record<string, string> = {}) {
  const view: { status?: NodeStatus; logs: string[] } = { logs: [] };
  const child = statearb(
    ['run', '--config', config, '--store', store, '--json'],
    { ARB_NODE_ID: name, ...env },
    (j) => {
      if ('strategies' in j) view.status = j as unknown as NodeStatus;
      else if (typeof j.msg === 'string') view.logs.push(j.msg);
    },
  );
  return { child, view };
}

const owned = (v: { status?: NodeStatus }) => v.status?.node?.owned ?? -1;
const line = (name: string, s: NodeStatus | undefined) =>
  `  ${name}: ${s?.strategies.map((x) => `${x.id} ${x.state} (${x.cycles ?? 0} cycles)`).join(', ') || 'nothing'}`;

try {
  const probe = new pg.Client({ connectionString: base, connectionTimeoutMillis: 3_000 });
  await probe.connect().catch((e: Error) => {
    throw new Error(
      `no PostgreSQL at ${base.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:***@')}: ${e.message} (--store URL or STATEARB_PG)`,
    );
  });
  await probe.end();

  let venueUrl = '';
  statearb(
    ['venue', '--port', '0', '--step-ms', '50', '--balances', 'USDT=1000000,BTC=10,ETH=100'],
    {},
    (j) => {
      if (j.event === 'listening') venueUrl = String(j.url);
    },
  );
  await until('the venue', 20_000, () => venueUrl !== '');
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
        cooldownMs: 300,
      },
    })),
  );
  const config = join(dir, 'cluster.json');
  writeFileSync(
    config,
    JSON.stringify({
      mode: 'paper',
      venues: { binance: { type: 'remote', url: venueUrl }, bybit: { type: 'remote', url: venueUrl } },
      logging: { level: 'info' },
      engine: { statusEveryMs: 250, leaseMs },
      strategies,
    }),
  );
  say(`store ${store.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:***@')}, lease ${leaseMs} ms, venue ${venueUrl}`);

  const a = engine('node-a', config, { ARB_CAPACITY: '2' });
  await until('node-a running two strategies', 30_000, () => owned(a.view) === 2);
  const b = engine('node-b', config);
  await until('node-b running the other two', 30_000, () => owned(b.view) === 2);
  await new Promise((r) => setTimeout(r, 3_000));
  say('both nodes trading:');
  say(line('node-a', a.view.status));
  say(line('node-b', b.view.status));

  a.child.kill('SIGKILL');
  const killed = Date.now();
  say('node-a killed with SIGKILL');
  await until('node-b taking node-a strategies over', leaseMs + 10_000, () => owned(b.view) === 4);
  say(`node-b runs all four ${Date.now() - killed} ms later (lease ${leaseMs} ms):`);
  await new Promise((r) => setTimeout(r, 3_000));
  say(line('node-b', b.view.status));
  b.child.kill('SIGTERM');
  await new Promise((r) => b.child.once('exit', r));
  say('node-b stopped gracefully: its leases are handed back, a restart of either node resumes them.');
} catch (e) {
  process.stderr.write(`failover-demo: ${(e as Error).message}\n`);
  process.exitCode = 1;
} finally {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  const c = new pg.Client({ connectionString: base });
  await c
    .connect()
    .then(() => c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`))
    .catch(() => {})
    .finally(() => c.end().catch(() => {}));
  rmSync(dir, { recursive: true, force: true });
}
