import { parseArgs } from 'node:util';
import type { Attention } from '../../../machines/strategies/kit/attention.ts';
import { stateName } from '../../../machines/strategies/kit/state-name.ts';
import { STRATEGY_KINDS } from '../../config/kinds.ts';
import { strategyFigures } from '../../engine/figures.ts';
import { storedHalt } from '../../engine/meta-records.ts';
import { liveOrders } from '../../engine/snapshots.ts';
import { attentionView } from '../../engine/status.ts';
import { isLeasedStore } from '../../store/leases.ts';
import { redactUrl } from '../../store/postgres/store.ts';
import { renderStatusTable, type StatusRow } from '../status-table.ts';
import { openExistingStore, storeFlags, storeFlagsHelp } from './store-flags.ts';

export const statusHelp = `statearb status — strategies, positions, PnL, locks and quarantine as persisted in the store

Usage: statearb status [--store URL | --config FILE] [--all] [--json]

${storeFlagsHelp}
  --all                   include completed, stopped and failed strategies (default: active only)
  --json                  one JSON document on stdout

Reads the store only (safe while an engine runs: SQLite WAL readers never block the writer).
Figures are as of each strategy's last persisted snapshot; quote-only changes are written at
most every engine.quotePersistMs, so unrealized PnL can lag by that much.`;

export async function statusCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: { ...storeFlags, all: { type: 'boolean' }, json: { type: 'boolean' } },
    strict: true,
  });
  const { url, store } = await openExistingStore(values, { loadKinds: true });
  try {
    const { records, unreadable } = store.listAll();
    const owners = isLeasedStore(store) ? store.owners() : undefined;
    const strategies = records
      .filter((r) => values.all || r.status === 'active')
      .map((r) => {
        const kind = STRATEGY_KINDS[r.kind];
        const snap = r.snapshot as { value?: unknown; context?: { attention?: Attention } } | null;
        const figures = kind && snap?.context ? strategyFigures(kind, snap.context) : undefined;
        const halted = r.status === 'active' ? storedHalt(store, r.id) : undefined;
        return {
          id: r.id,
          kind: r.kind,
          status: r.status,
          state: snap ? stateName(snap.value) : '(no snapshot yet)',
          instruments: r.instruments,
          updatedAt: r.updatedAt,
          openOrders: snap ? liveOrders(snap) : [],
          ...(owners?.[r.id] ? { node: owners[r.id]!.node, leaseUntil: owners[r.id]!.leaseUntil } : {}),
          ...(figures ?? {}),
          // Its kind's module is not loaded (pass the config that names it): no figures, said so.
          ...(kind ? {} : { kindNotLoaded: true }),
          ...(snap?.context?.attention ? { attention: attentionView(snap.context.attention) } : {}),
          ...(halted ? { halted } : {}),
        };
      });
    const out = {
      store: redactUrl(url),
      strategies,
      locks: store.locks(),
      quarantined: store.listQuarantined().map((q) => ({ id: q.id, reason: q.reason, at: q.at })),
      unreadable,
    };
    if (values.json) {
      process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
      return 0;
    }
    const rows: StatusRow[] = strategies.map((s) => ({
      id: s.id,
      kind: s.kind,
      state: stateLabel(s.state, s.status),
      halted: s.halted,
      legs: s.legs ?? [],
      netPnl: s.netPnl ?? 0,
      fees: s.fees ?? 0,
      openOrders: s.openOrders.length,
      cycles: s.cycles,
      attention: s.attention,
      note:
        ('kindNotLoaded' in s
          ? `kind ${s.kind} not loaded (pass --config with its module): no figures; `
          : '') +
        (s.halted ? `halted: ${s.halted} (statearb strategy resolve ${s.id} once dealt with); ` : '') +
        `last saved ${new Date(s.updatedAt).toISOString()}` +
        (s.node !== undefined
          ? s.node === null || (s.leaseUntil ?? 0) < Date.now()
            ? ', no node (waiting to be taken over)'
            : `, on ${s.node}`
          : ''),
    }));
    const lines = [`store ${out.store}`, renderStatusTable(rows)];
    const locks = Object.entries(out.locks);
    lines.push(`locks: ${locks.length === 0 ? 'none' : locks.map(([k, id]) => `${k} → ${id}`).join(', ')}`);
    for (const q of [...out.quarantined, ...unreadable]) lines.push(`QUARANTINED ${q.id}: ${q.reason}`);
    process.stdout.write(`${lines.join('\n')}\n`);
    return 0;
  } finally {
    store.close();
  }
}

/** A strategy's state with how its record ended, said once when the state already says it. */
export function stateLabel(state: string, status: string): string {
  return status === 'active' || status === state ? state : `${state} (${status})`;
}
