/**
 * Recovery: stored strategies brought back after a restart (or taken over from a node that
 * died) — each snapshot migrated to its machine's version or quarantined, the strategy launched,
 * the orders of its crash window settled with the venue, its derivative legs compared with the
 * venue's positions. It asks only about what can still be live, however long the journal.
 */

import type { AnyStrategyKind } from '../../machines/strategies/index.ts';
import type { Clock } from '../clock/clock.ts';
import type { Instrument, Market, Order } from '../domain/index.ts';
import { OrderNotFound, RateLimitExceeded } from '../domain/index.ts';
import { type ExchangeClient, landingEndsAt } from '../exchange/port.ts';
import type { LeasedStore } from '../store/leases.ts';
import type { OrderIntent, QuarantinedRecord, SnapshotStore, StrategyRecord } from '../store/types.ts';
import { backoff } from '../util/backoff.ts';
import type { StoreIntentJournal } from './intent-journal.ts';
import { markCrashWindow, unsettledCrashWindow } from './meta-records.ts';
import { derivativeMismatch } from './position-check.ts';
import type { EngineLogger, StrategyHost } from './strategy-host.ts';

export interface RecoveryReport {
  recovered: string[];
  quarantined: QuarantinedRecord[];
  halted: { id: string; reason: string }[];
  /** Orders found open at the venue that no strategy knew about, cancelled. */
  orphansCancelled: string[];
  /** Journalled orders looked up at the venue, and derivative legs compared with venue positions. */
  checked: { orders: number; positions: number };
}

export function emptyReport(): RecoveryReport {
  return {
    recovered: [],
    quarantined: [],
    halted: [],
    orphansCancelled: [],
    checked: { orders: 0, positions: 0 },
  };
}

/** Stored strategies of kinds this process has not loaded: the engine does not start (exit 2). */
export class UnknownStrategyKindError extends Error {
  constructor(records: { id: string; kind: string }[]) {
    super(
      `stored strategies of kinds this process has not loaded: ${records.map((r) => `${r.id} (${r.kind})`).join(', ')}; add the modules that define them to plugins (or name them as the strategies' kind) — nothing was changed`,
    );
    this.name = 'UnknownStrategyKindError';
  }
}

export interface RecoveryDeps {
  store: SnapshotStore;
  venues: Record<string, ExchangeClient>;
  clock: Clock;
  log: EngineLogger;
  /** The store, when several engine processes share it. */
  leased: LeasedStore | undefined;
  kinds: () => Readonly<Record<string, AnyStrategyKind>>;
  /** Extra snapshot migrations per kind (the engine's options), beside each kind's own. */
  migrations: Record<string, Record<number, (snapshot: unknown) => unknown>>;
  markets: Map<string, Market>;
  market: (i: Instrument) => Market;
  journal: () => StoreIntentJournal | undefined;
  /** How long a position mismatch may last before it halts, ms. */
  positionSettleMs: number;
  launch(
    id: string,
    kind: AnyStrategyKind,
    instruments: string[],
    snapshot: unknown,
    input: unknown,
  ): StrategyHost;
  shuttingDown(): boolean;
}

export class Recovery {
  constructor(private readonly deps: RecoveryDeps) {}

  /** Rehydrate strategies from their stored records, reconcile them with the venues, run them. */
  async restoreAll(
    loaded: { records: StrategyRecord[]; quarantined: QuarantinedRecord[] },
    report: RecoveryReport,
  ): Promise<void> {
    const { store, clock, log, leased } = this.deps;
    const kinds = this.deps.kinds();
    const positionChecks: Promise<void>[] = [];
    report.quarantined.push(...loaded.quarantined);
    for (const q of loaded.quarantined)
      log.error({ strategy: q.id, reason: q.reason }, 'snapshot quarantined');
    // A stored strategy of a kind this process has not loaded (a user's module left out of the
    // config) is not this process's to judge: quarantining it would orphan its orders and
    // positions. Alone on the store, refuse to start, changing nothing; sharing a store (claims
    // take only known kinds), hand it back at once for a node that has the kind.
    const unknown = loaded.records.filter((r) => !kinds[r.kind]);
    if (unknown.length > 0 && !leased) throw new UnknownStrategyKindError(unknown);
    if (unknown.length > 0) leased!.release(unknown.map((r) => r.id));
    for (const r of unknown)
      log.error(
        { strategy: r.id, kind: r.kind },
        'stored strategy of a kind this process has not loaded: left for a node that has it',
      );
    const quarantine = (id: string, reason: string) => {
      store.quarantine(id, reason);
      report.quarantined.push({ id, reason, raw: '', at: clock.now() });
      log.error({ strategy: id, reason }, 'snapshot quarantined');
    };
    for (const rec of loaded.records) {
      const kind = kinds[rec.kind];
      if (!kind) continue;
      const migrated = this.migrate(rec, kind);
      if ('reason' in migrated) {
        quarantine(rec.id, migrated.reason);
        continue;
      }
      const { snapshot } = migrated;
      let host: StrategyHost;
      try {
        // Locks persisted with the strategy are still held (store rows): nothing can have taken them.
        // No snapshot yet: it was stored but never ran (queued for a node with room, or the process
        // died right after adding it) — it starts from its spec.
        const input =
          snapshot === undefined
            ? kind.input(rec.id, (rec.spec as { params: unknown }).params as never, this.deps.market)
            : undefined;
        host = this.deps.launch(rec.id, kind, rec.instruments, snapshot, input);
        report.recovered.push(rec.id);
      } catch (e) {
        quarantine(rec.id, `restore failed: ${(e as Error).message}`);
        continue;
      }
      await this.reconcile(host, JSON.stringify(snapshot), rec.updatedAt, report);
      positionChecks.push(this.comparePositions(host, report));
    }
    await Promise.all(positionChecks);
  }

  /**
   * A snapshot older than its machine, migrated step by step (the kind's migrations, then the
   * engine's) and stored as migrated; one with a missing or failing step, or newer than the
   * machine, is never restored into the wrong machine: the reason to quarantine it.
   */
  private migrate(rec: StrategyRecord, kind: AnyStrategyKind): { snapshot: unknown } | { reason: string } {
    let snapshot = rec.snapshot;
    if (rec.machineVersion === kind.version) return { snapshot };
    const steps = { ...kind.migrations, ...this.deps.migrations[rec.kind] };
    let v = rec.machineVersion;
    try {
      while (v < kind.version && steps[v]) snapshot = steps[v++]!(snapshot);
    } catch (e) {
      return { reason: `migration of ${rec.kind} from version ${v} failed: ${(e as Error).message}` };
    }
    if (v !== kind.version)
      return {
        reason: `snapshot of ${rec.kind} machine version ${rec.machineVersion}, this engine runs version ${kind.version} and has no migration from version ${v}`,
      };
    this.deps.store.saveMigrated(rec.id, snapshot, kind.version, this.deps.clock.now());
    this.deps.log.info({ strategy: rec.id, from: rec.machineVersion, to: kind.version }, 'snapshot migrated');
    return { snapshot };
  }

  private halt(host: StrategyHost, reason: string, report: RecoveryReport): void {
    if (host.halt(reason)) report.halted.push({ id: host.id, reason });
  }

  /**
   * Orders journalled after the last snapshot that the snapshot does not mention were sent (or
   * about to be) when the process died: open ones are cancelled, filled ones halt the strategy
   * with the reason, absent ones were never sent. Nothing earlier can be live and unknown: the
   * strategy's snapshot is written after each intent is journalled and before its request leaves
   * (beforeSend), so every older intent is in a snapshot — working, or finished and booked. So
   * recovery asks the venue about the orders in flight at the crash only, however long the
   * journal, and the restored order machines ask about the orders the snapshot names.
   *
   * An order not found while its request may still land (a quick restart) is asked about again
   * once it cannot, in the background: the other strategies' recovery does not wait for it, and
   * the crash window stays marked (meta recovering/<id>) until it is settled.
   */
  private async reconcile(
    host: StrategyHost,
    snapshotText: string,
    savedAt: number,
    report: RecoveryReport,
  ): Promise<void> {
    const { store, clock, log } = this.deps;
    const id = host.id;
    // The restored strategy writes its snapshot at once (a newer savedAt that does not name the
    // crash window's orders either): until this reconcile has settled that window, its start is
    // kept beside the strategy, so a restart that dies meanwhile is not forgotten by the next.
    const since = Math.min(savedAt, unsettledCrashWindow(store, id) ?? savedAt);
    markCrashWindow(store, id, since);
    let settled = true;
    const later: { client: ExchangeClient; intent: OrderIntent; askAt: number }[] = [];
    for (const intent of store.intentsFor(id, since - RECONCILE_MARGIN_MS)) {
      if (snapshotText.includes(`"${intent.request.clientOrderId}"`)) continue;
      const client = this.deps.venues[intent.venue];
      if (!client) continue;
      report.checked.orders++;
      const askedAt = clock.now();
      const found = await this.lookUpCrashWindowOrder(host, client, intent, snapshotText, report);
      if (found === 'unsettled') settled = false;
      if (found !== 'not found') continue;
      const askAt = landingEndsAt(client, this.lastSentAt(intent));
      if (askAt > askedAt) later.push({ client, intent, askAt });
    }
    if (later.length === 0) {
      if (settled) markCrashWindow(store, id, undefined);
      return;
    }
    log.warn(
      { strategy: id, orders: later.map((l) => l.intent.request.clientOrderId) },
      'recovery: orders of the crash window not found yet may still land; asked again once they cannot',
    );
    void (async () => {
      for (const l of later.sort((a, b) => a.askAt - b.askAt)) {
        const wait = l.askAt - clock.now();
        if (wait > 0) await new Promise<void>((r) => clock.setTimeout(r, wait));
        if (host.done || this.deps.shuttingDown()) return; // the next start asks again
        const again = await this.lookUpCrashWindowOrder(
          host,
          l.client,
          l.intent,
          snapshotText,
          emptyReport(),
        );
        if (again === 'unsettled') settled = false;
      }
      if (settled && !host.done) markCrashWindow(store, id, undefined);
    })().catch((e) => log.error({ strategy: id, err: String(e) }, 'recovery: late check failed'));
  }

  /** When a request under the intent's id last left (a re-send counts). */
  private lastSentAt(intent: OrderIntent): number {
    return this.deps.journal()?.intent(intent.request.clientOrderId)?.lastSentAt ?? intent.createdAt;
  }

  /**
   * One order of the crash window, asked for by client id, and what it means: open → cancelled
   * (an orphan), filled → the strategy halts, not found → nothing was placed (if it can no longer
   * land: the caller decides). 'unsettled' when the venue could not say or a cancel failed.
   */
  private async lookUpCrashWindowOrder(
    host: StrategyHost,
    client: ExchangeClient,
    intent: OrderIntent,
    snapshotText: string,
    report: RecoveryReport,
  ): Promise<'settled' | 'not found' | 'unsettled'> {
    let order: Order;
    try {
      order = await this.patiently(() =>
        client.fetchOrder(
          { clientOrderId: intent.request.clientOrderId, placedAfter: intent.createdAt },
          intent.request.symbol,
        ),
      );
    } catch (e) {
      if (e instanceof OrderNotFound || (e as Error).name === 'OrderNotFound') return 'not found';
      this.halt(host, `could not reconcile ${intent.request.clientOrderId}: ${(e as Error).message}`, report);
      return 'unsettled';
    }
    // Its fills may already be in the strategy's books (a finished order leaves only fill ids).
    if (order.trades.length > 0 && order.trades.every((t) => snapshotText.includes(`"${t.id}"`)))
      return 'settled';
    let outcome: 'settled' | 'unsettled' = 'settled';
    if (order.status === 'open') {
      try {
        await this.patiently(() => client.cancelOrder({ clientOrderId: order.clientOrderId }, order.symbol));
        report.orphansCancelled.push(order.clientOrderId);
        this.deps.log.warn(
          { strategy: host.id, clientOrderId: order.clientOrderId },
          'orphan order cancelled',
        );
      } catch (e) {
        outcome = 'unsettled'; // the next start asks again
        this.deps.log.warn(
          { strategy: host.id, clientOrderId: order.clientOrderId, err: String(e) },
          'orphan cancel failed',
        );
      }
    }
    if (order.filled > 0)
      this.halt(
        host,
        `order ${order.clientOrderId} filled ${order.filled} ${order.symbol} while the engine was down and the strategy's snapshot does not know it`,
        report,
      );
    return outcome;
  }

  /**
   * A venue read at recovery: a rate limit is waited out however often it answers (recovery
   * spends the account's budget at its worst moment, and a halt for it would be false); other
   * transient failures are retried a few times with back-off before they count.
   */
  private async patiently<T>(request: () => Promise<T>): Promise<T> {
    const { clock, log, leased } = this.deps;
    // Bounded all the same: a venue that refuses for minutes is a reason to halt, and a node of
    // a shared store must get back to renewing its leases.
    const giveUpAt = clock.now() + (leased ? leased.leaseMs / 2 : RECOVERY_PATIENCE_MS);
    for (let failures = 0; ; failures++) {
      try {
        return await request();
      } catch (e) {
        const x = e as { retryable?: boolean; retryAfterMs?: number; name?: string };
        const rateLimited = e instanceof RateLimitExceeded || x.name === 'RateLimitExceeded';
        if (!rateLimited && (!x.retryable || failures >= 4)) throw e;
        if (clock.now() >= giveUpAt) throw e;
        const waitMs = rateLimited
          ? Math.min(10_000, Math.max(x.retryAfterMs ?? 0, backoff(250, failures, 5_000)))
          : backoff(250, failures, 5_000);
        if (failures === 0) log.warn({ err: String(e), waitMs }, 'recovery: venue read refused, waiting');
        await new Promise<void>((r) => clock.setTimeout(r, waitMs));
      }
    }
  }

  /**
   * Derivative positions belong to one strategy per instrument (locks): the venue's must equal
   * the strategy's books. Right after a restore they may not yet: an order that filled while the
   * engine was down is only booked once its restored order machine has asked the venue. So a
   * mismatch is re-checked until it has lasted `positionSettleMs`; only then is the strategy halted.
   */
  private async comparePositions(host: StrategyHost, report: RecoveryReport): Promise<void> {
    const { clock } = this.deps;
    const deadline = clock.now() + this.deps.positionSettleMs;
    let counted = false;
    for (;;) {
      // Dropped meanwhile (its lease went to another node) or ended: not this check's to judge.
      if (host.done) return;
      let mismatch: { compared: number; reason: string | undefined };
      try {
        mismatch = await this.positionMismatch(host);
      } catch (e) {
        // Unread is not equal: trading on books nobody compared would be a guess.
        this.halt(host, `could not compare positions with the venue: ${(e as Error).message}`, report);
        return;
      }
      if (!counted) {
        report.checked.positions += mismatch.compared;
        counted = true;
      }
      if (!mismatch.reason || host.done) return;
      if (clock.now() >= deadline) {
        this.halt(host, mismatch.reason, report);
        return;
      }
      await new Promise<void>((r) => clock.setTimeout(r, 250));
    }
  }

  private async positionMismatch(
    host: StrategyHost,
  ): Promise<{ compared: number; reason: string | undefined }> {
    let compared = 0;
    for (const leg of host.kind.legs(host.context)) {
      const m = this.deps.markets.get(`${leg.venue}|${leg.symbol}`);
      if (!m || m.type === 'spot') continue;
      compared++;
      const client = this.deps.venues[leg.venue]!;
      const seen = derivativeMismatch(
        leg,
        m,
        await this.patiently(() => client.fetchPositions([leg.symbol])),
      );
      if (seen) return { compared, reason: seen.reason };
    }
    return { compared, reason: undefined };
  }
}

/** Intents this long before the last snapshot are looked at too (one clock, so a margin only). */
const RECONCILE_MARGIN_MS = 1_000;
/** How long one recovery read waits out a venue's refusals before it counts (halts). */
const RECOVERY_PATIENCE_MS = 120_000;
