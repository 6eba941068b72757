/**
 * The supervisor: runs strategy actors, persists their snapshots, journals order intents before
 * they leave, enforces symbol locks, and brings everything back after a restart — rehydrating
 * each strategy from its snapshot and reconciling what happened at the venues meanwhile.
 */
import { type AnyActorRef, type AnyStateMachine, createActor, type InspectionEvent } from 'xstate';
import type { LegBook } from '../../machines/accounting.ts';
import { strategyOfOrder, strategyTag } from '../../machines/ids.ts';
import { InvalidParamsError } from '../../machines/params.ts';
import { type AnyStrategyKind, lockKeys } from '../../machines/strategies/index.ts';
import type { Attention } from '../../machines/strategies/kit/attention.ts';
import { stateName } from '../../machines/strategies/kit/state-name.ts';
import { bindActors } from '../actors/bind.ts';
import { createExchangeActors } from '../actors/exchange-actors.ts';
import { QuoteGate } from '../actors/quote-gate.ts';
import type { Clock } from '../clock/clock.ts';
import { Ticker } from '../clock/ticker.ts';
import { STRATEGY_KINDS } from '../config/kinds.ts';
import {
  type Instrument,
  type Market,
  type Order,
  OrderNotFound,
  RateLimitExceeded,
} from '../domain/index.ts';
import { type ExchangeClient, landingEndsAt } from '../exchange/port.ts';
import { FencedError, isLeasedStore, type LeasedStore } from '../store/leases.ts';
import type {
  OperatorCommand,
  OperatorCommandName,
  OrderIntent,
  QuarantinedRecord,
  SnapshotStore,
  StrategyRecord,
  StrategyStatus,
} from '../store/types.ts';
import { backoff } from '../util/backoff.ts';
import { type StrategyFigures, strategyFigures } from './figures.ts';
import { StoreIntentJournal } from './intent-journal.ts';
import {
  PortfolioRisk,
  type PortfolioRiskLimits,
  type RiskDayBooks,
  type RiskDayEntry,
  type RiskView,
} from './risk.ts';

export interface EngineLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

const silent: EngineLogger = { info() {}, warn() {}, error() {} };

export interface EngineOptions {
  store: SnapshotStore;
  venues: Record<string, ExchangeClient>;
  clock: Clock;
  logger?: EngineLogger;
  /** Quote-only context changes are persisted at most this often, ms. */
  quotePersistMs?: number;
  /**
   * Snapshot migrations per kind: `migrations['spot-futures'][1]` turns a version-1 snapshot into
   * a version-2 one. A snapshot older than its machine is migrated step by step; one with a
   * missing step (or newer than the machine) is quarantined, never restored into the wrong machine.
   */
  migrations?: Record<string, Record<number, (snapshot: unknown) => unknown>>;
  /** Portfolio-wide limits, evaluated every `riskIntervalMs` on the engine's clock. */
  risk?: PortfolioRiskLimits;
  riskIntervalMs?: number;
  /** Filter quotes in plain code before the machines (kinds with a gate). Default true. */
  quoteGating?: boolean;
  /**
   * How long a position mismatch may last before it counts, ms: at recovery (then the strategy is
   * halted) and in the running position check (then it needs attention).
   */
  positionSettleMs?: number;
  /**
   * The running position check, every this many ms (0: off): each derivative leg's books against
   * the venue's position, each venue's spot balances against what the strategies' books hold.
   * A mismatch that lasts `positionSettleMs` moves the strategy to needs attention. Default 5 000.
   */
  positionCheckMs?: number;
  /** How often operator commands queued in the store are applied, ms (0: never). Default 1 000. */
  commandPollMs?: number;
  /**
   * false: snapshots are written only when a strategy ends (backtests, which never restore; the
   * order-intent journal is still written). Default true.
   */
  persistSnapshots?: boolean;
  /** Called after every change of a strategy's top-level state (logging, backtest reports, inspector). */
  onTransition?: (t: TransitionRecord) => void;
  /**
   * With a store shared by several engine processes (PostgreSQL): the most strategies this
   * process runs. Strategies added beyond it wait in the store for a node with room. Default: no limit.
   */
  capacity?: number;
  /** With a shared store: how often leases are renewed and lapsed ones claimed, ms (default leaseMs / 3). */
  leaseCheckMs?: number;
  /**
   * A graceful shutdown cancels the quotes that makers leave resting on the book
   * ('cancel-quotes', the default: a quote left behind fills while nothing runs) or leaves them
   * ('leave-quotes'; the next start adopts them).
   */
  onShutdown?: 'cancel-quotes' | 'leave-quotes';
}

/**
 * Where inspection events go (the local inspector, @statelyai/inspect). XState pays for
 * inspection only while an observer is attached — a no-op observer alone halves its event rate —
 * so the engine attaches one to its actors only while at least one tap is registered.
 */
export interface InspectionTap {
  event(strategyId: string, ev: InspectionEvent, isRoot: boolean): void;
}

export interface TransitionRecord {
  strategy: string;
  kind: string;
  from: string;
  to: string;
  /** Type of the event the strategy machine was processing when its state changed. */
  event: string;
  at: number;
}

export interface StrategySpec {
  kind: string;
  id?: string;
  params: unknown;
}

interface Running {
  id: string;
  kind: AnyStrategyKind;
  actor: AnyActorRef;
  instruments: string[];
  lastSignature: string;
  /** References that change with anything but a quote (see changeRefs). */
  lastRefs: unknown[];
  lastPersistAt: number;
  lastState: string;
  lastTransitionAt: number;
  /** The event the root machine processed last (names the event behind a transition). */
  lastEvent: string;
  /** Inspection observer attached while taps are registered. */
  inspection: { unsubscribe(): void } | undefined;
  halted: string | undefined;
  writeFailed: boolean;
  done: boolean;
  /** Its lease went to another node: stopped here without another write. */
  dropped: boolean;
  /**
   * Paused by a graceful shutdown (not by an operator): it persists as not paused, so the next
   * start trades on, whether this process ends cleanly or is killed while it settles.
   */
  shutdownPaused: boolean;
  /** Its orders working when the engine stopped (a stopped actor no longer lists its children). */
  ordersAtStop?: string[];
  /** Its last write is done and its actors stopped (see finalStop). */
  finalStopped?: boolean;
}

/** One leg's position as a check saw it at the venue. */
export interface AttentionLeg {
  venue: string;
  symbol: string;
  position: number;
}

/** One strategy in status(): its money figures (legs, PnL, fees, funding, cycles) and its state. */
export interface StrategyStatusView extends StrategyFigures {
  id: string;
  kind: string;
  state: string;
  instruments: string[];
  /** Client ids of the strategy's orders live at the venue (order machines in `live`). */
  openOrders: string[];
  lastError: unknown;
  halted: string | undefined;
  /** Exposure it could not close (or orders of unknown outcome): the reason and each leg. */
  attention?: { reason: string; since: number; legs: AttentionLeg[]; unknownOrders: string[] } | undefined;
  lastTransitionAt: number;
}

export interface EngineStatus {
  /** This process, when several share the store (PostgreSQL). */
  node?: { id: string; capacity: number; leaseMs: number; owned: number; takenOver: number; lost: number };
  strategies: StrategyStatusView[];
  locks: Record<string, string>;
  risk: RiskView;
  persistence: {
    active: number;
    completed: number;
    stopped: number;
    failed: number;
    quarantined: number;
    writes: number;
    failedWrites: number;
    lastWriteMicros: number;
  };
}

export interface RecoveryReport {
  recovered: string[];
  quarantined: QuarantinedRecord[];
  halted: { id: string; reason: string }[];
  /** Orders found open at the venue that no strategy knew about, cancelled. */
  orphansCancelled: string[];
  /** Journalled orders looked up at the venue, and derivative legs compared with venue positions. */
  checked: { orders: number; positions: number };
}

function emptyReport(): RecoveryReport {
  return {
    recovered: [],
    quarantined: [],
    halted: [],
    orphansCancelled: [],
    checked: { orders: 0, positions: 0 },
  };
}

/** Client ids of order machines that are live, anywhere in a persisted snapshot's child tree. */
/** What status, the inspector and reports show of a strategy's needs-attention record. */
export function attentionView(a: Attention): NonNullable<StrategyStatusView['attention']> {
  return {
    reason: a.reason,
    since: a.since,
    legs: a.legs,
    unknownOrders: a.unknownOrders.map((u) => `${u.venue} ${u.clientOrderId}`),
  };
}

interface OrderSnapshot {
  status?: string;
  value?: unknown;
  context?: { request?: { clientOrderId?: string } };
  children?: Record<string, { snapshot?: unknown }>;
}

/** Client ids of the order machines under a snapshot that `which` accepts, depth first. */
function orderIds(snapshot: unknown, which: (s: OrderSnapshot) => boolean, out: string[] = []): string[] {
  const s = snapshot as OrderSnapshot;
  if (s.context?.request?.clientOrderId && which(s)) out.push(s.context.request.clientOrderId);
  for (const c of Object.values(s.children ?? {})) if (c?.snapshot) orderIds(c.snapshot, which, out);
  return out;
}

/** The orders working at the venue (order machines in their `live` state). */
export function liveOrders(snapshot: unknown): string[] {
  return orderIds(snapshot, (s) => typeof s.value === 'object' && s.value !== null && 'live' in s.value);
}

/**
 * Every order machine still running under a snapshot — being placed, working, being cancelled,
 * being asked about — by client id: what a graceful shutdown waits for (a quote still on its way
 * to the venue would rest there with nothing running).
 */
function ordersInFlight(snapshot: unknown): string[] {
  return orderIds(snapshot, (s) => s.status === 'active');
}

/** Where in a strategy's params an instrument is named ("market", "venueA"), for error messages. */
function paramPathOf(params: unknown, i: Instrument, path = ''): string | undefined {
  if (!params || typeof params !== 'object') return undefined;
  const o = params as Record<string, unknown>;
  if (o.venue === i.venue && o.symbol === i.symbol) return path || undefined;
  for (const [k, v] of Object.entries(o)) {
    const found = paramPathOf(v, i, path ? `${path}.${k}` : k);
    if (found) return found;
  }
  return undefined;
}

/** The strategy's own pause flag (every bundled kind has one; a kind without it is never paused). */
function isPaused(snapshot: unknown): boolean {
  return (snapshot as { context?: { paused?: unknown } }).context?.paused === true;
}

/** The persisted snapshot as it would be had the shutdown's pause not happened. */
function withPauseLifted<T>(snapshot: T): T {
  const s = snapshot as { context?: Record<string, unknown> };
  if (s.context?.paused !== true) return snapshot;
  return { ...s, context: { ...s.context, paused: false } } as T;
}

/**
 * Everything whose change must be persisted, by reference: the state value, each non-volatile
 * context value, and the snapshot of every descendant actor (order machines inside pairs).
 */
function changeRefs(snapshot: unknown, volatile: string[]): unknown[] {
  const s = snapshot as { value?: unknown; context?: Record<string, unknown> };
  const out: unknown[] = [typeof s.value === 'string' ? s.value : JSON.stringify(s.value)];
  for (const [k, v] of Object.entries(s.context ?? {})) if (!volatile.includes(k)) out.push(v);
  pushDescendants(snapshot, out);
  return out;
}

/** Each descendant actor's snapshot object: it is replaced exactly when that actor changes. */
function pushDescendants(snapshot: unknown, out: unknown[]): void {
  const children =
    (snapshot as { children?: Record<string, { getSnapshot?: () => unknown }> }).children ?? {};
  for (const child of Object.values(children)) {
    const cs = child?.getSnapshot?.();
    out.push(cs);
    if (cs && typeof cs === 'object' && 'children' in cs) pushDescendants(cs, out);
  }
}

/**
 * A snapshot can hold a child that has finished while its parent had not yet handled the done
 * event (it was queued behind the event being processed when the snapshot was taken). XState
 * restores such a child as finished and never tells the parent, which would then wait forever.
 * After a restore, every finished child still held by a running parent has its done (or error)
 * event delivered again. Our machines' handlers are safe to repeat: a handler that already ran
 * left its state (and the child with it) or only assigns the same output again.
 */
function redeliverFinishedChildren(ref: AnyActorRef): void {
  const snap = ref.getSnapshot() as { status: string; children?: Record<string, AnyActorRef> };
  if (snap.status !== 'active') return;
  for (const [id, child] of Object.entries(snap.children ?? {})) {
    const cs = child.getSnapshot() as { status: string; output?: unknown; error?: unknown };
    if (cs.status === 'done') ref.send({ type: `xstate.done.actor.${id}`, output: cs.output, actorId: id });
    else if (cs.status === 'error')
      ref.send({ type: `xstate.error.actor.${id}`, error: cs.error, actorId: id });
    else redeliverFinishedChildren(child);
  }
}

function sameRefs(a: unknown[], b: unknown[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** The snapshot as text without the strategy's per-quote context keys: what a persist must cover. */
function withoutVolatile(snapshot: unknown, volatile: string[]): string {
  const ctx = (snapshot as { context?: object }).context;
  return JSON.stringify(snapshot, function (key, v) {
    return this === ctx && volatile.includes(key) ? undefined : v;
  });
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

export class Engine {
  private readonly store: SnapshotStore;
  private readonly venues: Record<string, ExchangeClient>;
  private readonly clock: Clock;
  private readonly log: EngineLogger;
  private readonly quotePersistMs: number;
  private readonly migrations: Record<string, Record<number, (snapshot: unknown) => unknown>>;
  private readonly running = new Map<string, Running>();
  /**
   * Strategies that ended before this process started, as the store keeps them: the risk check
   * still counts what they hold and what they lost today (`running` has the ones that end here).
   */
  private readonly endedBefore = new Map<string, { kind: AnyStrategyKind; context: never }>();
  private readonly tagToId = new Map<string, string>();
  private readonly markets = new Map<string, Market>();
  private exchange: ReturnType<typeof createExchangeActors> | undefined;
  private journal: StoreIntentJournal | undefined;
  private actors: ReturnType<typeof bindActors> | undefined;
  private writes = 0;
  private failedWrites = 0;
  private lastWriteMicros = 0;
  private nextId = 1;
  private started = false;
  private readonly risk: PortfolioRisk;
  private readonly riskIntervalMs: number;
  private readonly ticker: Ticker;
  private readonly onTransition: ((t: TransitionRecord) => void) | undefined;
  private readonly persistSnapshots: boolean;
  private readonly positionSettleMs: number;
  private readonly positionCheckMs: number;
  private readonly commandPollMs: number;
  private positionCheckRunning = false;
  /** Mismatches seen by the running position check: since when, in which state. */
  private readonly mismatches = new Map<string, { since: number; state: string }>();
  private readonly quoteGating: boolean;
  /** Each strategy's quote gate, by its actor system (see watchQuotesWith). */
  private readonly gates = new WeakMap<object, QuoteGate>();
  /** One provided machine per kind: `provide()` rebuilds the whole state-node tree. */
  private readonly machines = new Map<string, AnyStateMachine>();
  /** Registered taps, each with the strategies it wants (undefined: all). */
  private readonly taps = new Map<InspectionTap, ((strategyId: string) => boolean) | undefined>();
  /** The store when several engine processes share it: ownership is leased. */
  private readonly leased: LeasedStore | undefined;
  private readonly capacity: number;
  private readonly leaseCheckMs: number;
  private leaseTimer: unknown;
  private leaseTickRunning = false;
  /** Last successful lease renewal (engine clock). */
  private lastRenewal = 0;
  private takenOver = 0;
  private lost = 0;
  private readonly onShutdown: 'cancel-quotes' | 'leave-quotes';
  /** A graceful shutdown has begun: nothing new is claimed, added, resumed or decided. */
  private shuttingDown = false;

  constructor(opts: EngineOptions) {
    this.store = opts.store;
    this.venues = opts.venues;
    this.clock = opts.clock;
    this.log = opts.logger ?? silent;
    this.quotePersistMs = opts.quotePersistMs ?? 5_000;
    this.migrations = opts.migrations ?? {};
    this.risk = new PortfolioRisk(opts.risk, riskDayBooks(this.store));
    this.riskIntervalMs = opts.riskIntervalMs ?? 1_000;
    this.ticker = new Ticker(this.clock);
    this.onTransition = opts.onTransition;
    this.persistSnapshots = opts.persistSnapshots ?? true;
    this.positionSettleMs = opts.positionSettleMs ?? 10_000;
    this.positionCheckMs = opts.positionCheckMs ?? 5_000;
    this.commandPollMs = opts.commandPollMs ?? 1_000;
    this.quoteGating = opts.quoteGating ?? true;
    this.leased = isLeasedStore(opts.store) ? opts.store : undefined;
    this.capacity = opts.capacity ?? Number.POSITIVE_INFINITY;
    this.leaseCheckMs = opts.leaseCheckMs ?? Math.max(50, Math.floor((this.leased?.leaseMs ?? 15_000) / 3));
    this.onShutdown = opts.onShutdown ?? 'cancel-quotes';
  }

  private liveCount(): number {
    let n = 0;
    for (const r of this.running.values()) if (!r.done) n++;
    return n;
  }

  private market = (i: Instrument): Market => {
    const m = this.markets.get(`${i.venue}|${i.symbol}`);
    if (!m) throw new Error(`unknown market ${i.venue} ${i.symbol}`);
    return m;
  };

  async start(opts: { recover?: boolean } = {}): Promise<RecoveryReport> {
    if (this.started) throw new Error('engine already started');
    this.started = true;
    for (const [name, client] of Object.entries(this.venues)) {
      const ms = await client.loadMarkets();
      for (const m of Object.values(ms)) this.markets.set(`${name}|${m.symbol}`, m);
    }
    this.journal = new StoreIntentJournal(
      this.store,
      (req) => strategyOfOrder(req.clientOrderId, this.tagToId) ?? 'unknown',
      () => this.clock.now(),
    );
    this.exchange = createExchangeActors({
      venues: this.venues,
      clock: this.clock,
      journal: this.journal,
      ticker: this.ticker,
      onError: (where, e) => this.log.warn({ where, err: String(e) }, 'exchange actor error'),
      beforeSend: (clientOrderId) => {
        const id = strategyOfOrder(clientOrderId, this.tagToId);
        const run = id === undefined ? undefined : this.running.get(id);
        if (run && !run.done) this.persist(run, 'active');
      },
    });
    this.actors = bindActors(this.exchange.actors);
    const report = emptyReport();
    this.loadEndedForRisk();
    // Risk is evaluated on the strategies' shared ticker: at the default period the evaluation and
    // every strategy's TIME.TICK come from one timer. stop() disposes the ticker.
    this.ticker.subscribe(this.riskIntervalMs, () => this.evaluateRisk());
    if (this.positionCheckMs > 0)
      this.ticker.subscribe(this.positionCheckMs, () => void this.checkPositions());
    if (this.commandPollMs > 0) this.ticker.subscribe(this.commandPollMs, () => this.applyCommands());
    // Finished orders leave the hot journal after an hour (still answered for from the archive).
    if (this.persistSnapshots) this.ticker.subscribe(ARCHIVE_EVERY_MS, () => this.archiveJournal());
    if (this.leased) {
      // Shared store: this node runs what it can claim (always: a node that only watched would
      // leave a dead node's strategies unrun), and keeps claiming what other nodes leave behind.
      this.lastRenewal = this.clock.now();
      await this.restoreAll(
        this.leased.claim(this.capacity - this.liveCount(), Object.keys(STRATEGY_KINDS)),
        report,
      );
      const leaseTick = () => {
        void this.leaseTick().finally(() => {
          if (this.leaseTimer !== undefined)
            this.leaseTimer = this.clock.setTimeout(leaseTick, this.leaseCheckMs);
        });
      };
      this.leaseTimer = this.clock.setTimeout(leaseTick, this.leaseCheckMs);
      return report;
    }
    if (!opts.recover) return report;
    await this.restoreAll(this.store.loadActive(), report);
    return report;
  }

  /** Rehydrate strategies from their stored records, reconcile them with the venues, run them. */
  private async restoreAll(
    loaded: { records: StrategyRecord[]; quarantined: QuarantinedRecord[] },
    report: RecoveryReport,
  ): Promise<void> {
    const positionChecks: Promise<void>[] = [];
    report.quarantined.push(...loaded.quarantined);
    for (const q of loaded.quarantined)
      this.log.error({ strategy: q.id, reason: q.reason }, 'snapshot quarantined');
    // A stored strategy of a kind this process has not loaded (a user's module left out of the
    // config) is not this process's to judge: quarantining it would orphan its orders and
    // positions. Alone on the store, refuse to start, changing nothing; sharing a store (claims
    // take only known kinds), hand it back at once for a node that has the kind.
    const unknown = loaded.records.filter((r) => !STRATEGY_KINDS[r.kind]);
    if (unknown.length > 0 && !this.leased) throw new UnknownStrategyKindError(unknown);
    if (unknown.length > 0) this.leased!.release(unknown.map((r) => r.id));
    for (const r of unknown)
      this.log.error(
        { strategy: r.id, kind: r.kind },
        'stored strategy of a kind this process has not loaded: left for a node that has it',
      );
    for (const rec of loaded.records) {
      const kind = STRATEGY_KINDS[rec.kind];
      if (!kind) continue;
      let snapshot = rec.snapshot;
      let reason: string | undefined;
      if (kind && rec.machineVersion !== kind.version) {
        const steps = { ...kind.migrations, ...this.migrations[rec.kind] };
        let v = rec.machineVersion;
        try {
          while (v < kind.version && steps[v]) snapshot = steps[v++]!(snapshot);
        } catch (e) {
          reason = `migration of ${rec.kind} from version ${v} failed: ${(e as Error).message}`;
        }
        if (!reason && v !== kind.version) {
          reason = `snapshot of ${rec.kind} machine version ${rec.machineVersion}, this engine runs version ${kind.version} and has no migration from version ${v}`;
        }
        if (!reason) {
          this.store.saveMigrated(rec.id, snapshot, kind.version, this.clock.now());
          this.log.info(
            { strategy: rec.id, from: rec.machineVersion, to: kind.version },
            'snapshot migrated',
          );
        }
      }
      if (reason) {
        this.store.quarantine(rec.id, reason!);
        report.quarantined.push({ id: rec.id, reason: reason!, raw: '', at: this.clock.now() });
        this.log.error({ strategy: rec.id, reason }, 'snapshot quarantined');
        continue;
      }
      try {
        // Locks persisted with the strategy are still held (store rows): nothing can have taken them.
        // No snapshot yet: it was stored but never ran (queued for a node with room, or the process
        // died right after adding it) — it starts from its spec.
        const input =
          snapshot === undefined
            ? kind.input(rec.id, (rec.spec as { params: unknown }).params as never, this.market)
            : undefined;
        this.launch(rec.id, kind, rec.instruments, snapshot, input);
        report.recovered.push(rec.id);
        if (this.leased) this.takenOver++;
      } catch (e) {
        const why = `restore failed: ${(e as Error).message}`;
        this.store.quarantine(rec.id, why);
        report.quarantined.push({ id: rec.id, reason: why, raw: '', at: this.clock.now() });
        this.log.error({ strategy: rec.id, reason: why }, 'snapshot quarantined');
        continue;
      }
      await this.reconcile(rec.id, JSON.stringify(snapshot), rec.updatedAt, report);
      positionChecks.push(this.comparePositions(this.running.get(rec.id)!, report));
    }
    await Promise.all(positionChecks);
  }

  /**
   * Shared store: renew this node's leases, stop what it lost, take over what lapsed. A node that
   * cannot renew for a whole lease stops its strategies: another node may be running them.
   */
  private async leaseTick(): Promise<void> {
    const leased = this.leased!;
    if (this.leaseTickRunning) return;
    this.leaseTickRunning = true;
    try {
      try {
        const { lost } = leased.renew();
        this.lastRenewal = this.clock.now();
        for (const id of lost) {
          const run = this.running.get(id);
          if (run && !run.done) this.drop(run, 'lease lost: another node runs it now');
        }
      } catch (e) {
        const since = this.clock.now() - this.lastRenewal;
        this.log.warn({ err: String(e), sinceMs: since }, 'lease renewal failed');
        if (since >= leased.leaseMs)
          for (const run of [...this.running.values()])
            if (!run.done) this.drop(run, `no lease renewal for ${since} ms: another node may run it`);
        return;
      }
      const free = this.capacity - this.liveCount();
      if (free <= 0 || this.shuttingDown) return;
      const claimed = leased.claim(free, Object.keys(STRATEGY_KINDS));
      if (claimed.records.length === 0 && claimed.quarantined.length === 0) return;
      const report = emptyReport();
      await this.restoreAll(claimed, report);
      this.log.warn(
        { node: leased.nodeId, ...report, quarantined: report.quarantined.length },
        'strategies taken over',
      );
    } catch (e) {
      this.log.error({ err: String(e) }, 'lease check failed');
    } finally {
      this.leaseTickRunning = false;
    }
  }

  /**
   * Stop a strategy whose lease is gone, without writing: its record now belongs to another node
   * (a write would be fenced anyway). Orders in flight stay the new owner's to reconcile.
   */
  private drop(run: Running, reason: string): void {
    if (run.dropped) return;
    run.dropped = true;
    run.done = true;
    this.lost++;
    this.log.error({ strategy: run.id, reason }, 'strategy dropped');
    run.inspection?.unsubscribe();
    run.actor.stop();
    this.running.delete(run.id);
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
    id: string,
    snapshotText: string,
    savedAt: number,
    report: RecoveryReport,
  ): Promise<void> {
    const run = this.running.get(id)!;
    // The restored strategy writes its snapshot at once (a newer savedAt that does not name the
    // crash window's orders either): until this reconcile has settled that window, its start is
    // kept beside the strategy, so a restart that dies meanwhile is not forgotten by the next.
    const key = `${RECOVERING_PREFIX}${id}`;
    const pending = Number(this.store.metaWithPrefix(key)[key] || Number.NaN);
    const since = Math.min(savedAt, Number.isFinite(pending) ? pending : savedAt);
    this.store.setMeta(key, String(since));
    let settled = true;
    const later: { client: ExchangeClient; intent: OrderIntent; askAt: number }[] = [];
    for (const intent of this.store.intentsFor(id, since - RECONCILE_MARGIN_MS)) {
      if (snapshotText.includes(`"${intent.request.clientOrderId}"`)) continue;
      const client = this.venues[intent.venue];
      if (!client) continue;
      report.checked.orders++;
      const askedAt = this.clock.now();
      const found = await this.lookUpCrashWindowOrder(run, client, intent, snapshotText, report);
      if (found === 'unsettled') settled = false;
      if (found !== 'not found') continue;
      const askAt = landingEndsAt(client, this.lastSentAt(intent));
      if (askAt > askedAt) later.push({ client, intent, askAt });
    }
    if (later.length === 0) {
      if (settled) this.store.setMeta(key, '');
      return;
    }
    this.log.warn(
      { strategy: id, orders: later.map((l) => l.intent.request.clientOrderId) },
      'recovery: orders of the crash window not found yet may still land; asked again once they cannot',
    );
    void (async () => {
      for (const l of later.sort((a, b) => a.askAt - b.askAt)) {
        const wait = l.askAt - this.clock.now();
        if (wait > 0) await new Promise<void>((r) => this.clock.setTimeout(r, wait));
        if (run.done || this.shuttingDown) return; // the next start asks again
        const again = await this.lookUpCrashWindowOrder(run, l.client, l.intent, snapshotText, emptyReport());
        if (again === 'unsettled') settled = false;
      }
      if (settled && !run.done) this.store.setMeta(key, '');
    })().catch((e) => this.log.error({ strategy: id, err: String(e) }, 'recovery: late check failed'));
  }

  /** When a request under the intent's id last left (a re-send counts). */
  private lastSentAt(intent: OrderIntent): number {
    return this.journal?.intent(intent.request.clientOrderId)?.lastSentAt ?? intent.createdAt;
  }

  /**
   * One order of the crash window, asked for by client id, and what it means: open → cancelled
   * (an orphan), filled → the strategy halts, not found → nothing was placed (if it can no longer
   * land: the caller decides). 'unsettled' when the venue could not say or a cancel failed.
   */
  private async lookUpCrashWindowOrder(
    run: Running,
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
      this.halt(run, `could not reconcile ${intent.request.clientOrderId}: ${(e as Error).message}`, report);
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
        this.log.warn({ strategy: run.id, clientOrderId: order.clientOrderId }, 'orphan order cancelled');
      } catch (e) {
        outcome = 'unsettled'; // the next start asks again
        this.log.warn(
          { strategy: run.id, clientOrderId: order.clientOrderId, err: String(e) },
          'orphan cancel failed',
        );
      }
    }
    if (order.filled > 0)
      this.halt(
        run,
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
    // Bounded all the same: a venue that refuses for minutes is a reason to halt, and a node of
    // a shared store must get back to renewing its leases.
    const giveUpAt = this.clock.now() + (this.leased ? this.leased.leaseMs / 2 : RECOVERY_PATIENCE_MS);
    for (let failures = 0; ; failures++) {
      try {
        return await request();
      } catch (e) {
        const x = e as { retryable?: boolean; retryAfterMs?: number; name?: string };
        const rateLimited = e instanceof RateLimitExceeded || x.name === 'RateLimitExceeded';
        if (!rateLimited && (!x.retryable || failures >= 4)) throw e;
        if (this.clock.now() >= giveUpAt) throw e;
        const waitMs = rateLimited
          ? Math.min(10_000, Math.max(x.retryAfterMs ?? 0, backoff(250, failures, 5_000)))
          : backoff(250, failures, 5_000);
        if (failures === 0)
          this.log.warn({ err: String(e), waitMs }, 'recovery: venue read refused, waiting');
        await new Promise<void>((r) => this.clock.setTimeout(r, waitMs));
      }
    }
  }

  /**
   * Derivative positions belong to one strategy per instrument (locks): the venue's must equal
   * the strategy's books. Right after a restore they may not yet: an order that filled while the
   * engine was down is only booked once its restored order machine has asked the venue. So a
   * mismatch is re-checked until it has lasted `positionSettleMs`; only then is the strategy halted.
   */
  private async comparePositions(run: Running, report: RecoveryReport): Promise<void> {
    const deadline = this.clock.now() + this.positionSettleMs;
    let counted = false;
    for (;;) {
      let mismatch: { compared: number; reason: string | undefined };
      try {
        mismatch = await this.positionMismatch(run);
      } catch (e) {
        // Unread is not equal: trading on books nobody compared would be a guess.
        this.halt(run, `could not compare positions with the venue: ${(e as Error).message}`, report);
        return;
      }
      if (!counted) {
        report.checked.positions += mismatch.compared;
        counted = true;
      }
      if (!mismatch.reason || run.done) return;
      if (this.clock.now() >= deadline) {
        this.halt(run, mismatch.reason, report);
        return;
      }
      await new Promise<void>((r) => this.clock.setTimeout(r, 250));
    }
  }

  private async positionMismatch(run: Running): Promise<{ compared: number; reason: string | undefined }> {
    const legs = run.kind.legs((run.actor.getSnapshot() as { context: never }).context);
    let compared = 0;
    for (const leg of legs) {
      const m = this.markets.get(`${leg.venue}|${leg.symbol}`);
      if (!m || m.type === 'spot') continue;
      compared++;
      const seen = await this.derivativeMismatch(leg, m);
      if (seen) return { compared, reason: seen.reason };
    }
    return { compared, reason: undefined };
  }

  /**
   * A derivative leg's books against the venue's position (one strategy per instrument: locks):
   * undefined when they agree within half a step, else the venue's size and the reason.
   */
  private async derivativeMismatch(
    leg: LegBook,
    m: Market,
  ): Promise<{ venueSize: number; reason: string } | undefined> {
    const client = this.venues[leg.venue]!;
    const positions = await this.patiently(() => client.fetchPositions([leg.symbol]));
    const venueSize = (positions[0]?.size ?? 0) * m.contractSize;
    if (Math.abs(venueSize - leg.position) <= (m.precision.amount * m.contractSize) / 2) return undefined;
    return {
      venueSize,
      reason: `${leg.venue} ${leg.symbol}: the venue holds ${venueSize}, the books ${leg.position}`,
    };
  }

  /**
   * The running position check. Strategies at rest only (in flight, books lag the venue by an
   * answer): each derivative leg's books against the venue's position (one strategy per
   * instrument: locks), and per venue and spot asset, what the strategies' books hold long against
   * the account's balance (the account may hold more; it may not hold less). A mismatch that lasts
   * `positionSettleMs` in the same state moves the strategy to needs attention, with both numbers.
   */
  private async checkPositions(): Promise<void> {
    if (this.positionCheckRunning) return;
    this.positionCheckRunning = true;
    try {
      const found = new Map<string, { run: Running; state: string; reason: string; legs: AttentionLeg[] }>();
      const spotHeld = new Map<string, { venue: string; asset: string; books: number; runs: Running[] }>();
      for (const run of this.running.values()) {
        if (run.done || run.dropped) continue;
        const state = stateName(run.actor.getSnapshot().value);
        if (
          !run.kind.rest.includes(state) ||
          state === 'needsAttention' ||
          run.kind.terminal.includes(state)
        ) {
          this.mismatches.delete(run.id);
          continue;
        }
        for (const leg of run.kind.legs((run.actor.getSnapshot() as { context: never }).context)) {
          const m = this.markets.get(`${leg.venue}|${leg.symbol}`);
          if (!m) continue;
          if (m.type === 'spot') {
            if (leg.position <= 0) continue;
            const key = `${leg.venue}|${m.base}`;
            const h = spotHeld.get(key) ?? { venue: leg.venue, asset: m.base, books: 0, runs: [] };
            h.books += leg.position;
            h.runs.push(run);
            spotHeld.set(key, h);
            continue;
          }
          const positions = await this.venues[leg.venue]!.fetchPositions([leg.symbol]);
          const venueSize = (positions[0]?.size ?? 0) * m.contractSize;
          if (
            Math.abs(venueSize - leg.position) > (m.precision.amount * m.contractSize) / 2 &&
            !found.has(run.id)
          )
            found.set(run.id, {
              run,
              state,
              reason: `${leg.venue} ${leg.symbol}: the venue holds ${venueSize}, the books ${leg.position}`,
              legs: [{ venue: leg.venue, symbol: leg.symbol, position: venueSize }],
            });
        }
      }
      const balances = new Map<string, Awaited<ReturnType<ExchangeClient['fetchBalance']>>>();
      for (const h of spotHeld.values()) {
        if (!balances.has(h.venue)) balances.set(h.venue, await this.venues[h.venue]!.fetchBalance());
        const total = balances.get(h.venue)![h.asset]?.total ?? 0;
        if (total >= h.books - 1e-9) continue;
        for (const run of h.runs)
          if (!found.has(run.id))
            found.set(run.id, {
              run,
              state: stateName(run.actor.getSnapshot().value),
              reason: `${h.venue} holds ${total} ${h.asset}, less than the ${h.books} the strategies' books hold`,
              legs: [{ venue: h.venue, symbol: `${h.asset} (balance)`, position: total }],
            });
      }
      const now = this.clock.now();
      for (const run of this.running.values()) if (!found.has(run.id)) this.mismatches.delete(run.id);
      for (const f of found.values()) {
        const seen = this.mismatches.get(f.run.id);
        if (!seen || seen.state !== f.state) {
          this.mismatches.set(f.run.id, { since: now, state: f.state });
          continue;
        }
        if (now - seen.since < this.positionSettleMs) continue;
        this.mismatches.delete(f.run.id);
        this.log.error(
          { strategy: f.run.id, reason: f.reason },
          'position mismatch: strategy needs attention',
        );
        f.run.actor.send({ type: 'ATTENTION', reason: `position check: ${f.reason}`, legs: f.legs });
      }
    } catch (e) {
      // A venue that cannot answer now is asked again at the next check.
      this.log.warn({ err: String(e) }, 'position check could not ask a venue');
    } finally {
      this.positionCheckRunning = false;
    }
  }

  /**
   * Operator commands queued in the store (statearb strategy …, the inspector): each applied once,
   * to a strategy this engine runs, if its state takes it; the result is written back.
   */
  private applyCommands(): void {
    let pending: OperatorCommand[];
    try {
      pending = this.store.pendingCommands();
    } catch (e) {
      this.log.warn({ err: String(e) }, 'could not read operator commands');
      return;
    }
    for (const c of pending) {
      const run = this.running.get(c.strategyId);
      // Not here (another node runs it, or not restored yet): it waits for whoever runs it.
      if (!run || run.dropped) continue;
      let result: string;
      try {
        result = this.operate(run, c.command);
      } catch (e) {
        result = `failed: ${(e as Error).message}`;
      }
      this.store.markCommand(c.seq, this.clock.now(), result);
      this.log.info({ strategy: run.id, command: c.command, result }, 'operator command');
    }
  }

  /** Apply one operator command to a strategy; returns 'applied' or why not. */
  private operate(run: Running, command: OperatorCommandName): string {
    if (run.done) return `refused: the strategy has ended (${stateName(run.actor.getSnapshot().value)})`;
    const snap = run.actor.getSnapshot() as { value: unknown; can(e: unknown): boolean };
    const state = stateName(snap.value);
    // Orders a shutdown could cut off at its deadline are not started once it has begun.
    if (
      this.shuttingDown &&
      (command === 'flatten' || command === 'stop-flatten' || command === 'kill-flatten')
    )
      return 'refused: the engine is shutting down (flatten after the next start)';
    if (command === 'kill' || command === 'kill-flatten') {
      const flatten = command === 'kill-flatten';
      this.log.error({ strategy: run.id, flatten }, 'kill switch (operator)');
      this.kill(run, 'operator (statearb kill)', flatten);
      return 'applied';
    }
    if (command === 'pause') {
      run.shutdownPaused = false; // the operator's pause outlives a shutdown's
      run.actor.send({ type: 'PAUSE' });
      return 'applied';
    }
    if (command === 'resume') {
      if (this.shuttingDown) return 'refused: the engine is shutting down';
      run.actor.send({ type: 'RESUME' });
      return 'applied';
    }
    // A halt (recovery found what the snapshot did not know) is resolved by the operator;
    // a strategy that also needs attention takes the resolve as its own as well.
    if (command === 'resolve' && run.halted) {
      this.clearHalt(run);
      if (state !== 'needsAttention') return 'applied';
    }
    if (command === 'stop' && state === 'needsAttention')
      return 'refused: it needs attention and holds exposure — stop with --flatten, or resolve after fixing it by hand';
    const event =
      command === 'flatten'
        ? { type: 'OPERATOR.FLATTEN' }
        : command === 'resolve'
          ? { type: 'OPERATOR.RESOLVE' }
          : { type: 'STOP', flatten: command === 'stop-flatten' };
    if (!snap.can(event)) return `refused: ${state} does not take ${command}`;
    run.actor.send(event as never);
    return 'applied';
  }

  /**
   * An operator command for a running strategy, now (the inspector's buttons; the CLI queues the
   * same commands in the store): flatten (needs attention: close its exposure; holding: exit now),
   * stop, stop-flatten, resolve (acknowledge a manual fix: it stops, releasing its locks).
   * Returns 'applied' or why the strategy's state refuses it.
   */
  operateStrategy(id: string, command: OperatorCommandName): string {
    return this.operate(this.get(id), command);
  }

  /**
   * Halt a strategy: no new entries until an operator resolves it. The halt is stored beside the
   * strategy (meta `halt/<id>`), so it outlives restarts and shows in `statearb status`.
   */
  private halt(run: Running, reason: string, report?: RecoveryReport): void {
    if (run.halted) return;
    run.halted = reason;
    run.actor.send({ type: 'RISK.BREACH', reason });
    report?.halted.push({ id: run.id, reason });
    this.log.error({ strategy: run.id, reason }, 'strategy halted');
    try {
      this.store.setMeta(`${HALT_PREFIX}${run.id}`, JSON.stringify({ reason, at: this.clock.now() }));
    } catch (e) {
      this.log.error(
        { strategy: run.id, err: String(e) },
        'could not store the halt: it lasts while this process runs',
      );
    }
  }

  /** The operator has dealt with a halt: the strategy trades again (unless a risk limit still holds). */
  private clearHalt(run: Running): void {
    if (!run.halted) return;
    // Stored first: a halt that comes back after a restart is safer than one that is lost here.
    this.store.setMeta(`${HALT_PREFIX}${run.id}`, '');
    this.log.warn({ strategy: run.id, halted: run.halted }, 'halt resolved by the operator');
    run.halted = undefined;
    if (Object.keys(this.risk.view().breaches).length === 0 && !run.writeFailed)
      run.actor.send({ type: 'RISK.CLEAR' });
  }

  /**
   * Check a spec against the loaded markets without adding it (throws InvalidParamsError naming
   * each field): a config with several strategies is checked whole before any of them starts.
   */
  validateStrategy(spec: StrategySpec): void {
    if (!this.started) throw new Error('start the engine before validating strategies');
    const kind = this.kindOf(spec);
    const unlisted = kind
      .instruments(spec.params as never)
      .filter((i) => !this.markets.has(`${i.venue}|${i.symbol}`))
      .map((i) => ({ path: paramPathOf(spec.params, i) ?? 'instrument', reason: this.unlistedReason(i) }));
    if (unlisted.length > 0) throw new InvalidParamsError(spec.kind, unlisted);
    kind.input(spec.id ?? 'validation', spec.params as never, this.market);
  }

  private unlistedReason(i: Instrument): string {
    if (!(i.venue in this.venues))
      return `no venue ${i.venue} is configured (venues: ${Object.keys(this.venues).join(', ')})`;
    const listed = [...this.markets.keys()]
      .filter((k) => k.startsWith(`${i.venue}|`))
      .map((k) => k.slice(i.venue.length + 1));
    const shown = listed.length > 12 ? `${listed.slice(0, 12).join(', ')}, …` : listed.join(', ');
    return `${i.venue} does not list ${i.symbol} (it lists ${shown})`;
  }

  private kindOf(spec: StrategySpec): AnyStrategyKind {
    const kind = STRATEGY_KINDS[spec.kind];
    if (!kind)
      throw new Error(
        `unknown strategy kind "${spec.kind}"; known: ${Object.keys(STRATEGY_KINDS).join(', ')}`,
      );
    return kind;
  }

  /**
   * Send inspection events to `tap` from now on — of every strategy, or of those `only` accepts;
   * returns the removal. Observers are attached only to the actors some tap wants.
   */
  addInspectionTap(tap: InspectionTap, only?: (strategyId: string) => boolean): () => void {
    this.taps.set(tap, only);
    this.refreshInspection();
    return () => {
      this.taps.delete(tap);
      this.refreshInspection();
    };
  }

  private inspectionWanted(id: string): boolean {
    for (const only of this.taps.values()) if (!only || only(id)) return true;
    return false;
  }

  private refreshInspection(): void {
    for (const run of this.running.values()) {
      const wanted = !run.done && this.inspectionWanted(run.id);
      if (wanted && !run.inspection)
        run.inspection = run.actor.system.inspect(this.dispatcher(run.id, () => run.actor));
      else if (!wanted && run.inspection) {
        run.inspection.unsubscribe();
        run.inspection = undefined;
      }
    }
  }

  private dispatcher(id: string, root: () => AnyActorRef | undefined): (ev: InspectionEvent) => void {
    return (ev) => {
      const isRoot = ev.actorRef === root();
      for (const [tap, only] of this.taps) if (!only || only(id)) tap.event(id, ev, isRoot);
    };
  }

  /** The live snapshot and machine of a strategy (for the inspector), or undefined. */
  inspectStrategy(
    id: string,
  ): { kind: string; machine: AnyStateMachine; snapshot: unknown; done: boolean } | undefined {
    const run = this.running.get(id);
    if (!run) return undefined;
    return {
      kind: run.kind.kind,
      machine: run.kind.machine,
      snapshot: run.actor.getSnapshot(),
      done: run.done,
    };
  }

  /** Lock keys (venue|symbol) a spec would take. */
  instrumentsOf(spec: Omit<StrategySpec, 'id'>): string[] {
    return lockKeys(this.kindOf(spec as StrategySpec).instruments(spec.params as never));
  }

  /** The stored record of a strategy (any status), or undefined. */
  stored(id: string): { status: StrategyStatus; params: unknown } | undefined {
    const rec = this.store.get(id);
    return rec
      ? { status: rec.status, params: (rec.spec as { params?: unknown } | undefined)?.params }
      : undefined;
  }

  async addStrategy(spec: StrategySpec): Promise<string> {
    if (!this.started) throw new Error('start the engine before adding strategies');
    if (this.shuttingDown) throw new Error('the engine is shutting down: no strategy can be added');
    const kind = this.kindOf(spec);
    const id = spec.id ?? `${spec.kind}-${this.clock.now().toString(36)}-${this.nextId++}`;
    this.refuseTagCollision(id);
    const input = kind.input(id, spec.params as never, this.market);
    const instruments = lockKeys(kind.instruments(spec.params as never));
    const now = this.clock.now();
    const rec: StrategyRecord = {
      id,
      kind: spec.kind,
      machineVersion: kind.version,
      status: 'active',
      spec: { params: spec.params },
      snapshot: undefined,
      instruments,
      createdAt: now,
      updatedAt: now,
    };
    // Taking the locks and writing the record is one transaction: exactly one of two racing adds wins.
    if (this.leased && this.liveCount() >= this.capacity) {
      this.leased.createStrategy(rec, { own: false });
      this.log.info(
        { strategy: id, kind: spec.kind, instruments, capacity: this.capacity },
        'strategy stored for another node: this one is at capacity',
      );
      return id;
    }
    this.store.createStrategy(rec);
    // A strategy of this id cleaned up earlier may have left its halt behind: not this one's.
    if (storedHalt(this.store, id)) this.store.setMeta(`${HALT_PREFIX}${id}`, '');
    try {
      this.launch(id, kind, instruments, undefined, input);
    } catch (e) {
      this.store.saveSnapshot(id, null, 'failed', now);
      this.store.releaseLocks(id);
      throw e;
    }
    this.log.info({ strategy: id, kind: spec.kind, instruments }, 'strategy added');
    return id;
  }

  /**
   * Every client order id starts with its strategy's tag (a hash of the strategy id): two
   * strategies with one tag could produce one client id. Refuse a new id whose tag another stored
   * or running strategy has.
   */
  private refuseTagCollision(id: string): void {
    const tag = strategyTag(id);
    const holder =
      this.tagToId.get(tag) ??
      this.store.listAll().records.find((r) => r.id !== id && strategyTag(r.id) === tag)?.id;
    if (holder !== undefined && holder !== id)
      throw new Error(
        `strategy id "${id}" has the client-order tag ${tag}, as strategy "${holder}" in the store has: its orders' ids could collide — choose another id`,
      );
  }

  private launch(
    id: string,
    kind: AnyStrategyKind,
    instruments: string[],
    snapshot: unknown,
    input: unknown,
  ): void {
    // Strategies whose kind has a quote gate see only the quotes that can change a decision.
    const gate =
      kind.quoteGate && this.quoteGating
        ? new QuoteGate(kind.quoteGate, () => actor.getSnapshot() as { value: unknown; context: unknown })
        : undefined;
    const machine = this.providedMachine(kind);
    let created: AnyActorRef | undefined;
    const inspect = this.inspectionWanted(id) ? this.dispatcher(id, () => created) : undefined;
    const actor: AnyActorRef = createActor(
      machine,
      (snapshot ? { snapshot, input: undefined, inspect } : { input, inspect }) as never,
    );
    created = actor;
    if (gate) this.gates.set(actor.system, gate);
    recordLastEvent(actor, (type) => {
      if (run.lastState !== '') run.lastEvent = type;
    });
    const run: Running = {
      id,
      kind,
      actor,
      instruments,
      lastSignature: '',
      lastRefs: [],
      lastPersistAt: 0,
      lastState: '',
      lastTransitionAt: this.clock.now(),
      lastEvent: snapshot ? 'xstate.restore' : 'xstate.init',
      // An observer given at creation stays for the actor's life (XState has no handle to remove it).
      inspection: inspect ? { unsubscribe() {} } : undefined,
      halted: undefined,
      writeFailed: false,
      done: false,
      dropped: false,
      shutdownPaused: false,
    };
    this.tagToId.set((actor.getSnapshot() as { context: { tag: string } }).context.tag, id);
    this.running.set(id, run);
    actor.subscribe({
      next: (s) => this.onSnapshot(run, s as { status: string; value: unknown }),
      // One failing strategy never takes the process down.
      error: (e) => {
        this.log.error({ strategy: id, err: String(e) }, 'strategy actor crashed');
        this.risk.recordFailure(this.clock.now());
        this.persist(run, 'failed');
        run.done = true;
        this.store.releaseLocks(id);
      },
    });
    actor.start();
    if (snapshot) redeliverFinishedChildren(actor);
    const halt = storedHalt(this.store, id);
    if (halt && !run.done) {
      run.halted = halt;
      actor.send({ type: 'RISK.BREACH', reason: halt });
    }
  }

  private providedMachine(kind: AnyStrategyKind): AnyStateMachine {
    let m = this.machines.get(kind.kind);
    if (!m) {
      const gated = kind.quoteGate && this.quoteGating;
      const gateOf = (system: unknown) => this.gates.get(system as object);
      m = kind.machine.provide({
        actors: gated
          ? {
              ...this.actors!,
              watchQuotes: this.exchange!.watchQuotesWith((system) => {
                const gate = gateOf(system);
                return gate ? (q, send) => gate.offer(q, send) : undefined;
              }),
              clockTick: this.exchange!.clockTickWith((system) => {
                const gate = gateOf(system);
                return gate ? (now, send) => gate.offerTick(now, send) : undefined;
              }),
            }
          : this.actors!,
      });
      this.machines.set(kind.kind, m);
    }
    return m;
  }

  private onSnapshot(run: Running, s: { status: string; value: unknown }): void {
    if (run.dropped) return;
    const state = stateName(s.value);
    if (state !== run.lastState) {
      const t: TransitionRecord = {
        strategy: run.id,
        kind: run.kind.kind,
        from: run.lastState || (run.lastEvent === 'xstate.restore' ? '(restored)' : '(start)'),
        to: state,
        event: run.lastEvent,
        at: this.clock.now(),
      };
      this.log.info({ strategy: t.strategy, from: t.from, to: t.to, event: t.event }, 'transition');
      run.lastState = state;
      run.lastTransitionAt = t.at;
      this.onTransition?.(t);
    }
    if (s.status === 'done') {
      const status: StrategyStatus =
        state === 'completed' ? 'completed' : state === 'failed' ? 'failed' : 'stopped';
      this.persist(run, status);
      run.done = true;
      this.store.releaseLocks(run.id);
      return;
    }
    this.persist(run, 'active');
  }

  private persist(run: Running, status: StrategyStatus): void {
    if (run.dropped || (status === 'active' && !this.persistSnapshots)) return;
    const now = this.clock.now();
    // The per-quote hot path: XState's assign keeps every unchanged context value by reference and
    // a child's snapshot object only changes when the child does, so comparing references tells a
    // quote-only change apart without building or serialising the persisted snapshot.
    const refs = changeRefs(run.actor.getSnapshot(), run.kind.volatile);
    if (status === 'active' && sameRefs(refs, run.lastRefs) && now - run.lastPersistAt < this.quotePersistMs)
      return;
    run.lastRefs = refs;
    const snapshot = run.shutdownPaused
      ? withPauseLifted(run.actor.getPersistedSnapshot())
      : run.actor.getPersistedSnapshot();
    const signature = withoutVolatile(snapshot, run.kind.volatile);
    const quoteOnly = signature === run.lastSignature;
    if (status === 'active' && quoteOnly && now - run.lastPersistAt < this.quotePersistMs) return;
    const t0 = process.hrtime.bigint();
    try {
      this.store.saveSnapshot(run.id, snapshot, status, now);
      this.writes++;
      run.lastSignature = signature;
      run.lastPersistAt = now;
      if (run.writeFailed) {
        run.writeFailed = false;
        this.log.info({ strategy: run.id }, 'snapshot writes recovered');
      }
    } catch (e) {
      this.failedWrites++;
      if (e instanceof FencedError) {
        this.drop(run, `write refused: ${e.message}`);
        return;
      }
      if (!run.writeFailed) {
        this.risk.recordFailure(now);
        run.writeFailed = true;
        // No new positions without a durable record of them; hedges in flight still complete.
        run.actor.send({ type: 'RISK.BREACH', reason: `snapshot write failed: ${(e as Error).message}` });
        this.log.error({ strategy: run.id, err: String(e) }, 'snapshot write failed: new entries blocked');
      }
    }
    this.lastWriteMicros = Number(process.hrtime.bigint() - t0) / 1e3;
  }

  private get(id: string): Running {
    const r = this.running.get(id);
    if (!r) throw new Error(`no running strategy ${id}`);
    return r;
  }

  /** Ask a strategy to stop (flattening or holding its positions); resolves when it has. */
  async stopStrategy(id: string, opts: { flatten: boolean; timeoutMs?: number }): Promise<void> {
    const run = this.get(id);
    run.actor.send({ type: 'STOP', flatten: opts.flatten });
    const deadline = this.clock.now() + (opts.timeoutMs ?? 60_000);
    while (!run.done && this.clock.now() < deadline) {
      await new Promise<void>((r) => this.clock.setTimeout(r, 50));
    }
  }

  /** Pause one strategy (no new entries or quotes; what is in flight completes): 'applied' or why not. */
  pause(id: string): string {
    return this.operate(this.get(id), 'pause');
  }

  resume(id: string): string {
    return this.operate(this.get(id), 'resume');
  }

  /** Stop every strategy: flatten (close positions) or cancel (hold them), as configured. */
  killSwitch(reason: string, opts: { flatten: boolean }): void {
    this.log.error({ reason, flatten: opts.flatten }, 'kill switch');
    for (const run of this.running.values()) if (!run.done) this.kill(run, reason, opts.flatten);
  }

  /** One strategy's part of the kill switch: no new entries, stop (flattening or holding). */
  private kill(run: Running, reason: string, flatten: boolean): void {
    run.actor.send({ type: 'RISK.BREACH', reason: `kill switch: ${reason}`, flatten });
    run.actor.send({ type: 'STOP', flatten });
  }

  /**
   * The ended strategies in the store that can still matter to the day's limits: those that hold
   * positions (a stopped or failed strategy keeps what it had) and those that ended today.
   * Shared store: every node counts them (they belong to no node any more) — the conservative side.
   */
  private loadEndedForRisk(): void {
    let records: StrategyRecord[];
    try {
      records = this.store.listAll().records;
    } catch (e) {
      this.log.warn({ err: String(e) }, 'risk: could not list ended strategies');
      return;
    }
    const dayStart = Math.floor(this.clock.now() / 86_400_000) * 86_400_000;
    for (const rec of records) {
      if (rec.status === 'active' || this.running.has(rec.id)) continue;
      const kind = STRATEGY_KINDS[rec.kind];
      const context = (rec.snapshot as { context?: never } | undefined)?.context;
      if (!kind || context === undefined || rec.machineVersion !== kind.version) continue;
      try {
        const holds = kind.legs(context).some((l) => l.position !== 0);
        if (holds || rec.updatedAt >= dayStart) this.endedBefore.set(rec.id, { kind, context });
      } catch {
        // A snapshot this version cannot read is not a figure the limits can use.
      }
    }
  }

  private evaluateRisk(): void {
    const live = [...this.running.values()].filter((r) => !r.done);
    // Ended strategies count too: their losses today, and positions a failed or stopped one still
    // holds — those that ended here and those that had ended before this process started.
    const figures = (id: string, kind: AnyStrategyKind, ctx: never, done: boolean) => {
      const legs = kind.legs(ctx);
      const marks = kind.marks(ctx);
      const exposure = legs.reduce((x, l, i) => x + Math.abs(l.position) * (marks[i] || l.entryPrice), 0);
      return { id, netPnl: strategyFigures(kind, ctx).netPnl, exposure, done };
    };
    const inputs = [...this.running.values()].map((r) =>
      figures(r.id, r.kind, (r.actor.getSnapshot() as { context: never }).context, r.done),
    );
    for (const [id, e] of this.endedBefore)
      if (!this.running.has(id)) inputs.push(figures(id, e.kind, e.context, true));
    for (const a of this.risk.evaluate(this.clock.now(), inputs)) {
      if (a.type === 'breach') {
        this.log.error({ risk: a.name, reason: a.reason, flatten: a.flatten }, 'portfolio risk breach');
        // Nothing new is sent once a shutdown starts, a flatten neither: the breach shows in
        // status, the day's books are stored, and the next start breaches again and acts on it.
        if (this.shuttingDown) {
          this.log.error(
            { risk: a.name },
            'shutting down: nothing is flattened on the way out; the next start acts on the breach',
          );
          continue;
        }
        if (a.flatten) this.killSwitch(a.reason, { flatten: true });
        else for (const r of live) r.actor.send({ type: 'RISK.BREACH', reason: `portfolio: ${a.reason}` });
      } else if (Object.keys(this.risk.view().breaches).length === 0) {
        this.log.info({ risk: a.name }, 'portfolio risk cleared');
        // A strategy halted for its own reason stays halted.
        for (const r of live) if (!r.halted && !r.writeFailed) r.actor.send({ type: 'RISK.CLEAR' });
      }
    }
  }

  /**
   * Graceful stop (SIGINT/SIGTERM): no new decisions (every strategy is paused, nothing is
   * claimed or added), what is in flight settles within `timeoutMs` (a hedge finishes its legs;
   * a maker's quotes are cancelled unless `onShutdown` leaves them), everything is persisted,
   * and the actors stop. Nothing new is sent after the shutdown starts. Strategies stay active
   * in the store, paused only if an operator paused them, and resume on the next start.
   */
  async shutdown(opts: { timeoutMs?: number } = {}): Promise<{ settled: boolean }> {
    this.shuttingDown = true;
    const live = [...this.running.values()].filter((r) => !r.done);
    const leaveQuotes = this.onShutdown === 'leave-quotes';
    const paused = new Set<Running>();
    for (const r of live) {
      if (leaveQuotes && r.kind.restsQuotes) {
        // Its quotes stay as they rest: the maker stops now, before it can re-quote a market that
        // moves while the others settle. Orders on the wire are the next start's to look up.
        this.finalStop(r);
        continue;
      }
      if (!isPaused(r.actor.getSnapshot())) r.shutdownPaused = true;
      r.actor.send({ type: 'PAUSE' });
      paused.add(r);
    }
    const deadline = this.clock.now() + (opts.timeoutMs ?? 10_000);
    // A paused strategy is at rest once it is in a rest state with no order machine running: a
    // maker's quotes on their way out have landed and been cancelled, and the cancels answered.
    const atRest = () =>
      live.every(
        (r) =>
          r.done ||
          (r.kind.rest.includes(stateName(r.actor.getSnapshot().value)) &&
            (!paused.has(r) || ordersInFlight(r.actor.getPersistedSnapshot()).length === 0)),
      );
    while (!atRest() && this.clock.now() < deadline)
      await new Promise<void>((res) => this.clock.setTimeout(res, 50));
    const settled = atRest();
    if (!settled)
      this.log.warn({ timeoutMs: opts.timeoutMs }, 'shutdown: not every strategy settled in time');
    await this.stop();
    return { settled };
  }

  status(): EngineStatus {
    const strategies: StrategyStatusView[] = [];
    const counts = { active: 0, completed: 0, stopped: 0, failed: 0 };
    for (const run of this.running.values()) {
      const s = run.actor.getSnapshot() as {
        value: unknown;
        status: string;
        context: { lastError?: unknown; attention?: Attention };
      };
      const state = stateName(s.value);
      if (!run.done) counts.active++;
      else if (state === 'completed') counts.completed++;
      else if (state === 'failed' || s.status === 'error') counts.failed++;
      else counts.stopped++;
      const f = strategyFigures(run.kind, s.context);
      strategies.push({
        id: run.id,
        kind: run.kind.kind,
        state,
        instruments: run.instruments,
        ...f,
        openOrders: run.done ? [] : (run.ordersAtStop ?? liveOrders(run.actor.getPersistedSnapshot())),
        lastError: s.context.lastError,
        halted: run.halted,
        ...(s.context.attention ? { attention: attentionView(s.context.attention) } : {}),
        lastTransitionAt: run.lastTransitionAt,
      });
    }
    const leased = this.leased;
    return {
      ...(leased
        ? {
            node: {
              id: leased.nodeId,
              capacity: this.capacity,
              leaseMs: leased.leaseMs,
              owned: this.liveCount(),
              takenOver: this.takenOver,
              lost: this.lost,
            },
          }
        : {}),
      strategies,
      locks: this.store.locks(),
      risk: this.risk.view(),
      persistence: {
        ...counts,
        quarantined: this.store.listQuarantined().length,
        writes: this.writes,
        failedWrites: this.failedWrites,
        lastWriteMicros: this.lastWriteMicros,
      },
    };
  }

  /** Order placements decided but not yet handed to their venue (see createExchangeActors). */
  pendingSends(): number {
    return this.exchange?.pendingSends() ?? 0;
  }

  /** Persist every strategy as it is and stop the actors (their state stays active in the store). */
  async stop(): Promise<void> {
    // No tick of any period (risk checks, strategies' TIME.TICK) fires from here on.
    this.ticker.dispose();
    if (this.leaseTimer !== undefined) this.clock.clearTimeout(this.leaseTimer);
    this.leaseTimer = undefined;
    for (const run of this.running.values()) this.finalStop(run);
    // Hand the leases back at once: another node takes over without waiting for them to lapse.
    if (this.leased) {
      try {
        this.leased.release(this.leased.owned());
      } catch (e) {
        this.log.warn(
          { err: String(e) },
          'lease release failed: other nodes take over when the leases lapse',
        );
      }
    }
    // The stopped actors stay listed: status() after a shutdown shows where each strategy stopped.
    this.exchange?.dispose();
  }

  /** A strategy's last write as it is (still active in the store), then its actors stop. */
  private finalStop(run: Running): void {
    if (run.finalStopped) return;
    run.finalStopped = true;
    if (!run.done) {
      // The final write always happens (an operator's pause changes nothing the throttle sees).
      run.lastSignature = '';
      run.lastRefs = [];
      this.persist(run, 'active');
      run.ordersAtStop = ordersInFlight(run.actor.getPersistedSnapshot());
    }
    run.actor.stop();
  }

  /** Move intents older than an hour out of the hot journal (see SnapshotStore.archiveIntents). */
  archiveJournal(): number {
    try {
      const moved = this.store.archiveIntents(this.clock.now() - ARCHIVE_AFTER_MS);
      if (moved > 0) this.log.info({ moved }, 'order journal archived');
      return moved;
    } catch (e) {
      this.log.warn({ err: String(e) }, 'order journal archive failed');
      return 0;
    }
  }

  /** Remove terminal strategies (and their journals) not updated for `maxAgeHours`. */
  cleanupPersistence(opts: { maxAgeHours: number }): string[] {
    return this.store.cleanup(this.clock.now() - opts.maxAgeHours * 3_600_000);
  }
}

/**
 * Report the type of every event the actor processes. XState v5 hands each processed event to
 * the actor's `update(snapshot, event)`; wrapping it costs one call per event, where an
 * inspection observer would cost XState half its event rate. Falls back to an observer if a
 * future XState renames the method (the transition-log test would notice the difference).
 */
function recordLastEvent(actor: AnyActorRef, onEvent: (type: string) => void): void {
  const a = actor as unknown as { update?: (snapshot: unknown, event: { type: string }) => void };
  const update = a.update;
  if (typeof update === 'function') {
    a.update = function (this: unknown, snapshot, event) {
      onEvent(event.type);
      update.call(this, snapshot, event);
    };
    return;
  }
  actor.system.inspect((ev: InspectionEvent) => {
    if (ev.type === '@xstate.event' && ev.actorRef === actor) onEvent(ev.event.type);
  });
}

export function createEngine(opts: EngineOptions): Engine {
  return new Engine(opts);
}

/** SIGINT/SIGTERM → graceful shutdown, then exit 0 (1 if the shutdown itself failed). */
export function installSignalHandlers(
  engine: Engine,
  opts: { timeoutMs?: number; exit?: (code: number) => void } = {},
): () => void {
  const exit = opts.exit ?? ((code: number) => process.exit(code));
  let stopping = false;
  const onSignal = () => {
    if (stopping) return;
    stopping = true;
    engine.shutdown(opts.timeoutMs === undefined ? {} : { timeoutMs: opts.timeoutMs }).then(
      () => exit(0),
      () => exit(1),
    );
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return () => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  };
}

const RISK_DAY_PREFIX = 'risk.day/';
/** Intents this long before the last snapshot are looked at too (one clock, so a margin only). */
const RECONCILE_MARGIN_MS = 1_000;
const ARCHIVE_AFTER_MS = 3_600_000;
/** How long one recovery read waits out a venue's refusals before it counts (halts). */
const RECOVERY_PATIENCE_MS = 120_000;
/** meta recovering/<id>: the start of a crash window a reconcile has not settled yet. */
const RECOVERING_PREFIX = 'recovering/';
const ARCHIVE_EVERY_MS = 600_000;
const HALT_PREFIX = 'halt/';

/** A strategy's stored halt reason (see Engine.halt), if it has one. */
export function storedHalt(store: SnapshotStore, id: string): string | undefined {
  try {
    const raw = store.metaWithPrefix(`${HALT_PREFIX}${id}`)[`${HALT_PREFIX}${id}`];
    return raw ? (JSON.parse(raw) as { reason: string }).reason : undefined;
  } catch {
    return undefined;
  }
}

/** The risk day's books in the store's meta records, one per strategy (engines sharing a store never clash). */
function riskDayBooks(store: SnapshotStore): RiskDayBooks {
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
