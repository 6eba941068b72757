import { parseArgs } from 'node:util';
import { numFlag } from '../args.ts';
import { openExistingStore, storeFlags, storeFlagsHelp } from './store-flags.ts';

export const cleanupHelp = `statearb cleanup — delete ended strategies (completed, stopped, failed) and their order journals

Usage: statearb cleanup [--store URL | --config FILE] [--max-age-hours N] [--json]

${storeFlagsHelp}
  --max-age-hours N       only those last updated more than N hours ago (default 168 = 7 days)
  --json                  the deleted ids as JSON

Active strategies, their locks and the quarantine are never touched.`;

export async function cleanupCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: { ...storeFlags, 'max-age-hours': { type: 'string' }, json: { type: 'boolean' } },
    strict: true,
  });
  const hours = numFlag('max-age-hours', values['max-age-hours'], 168, 0);
  const { url, store } = await openExistingStore(values);
  try {
    const deleted = store.cleanup(Date.now() - hours * 3_600_000);
    if (values.json) process.stdout.write(`${JSON.stringify({ store: url, deleted })}\n`);
    else
      process.stdout.write(
        `${deleted.length === 0 ? 'nothing to delete' : `deleted ${deleted.length}: ${deleted.join(', ')}`} (${url}, older than ${hours} h)\n`,
      );
    return 0;
  } finally {
    store.close();
  }
}
