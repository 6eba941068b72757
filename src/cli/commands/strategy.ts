import { parseArgs } from 'node:util';
import type { OperatorCommandName } from '../../store/types.ts';
import { numFlag, UsageError } from '../args.ts';
import { openOperatorStore, operatorFlags, waitForEngine } from './operator-queue.ts';
import { storeFlagsHelp } from './store-flags.ts';

export const strategyHelp = `statearb strategy — act on one strategy of a running engine or of a stopped store

Usage: statearb strategy <flatten | stop | pause | resume | resolve> ID [--flatten] [--wait-s N] [--store URL | --config FILE] [--json]

  flatten ID              close both legs (a strategy in needs attention: its exposure), then trade on
  stop ID [--flatten]     stop it; with --flatten close its positions first. A strategy in needs
                          attention only stops with --flatten or after resolve: it never drops its
                          exposure quietly
  pause ID                no new entries or quotes (a maker cancels its quotes); what is in flight
                          completes. The pause is kept in the strategy's snapshot: it survives restarts
  resume ID               trade again after a pause
  resolve ID              acknowledge a strategy in needs attention after fixing its positions by hand:
                          it stops and releases its locks, its books as they were are kept in its record
${storeFlagsHelp}
  --wait-s N              wait up to N s for a running engine to apply it (default 10; 0: just queue it)
  --json                  the command and what came of it, as JSON

The command is queued in the store: a running engine applies it within a second, a stopped one when
it next starts. Exit 0 when applied (or queued with --wait-s 0), 1 when the engine refused it, 3 when
no engine applied it in time (it stays queued).`;

const COMMANDS = new Set(['flatten', 'stop', 'pause', 'resume', 'resolve']);

export async function strategyCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: operatorFlags,
    allowPositionals: true,
    strict: true,
  });
  const [what, id, ...extra] = positionals;
  if (!what || !COMMANDS.has(what))
    throw new UsageError(
      `strategy: the first argument must be flatten, stop, pause, resume or resolve, got ${what ?? 'nothing'}`,
    );
  if (!id) throw new UsageError(`strategy ${what}: name the strategy id`);
  if (extra.length > 0) throw new UsageError(`strategy ${what}: unexpected argument ${extra[0]}`);
  if (values.flatten && what !== 'stop') throw new UsageError(`--flatten goes with stop, not ${what}`);
  const waitS = numFlag('wait-s', values['wait-s'], 10, 0);
  const command: OperatorCommandName =
    what === 'stop' ? (values.flatten ? 'stop-flatten' : 'stop') : (what as OperatorCommandName);
  const { url, store } = await openOperatorStore(values);
  try {
    const rec = store.get(id);
    if (!rec) throw new UsageError(`strategy ${id} is not in ${url}`);
    if (rec.status !== 'active')
      throw new UsageError(`strategy ${id} has ended (${rec.status}): nothing to ${what}`);
    const seq = store.enqueueCommand(id, command, Date.now());
    const outcome = await waitForEngine(store, seq, waitS * 1000);
    const report = { store: url, strategy: id, command, seq, ...outcome };
    if (values.json) process.stdout.write(`${JSON.stringify(report)}\n`);
    else
      process.stdout.write(
        outcome.appliedAt === undefined
          ? `${command} ${id}: queued (#${seq}); ${waitS > 0 ? `no engine applied it within ${waitS} s — ` : ''}the engine applies it when it runs this strategy\n`
          : `${command} ${id}: ${outcome.result}\n`,
      );
    if (outcome.appliedAt === undefined) return waitS > 0 ? 3 : 0;
    return outcome.result === 'applied' ? 0 : 1;
  } finally {
    store.close();
  }
}
