import { parseArgs } from 'node:util';
import { numFlag, UsageError } from '../args.ts';
import { openOperatorStore, operatorFlags, waitForEngine } from './operator-queue.ts';
import { storeFlagsHelp } from './store-flags.ts';

export const killHelp = `statearb kill — the kill switch for every strategy of a running engine (or of a stopped store)

Usage: statearb kill [--flatten] [--wait-s N] [--store URL | --config FILE] [--json]

  --flatten               close every strategy's positions before it stops (a maker cancels its
                          quotes and closes its inventory); without it each strategy cancels its
                          orders and stops holding what it holds, which its record says
${storeFlagsHelp}
  --wait-s N              wait up to N s for the running engine to apply it (default 10; 0: just queue it)
  --json                  each strategy's command and what came of it, as JSON

The kill is queued in the store for every active strategy: a running engine applies it within a
second (every node of a shared store, for the strategies it runs), a stopped one when it next starts.
Exit 0 when every strategy took it (or queued with --wait-s 0), 1 when one refused it, 3 when no
engine applied it in time (it stays queued).`;

export async function killCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: operatorFlags,
    allowPositionals: true,
    strict: true,
  });
  if (positionals.length > 0)
    throw new UsageError(`kill: unexpected argument ${positionals[0]} (it acts on every strategy)`);
  const waitS = numFlag('wait-s', values['wait-s'], 10, 0);
  const command = values.flatten ? 'kill-flatten' : 'kill';
  const { url, store } = await openOperatorStore(values);
  try {
    const active = store
      .listAll()
      .records.filter((r) => r.status === 'active')
      .map((r) => r.id);
    const now = Date.now();
    const queued = active.map((id) => ({ id, seq: store.enqueueCommand(id, command, now) }));
    const outcomes = await Promise.all(
      queued.map(async (q) => ({
        strategy: q.id,
        seq: q.seq,
        ...(await waitForEngine(store, q.seq, waitS * 1000)),
      })),
    );
    if (values.json)
      process.stdout.write(`${JSON.stringify({ store: url, command, strategies: outcomes })}\n`);
    else {
      if (outcomes.length === 0) process.stdout.write(`${command}: no active strategy in ${url}\n`);
      for (const o of outcomes)
        process.stdout.write(
          `${command} ${o.strategy}: ${o.appliedAt === undefined ? `queued (#${o.seq}), not applied yet` : o.result}\n`,
        );
    }
    if (waitS === 0) return 0;
    if (outcomes.some((o) => o.appliedAt === undefined)) return 3;
    return outcomes.every((o) => o.result === 'applied') ? 0 : 1;
  } finally {
    store.close();
  }
}
