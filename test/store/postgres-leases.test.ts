/**
 * PostgreSQL leases and fencing (needs a server: test/support/postgres.ts). Two store instances
 * with different node ids stand for two engine processes; the races use real child processes.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FencedError } from '../../src/store/leases.ts';
import { PostgresStore, parsePostgresUrl } from '../../src/store/postgres/store.ts';
import type { StrategyRecord } from '../../src/store/types.ts';
import { dropTestSchemas, freshSchemaUrl, postgresAvailable } from '../support/postgres.ts';

const available = await postgresAvailable();
afterAll(dropTestSchemas);

const rec = (id: string, instruments: string[], createdAt = 1000): StrategyRecord => ({
  id,
  kind: 'spot-futures',
  machineVersion: 1,
  status: 'active',
  spec: { params: {} },
  snapshot: { value: 'watching', context: { n: 1 } },
  instruments,
  createdAt,
  updatedAt: createdAt,
});

const intent = (strategyId: string, clientOrderId: string) => ({
  strategyId,
  venue: 'binance',
  request: { symbol: 'BTC/USDT', side: 'buy' as const, type: 'market' as const, amount: 1, clientOrderId },
  createdAt: 1,
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.runIf(available)('postgres leases and fencing', () => {
  it('a lapsed lease is taken over with a new token; the old owner can no longer write or journal', async () => {
    const url = freshSchemaUrl('lease');
    const a = new PostgresStore({ url, nodeId: 'a', leaseMs: 400 });
    const b = new PostgresStore({ url, nodeId: 'b', leaseMs: 400 });
    a.createStrategy(rec('s1', ['binance|BTC/USDT', 'binance|BTC/USDT:USDT']));
    expect(b.claim(10).records).toEqual([]); // lease is fresh
    a.appendIntent(intent('s1', 'S1'));
    await sleep(500); // a stops renewing (paused, partitioned…)
    const taken = b.claim(10);
    expect(taken.records.map((r) => r.id)).toEqual(['s1']);
    expect(b.owned()).toEqual(['s1']);
    expect(() => a.saveSnapshot('s1', { value: 'stale' }, 'active', 2)).toThrow(FencedError);
    expect(() => a.appendIntent(intent('s1', 'S2'))).toThrow(FencedError);
    expect(a.hasIntent('S2')).toBe(false);
    expect(a.renew().lost).toEqual([]); // the fenced write already dropped the token locally
    b.saveSnapshot('s1', { value: 'holding' }, 'active', 3);
    b.appendIntent(intent('s1', 'S3'));
    expect(b.get('s1')!.snapshot).toEqual({ value: 'holding' });
    // locks stay with the strategy across the takeover; the lease rows follow the new owner
    expect(b.locks()).toEqual({ 'binance|BTC/USDT': 's1', 'binance|BTC/USDT:USDT': 's1' });
    expect(b.owners().s1!.node).toBe('b');
    a.close();
    b.close();
  });

  it('renewal keeps a lease; a node learns from renew() that it lost one', async () => {
    const url = freshSchemaUrl('renew');
    const a = new PostgresStore({ url, nodeId: 'a', leaseMs: 300 });
    const b = new PostgresStore({ url, nodeId: 'b', leaseMs: 300 });
    a.createStrategy(rec('s1', ['x|A/B']));
    a.createStrategy(rec('s2', ['x|C/D'], 1001));
    for (let i = 0; i < 4; i++) {
      await sleep(120);
      expect(a.renew().lost).toEqual([]);
      expect(b.claim(10).records).toEqual([]);
    }
    await sleep(400);
    expect(b.claim(1).records.map((r) => r.id)).toEqual(['s1']); // at most `max`, oldest first
    expect(a.renew().lost).toEqual(['s1']);
    expect(a.owned()).toEqual(['s2']);
    a.close();
    b.close();
  });

  it('graceful release hands strategies over at once; unowned strategies wait for any node', () => {
    const url = freshSchemaUrl('release');
    const a = new PostgresStore({ url, nodeId: 'a', leaseMs: 60_000 });
    const b = new PostgresStore({ url, nodeId: 'b', leaseMs: 60_000 });
    a.createStrategy(rec('s1', ['x|A/B']));
    a.createStrategy(rec('queued', ['x|E/F'], 1002), { own: false });
    expect(a.owned()).toEqual(['s1']);
    expect(b.claim(10).records.map((r) => r.id)).toEqual(['queued']);
    a.release(['s1']);
    expect(a.owned()).toEqual([]);
    expect(b.claim(10).records.map((r) => r.id)).toEqual(['s1']);
    expect(() => a.saveSnapshot('s1', {}, 'active', 1)).toThrow(FencedError);
    a.close();
    b.close();
  });

  it('a node claims only the kinds it can run: a user kind it has not loaded waits for a node that has it', () => {
    const url = freshSchemaUrl('kinds');
    const a = new PostgresStore({ url, nodeId: 'a', leaseMs: 60_000 });
    const b = new PostgresStore({ url, nodeId: 'b', leaseMs: 60_000 });
    a.createStrategy({ ...rec('mine', ['x|A/B']), kind: 'user-carry' }, { own: false });
    a.createStrategy(rec('builtin', ['x|C/D'], 1001), { own: false });
    expect(b.claim(10, ['spot-futures', 'futures-spread']).records.map((r) => r.id)).toEqual(['builtin']);
    expect(b.owned()).toEqual(['builtin']);
    expect(a.claim(10, ['user-carry']).records.map((r) => r.id)).toEqual(['mine']);
    a.close();
    b.close();
  });

  it('a terminal strategy frees its symbol locks; only its owner can free them', () => {
    const url = freshSchemaUrl('term');
    const a = new PostgresStore({ url, nodeId: 'a' });
    const b = new PostgresStore({ url, nodeId: 'b' });
    a.createStrategy(rec('s1', ['x|A/B']));
    b.releaseLocks('s1'); // not b's: nothing happens
    expect(a.locks()).toEqual({ 'x|A/B': 's1' });
    a.saveSnapshot('s1', { value: 'completed' }, 'completed', 5);
    a.releaseLocks('s1');
    expect(a.locks()).toEqual({});
    b.createStrategy(rec('s2', ['x|A/B']));
    expect(b.claim(10).records).toEqual([]); // completed strategies are never claimed
    a.close();
    b.close();
  });

  it('a corrupt snapshot found by a claim is quarantined; the others are taken', () => {
    const url = freshSchemaUrl('corrupt');
    const a = new PostgresStore({ url, nodeId: 'a' });
    a.createStrategy(rec('good', ['x|A/B']), { own: false });
    a.createStrategy(rec('bad', ['x|C/D'], 1001), { own: false });
    a.close();
    const { connectionString, schema } = parsePostgresUrl(url);
    const raw = new PostgresStore({ url, nodeId: 'raw' }) as unknown as {
      pg: { query(sql: string, p: unknown[]): unknown };
      close(): void;
    };
    raw.pg.query(`UPDATE ${schema}.strategies SET snapshot = '{"value": "hold' WHERE id = $1`, ['bad']);
    raw.close();
    expect(connectionString).not.toContain('schema=');
    const b = new PostgresStore({ url, nodeId: 'b' });
    const claimed = b.claim(10);
    expect(claimed.records.map((r) => r.id)).toEqual(['good']);
    expect(claimed.quarantined.map((q) => [q.id, q.reason])).toEqual([
      ['bad', 'unreadable record: snapshot checksum mismatch (torn or corrupted write)'],
    ]);
    expect(b.locks()).toEqual({ 'x|A/B': 'good' });
    expect(b.listQuarantined().map((q) => q.id)).toEqual(['bad']);
    b.close();
  });

  it('cross-process lock races have exactly one winner', async () => {
    const url = freshSchemaUrl('race');
    new PostgresStore({ url, nodeId: 'setup' }).close(); // tables exist before the race
    const storeModule = join(import.meta.dirname, '../../src/store/postgres/store.ts');
    const startAt = Date.now() + 1_500;
    const contenders = 6;
    const rounds = 5;
    // Each process creates, per round, a strategy on the same two instruments (in varying order).
    const script = (i: number) => `
      const { PostgresStore } = await import(${JSON.stringify(storeModule)});
      const s = new PostgresStore({ url: ${JSON.stringify(url)}, nodeId: 'p${i}' });
      while (Date.now() < ${startAt}) await new Promise((r) => setTimeout(r, 1));
      const won = [];
      for (let round = 0; round < ${rounds}; round++) {
        const keys = ['v|R' + round + '/A', 'v|R' + round + '/B'];
        if (${i} % 2) keys.reverse();
        try {
          s.createStrategy({ id: 'r' + round + '-p${i}', kind: 'k', machineVersion: 1, status: 'active',
            spec: {}, snapshot: undefined, instruments: keys, createdAt: 1, updatedAt: 1 });
          won.push(round);
        } catch (e) {
          if (e.name !== 'SymbolLockedError') throw e;
        }
      }
      process.stdout.write(JSON.stringify(won));
      s.close();
    `;
    const results = await Promise.all(
      Array.from({ length: contenders }, (_, i) => {
        const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script(i)], {
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        let out = '';
        let err = '';
        child.stdout.on('data', (d) => {
          out += d;
        });
        child.stderr.on('data', (d) => {
          err += d;
        });
        return new Promise<number[]>((resolve, reject) =>
          child.once('exit', (code) =>
            code === 0
              ? resolve(JSON.parse(out) as number[])
              : reject(new Error(`contender ${i} exit ${code}: ${err.slice(-2000)}`)),
          ),
        );
      }),
    );
    for (let round = 0; round < rounds; round++)
      expect(results.filter((won) => won.includes(round)).length, `round ${round}`).toBe(1);
    const check = new PostgresStore({ url, nodeId: 'check' });
    const locks = check.locks();
    expect(Object.keys(locks)).toHaveLength(rounds * 2);
    for (let round = 0; round < rounds; round++) expect(locks[`v|R${round}/A`]).toBe(locks[`v|R${round}/B`]); // both keys to the same winner
    check.close();
  }, 60_000);

  it('an intent committed before kill -9 is there afterwards', async () => {
    const url = freshSchemaUrl('kill');
    const storeModule = join(import.meta.dirname, '../../src/store/postgres/store.ts');
    const script = `
      const { PostgresStore } = await import(${JSON.stringify(storeModule)});
      const s = new PostgresStore({ url: ${JSON.stringify(url)}, nodeId: 'k' });
      s.createStrategy({ id: 'k', kind: 'k', machineVersion: 1, status: 'active', spec: {},
        snapshot: undefined, instruments: ['v|K/A'], createdAt: 1, updatedAt: 1 });
      for (let i = 0; ; i++) {
        s.appendIntent({ strategyId: 'k', venue: 'v', request: { symbol: 'K/A', side: 'buy', type: 'market', amount: 1, clientOrderId: 'K' + i }, createdAt: i });
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
        if (last >= 100) {
          child.kill('SIGKILL');
          resolve();
        }
      });
    });
    await new Promise((r) => child.once('exit', r));
    const s = new PostgresStore({ url, nodeId: 'after' });
    for (let i = 0; i <= last; i++) expect(s.hasIntent(`K${i}`), `K${i}`).toBe(true);
    s.close();
  }, 30_000);

  it('migrates once when engines start together, and refuses a schema newer than itself', async () => {
    const url = freshSchemaUrl('migrate');
    const storeModule = join(import.meta.dirname, '../../src/store/postgres/store.ts');
    const script = (i: number) => `
      const { PostgresStore } = await import(${JSON.stringify(storeModule)});
      new PostgresStore({ url: ${JSON.stringify(url)}, nodeId: 'm${i}' }).close();
    `;
    const codes = await Promise.all(
      [0, 1, 2, 3].map(
        (i) =>
          new Promise<number | null>((resolve) =>
            spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script(i)], {
              stdio: 'inherit',
            }).once('exit', resolve),
          ),
      ),
    );
    expect(codes).toEqual([0, 0, 0, 0]);
    const { schema } = parsePostgresUrl(url);
    const s = new PostgresStore({ url, nodeId: 'x' }) as unknown as {
      pg: { query(sql: string, p?: unknown[]): Record<string, unknown>[] };
      close(): void;
    };
    expect(s.pg.query(`SELECT value FROM ${schema}.meta WHERE key = 'schema'`)).toEqual([{ value: '3' }]);
    s.pg.query(`UPDATE ${schema}.meta SET value = '99' WHERE key = 'schema'`);
    s.close();
    expect(() => new PostgresStore({ url, nodeId: 'y' })).toThrow(
      /store schema 99 is newer than this statearb \(3\); upgrade statearb/,
    );
  }, 30_000);

  it('names the server in a clear error when it cannot connect, password masked', () => {
    expect(
      () =>
        new PostgresStore({
          url: 'postgres://u:hunter2@127.0.0.1:1/none',
          nodeId: 'x',
          timeoutMs: 3_000,
        }),
    ).toThrow(/PostgreSQL store postgres:\/\/u:\*\*\*@127\.0\.0\.1:1\/none: .*ECONNREFUSED/);
  });
});
