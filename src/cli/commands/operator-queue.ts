/**
 * What `statearb strategy …` and `statearb kill` share: their flags, the store a running engine
 * reads operator commands from, and the wait for that engine to apply one.
 */
import type { ParseArgsConfig } from 'node:util';
import type { SnapshotStore } from '../../store/types.ts';
import { UsageError } from '../args.ts';
import { openExistingStore, storeFlags } from './store-flags.ts';

export const operatorFlags = {
  ...storeFlags,
  flatten: { type: 'boolean' },
  'wait-s': { type: 'string' },
  json: { type: 'boolean' },
} as const satisfies ParseArgsConfig['options'];

/** The engine's store; an in-memory one belongs to one process, so no command can reach it. */
export async function openOperatorStore(values: Parameters<typeof openExistingStore>[0]) {
  const opened = await openExistingStore(values);
  if (opened.url === 'memory') {
    opened.store.close();
    throw new UsageError(
      '--store memory: an in-memory store belongs to one process; name the engine’s store',
    );
  }
  return opened;
}

/** Wait up to `ms` for a running engine to apply command `seq`: when, and what came of it. */
export async function waitForEngine(
  store: SnapshotStore,
  seq: number,
  ms: number,
): Promise<{ appliedAt?: number; result?: string }> {
  const deadline = Date.now() + ms;
  for (;;) {
    const c = store.command(seq);
    if (c?.appliedAt !== undefined) return { appliedAt: c.appliedAt, result: c.result ?? 'applied' };
    if (Date.now() >= deadline) return {};
    await new Promise((r) => setTimeout(r, 200));
  }
}
