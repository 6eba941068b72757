/**
 * PostgreSQL store: several engine processes on several hosts share one database.
 *
 * Ownership is leased. `strategies.owner / fence / lease_until` say which node runs a strategy,
 * with which fencing token, until when; `leases` holds one row per instrument key (the symbol
 * lock: which strategy trades it) carrying the same owner, token and expiry. Both change together,
 * in one transaction, on create, claim, renew and release. Lease times are the database's clock,
 * so hosts with skewed clocks agree on when a lease lapsed.
 *
 * Fencing: every snapshot write is `UPDATE … WHERE owner = me AND fence = my token`, and every
 * order intent is inserted only after `SELECT … FOR SHARE` found the same; a takeover bumps the
 * token from a sequence, so the old owner's writes match nothing, and the share lock orders an
 * intent strictly before or after a takeover — never lost between the new owner's reads.
 * Why tokens rather than advisory locks: a session advisory lock dies with its connection, but a
 * node that is paused (GC, SIGSTOP, a VM migration) keeps running code when it wakes, with no way
 * to learn that it lost the lock before its next write. The token check is in the write itself.
 */
import type { OrderRequest } from '../../domain/index.ts';
import { FencedError, type LeasedStore } from '../leases.ts';
import {
  type CommandRow,
  commandFromRow,
  parseStrategyRow,
  type StrategyRow,
  snapshotChecksum,
  strategyRowValues,
} from '../rows.ts';
import {
  type LoadResult,
  type OperatorCommand,
  type OperatorCommandName,
  type OrderIntent,
  type QuarantinedRecord,
  StrategyExistsError,
  type StrategyRecord,
  type StrategyStatus,
  SymbolLockedError,
} from '../types.ts';
import { SyncPg } from './sync-pg.ts';

/** MIGRATIONS[v] takes the schema from version v to v + 1. Append; never edit a released step. */
const MIGRATIONS: string[][] = [
  [
    `CREATE TABLE strategies (
      id TEXT PRIMARY KEY,
      kind TEXT NOT NULL,
      machine_version INTEGER NOT NULL,
      status TEXT NOT NULL,
      spec TEXT NOT NULL,
      snapshot TEXT,
      snapshot_sum TEXT,
      instruments TEXT NOT NULL,
      created_at BIGINT NOT NULL,
      updated_at BIGINT NOT NULL,
      owner TEXT,
      fence BIGINT NOT NULL DEFAULT 0,
      lease_until BIGINT NOT NULL DEFAULT 0)`,
    'CREATE INDEX strategies_status ON strategies (status, updated_at)',
    'CREATE INDEX strategies_owner ON strategies (owner)',
    'CREATE SEQUENCE fence_seq',
    `CREATE TABLE leases (
      key TEXT PRIMARY KEY,
      strategy_id TEXT NOT NULL,
      owner TEXT,
      token BIGINT NOT NULL,
      expires_at BIGINT NOT NULL)`,
    'CREATE INDEX leases_strategy ON leases (strategy_id)',
    `CREATE TABLE intents (
      venue TEXT NOT NULL,
      client_order_id TEXT NOT NULL,
      strategy_id TEXT NOT NULL,
      request TEXT NOT NULL,
      created_at BIGINT NOT NULL,
      fence BIGINT NOT NULL,
      PRIMARY KEY (venue, client_order_id))`,
    'CREATE INDEX intents_client_id ON intents (client_order_id)',
    'CREATE INDEX intents_strategy ON intents (strategy_id)',
    'CREATE TABLE quarantine (id TEXT NOT NULL, reason TEXT NOT NULL, raw TEXT NOT NULL, at BIGINT NOT NULL)',
  ],
  [
    `CREATE TABLE commands (
      seq BIGSERIAL PRIMARY KEY,
      strategy_id TEXT NOT NULL,
      command TEXT NOT NULL,
      created_at BIGINT NOT NULL,
      applied_at BIGINT,
      result TEXT)`,
    'CREATE INDEX commands_pending ON commands (applied_at, seq)',
  ],
  // Recovery reads a strategy's last moments of the journal, however long it grew.
  [
    'CREATE INDEX intents_strategy_time ON intents (strategy_id, created_at)',
    `CREATE TABLE intents_archive (
      venue TEXT NOT NULL,
      client_order_id TEXT NOT NULL,
      strategy_id TEXT NOT NULL,
      request TEXT NOT NULL,
      created_at BIGINT NOT NULL,
      fence BIGINT NOT NULL,
      PRIMARY KEY (venue, client_order_id))`,
    'CREATE INDEX intents_archive_client_id ON intents_archive (client_order_id)',
    'CREATE INDEX intents_archive_strategy_time ON intents_archive (strategy_id, created_at)',
  ],
];
/** Database time in ms: every lease comparison uses the server's clock. */
const NOW = '(extract(epoch from clock_timestamp()) * 1000)::bigint';

export interface PostgresStoreOptions {
  /** postgres://user:pass@host:port/db[?schema=NAME] — the schema isolates one deployment. */
  url: string;
  /** This engine process; default host-pid-random. */
  nodeId: string;
  /** Lease duration, ms (default 15 s). Renew at least every leaseMs / 3. */
  leaseMs?: number;
  /** Longest wait for one database answer, ms (default 10 s). */
  timeoutMs?: number;
}

/** The URL without the `schema` parameter (pg does not know it) and the schema it named. */
export function parsePostgresUrl(url: string): { connectionString: string; schema: string | undefined } {
  const u = new URL(url);
  const schema = u.searchParams.get('schema') ?? undefined;
  if (schema !== undefined && !/^[a-z_][a-z0-9_]{0,62}$/.test(schema))
    throw new Error(`store URL: schema "${schema}" must be a lower-case SQL identifier`);
  u.searchParams.delete('schema');
  return { connectionString: u.toString(), schema };
}

/** The URL with its password masked, for logs and errors. */
export function redactUrl(url: string): string {
  return url.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:***@');
}

export class PostgresStore implements LeasedStore {
  readonly nodeId: string;
  readonly leaseMs: number;
  private readonly pg: SyncPg;
  /** strategy id → fencing token this node holds. */
  private readonly tokens = new Map<string, number>();

  constructor(opts: PostgresStoreOptions) {
    this.nodeId = opts.nodeId;
    this.leaseMs = opts.leaseMs ?? 15_000;
    const { connectionString, schema } = parsePostgresUrl(opts.url);
    this.pg = new SyncPg({
      connection: {
        connectionString,
        ...(schema ? { options: `-c search_path=${schema}` } : {}),
        application_name: `statearb ${this.nodeId}`.slice(0, 63),
        connectionTimeoutMillis: opts.timeoutMs ?? 10_000,
      },
      timeoutMs: opts.timeoutMs ?? 10_000,
    });
    try {
      this.migrate(schema);
    } catch (e) {
      this.pg.close();
      throw new Error(`PostgreSQL store ${redactUrl(opts.url)}: ${(e as Error).message}`);
    }
  }

  /**
   * Create or upgrade the tables, one migration per schema version, each in its own transaction
   * with the version it reaches. Engines starting together serialise on an advisory lock.
   */
  private migrate(schema: string | undefined): void {
    const lock = `hashtext('statearb.migrate.${schema ?? 'public'}')`;
    this.pg.query(`SELECT pg_advisory_lock(${lock})`);
    try {
      if (schema) this.pg.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
      this.pg.query('CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)');
      const row = this.pg.query<{ value: string }>("SELECT value FROM meta WHERE key = 'schema'")[0];
      const version = row ? Number(row.value) : 0;
      // A newer statearb's schema is refused rather than written with an older understanding of it.
      if (version > MIGRATIONS.length)
        throw new Error(
          `store schema ${version} is newer than this statearb (${MIGRATIONS.length}); upgrade statearb`,
        );
      for (let v = version; v < MIGRATIONS.length; v++)
        this.pg.tx([
          ...MIGRATIONS[v]!.map((sql) => ({ sql })),
          {
            sql: "INSERT INTO meta (key, value) VALUES ('schema', $1) ON CONFLICT (key) DO UPDATE SET value = $1",
            params: [String(v + 1)],
          },
        ]);
    } finally {
      this.pg.query(`SELECT pg_advisory_unlock(${lock})`);
    }
  }

  // ── creation and symbol locks ───────────────────────────────────────────────────────────────

  createStrategy(rec: StrategyRecord, opts: { own?: boolean } = {}): void {
    const own = opts.own ?? true;
    const r = this.pg.tx([
      {
        sql: `INSERT INTO strategies (id, kind, machine_version, status, spec, snapshot, snapshot_sum,
                instruments, created_at, updated_at, owner, fence, lease_until)
              VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11,
                CASE WHEN $11::text IS NULL THEN 0 ELSE nextval('fence_seq') END,
                CASE WHEN $11::text IS NULL THEN 0 ELSE ${NOW} + $12 END)
              ON CONFLICT (id) DO NOTHING
              RETURNING fence`,
        params: [...strategyRowValues(rec), own ? this.nodeId : null, this.leaseMs],
        expect: { rows: 1, code: 'exists' },
      },
      {
        // The primary key on `key` makes the lock exclusive: of two racing creates, one inserts.
        // Keys go in sorted order: an insert that meets another transaction's uncommitted key
        // waits for it, so two creates taking {A, B} in opposite orders would deadlock.
        sql: `INSERT INTO leases (key, strategy_id, owner, token, expires_at)
              SELECT k, s.id, s.owner, s.fence, s.lease_until FROM unnest($1::text[]) AS k, strategies s
              WHERE s.id = $2
              ORDER BY k
              ON CONFLICT (key) DO NOTHING`,
        params: [rec.instruments, rec.id],
        expect: { rows: rec.instruments.length, code: 'locked' },
      },
    ]);
    if ('aborted' in r) {
      if (r.aborted.code === 'exists') throw new StrategyExistsError(rec.id);
      const holders = new Map(
        this.pg
          .query<{ key: string; strategy_id: string }>(
            'SELECT key, strategy_id FROM leases WHERE key = ANY($1::text[])',
            [rec.instruments],
          )
          .map((h) => [h.key, h.strategy_id]),
      );
      const key = rec.instruments.find((k) => holders.has(k));
      if (key) throw new SymbolLockedError(key, holders.get(key)!);
      // Released between our insert and this read: the caller may simply try again.
      throw new Error(`${rec.instruments.join(', ')}: a lock was taken and released meanwhile; retry`);
    }
    if (own) this.tokens.set(rec.id, Number(r.results[0]!.rows[0]!.fence));
  }

  releaseLocks(id: string): void {
    // A terminal strategy's locks; only its owner (current token) may let them go.
    const token = this.tokens.get(id);
    if (token === undefined) return;
    this.pg.tx([
      {
        sql: 'SELECT 1 FROM strategies WHERE id = $1 AND owner = $2 AND fence = $3 FOR UPDATE',
        params: [id, this.nodeId, token],
        expect: { rows: 1, code: 'fenced' },
      },
      { sql: 'DELETE FROM leases WHERE strategy_id = $1', params: [id] },
      { sql: 'UPDATE strategies SET owner = NULL, lease_until = 0 WHERE id = $1', params: [id] },
    ]);
    this.tokens.delete(id);
  }

  locks(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const r of this.pg.query<{ key: string; strategy_id: string }>(
      'SELECT key, strategy_id FROM leases ORDER BY key',
    ))
      out[r.key] = r.strategy_id;
    return out;
  }

  // ── fenced writes ───────────────────────────────────────────────────────────────────────────

  private token(id: string): number {
    const t = this.tokens.get(id);
    if (t === undefined) throw new FencedError(id, `node ${this.nodeId} holds no lease on it`);
    return t;
  }

  private fenced(id: string, token: number): never {
    this.tokens.delete(id);
    throw new FencedError(id, `fencing token ${token} is no longer current: another node took it over`);
  }

  saveSnapshot(id: string, snapshot: unknown, status: StrategyStatus, at: number): void {
    this.writeSnapshot(id, snapshot, 'status', status, at);
  }

  saveMigrated(id: string, snapshot: unknown, machineVersion: number, at: number): void {
    this.writeSnapshot(id, snapshot, 'machine_version', machineVersion, at);
  }

  /** The snapshot and one more column, only under this node's current token. */
  private writeSnapshot(
    id: string,
    snapshot: unknown,
    column: 'status' | 'machine_version',
    value: unknown,
    at: number,
  ): void {
    const token = this.token(id);
    const text = JSON.stringify(snapshot);
    const r = this.pg.tx([
      {
        sql: `UPDATE strategies SET snapshot = $1, snapshot_sum = $2, ${column} = $3, updated_at = $4
              WHERE id = $5 AND owner = $6 AND fence = $7`,
        params: [text, snapshotChecksum(text), value, at, id, this.nodeId, token],
        expect: { rows: 1, code: 'fenced' },
      },
    ]);
    if ('aborted' in r) this.fenced(id, token);
  }

  appendIntent(intent: OrderIntent): void {
    const id = intent.strategyId;
    const token = this.token(id);
    // One statement, one round trip. FOR SHARE on the strategy row: a takeover (an UPDATE of that
    // row) waits for this intent to commit, or this waits for the takeover and then matches no
    // row — so the new owner, reading intents after its claim, never misses one.
    const inserted = this.pg.tx([
      {
        sql: `INSERT INTO intents (venue, client_order_id, strategy_id, request, created_at, fence)
              SELECT $1, $2, s.id, $4, $5, s.fence FROM (
                SELECT id, fence FROM strategies WHERE id = $3 AND owner = $6 AND fence = $7 FOR SHARE
              ) s
              ON CONFLICT DO NOTHING`,
        params: [
          intent.venue,
          intent.request.clientOrderId,
          id,
          JSON.stringify(intent.request),
          intent.createdAt,
          this.nodeId,
          token,
        ],
      },
    ]);
    if ('aborted' in inserted || inserted.results[0]!.rowCount === 1) return;
    // Nothing inserted: the intent was there already (a re-run placement), or the token is stale.
    const current = this.pg.query('SELECT 1 FROM strategies WHERE id = $1 AND owner = $2 AND fence = $3', [
      id,
      this.nodeId,
      token,
    ]);
    if (current.length === 0) this.fenced(id, token);
  }

  intentOf(clientOrderId: string): { request: OrderRequest; createdAt: number } | undefined {
    const rows = this.pg.query<{ request: string; created_at: string | number }>(
      `SELECT request, created_at FROM (SELECT request, created_at FROM intents WHERE client_order_id = $1
         UNION ALL SELECT request, created_at FROM intents_archive WHERE client_order_id = $1) x
       ORDER BY created_at LIMIT 1`,
      [clientOrderId],
    );
    const r = rows[0];
    return r
      ? { request: JSON.parse(r.request) as OrderRequest, createdAt: Number(r.created_at) }
      : undefined;
  }

  hasIntent(clientOrderId: string): boolean {
    return (
      this.pg.query(
        `SELECT 1 FROM intents WHERE client_order_id = $1
         UNION ALL SELECT 1 FROM intents_archive WHERE client_order_id = $1 LIMIT 1`,
        [clientOrderId],
      ).length > 0
    );
  }

  intentsFor(strategyId: string, since = 0): OrderIntent[] {
    return this.pg
      .query<{ venue: string; strategy_id: string; request: string; created_at: string }>(
        `SELECT venue, strategy_id, request, created_at FROM intents WHERE strategy_id = $1 AND created_at >= $2
         UNION ALL SELECT venue, strategy_id, request, created_at FROM intents_archive WHERE strategy_id = $1 AND created_at >= $2
         ORDER BY created_at`,
        [strategyId, since],
      )
      .map((r) => ({
        venue: r.venue,
        strategyId: r.strategy_id,
        request: JSON.parse(r.request) as OrderRequest,
        createdAt: Number(r.created_at),
      }));
  }

  // ── ownership ───────────────────────────────────────────────────────────────────────────────

  claim(max: number, kinds?: string[]): LoadResult {
    if (max <= 0) return { records: [], quarantined: [] };
    // The lapse test is on the locked row itself, so a claim racing another node's claim or
    // renewal re-checks the committed row (SKIP LOCKED skips rows in flight): one winner.
    const rows = this.pg.query<StrategyRow & { fence: string }>(
      `WITH picked AS (
         SELECT id FROM strategies
         WHERE status = 'active' AND (owner IS NULL OR lease_until < ${NOW})
           AND ($4::text[] IS NULL OR kind = ANY($4::text[]))
         ORDER BY created_at, id LIMIT $2 FOR UPDATE SKIP LOCKED),
       owned AS (
         UPDATE strategies s SET owner = $1, fence = nextval('fence_seq'), lease_until = ${NOW} + $3
         FROM picked WHERE s.id = picked.id RETURNING s.*),
       leased AS (
         UPDATE leases l SET owner = owned.owner, token = owned.fence, expires_at = owned.lease_until
         FROM owned WHERE l.strategy_id = owned.id RETURNING l.key)
       SELECT * FROM owned ORDER BY created_at, id`,
      // LIMIT NULL: no limit (a node without a capacity).
      [this.nodeId, Number.isFinite(max) ? Math.floor(max) : null, this.leaseMs, kinds ?? null],
    );
    const records: StrategyRecord[] = [];
    const quarantined: QuarantinedRecord[] = [];
    for (const row of rows) {
      this.tokens.set(row.id, Number(row.fence));
      try {
        records.push(parseStrategyRow(row));
      } catch (e) {
        const reason = `unreadable record: ${(e as Error).message}`;
        this.quarantine(row.id, reason);
        quarantined.push({ id: row.id, reason, raw: JSON.stringify(row), at: Date.now() });
      }
    }
    return { records, quarantined };
  }

  renew(): { lost: string[] } {
    if (this.tokens.size === 0) return { lost: [] };
    const r = this.pg.tx([
      {
        sql: `UPDATE strategies SET lease_until = ${NOW} + $2
              WHERE owner = $1 AND status = 'active' RETURNING id, fence`,
        params: [this.nodeId, this.leaseMs],
      },
      {
        sql: `UPDATE leases l SET expires_at = s.lease_until FROM strategies s
              WHERE l.strategy_id = s.id AND s.owner = $1 AND l.owner = $1`,
        params: [this.nodeId],
      },
    ]);
    if ('aborted' in r) throw new Error('unreachable: renewal has no expectation');
    const current = new Map(r.results[0]!.rows.map((x) => [String(x.id), Number(x.fence)]));
    const lost: string[] = [];
    for (const [id, token] of this.tokens) {
      if (current.get(id) !== token) {
        lost.push(id);
        this.tokens.delete(id);
      }
    }
    return { lost };
  }

  release(ids: string[]): void {
    const mine = ids.filter((id) => this.tokens.has(id));
    if (mine.length === 0) return;
    const tokens = mine.map((id) => this.tokens.get(id)!);
    this.pg.tx([
      {
        sql: `UPDATE strategies s SET owner = NULL, lease_until = 0
              FROM unnest($2::text[], $3::bigint[]) AS m(id, fence)
              WHERE s.id = m.id AND s.fence = m.fence AND s.owner = $1`,
        params: [this.nodeId, mine, tokens],
      },
      {
        sql: `UPDATE leases l SET owner = NULL, expires_at = 0
              FROM unnest($2::text[], $3::bigint[]) AS m(id, fence)
              WHERE l.strategy_id = m.id AND l.token = m.fence AND l.owner = $1`,
        params: [this.nodeId, mine, tokens],
      },
    ]);
    for (const id of mine) this.tokens.delete(id);
  }

  owned(): string[] {
    return [...this.tokens.keys()];
  }

  owners(): Record<string, { node: string | null; leaseUntil: number }> {
    const out: Record<string, { node: string | null; leaseUntil: number }> = {};
    for (const r of this.pg.query<{ id: string; owner: string | null; lease_until: string }>(
      "SELECT id, owner, lease_until FROM strategies WHERE status = 'active' ORDER BY created_at, id",
    ))
      out[r.id] = { node: r.owner, leaseUntil: Number(r.lease_until) };
    return out;
  }

  // ── reads, quarantine, cleanup ──────────────────────────────────────────────────────────────

  /** Every active strategy regardless of owner (single-node use and `status`). */
  loadActive(): LoadResult {
    const records: StrategyRecord[] = [];
    const quarantined: QuarantinedRecord[] = [];
    for (const row of this.pg.query<StrategyRow>(
      "SELECT * FROM strategies WHERE status = 'active' ORDER BY created_at, id",
    )) {
      try {
        records.push(parseStrategyRow(row));
      } catch (e) {
        const reason = `unreadable record: ${(e as Error).message}`;
        this.quarantine(row.id, reason);
        quarantined.push({ id: row.id, reason, raw: JSON.stringify(row), at: Date.now() });
      }
    }
    return { records, quarantined };
  }

  listAll(): { records: StrategyRecord[]; unreadable: { id: string; reason: string }[] } {
    const records: StrategyRecord[] = [];
    const unreadable: { id: string; reason: string }[] = [];
    for (const row of this.pg.query<StrategyRow>('SELECT * FROM strategies ORDER BY created_at, id')) {
      try {
        records.push(parseStrategyRow(row));
      } catch (e) {
        unreadable.push({ id: row.id, reason: `unreadable record: ${(e as Error).message}` });
      }
    }
    return { records, unreadable };
  }

  get(id: string): StrategyRecord | undefined {
    const row = this.pg.query<StrategyRow>('SELECT * FROM strategies WHERE id = $1', [id])[0];
    return row ? parseStrategyRow(row) : undefined;
  }

  quarantine(id: string, reason: string): void {
    this.pg.tx([
      {
        sql: `INSERT INTO quarantine (id, reason, raw, at)
              SELECT id, $2, row_to_json(s)::text, ${NOW} FROM strategies s WHERE id = $1`,
        params: [id, reason],
      },
      { sql: 'DELETE FROM leases WHERE strategy_id = $1', params: [id] },
      { sql: 'DELETE FROM strategies WHERE id = $1', params: [id] },
    ]);
    this.tokens.delete(id);
  }

  listQuarantined(): QuarantinedRecord[] {
    return this.pg
      .query<{ id: string; reason: string; raw: string; at: string }>(
        'SELECT id, reason, raw, at FROM quarantine ORDER BY at',
      )
      .map((q) => ({ id: q.id, reason: q.reason, raw: q.raw, at: Number(q.at) }));
  }

  archiveIntents(before: number): number {
    const rows = this.pg.query<{ n: string }>(
      `WITH moved AS (
         DELETE FROM intents i WHERE i.created_at < $1
           AND i.created_at < COALESCE((SELECT s.updated_at FROM strategies s WHERE s.id = i.strategy_id), 9e18) - 60000
         RETURNING i.*),
       kept AS (INSERT INTO intents_archive SELECT * FROM moved ON CONFLICT DO NOTHING)
       SELECT count(*) AS n FROM moved`,
      [before],
    );
    return Number(rows[0]?.n ?? 0);
  }

  cleanup(before: number): string[] {
    return this.pg
      .query<{ id: string }>(
        `WITH gone AS (DELETE FROM strategies WHERE status != 'active' AND updated_at < $1 RETURNING id),
         journal AS (DELETE FROM intents WHERE strategy_id IN (SELECT id FROM gone)),
         archive AS (DELETE FROM intents_archive WHERE strategy_id IN (SELECT id FROM gone)),
         locks AS (DELETE FROM leases WHERE strategy_id IN (SELECT id FROM gone))
         SELECT id FROM gone ORDER BY id`,
        [before],
      )
      .map((r) => r.id);
  }

  // ── operator commands ───────────────────────────────────────────────────────────────────────

  setMeta(key: string, value: string): void {
    this.pg.query(
      'INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
      [key, value],
    );
  }

  metaWithPrefix(prefix: string): Record<string, string> {
    const rows = this.pg.query<{ key: string; value: string }>(
      'SELECT key, value FROM meta WHERE left(key, length($1)) = $1',
      [prefix],
    );
    return Object.fromEntries(rows.map((r) => [r.key, r.value]));
  }

  enqueueCommand(strategyId: string, command: OperatorCommandName, at: number): number {
    const rows = this.pg.query<{ seq: string }>(
      'INSERT INTO commands (strategy_id, command, created_at) VALUES ($1, $2, $3) RETURNING seq',
      [strategyId, command, at],
    );
    return Number(rows[0]!.seq);
  }

  pendingCommands(): OperatorCommand[] {
    return this.pg
      .query<CommandRow>('SELECT * FROM commands WHERE applied_at IS NULL ORDER BY seq')
      .map(commandFromRow);
  }

  /** Applied once: of two nodes, only the first to mark it does (the owner is the only one that applies). */
  markCommand(seq: number, at: number, result: string): void {
    this.pg.query('UPDATE commands SET applied_at = $1, result = $2 WHERE seq = $3 AND applied_at IS NULL', [
      at,
      result,
      seq,
    ]);
  }

  command(seq: number): OperatorCommand | undefined {
    const rows = this.pg.query<CommandRow>('SELECT * FROM commands WHERE seq = $1', [seq]);
    return rows[0] ? commandFromRow(rows[0]) : undefined;
  }

  close(): void {
    this.pg.close();
  }
}
