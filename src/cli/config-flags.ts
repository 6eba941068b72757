/** Loading the config for a command: --config FILE, or the bundled paper config. */
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfigFile } from '../config/load.ts';
import { loadStrategyPlugins } from '../config/plugins.ts';
import type { Config } from '../config/schema.ts';

/** The paper-trading config that ships with statearb (`npm start`). */
export const BUNDLED_PAPER_CONFIG = resolve(
  dirname(fileURLToPath(import.meta.url)),
  '../../config/paper.yaml',
);

/**
 * The config, with the strategy kinds its modules define loaded and registered first (so their
 * params validate); command-line flags win over the file and the environment.
 */
export async function loadCommandConfig(
  file: string | undefined,
  overrides: { store?: string | undefined; dataDir?: string | undefined } = {},
): Promise<{ config: Config; file: string }> {
  const path = file ?? BUNDLED_PAPER_CONFIG;
  const config = await loadConfigFile(path, process.env, loadStrategyPlugins);
  if (overrides.dataDir !== undefined) config.dataDir = overrides.dataDir;
  if (overrides.store !== undefined) config.store = overrides.store;
  return { config, file: path };
}
