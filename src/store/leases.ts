/**
 * Stores shared by several engine processes (PostgreSQL) add ownership to the store contract:
 * each running strategy is leased to one node, with a fencing token that every write of its
 * snapshot or order journal must carry. A node that lost a lease — paused, partitioned, too slow
 * to renew — has its writes refused, and since an order leaves only after its intent is written,
 * it cannot send orders for a strategy another node has taken over either.
 */
import type { LoadResult, SnapshotStore, StrategyRecord } from './types.ts';

/** A write carried a fencing token that is no longer current: another node owns the strategy. */
export class FencedError extends Error {
  constructor(
    readonly strategyId: string,
    detail: string,
  ) {
    super(`strategy ${strategyId}: ${detail}`);
    this.name = 'FencedError';
  }
}

export interface LeasedStore extends SnapshotStore {
  readonly nodeId: string;
  /** How long a lease lasts without renewal, ms. */
  readonly leaseMs: number;
  /**
   * Create a strategy; with `own: false` it is stored unowned (leased to nobody) for whichever
   * node has room — its symbol locks are taken either way.
   */
  createStrategy(rec: StrategyRecord, opts?: { own?: boolean }): void;
  /**
   * Take over up to `max` active strategies whose leases lapsed or were never taken — of `kinds`
   * only, where given (a node does not take what it cannot run: a user's kind it has not loaded).
   */
  claim(max: number, kinds?: string[]): LoadResult;
  /** Extend every lease this node holds; `lost` names the ones it no longer holds. */
  renew(): { lost: string[] };
  /** Hand leases back at once (graceful stop): another node may take them without waiting. */
  release(ids: string[]): void;
  /** Strategies this node holds leases on. */
  owned(): string[];
  /** Who runs each active strategy, and until when (database time, ms). */
  owners(): Record<string, { node: string | null; leaseUntil: number }>;
}

export function isLeasedStore(s: SnapshotStore): s is LeasedStore {
  return typeof (s as Partial<LeasedStore>).claim === 'function';
}
