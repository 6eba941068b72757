import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import { MemoryStore } from '../store/memory.ts';
import { PostgresStore, redactUrl } from '../store/postgres/store.ts';
import { SqliteStore } from '../store/sqlite.ts';
import type { SnapshotStore } from '../store/types.ts';

/** A store URL that cannot be opened here (bad scheme, unavailable backend): exit code 2. */
export class StoreUrlError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StoreUrlError';
  }
}

/** `sqlite:PATH` (default `sqlite:<dataDir>/statearb.db`), `memory`, `postgres://…`. */
export function storeUrl(url: string | undefined, dataDir: string): string {
  return url ?? `sqlite:${join(dataDir, 'statearb.db')}`;
}

/** A name for this engine process in a shared store: unique across restarts and hosts. */
export function defaultNodeId(): string {
  return `${hostname()}-${process.pid}-${randomBytes(2).toString('hex')}`;
}

export interface OpenStoreOptions {
  /** PostgreSQL: this process's name (default defaultNodeId()). */
  nodeId?: string | undefined;
  /** PostgreSQL: lease duration, ms. */
  leaseMs?: number | undefined;
  /** SQLite: open as the store's one engine (a second engine is refused, StoreInUseError). */
  exclusive?: boolean;
}

export function openStore(url: string, opts: OpenStoreOptions = {}): SnapshotStore & { close(): void } {
  if (url === 'memory') return new MemoryStore();
  if (url.startsWith('sqlite:')) {
    const file = url.slice('sqlite:'.length);
    if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
    return new SqliteStore(file, { exclusive: opts.exclusive ?? false, name: url });
  }
  if (/^postgres(ql)?:\/\//.test(url)) {
    try {
      new URL(url);
    } catch {
      throw new StoreUrlError(`store ${redactUrl(url)}: not a valid URL`);
    }
    return new PostgresStore({
      url,
      nodeId: opts.nodeId ?? defaultNodeId(),
      ...(opts.leaseMs !== undefined ? { leaseMs: opts.leaseMs } : {}),
    });
  }
  throw new StoreUrlError(`store "${url}": expected memory, sqlite:PATH or postgres://…`);
}
