import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '../..');
const children: ChildProcess[] = [];
afterAll(() => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
});

const firstLine = (c: ChildProcess) =>
  new Promise<string>((resolve, reject) => {
    createInterface({ input: c.stdout! }).once('line', resolve);
    c.once('exit', (code) => reject(new Error(`exited ${code}`)));
  });

describe('SIGTERM', () => {
  it('the engine stops new work, settles, persists and exits 0; the strategies stay resumable', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'statearb-sigterm-'));
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
        '--balances',
        'USDT=1000000,BTC=10,ETH=100',
      ],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    children.push(venue);
    const { url } = JSON.parse(await firstLine(venue)) as { url: string };
    const db = join(dir, 'e.db');
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', join(import.meta.dirname, 'engine-child.ts'), url, db, join(dir, 'status.json')],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
        cwd: ROOT,
      },
    );
    children.push(child);
    await firstLine(child);
    await new Promise((r) => setTimeout(r, 1_500));
    const t0 = Date.now();
    child.kill('SIGTERM');
    const code = await new Promise<number | null>((r) => child.once('exit', r));
    expect(code).toBe(0);
    expect(Date.now() - t0).toBeLessThan(8_000);
    const store = new Database(db, { readonly: true });
    const rows = store.prepare('SELECT id, status FROM strategies ORDER BY id').all();
    store.close();
    expect(rows).toEqual([
      { id: 'basis-binance', status: 'active' },
      { id: 'basis-bybit', status: 'active' },
      { id: 'maker-eth', status: 'active' },
    ]);
    venue.kill('SIGTERM');
  }, 60_000);
});
