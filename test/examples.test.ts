/** Every example runs (short durations) and says what it should. */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cleanEnv } from './cli/cli-helpers.ts';
import { PG_URL, postgresAvailable } from './support/postgres.ts';

const withPostgres = await postgresAvailable();

const ROOT = join(import.meta.dirname, '..');

function example(
  file: string,
  args: string[],
  opts: { env?: Record<string, string>; node?: string[] } = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const c = spawn(
    process.execPath,
    [...(opts.node ?? []), '--import', 'tsx', join('examples', file), ...args],
    {
      cwd: ROOT,
      env: cleanEnv(opts.env),
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stdout = '';
  let stderr = '';
  c.stdout.on('data', (d) => {
    stdout += String(d);
  });
  c.stderr.on('data', (d) => {
    stderr += String(d);
  });
  return new Promise((resolve) => c.once('close', (code) => resolve({ code, stdout, stderr })));
}

const cycles = (out: string) => Number(/: (\d+) cycles/.exec(out)?.[1] ?? -1);

describe('examples', () => {
  it('spot-futures: enters and exits the basis trade (virtual clock), and runs on the wall clock', async () => {
    const r = await example('spot-futures.ts', ['--hours', '1.5']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/basis-btc\s+watching → entering/);
    expect(r.stdout).toMatch(/holding → exiting/);
    expect(cycles(r.stdout)).toBeGreaterThan(0);
    const live = await example('spot-futures.ts', ['--realtime', '3']);
    expect(live.code, live.stderr).toBe(0);
    expect(live.stdout).toMatch(/basis-btc \(spot-futures\) ended in/);
  });

  it('futures-spread, market-making, cross-arbitrage run and trade', async () => {
    const spread = await example('futures-spread.ts', ['--hours', '1', '--quiet']);
    expect(spread.code, spread.stderr).toBe(0);
    expect(cycles(spread.stdout)).toBeGreaterThan(0);
    const maker = await example('market-making.ts', ['--hours', '0.1', '--quiet']);
    expect(maker.code, maker.stderr).toBe(0);
    expect(maker.stdout).toMatch(/maker-btc \(market-making\) ended in quoting/);
    expect(maker.stdout).toMatch(/open orders at the end: \d/);
    expect(maker.stdout).not.toMatch(/fees 0\.00,/);
    const arb = await example('cross-arbitrage.ts', ['--hours', '0.5', '--quiet']);
    expect(arb.code, arb.stderr).toBe(0);
    expect(cycles(arb.stdout)).toBeGreaterThan(0);
  });

  it('recovery demo: SIGKILL mid-trade, restart, strategies restored and reconciled, clean exit', async () => {
    const r = await example('recovery-demo.ts', []);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/kill -9 the engine while:/);
    expect(r.stdout).toMatch(
      /recovered 2 strategies; reconciled with the venue: \{"orders":\d+,"positions":\d+\}/,
    );
    expect(r.stdout).toMatch(/basis-btc restored in \w+/);
    expect(r.stdout).toMatch(/halted: \[\]/);
    expect(r.stdout).toMatch(/engine stopped with exit code 0/);
  });

  it.runIf(withPostgres)(
    'failover demo: SIGKILL one of two engines on PostgreSQL, the other takes its strategies',
    async () => {
      const r = await example('failover-demo.ts', ['--store', PG_URL]);
      expect(r.code, r.stdout + r.stderr).toBe(0);
      expect(r.stdout).toMatch(/node-a: basis-binance-btc \w+ \(\d+ cycles\), basis-binance-eth/);
      expect(r.stdout).toMatch(/node-b runs all four \d+ ms later/);
      expect(r.stdout).toMatch(/node-b stopped gracefully/);
    },
  );

  it('stress demo: hundreds of strategies in one engine report throughput and memory', async () => {
    const r = await example('stress.ts', ['--assets', '25', '--venues', '2', '--minutes', '0.25'], {
      node: ['--expose-gc'],
    });
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.strategies).toBe(100);
    expect(out.locks).toBe(150);
    expect(out.events).toBeGreaterThan(5_000);
    expect(out.heapPerStrategyKiB).toBeGreaterThan(0);
  });

  it('live-testnet refuses without --live and without credentials', async () => {
    const noFlag = await example('live-testnet.ts', []);
    expect(noFlag.code).toBe(2);
    expect(noFlag.stderr).toMatch(/run it with --live/);
    const noKeys = await example('live-testnet.ts', ['--live']);
    expect(noKeys.code).toBe(2);
    expect(noKeys.stderr).toMatch(/credentials missing from the environment: ARB_BINANCE_API_KEY/);
  });
});
