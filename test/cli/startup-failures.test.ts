/**
 * A run that cannot start says why in one line and ends, as real processes: a busy inspector
 * port exits 1 before a store is created; a strategy on an instrument its venue does not list
 * exits 2 naming the field; --duration-s ends a run whatever it is doing.
 */
import { existsSync, mkdtempSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli, writePaperConfig } from './cli-helpers.ts';

const maker = (symbol: string) => ({
  id: 'maker',
  kind: 'market-making',
  params: {
    market: { venue: 'binance', symbol },
    orderAmount: 0.01,
    levels: 1,
    spreadBps: 5,
    maxInventoryBase: 0.5,
  },
});

const config = (dir: string, over: Record<string, unknown> = {}) =>
  writePaperConfig(dir, { inspector: { enabled: false }, strategies: [maker('ETH/USDT:USDT')], ...over });

const servers: Server[] = [];
afterAll(() => {
  for (const s of servers) s.close();
});

describe('startup failures end the run with one line', () => {
  it('a busy inspector port: exit 1 naming the port, no store created, within seconds', async () => {
    const busy = createServer();
    servers.push(busy);
    await new Promise<void>((r) => busy.listen(0, '127.0.0.1', () => r()));
    const port = (busy.address() as AddressInfo).port;
    const dir = mkdtempSync(join(tmpdir(), 'statearb-busy-'));
    const t0 = Date.now();
    const r = await runCli(['run', '--config', config(dir), `--inspect=${port}`, '--duration-s', '30']);
    expect(r.code).toBe(1);
    const lines = r.stderr.trim().split('\n');
    expect(lines.at(-1)).toMatch(new RegExp(`inspector: port ${port} on 127\\.0\\.0\\.1 is in use`));
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
    expect(existsSync(join(dir, 'data', 'statearb.db'))).toBe(false);
    expect(Date.now() - t0).toBeLessThan(20_000); // it ended by itself, long before --duration-s
  }, 30_000);

  it('an instrument the venue does not list: exit 2 naming the field, nothing stored', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'statearb-unlisted-'));
    const r = await runCli([
      'run',
      '--config',
      config(dir, { strategies: [maker('BTC/USD:BTC')] }),
      '--duration-s',
      '30',
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/strategies\[0\] \(maker\)\.params\.market: binance does not list BTC\/USD:BTC/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    const status = await runCli([
      'status',
      '--store',
      `sqlite:${join(dir, 'data', 'statearb.db')}`,
      '--json',
    ]);
    if (status.code === 0) expect(JSON.parse(status.stdout).strategies).toEqual([]);
  }, 30_000);

  it('--duration-s ends the run, with the status printed and exit 0', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'statearb-duration-'));
    const t0 = Date.now();
    const r = await runCli(['run', '--config', config(dir), '--duration-s', '2', '--json']);
    expect(r.code).toBe(0);
    expect(Date.now() - t0).toBeLessThan(20_000);
    expect(r.stdout).toMatch(/"id":"maker"/);
  }, 30_000);
});
