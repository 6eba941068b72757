import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterEach, describe, expect, it } from 'vitest';
import { RemoteExchangeClient } from '../../src/exchange/sim/remote-client.ts';

const BIN = join(import.meta.dirname, '../../bin/statearb.mjs');
const children: ChildProcess[] = [];
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null) c.kill('SIGKILL');
});

function run(args: string[]): ChildProcess {
  const c = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(c);
  return c;
}

function firstLine(c: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    const rl = createInterface({ input: c.stdout! });
    let err = '';
    c.stderr!.on('data', (d) => {
      err += String(d);
    });
    rl.once('line', resolve);
    c.once('exit', (code) => reject(new Error(`exited ${code} before printing: ${err}`)));
  });
}

function exitCode(c: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => (c.exitCode !== null ? resolve(c.exitCode) : c.once('exit', resolve)));
}

describe('statearb venue (standalone simulated venue process)', () => {
  it('serves clients, saves on SIGTERM and resumes accounts and resting orders from --state', async () => {
    const state = join(mkdtempSync(join(tmpdir(), 'statearb-venue-')), 'venues.json');
    const args = [
      'venue',
      '--port',
      '0',
      '--state',
      state,
      '--venues',
      'binance',
      '--assets',
      'BTC',
      '--step-ms',
      '50',
    ];
    let proc = run(args);
    const ready = JSON.parse(await firstLine(proc));
    expect(ready).toMatchObject({ event: 'listening', venues: ['binance'], restored: false });
    const client = new RemoteExchangeClient({ url: ready.url, venue: 'binance' });
    await client.loadMarkets();
    let bid = 0;
    await new Promise<void>((resolve) => {
      const sub = client.watchBookTicker('BTC/USDT', {
        data: (t) => {
          bid = t.bid;
          sub.close();
          resolve();
        },
      });
    });
    // a bid far below the market rests; a market buy fills now
    const price = Math.floor(bid * 0.5);
    await client.createOrder({
      symbol: 'BTC/USDT',
      side: 'buy',
      type: 'limit',
      price,
      amount: 0.01,
      clientOrderId: 'keep1',
    });
    const filled = await client.createOrder({
      symbol: 'BTC/USDT',
      side: 'buy',
      type: 'market',
      amount: 0.001,
      clientOrderId: 'mkt1',
    });
    expect(filled.filled).toBeGreaterThan(0);
    const balBefore = await client.fetchBalance();
    await client.close();
    proc.kill('SIGTERM');
    expect(await exitCode(proc)).toBe(0);

    proc = run(args);
    const again = JSON.parse(await firstLine(proc));
    expect(again.restored).toBe(true);
    const c2 = new RemoteExchangeClient({ url: again.url, venue: 'binance' });
    const o = await c2.fetchOrder({ clientOrderId: 'keep1' }, 'BTC/USDT');
    expect(o.status).toBe('open');
    expect(o.price).toBe(price);
    const balAfter = await c2.fetchBalance();
    expect(balAfter.BTC!.total).toBeCloseTo(balBefore.BTC!.total, 12);
    expect(balAfter.USDT!.used).toBeCloseTo(balBefore.USDT!.used, 9);
    await c2.close();
    proc.kill('SIGTERM');
    expect(await exitCode(proc)).toBe(0);
  });

  it('exits 2 naming the flag on bad input', async () => {
    const proc = run(['venue', '--port', '99999']);
    let err = '';
    proc.stderr!.on('data', (d) => {
      err += String(d);
    });
    expect(await exitCode(proc)).toBe(2);
    expect(err).toMatch(/--port: expected an integer/);
  });
});
