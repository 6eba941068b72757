/**
 * One engine per SQLite store, as real processes: a second `statearb run` on the store of a
 * running engine exits 2 naming the owner before it restores, cancels or sends anything, while
 * status keeps reading beside it; once the owner is gone (a clean stop, or kill -9) the next
 * engine starts.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { collect, runCli, startCli, writePaperConfig } from './cli-helpers.ts';

function config(dir: string): string {
  return writePaperConfig(dir, {
    logging: { level: 'info', pretty: false },
    strategies: [
      {
        id: 'maker-eth',
        kind: 'market-making',
        params: {
          market: { venue: 'binance', symbol: 'ETH/USDT:USDT' },
          orderAmount: 0.05,
          levels: 1,
          spreadBps: 1,
          maxInventoryBase: 0.5,
          minOrderAgeMs: 100,
        },
      },
    ],
  });
}

/** Resolves once the child has printed `text` (on stdout or stderr). */
function printed(child: ReturnType<typeof startCli>, text: RegExp, ms = 20_000): Promise<void> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const t = setTimeout(() => reject(new Error(`not printed within ${ms} ms: ${text}\n${seen}`)), ms);
    const on = (d: Buffer) => {
      seen += String(d);
      if (text.test(seen)) {
        clearTimeout(t);
        resolve();
      }
    };
    child.stdout!.on('data', on);
    child.stderr!.on('data', on);
  });
}

describe('one engine per SQLite store', () => {
  it('a second engine on the store exits 2 naming the owner; status reads beside it; after the owner, the next one starts', {
    timeout: 90_000,
  }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'statearb-one-engine-'));
    const file = config(dir);
    const first = startCli(['run', '--config', file, '--duration-s', '30']);
    const firstDone = collect(first);
    await printed(first, /engine started/);

    const second = await runCli(['run', '--config', file, '--duration-s', '5']);
    expect(second.code).toBe(2);
    expect(second.stderr).toMatch(
      new RegExp(`store sqlite:.*statearb\\.db is in use by pid ${first.pid} on host \\S+ since \\d{4}-`),
    );
    // Refused before it did anything: no strategy of its own, nothing cancelled, no engine start.
    expect(second.stdout + second.stderr).not.toMatch(/engine started|orphan/);

    const status = await runCli(['status', '--config', file, '--json']);
    expect(status.code).toBe(0);
    expect(JSON.parse(status.stdout).strategies.map((s: { id: string }) => s.id)).toEqual(['maker-eth']);

    // kill -9 leaves the owner row behind; its pid is gone, so the next engine takes the store.
    first.kill('SIGKILL');
    await firstDone;
    const third = startCli(['run', '--config', file, '--duration-s', '3']);
    const thirdDone = collect(third);
    await printed(third, /engine started/);
    expect((await thirdDone).code).toBe(0);
    // It stopped cleanly and gave the store up: the next one starts at once as well.
    const fourth = await runCli(['run', '--config', file, '--duration-s', '2']);
    expect(fourth.code).toBe(0);
  });
});
