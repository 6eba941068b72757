/**
 * This engine process as one node of several sharing a store (PostgreSQL): it runs what it can
 * claim, renews its leases, stops what it lost, takes over what lapsed, and hands its leases back
 * when it stops. A node that cannot renew for a whole lease stops its strategies: another node
 * may be running them.
 */
import type { Clock } from '../clock/clock.ts';
import type { LeasedStore } from '../store/leases.ts';
import type { QuarantinedRecord, StrategyRecord } from '../store/types.ts';
import { emptyReport, type RecoveryReport } from './recovery.ts';
import type { EngineLogger, StrategyHost } from './strategy-host.ts';

export interface ClusterDeps {
  leased: LeasedStore;
  clock: Clock;
  log: EngineLogger;
  /** The most strategies this node runs. */
  capacity: number;
  /** How often leases are renewed and lapsed ones claimed, ms. */
  leaseCheckMs: number;
  hosts: () => Iterable<StrategyHost>;
  /** Strategies this node runs now (not ended). */
  liveCount: () => number;
  /** Kinds this process has loaded: it claims only those. */
  kinds: () => string[];
  restore(
    loaded: { records: StrategyRecord[]; quarantined: QuarantinedRecord[] },
    report: RecoveryReport,
  ): Promise<void>;
  shuttingDown(): boolean;
}

export interface NodeView {
  id: string;
  capacity: number;
  leaseMs: number;
  owned: number;
  takenOver: number;
  lost: number;
}

export class ClusterNode {
  private timer: unknown;
  private ticking = false;
  /** Last successful lease renewal (engine clock). */
  private lastRenewal = 0;
  private takenOver = 0;
  private lost = 0;

  constructor(private readonly deps: ClusterDeps) {}

  /**
   * Claim what this node can run and restore it (always: a node that only watched would leave a
   * dead node's strategies unrun), then keep claiming what other nodes leave behind.
   */
  async join(report: RecoveryReport): Promise<void> {
    const { leased, clock } = this.deps;
    this.lastRenewal = clock.now();
    await this.deps.restore(
      leased.claim(this.deps.capacity - this.deps.liveCount(), this.deps.kinds()),
      report,
    );
    const tick = () => {
      void this.tick().finally(() => {
        if (this.timer !== undefined) this.timer = clock.setTimeout(tick, this.deps.leaseCheckMs);
      });
    };
    this.timer = clock.setTimeout(tick, this.deps.leaseCheckMs);
  }

  /** A strategy of this node stopped because its lease went elsewhere. */
  countLost(): void {
    this.lost++;
  }

  /** Stop renewing and claiming (first thing at stop: nothing is taken over while strategies stop). */
  stopClaiming(): void {
    if (this.timer !== undefined) this.deps.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Hand the leases back at once: another node takes over without waiting for them to lapse. */
  release(): void {
    const { leased, log } = this.deps;
    try {
      leased.release(leased.owned());
    } catch (e) {
      log.warn({ err: String(e) }, 'lease release failed: other nodes take over when the leases lapse');
    }
  }

  /** A strategy taken over by this node (restored from a claim). */
  countTakenOver(): void {
    this.takenOver++;
  }

  view(): NodeView {
    const { leased } = this.deps;
    return {
      id: leased.nodeId,
      capacity: this.deps.capacity,
      leaseMs: leased.leaseMs,
      owned: this.deps.liveCount(),
      takenOver: this.takenOver,
      lost: this.lost,
    };
  }

  /** Renew this node's leases, stop what it lost, take over what lapsed. */
  private async tick(): Promise<void> {
    const { leased, clock, log } = this.deps;
    if (this.ticking) return;
    this.ticking = true;
    try {
      try {
        const { lost } = leased.renew();
        this.lastRenewal = clock.now();
        for (const host of [...this.deps.hosts()])
          if (lost.includes(host.id) && !host.done) host.drop('lease lost: another node runs it now');
      } catch (e) {
        const since = clock.now() - this.lastRenewal;
        log.warn({ err: String(e), sinceMs: since }, 'lease renewal failed');
        if (since >= leased.leaseMs)
          for (const host of [...this.deps.hosts()])
            if (!host.done) host.drop(`no lease renewal for ${since} ms: another node may run it`);
        return;
      }
      const free = this.deps.capacity - this.deps.liveCount();
      if (free <= 0 || this.deps.shuttingDown()) return;
      const claimed = leased.claim(free, this.deps.kinds());
      if (claimed.records.length === 0 && claimed.quarantined.length === 0) return;
      const report = emptyReport();
      await this.deps.restore(claimed, report);
      log.warn(
        { node: leased.nodeId, ...report, quarantined: report.quarantined.length },
        'strategies taken over',
      );
    } catch (e) {
      log.error({ err: String(e) }, 'lease check failed');
    } finally {
      this.ticking = false;
    }
  }
}
