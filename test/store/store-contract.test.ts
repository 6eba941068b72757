import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { StoreIntentJournal } from '../../src/engine/intent-journal.ts';
import { MemoryStore } from '../../src/store/memory.ts';
import { PostgresStore } from '../../src/store/postgres/store.ts';
import { SqliteStore } from '../../src/store/sqlite.ts';
import { type SnapshotStore, type StrategyRecord, SymbolLockedError } from '../../src/store/types.ts';
import { dropTestSchemas, freshSchemaUrl, postgresAvailable } from '../support/postgres.ts';

const dir = mkdtempSync(join(tmpdir(), 'statearb-store-'));
let n = 0;
const stores: [string, () => SnapshotStore][] = [
  ['memory', () => new MemoryStore()],
  ['sqlite', () => new SqliteStore(join(dir, `s${n++}.db`))],
];
// PostgreSQL: needs a server (see test/support/postgres.ts); skipped with a message without one.
if (await postgresAvailable())
  stores.push(['postgres', () => new PostgresStore({ url: freshSchemaUrl('contract'), nodeId: 'node-a' })]);
afterAll(dropTestSchemas);

const rec = (id: string, instruments: string[], over: Partial<StrategyRecord> = {}): StrategyRecord => ({
  id,
  kind: 'spot-futures',
  machineVersion: 1,
  status: 'active',
  spec: { params: { amount: 1 } },
  snapshot: { value: 'watching', context: { n: 1 } },
  instruments,
  createdAt: 1000,
  updatedAt: 1000,
  ...over,
});

describe.each(stores)('%s store contract', (_name, make) => {
  it('creates strategies with exclusive locks and names the holder on conflict', () => {
    const s = make();
    s.createStrategy(rec('a', ['binance|BTC/USDT', 'binance|BTC/USDT:USDT']));
    expect(() => s.createStrategy(rec('b', ['binance|BTC/USDT:USDT', 'bybit|BTC/USDT:USDT']))).toThrow(
      SymbolLockedError,
    );
    try {
      s.createStrategy(rec('b', ['bybit|ETH/USDT', 'binance|BTC/USDT']));
    } catch (e) {
      expect((e as SymbolLockedError).holder).toBe('a');
      expect((e as Error).message).toBe('binance|BTC/USDT is locked by strategy a');
    }
    // nothing of the refused strategy was written, not even the free lock
    expect(s.locks()).toEqual({ 'binance|BTC/USDT': 'a', 'binance|BTC/USDT:USDT': 'a' });
    expect(s.get('b')).toBeUndefined();
    s.close();
  });

  it('saves snapshots, loads only active strategies, releases locks and cleans up by age', () => {
    const s = make();
    s.createStrategy(rec('a', ['x|A/B']));
    s.createStrategy(rec('b', ['x|C/D'], { createdAt: 1001 }));
    s.appendIntent({
      strategyId: 'b',
      venue: 'x',
      request: { symbol: 'C/D', side: 'buy', type: 'market', amount: 1, clientOrderId: 'Sb1' },
      createdAt: 1500,
    });
    s.saveSnapshot('a', { value: 'holding', context: { n: 2 } }, 'active', 2000);
    s.saveSnapshot('b', { value: 'completed' }, 'completed', 2000);
    s.releaseLocks('b');
    const loaded = s.loadActive();
    expect(loaded.records.map((r) => [r.id, r.snapshot])).toEqual([
      ['a', { value: 'holding', context: { n: 2 } }],
    ]);
    expect(s.locks()).toEqual({ 'x|A/B': 'a' });
    expect(s.cleanup(1999)).toEqual([]);
    expect(s.cleanup(3000)).toEqual(['b']);
    expect(s.get('b')).toBeUndefined();
    expect(s.hasIntent('Sb1')).toBe(false);
    expect(s.get('a')).toBeDefined(); // active strategies are never cleaned up
    s.close();
  });

  it('archives finished intents out of the hot journal, never one recovery may still read; archived ones still answer', () => {
    const s = make();
    s.createStrategy(rec('a', ['binance|BTC/USDT'], { updatedAt: 10_000_000 }));
    const req = (id: string) => ({
      symbol: 'BTC/USDT',
      side: 'buy' as const,
      type: 'market' as const,
      amount: 1,
      clientOrderId: id,
    });
    const at = { Sold: 1_000_000, Snear: 9_950_000, Safter: 10_000_500 };
    for (const [id, createdAt] of Object.entries(at))
      s.appendIntent({ strategyId: 'a', venue: 'binance', request: req(id), createdAt });
    expect(s.archiveIntents(20_000_000)).toBe(1); // only the one an hour before the snapshot
    expect(s.archiveIntents(20_000_000)).toBe(0);
    expect(s.hasIntent('Sold')).toBe(true); // an archived id is still never reused
    expect(s.intentOf('Sold')?.request).toEqual(req('Sold'));
    expect(s.intentsFor('a').map((i) => i.request.clientOrderId)).toEqual(['Sold', 'Snear', 'Safter']);
    expect(s.intentsFor('a', 9_000_000).map((i) => i.request.clientOrderId)).toEqual(['Snear', 'Safter']);
    s.close();
  });

  it('journals order intents once per venue and client id', () => {
    const s = make();
    const req = {
      symbol: 'BTC/USDT',
      side: 'buy' as const,
      type: 'limit' as const,
      price: 1,
      amount: 1,
      clientOrderId: 'Sa1ea0',
    };
    s.createStrategy(rec('a', ['binance|BTC/USDT']));
    expect(s.hasIntent('Sa1ea0')).toBe(false);
    s.appendIntent({ strategyId: 'a', venue: 'binance', request: req, createdAt: 1 });
    s.appendIntent({ strategyId: 'a', venue: 'binance', request: req, createdAt: 2 });
    expect(s.hasIntent('Sa1ea0')).toBe(true);
    expect(s.intentOf('Sa1ea0')?.request).toEqual(req); // the id stays bound to the first request
    expect(s.intentOf('Sb9')).toBeUndefined();
    expect(s.intentsFor('a')).toEqual([{ strategyId: 'a', venue: 'binance', request: req, createdAt: 1 }]);
    // Through the journal: a re-send's time is kept beside the intent, the first send's too.
    let now = 50;
    const journal = new StoreIntentJournal(
      s,
      () => 'a',
      () => now,
    );
    expect(journal.intent('Sa1ea0')).toEqual({ request: req, recordedAt: 1, lastSentAt: 1 });
    now = 70;
    journal.resending('Sa1ea0');
    expect(journal.intent('Sa1ea0')).toEqual({ request: req, recordedAt: 1, lastSentAt: 70 });
    s.close();
  });

  it('quarantines a record on request with its reason, freeing its locks', () => {
    const s = make();
    s.createStrategy(rec('a', ['x|A/B']));
    s.quarantine('a', 'machine version 7 is unknown');
    expect(s.loadActive().records).toEqual([]);
    expect(s.locks()).toEqual({});
    expect(s.listQuarantined()).toMatchObject([{ id: 'a', reason: 'machine version 7 is unknown' }]);
    s.close();
  });
});

describe('sqlite store durability', () => {
  it('quarantines rows whose JSON is unreadable and loads the rest', () => {
    const file = join(dir, 'corrupt.db');
    const s = new SqliteStore(file);
    s.createStrategy(rec('good', ['x|A/B']));
    s.createStrategy(rec('bad', ['x|C/D']));
    const raw = new Database(file);
    raw.prepare('UPDATE strategies SET snapshot = ? WHERE id = ?').run('{"value": "hold', 'bad');
    raw.close();
    const loaded = s.loadActive();
    expect(loaded.records.map((r) => r.id)).toEqual(['good']);
    expect(loaded.quarantined.map((q) => q.id)).toEqual(['bad']);
    expect(loaded.quarantined[0]!.reason).toMatch(/unreadable record/);
    expect(s.locks()).toEqual({ 'x|A/B': 'good' });
    s.close();
  });

  it('an intent written before kill -9 is there after the restart', async () => {
    const file = join(dir, 'killed.db');
    const script = `
      const { SqliteStore } = await import(${JSON.stringify(join(import.meta.dirname, '../../src/store/sqlite.ts'))});
      const s = new SqliteStore(${JSON.stringify(file)});
      for (let i = 0; ; i++) {
        s.appendIntent({ strategyId: 'k', venue: 'v', request: { symbol: 'A/B', side: 'buy', type: 'market', amount: 1, clientOrderId: 'K' + i }, createdAt: i });
        process.stdout.write(i + '\\n');
      }
    `;
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let last = -1;
    await new Promise<void>((resolve) => {
      child.stdout.on('data', (d: Buffer) => {
        const lines = String(d).trim().split('\n');
        last = Number(lines[lines.length - 1]);
        if (last >= 200) {
          child.kill('SIGKILL');
          resolve();
        }
      });
    });
    await new Promise((r) => child.once('exit', r));
    const s = new SqliteStore(file);
    // every intent the child reported as written (write returned, then it printed) survived
    for (let i = 0; i <= last; i++) expect(s.hasIntent(`K${i}`), `K${i}`).toBe(true);
    s.close();
  });
});
