import { existsSync } from 'node:fs';
import type { ParseArgsConfig } from 'node:util';
import { readConfigFile, validateConfig } from '../../config/load.ts';
import { loadStrategyPlugins } from '../../config/plugins.ts';
import { openStore, storeUrl } from '../../runtime/store.ts';
import { UsageError } from '../args.ts';
import { BUNDLED_PAPER_CONFIG } from '../config-flags.ts';

/** Commands that read a store: --store URL, or the store of --config (default: the bundled config's). */
export const storeFlags = {
  config: { type: 'string' },
  store: { type: 'string' },
  'data-dir': { type: 'string' },
} as const satisfies ParseArgsConfig['options'];

export const storeFlagsHelp = `  --store URL             sqlite:PATH, postgres://… or memory (default: the store of --config)
  --config FILE           take the store from this config (default: the bundled paper config)
  --data-dir DIR          data directory of the default SQLite store`;

/**
 * Open an existing store; a missing SQLite file is an error here, never silently created. The
 * config gives the store's address only: an operator command (kill, stop, cleanup) never runs a
 * user's strategy code, so a broken module cannot stand in its way. `loadKinds` (status): load
 * the config's strategy modules too, for their figures — a module that fails is said, not fatal.
 */
export async function openExistingStore(
  v: { config?: string | undefined; store?: string | undefined; 'data-dir'?: string | undefined },
  opts: { loadKinds?: boolean } = {},
) {
  let url = v.store;
  if (url === undefined) {
    const file = v.config ?? BUNDLED_PAPER_CONFIG;
    const raw = readConfigFile(file);
    const bare = raw && typeof raw === 'object' ? { ...raw, plugins: [], strategies: [] } : raw;
    const config = validateConfig(bare, file, process.env);
    url = storeUrl(config.store, v['data-dir'] ?? config.dataDir);
  }
  if (opts.loadKinds && v.config)
    try {
      await loadStrategyPlugins(readConfigFile(v.config), v.config);
    } catch (e) {
      process.stderr.write(
        `statearb: ${(e as Error).message} — strategies of that kind are shown without figures\n`,
      );
    }
  if (url.startsWith('sqlite:') && !existsSync(url.slice('sqlite:'.length)))
    throw new UsageError(
      `no store at ${url.slice('sqlite:'.length)} (has the engine run with this data directory?)`,
    );
  // A reader of a shared store: its node id only shows in the database's connection list.
  return { url, store: openStore(url, { nodeId: `reader-${process.pid}` }) };
}
