import type { IntentJournal, JournalledIntent } from '../actors/exchange-actors.ts';
import type { OrderRequest } from '../domain/index.ts';
import type { SnapshotStore } from '../store/types.ts';

/**
 * The order-intent journal on a store: `record` returns only after the intent is committed, so
 * the request leaves the process after its intent is durable — the crash window other engines
 * have (persisting after the exchange's acknowledgement) does not exist here.
 */
/** meta resent/<client id>: when a journalled request was last sent again. */
export const RESENT_PREFIX = 'resent/';

export class StoreIntentJournal implements IntentJournal {
  constructor(
    private readonly store: SnapshotStore,
    private readonly strategyOf: (req: OrderRequest) => string,
    private readonly now: () => number,
  ) {}

  record(venue: string, req: OrderRequest): void {
    this.store.appendIntent({ strategyId: this.strategyOf(req), venue, request: req, createdAt: this.now() });
  }

  has(clientOrderId: string): boolean {
    return this.store.hasIntent(clientOrderId);
  }

  intent(clientOrderId: string): JournalledIntent | undefined {
    const i = this.store.intentOf(clientOrderId);
    if (!i) return undefined;
    const key = `${RESENT_PREFIX}${clientOrderId}`;
    const resent = Number(this.store.metaWithPrefix(key)[key] || 0);
    return { request: i.request, recordedAt: i.createdAt, lastSentAt: Math.max(i.createdAt, resent) };
  }

  resending(clientOrderId: string): void {
    this.store.setMeta(`${RESENT_PREFIX}${clientOrderId}`, String(this.now()));
  }
}
