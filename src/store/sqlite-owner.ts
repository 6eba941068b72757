/**
 * One engine per SQLite store. Two engines restoring the same strategies would both trade them
 * (the same client ids, the other's quotes cancelled as orphans): the first engine to open the
 * store as its writer records itself in `engine_owner` (pid, host, since) inside an IMMEDIATE
 * transaction, and every later one is refused while that owner lives. An owner killed with -9
 * leaves its row behind: on the same host its pid no longer exists, on another host its
 * heartbeat grows old, and the next engine takes the store over. Readers (status, cleanup, strategy commands) never claim it.
 * PostgreSQL shares work between engines with leases instead (src/store/leases.ts).
 */

import { hostname } from 'node:os';
import type Database from 'better-sqlite3';

/** How often the owner renews its row, and how old a row may be before it is another host's leftover. */
const HEARTBEAT_MS = 5_000;
const STALE_MS = 30_000;

export class StoreInUseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StoreInUseError';
  }
}

interface OwnerRow {
  pid: number;
  host: string;
  since: number;
  heartbeat: number;
}

export class SqliteOwner {
  private timer: ReturnType<typeof setInterval> | undefined;
  private readonly host = hostname();

  constructor(
    private readonly db: Database.Database,
    private readonly name: string,
  ) {
    db.exec(
      'CREATE TABLE IF NOT EXISTS engine_owner (id INTEGER PRIMARY KEY CHECK (id = 1), pid INTEGER NOT NULL, host TEXT NOT NULL, since INTEGER NOT NULL, heartbeat INTEGER NOT NULL)',
    );
  }

  /** Become the store's one writer, or throw StoreInUseError naming the owner. */
  claim(): void {
    const now = Date.now();
    this.db
      .transaction(() => {
        const row = this.db
          .prepare('SELECT pid, host, since, heartbeat FROM engine_owner WHERE id = 1')
          .get() as OwnerRow | undefined;
        if (row && !this.isMine(row) && this.alive(row, now))
          throw new StoreInUseError(
            `store ${this.name} is in use by pid ${row.pid} on host ${row.host} since ${new Date(row.since).toISOString()} (one engine per SQLite store; use PostgreSQL to share work between engines)`,
          );
        this.db
          .prepare(
            'INSERT OR REPLACE INTO engine_owner (id, pid, host, since, heartbeat) VALUES (1, ?, ?, ?, ?)',
          )
          .run(process.pid, this.host, now, now);
      })
      .immediate();
    this.timer = setInterval(() => {
      try {
        this.db
          .prepare('UPDATE engine_owner SET heartbeat = ? WHERE id = 1 AND pid = ? AND host = ?')
          .run(Date.now(), process.pid, this.host);
      } catch {
        // A busy or closed database: the next beat tries again (or the store is closing).
      }
    }, HEARTBEAT_MS);
    this.timer.unref();
  }

  /** Give the store up (a clean stop): the next engine need not wait for anything. */
  release(): void {
    if (!this.timer) return;
    clearInterval(this.timer);
    this.timer = undefined;
    this.db
      .prepare('DELETE FROM engine_owner WHERE id = 1 AND pid = ? AND host = ?')
      .run(process.pid, this.host);
  }

  private isMine(row: OwnerRow): boolean {
    return row.pid === process.pid && row.host === this.host;
  }

  /**
   * Same host: while its process exists — a frozen (SIGSTOPped) engine still owns the store and
   * would write again when it wakes. Another host (a store on a shared disk): only the heartbeat
   * can tell.
   */
  private alive(row: OwnerRow, now: number): boolean {
    if (row.host !== this.host) return now - row.heartbeat < STALE_MS;
    try {
      process.kill(row.pid, 0);
      return true;
    } catch (e) {
      return (e as NodeJS.ErrnoException).code === 'EPERM';
    }
  }
}
