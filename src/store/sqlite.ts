import Database from 'better-sqlite3';
import type { OrderRequest } from '../domain/index.ts';
import {
  type CommandRow,
  snapshotChecksum as checksum,
  commandFromRow,
  parseStrategyRow,
  type StrategyRow,
  strategyRowValues,
} from './rows.ts';
import { SqliteOwner } from './sqlite-owner.ts';
import {
  type LoadResult,
  type OperatorCommand,
  type OperatorCommandName,
  type OrderIntent,
  type QuarantinedRecord,
  type SnapshotStore,
  StrategyExistsError,
  type StrategyRecord,
  type StrategyStatus,
  SymbolLockedError,
} from './types.ts';

const SCHEMA_VERSION = 2;

export interface SqliteStoreOptions {
  /**
   * `FULL` (default): every commit is fsynced before it returns — an order intent or snapshot
   * that was written survives power loss. `NORMAL`: in WAL mode a commit survives a process crash
   * (kill -9) but the last commits may be lost on power loss or an OS crash; faster.
   */
  synchronous?: 'FULL' | 'NORMAL';
  /**
   * Open as the store's one engine (src/store/sqlite-owner.ts): refused with StoreInUseError
   * while another live engine has it. Readers (status, cleanup, commands) leave it off.
   */
  exclusive?: boolean;
  /** The store's name in messages (default `sqlite:<file>`). */
  name?: string;
}

/**
 * SQLite store (better-sqlite3, WAL). Every write is one transaction; better-sqlite3 is
 * synchronous, so when a method returns the write is committed (and, with synchronous=FULL,
 * on disk).
 */
export class SqliteStore implements SnapshotStore {
  private readonly db: Database.Database;
  private readonly stmts;
  private owner: SqliteOwner | undefined;

  constructor(
    readonly file: string,
    opts: SqliteStoreOptions = {},
  ) {
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma(`synchronous = ${opts.synchronous ?? 'FULL'}`);
    this.db.pragma('busy_timeout = 5000');
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS strategies (
        id TEXT PRIMARY KEY,
        kind TEXT NOT NULL,
        machine_version INTEGER NOT NULL,
        status TEXT NOT NULL,
        spec TEXT NOT NULL,
        snapshot TEXT,
        snapshot_sum TEXT,
        instruments TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
      );
      CREATE INDEX IF NOT EXISTS strategies_status ON strategies(status, updated_at);
      CREATE TABLE IF NOT EXISTS locks (key TEXT PRIMARY KEY, strategy_id TEXT NOT NULL, acquired_at INTEGER NOT NULL);
      CREATE TABLE IF NOT EXISTS intents (
        venue TEXT NOT NULL,
        client_order_id TEXT NOT NULL,
        strategy_id TEXT NOT NULL,
        request TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        PRIMARY KEY (venue, client_order_id)
      );
      CREATE INDEX IF NOT EXISTS intents_client_id ON intents(client_order_id);
      CREATE INDEX IF NOT EXISTS intents_strategy ON intents(strategy_id);
      CREATE INDEX IF NOT EXISTS intents_strategy_time ON intents(strategy_id, created_at);
      CREATE TABLE IF NOT EXISTS intents_archive (
        venue TEXT NOT NULL,
        client_order_id TEXT NOT NULL,
        strategy_id TEXT NOT NULL,
        request TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        PRIMARY KEY (venue, client_order_id)
      );
      CREATE INDEX IF NOT EXISTS intents_archive_client_id ON intents_archive(client_order_id);
      CREATE INDEX IF NOT EXISTS intents_archive_strategy_time ON intents_archive(strategy_id, created_at);
      CREATE TABLE IF NOT EXISTS quarantine (id TEXT NOT NULL, reason TEXT NOT NULL, raw TEXT NOT NULL, at INTEGER NOT NULL);
      CREATE TABLE IF NOT EXISTS commands (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        strategy_id TEXT NOT NULL,
        command TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        applied_at INTEGER,
        result TEXT
      );
      CREATE INDEX IF NOT EXISTS commands_pending ON commands(applied_at, seq);
    `);
    const v = this.db.prepare('SELECT value FROM meta WHERE key = ?').get('schema') as
      | { value: string }
      | undefined;
    if (!v)
      this.db.prepare('INSERT INTO meta (key, value) VALUES (?, ?)').run('schema', String(SCHEMA_VERSION));
    else if (Number(v.value) > SCHEMA_VERSION)
      throw new Error(
        `${file}: store schema ${v.value} is newer than this statearb (${SCHEMA_VERSION}); upgrade statearb`,
      );
    this.stmts = {
      insert: this.db.prepare(
        'INSERT INTO strategies (id, kind, machine_version, status, spec, snapshot, snapshot_sum, instruments, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
      ),
      lockHolder: this.db.prepare('SELECT strategy_id FROM locks WHERE key = ?'),
      lock: this.db.prepare('INSERT OR REPLACE INTO locks (key, strategy_id, acquired_at) VALUES (?, ?, ?)'),
      save: this.db.prepare(
        'UPDATE strategies SET snapshot = ?, snapshot_sum = ?, status = ?, updated_at = ? WHERE id = ?',
      ),
      saveVersion: this.db.prepare(
        'UPDATE strategies SET snapshot = ?, snapshot_sum = ?, machine_version = ?, updated_at = ? WHERE id = ?',
      ),
      active: this.db.prepare("SELECT * FROM strategies WHERE status = 'active' ORDER BY created_at, id"),
      all: this.db.prepare('SELECT * FROM strategies ORDER BY created_at, id'),
      get: this.db.prepare('SELECT * FROM strategies WHERE id = ?'),
      release: this.db.prepare('DELETE FROM locks WHERE strategy_id = ?'),
      locks: this.db.prepare('SELECT key, strategy_id FROM locks'),
      toQuarantine: this.db.prepare('INSERT INTO quarantine (id, reason, raw, at) VALUES (?, ?, ?, ?)'),
      deleteStrategy: this.db.prepare('DELETE FROM strategies WHERE id = ?'),
      quarantined: this.db.prepare('SELECT * FROM quarantine ORDER BY at'),
      intent: this.db.prepare(
        'INSERT OR IGNORE INTO intents (venue, client_order_id, strategy_id, request, created_at) VALUES (?, ?, ?, ?, ?)',
      ),
      hasIntent: this.db.prepare('SELECT 1 FROM intents WHERE client_order_id = ? LIMIT 1'),
      hasArchivedIntent: this.db.prepare('SELECT 1 FROM intents_archive WHERE client_order_id = ? LIMIT 1'),
      intentOf: this.db.prepare(
        'SELECT request, created_at FROM (SELECT request, created_at FROM intents WHERE client_order_id = ? UNION ALL SELECT request, created_at FROM intents_archive WHERE client_order_id = ?) ORDER BY created_at LIMIT 1',
      ),
      intentsFor: this.db.prepare(
        'SELECT * FROM (SELECT * FROM intents WHERE strategy_id = ? AND created_at >= ? UNION ALL SELECT * FROM intents_archive WHERE strategy_id = ? AND created_at >= ?) ORDER BY created_at',
      ),
      toArchive: this.db.prepare(
        `INSERT OR IGNORE INTO intents_archive SELECT i.* FROM intents i
         WHERE i.created_at < ? AND i.created_at < COALESCE((SELECT s.updated_at FROM strategies s WHERE s.id = i.strategy_id), 9e18) - 60000`,
      ),
      dropArchived: this.db.prepare(
        'DELETE FROM intents WHERE EXISTS (SELECT 1 FROM intents_archive a WHERE a.venue = intents.venue AND a.client_order_id = intents.client_order_id)',
      ),
      deleteArchivedIntents: this.db.prepare('DELETE FROM intents_archive WHERE strategy_id = ?'),
      terminalBefore: this.db.prepare(
        "SELECT id FROM strategies WHERE status != 'active' AND updated_at < ?",
      ),
      deleteIntents: this.db.prepare('DELETE FROM intents WHERE strategy_id = ?'),
      enqueue: this.db.prepare('INSERT INTO commands (strategy_id, command, created_at) VALUES (?, ?, ?)'),
      pending: this.db.prepare('SELECT * FROM commands WHERE applied_at IS NULL ORDER BY seq'),
      mark: this.db.prepare(
        'UPDATE commands SET applied_at = ?, result = ? WHERE seq = ? AND applied_at IS NULL',
      ),
      command: this.db.prepare('SELECT * FROM commands WHERE seq = ?'),
    };
    if (opts.exclusive) {
      this.owner = new SqliteOwner(this.db, opts.name ?? `sqlite:${file}`);
      try {
        this.owner.claim();
      } catch (e) {
        this.db.close();
        throw e;
      }
    }
  }

  createStrategy(rec: StrategyRecord): void {
    this.db.transaction(() => {
      for (const key of rec.instruments) {
        const holder = this.stmts.lockHolder.get(key) as { strategy_id: string } | undefined;
        if (holder && holder.strategy_id !== rec.id) throw new SymbolLockedError(key, holder.strategy_id);
      }
      if (this.stmts.get.get(rec.id)) throw new StrategyExistsError(rec.id);
      this.stmts.insert.run(...strategyRowValues(rec));
      for (const key of rec.instruments) this.stmts.lock.run(key, rec.id, rec.createdAt);
    })();
  }

  saveSnapshot(id: string, snapshot: unknown, status: StrategyStatus, at: number): void {
    const text = JSON.stringify(snapshot);
    const r = this.stmts.save.run(text, checksum(text), status, at, id);
    if (r.changes !== 1) throw new Error(`no strategy ${id} to save`);
  }

  saveMigrated(id: string, snapshot: unknown, machineVersion: number, at: number): void {
    const text = JSON.stringify(snapshot);
    this.stmts.saveVersion.run(text, checksum(text), machineVersion, at, id);
  }

  loadActive(): LoadResult {
    const records: StrategyRecord[] = [];
    const quarantined: QuarantinedRecord[] = [];
    for (const row of this.stmts.active.all() as StrategyRow[]) {
      try {
        records.push(this.parse(row));
      } catch (e) {
        const q = {
          id: row.id,
          reason: `unreadable record: ${(e as Error).message}`,
          raw: JSON.stringify(row),
          at: Date.now(),
        };
        this.moveToQuarantine(row.id, q.reason, q.raw);
        quarantined.push(q);
      }
    }
    return { records, quarantined };
  }

  listAll(): { records: StrategyRecord[]; unreadable: { id: string; reason: string }[] } {
    const records: StrategyRecord[] = [];
    const unreadable: { id: string; reason: string }[] = [];
    for (const row of this.stmts.all.all() as StrategyRow[]) {
      try {
        records.push(this.parse(row));
      } catch (e) {
        unreadable.push({ id: row.id, reason: `unreadable record: ${(e as Error).message}` });
      }
    }
    return { records, unreadable };
  }

  get(id: string): StrategyRecord | undefined {
    const row = this.stmts.get.get(id) as StrategyRow | undefined;
    return row ? this.parse(row) : undefined;
  }

  releaseLocks(id: string): void {
    this.stmts.release.run(id);
  }

  locks(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const r of this.stmts.locks.all() as { key: string; strategy_id: string }[])
      out[r.key] = r.strategy_id;
    return out;
  }

  quarantine(id: string, reason: string): void {
    const row = this.stmts.get.get(id) as StrategyRow | undefined;
    if (!row) return;
    this.moveToQuarantine(id, reason, JSON.stringify(row));
  }

  listQuarantined(): QuarantinedRecord[] {
    return this.stmts.quarantined.all() as QuarantinedRecord[];
  }

  appendIntent(intent: OrderIntent): void {
    this.stmts.intent.run(
      intent.venue,
      intent.request.clientOrderId,
      intent.strategyId,
      JSON.stringify(intent.request),
      intent.createdAt,
    );
  }

  hasIntent(clientOrderId: string): boolean {
    return (
      this.stmts.hasIntent.get(clientOrderId) !== undefined ||
      this.stmts.hasArchivedIntent.get(clientOrderId) !== undefined
    );
  }

  archiveIntents(before: number): number {
    return this.db.transaction(() => {
      const moved = this.stmts.toArchive.run(before).changes;
      if (moved > 0) this.stmts.dropArchived.run();
      return moved;
    })();
  }

  intentOf(clientOrderId: string): { request: OrderRequest; createdAt: number } | undefined {
    const r = this.stmts.intentOf.get(clientOrderId, clientOrderId) as
      | { request: string; created_at: number }
      | undefined;
    return r
      ? { request: JSON.parse(r.request) as OrderRequest, createdAt: Number(r.created_at) }
      : undefined;
  }

  intentsFor(strategyId: string, since = 0): OrderIntent[] {
    return (
      this.stmts.intentsFor.all(strategyId, since, strategyId, since) as {
        venue: string;
        strategy_id: string;
        request: string;
        created_at: number;
      }[]
    ).map((r) => ({
      venue: r.venue,
      strategyId: r.strategy_id,
      request: JSON.parse(r.request) as OrderRequest,
      createdAt: r.created_at,
    }));
  }

  cleanup(before: number): string[] {
    const ids = (this.stmts.terminalBefore.all(before) as { id: string }[]).map((r) => r.id);
    this.db.transaction(() => {
      for (const id of ids) {
        this.stmts.deleteIntents.run(id);
        this.stmts.deleteArchivedIntents.run(id);
        this.stmts.release.run(id);
        this.stmts.deleteStrategy.run(id);
      }
    })();
    return ids;
  }

  enqueueCommand(strategyId: string, command: OperatorCommandName, at: number): number {
    return Number(this.stmts.enqueue.run(strategyId, command, at).lastInsertRowid);
  }

  pendingCommands(): OperatorCommand[] {
    return (this.stmts.pending.all() as CommandRow[]).map(commandFromRow);
  }

  markCommand(seq: number, at: number, result: string): void {
    this.stmts.mark.run(at, result, seq);
  }

  command(seq: number): OperatorCommand | undefined {
    const row = this.stmts.command.get(seq) as CommandRow | undefined;
    return row ? commandFromRow(row) : undefined;
  }

  setMeta(key: string, value: string): void {
    this.db
      .prepare(
        'INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
      )
      .run(key, value);
  }

  metaWithPrefix(prefix: string): Record<string, string> {
    // substr, not LIKE: a key may hold '_' or '%'.
    const rows = this.db
      .prepare('SELECT key, value FROM meta WHERE substr(key, 1, length(?)) = ?')
      .all(prefix, prefix) as { key: string; value: string }[];
    return Object.fromEntries(rows.map((r) => [r.key, r.value]));
  }

  close(): void {
    if (this.db.open) this.owner?.release();
    this.db.close();
  }

  private moveToQuarantine(id: string, reason: string, raw: string): void {
    this.db.transaction(() => {
      this.stmts.toQuarantine.run(id, reason, raw, Date.now());
      this.stmts.deleteStrategy.run(id);
      this.stmts.release.run(id);
    })();
  }

  private parse(row: StrategyRow): StrategyRecord {
    return parseStrategyRow(row);
  }
}
