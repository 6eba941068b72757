/**
 * The SQLite store's one-engine record, in-process: a live owner refuses a second writer, readers
 * are never refused, a clean close gives the store up, and a record left by a process that is
 * gone (same host) or has not renewed it for 30 s (another host) is taken over.
 */
import { mkdtempSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { SqliteStore } from '../../src/store/sqlite.ts';
import { StoreInUseError } from '../../src/store/sqlite-owner.ts';

const file = () => join(mkdtempSync(join(tmpdir(), 'statearb-owner-')), 's.db');

/** Write an owner record as another process left it. */
function leftBehind(path: string, row: { pid: number; host: string; heartbeat: number }): void {
  const db = new Database(path);
  db.prepare(
    'INSERT OR REPLACE INTO engine_owner (id, pid, host, since, heartbeat) VALUES (1, ?, ?, ?, ?)',
  ).run(row.pid, row.host, row.heartbeat, row.heartbeat);
  db.close();
}

describe('one engine per SQLite store', () => {
  it('a live owner refuses a second writer, never a reader; closing gives the store up', () => {
    const path = file();
    const owner = new SqliteStore(path, { exclusive: true });
    // The same process opening it again is not a second engine: the owner here is another live
    // process on this host — the parent of this test process.
    owner.close();
    leftBehind(path, { pid: process.ppid, host: hostname(), heartbeat: Date.now() });
    expect(() => new SqliteStore(path, { exclusive: true })).toThrow(StoreInUseError);
    expect(() => new SqliteStore(path, { exclusive: true })).toThrow(
      new RegExp(`in use by pid ${process.ppid} on host`),
    );
    const reader = new SqliteStore(path);
    expect(reader.listAll().records).toEqual([]);
    reader.close();
  });

  it('takes over a record whose process is gone, or another host’s record not renewed for 30 s', () => {
    const path = file();
    new SqliteStore(path, { exclusive: true }).close();
    // A pid no process has (beyond the kernel's limit).
    leftBehind(path, { pid: 2 ** 22 + 7, host: hostname(), heartbeat: Date.now() });
    const a = new SqliteStore(path, { exclusive: true });
    a.close();
    leftBehind(path, { pid: 1, host: 'elsewhere', heartbeat: Date.now() });
    expect(() => new SqliteStore(path, { exclusive: true })).toThrow(/in use by pid 1 on host elsewhere/);
    leftBehind(path, { pid: 1, host: 'elsewhere', heartbeat: Date.now() - 31_000 });
    new SqliteStore(path, { exclusive: true }).close();
  });
});
