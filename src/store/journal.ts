import type { IntentJournal } from '../actors/exchange-actors.ts';
import type { OrderRequest } from '../domain/index.ts';
import type { SnapshotStore } from './types.ts';

/**
 * The order-intent journal on a store: `record` returns only after the intent is committed, so
 * the request leaves the process after its intent is durable — the crash window other engines
 * have (persisting after the exchange's acknowledgement) does not exist here.
 */
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

  request(clientOrderId: string): OrderRequest | undefined {
    return this.store.intentRequest(clientOrderId);
  }
}
