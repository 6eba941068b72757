/**
 * What the engine keeps beside its strategies in the store's meta records: halts (they outlive
 * restarts and show in `statearb status`), crash windows a recovery has not settled yet, and
 * each strategy's risk day. One record per strategy, so engines sharing a store never clash.
 */
import type { SnapshotStore } from '../store/types.ts';
import type { RiskDayBooks, RiskDayEntry } from './risk.ts';

const HALT_PREFIX = 'halt/';
const RECOVERING_PREFIX = 'recovering/';
const RISK_DAY_PREFIX = 'risk.day/';

function read(store: SnapshotStore, key: string): string | undefined {
  return store.metaWithPrefix(key)[key] || undefined;
}

/** A strategy's stored halt reason, if it has one. */
export function storedHalt(store: SnapshotStore, id: string): string | undefined {
  try {
    const raw = read(store, `${HALT_PREFIX}${id}`);
    return raw ? (JSON.parse(raw) as { reason: string }).reason : undefined;
  } catch {
    return undefined;
  }
}

export function storeHalt(store: SnapshotStore, id: string, reason: string, at: number): void {
  store.setMeta(`${HALT_PREFIX}${id}`, JSON.stringify({ reason, at }));
}

export function clearStoredHalt(store: SnapshotStore, id: string): void {
  store.setMeta(`${HALT_PREFIX}${id}`, '');
}

/** The start of a crash window of the strategy that no recovery has settled yet, if any. */
export function unsettledCrashWindow(store: SnapshotStore, id: string): number | undefined {
  const since = Number(read(store, `${RECOVERING_PREFIX}${id}`) ?? Number.NaN);
  return Number.isFinite(since) ? since : undefined;
}

/** Mark a crash window from `since` as being settled (undefined: settled). */
export function markCrashWindow(store: SnapshotStore, id: string, since: number | undefined): void {
  store.setMeta(`${RECOVERING_PREFIX}${id}`, since === undefined ? '' : String(since));
}

/** The risk day's books in the store's meta records, one per strategy. */
export function riskDayBooks(store: SnapshotStore): RiskDayBooks {
  return {
    load: () => {
      const out: Record<string, RiskDayEntry> = {};
      for (const [key, value] of Object.entries(store.metaWithPrefix(RISK_DAY_PREFIX))) {
        try {
          out[key.slice(RISK_DAY_PREFIX.length)] = JSON.parse(value) as RiskDayEntry;
        } catch {
          // A torn record is a day's start lost for one strategy; it restarts from now.
        }
      }
      return out;
    },
    save: (id, entry) => store.setMeta(`${RISK_DAY_PREFIX}${id}`, JSON.stringify(entry)),
  };
}
