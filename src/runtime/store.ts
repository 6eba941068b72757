import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { MemoryStore } from '../store/memory.ts';
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

export function openStore(url: string): SnapshotStore & { close(): void } {
  if (url === 'memory') return new MemoryStore();
  if (url.startsWith('sqlite:')) {
    const file = url.slice('sqlite:'.length);
    if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
    return new SqliteStore(file);
  }
  if (/^postgres(ql)?:\/\//.test(url))
    throw new StoreUrlError(
      `store ${url.replace(/\/\/[^@/]*@/, '//***@')}: the PostgreSQL store is not part of this build yet; use sqlite:PATH or memory`,
    );
  throw new StoreUrlError(`store "${url}": expected memory, sqlite:PATH or postgres://…`);
}
