import { existsSync } from 'node:fs';
import type { ParseArgsConfig } from 'node:util';
import { openStore, storeUrl } from '../../runtime/store.ts';
import { UsageError } from '../args.ts';
import { loadCommandConfig } from '../config-flags.ts';

/** Commands that read a store: --store URL, or the store of --config (default: the bundled config's). */
export const storeFlags = {
  config: { type: 'string' },
  store: { type: 'string' },
  'data-dir': { type: 'string' },
} as const satisfies ParseArgsConfig['options'];

export const storeFlagsHelp = `  --store URL             sqlite:PATH, postgres://… or memory (default: the store of --config)
  --config FILE           take the store from this config (default: the bundled paper config)
  --data-dir DIR          data directory of the default SQLite store`;

/** Open an existing store; a missing SQLite file is an error here, never silently created. */
export function openExistingStore(v: {
  config?: string | undefined;
  store?: string | undefined;
  'data-dir'?: string | undefined;
}) {
  let url = v.store;
  if (url === undefined) {
    const { config } = loadCommandConfig(v.config, { dataDir: v['data-dir'] });
    url = storeUrl(config.store, config.dataDir);
  }
  if (url.startsWith('sqlite:') && !existsSync(url.slice('sqlite:'.length)))
    throw new UsageError(
      `no store at ${url.slice('sqlite:'.length)} (has the engine run with this data directory?)`,
    );
  // A reader of a shared store: its node id only shows in the database's connection list.
  return { url, store: openStore(url, { nodeId: `reader-${process.pid}` }) };
}
