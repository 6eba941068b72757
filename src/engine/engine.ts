/**
 * The supervisor: the set of strategies this engine runs — added, started, stopped, killed —
 * the portfolio risk over them, and the operator's commands. Each strategy runs in its own
 * host (strategy-host.ts: launch, persist, halt, drop); recovery (recovery.ts), the running
 * position check (position-check.ts), the shared store's lease loop (cluster.ts), inspection
 * taps (inspection.ts) and status (status.ts) are modules of their own. Order intents are
 * journalled before their requests leave (intent-journal.ts), and symbol locks are the store's.
 */
import type { AnyStateMachine } from 'xstate';
import { strategyOfOrder, strategyTag } from '../../machines/ids.ts';
import { InvalidParamsError } from '../../machines/params.ts';
import { type AnyStrategyKind, lockKeys } from '../../machines/strategies/index.ts';
import { bindActors } from '../actors/bind.ts';
import { createExchangeActors } from '../actors/exchange-actors.ts';
import type { Clock } from '../clock/clock.ts';
import { Ticker } from '../clock/ticker.ts';
import { STRATEGY_KINDS } from '../config/kinds.ts';
import type { Instrument, Market } from '../domain/index.ts';
import type { ExchangeClient } from '../exchange/port.ts';
import { isLeasedStore, type LeasedStore } from '../store/leases.ts';
import type { OperatorCommandName, SnapshotStore, StrategyRecord, StrategyStatus } from '../store/types.ts';
import { ClusterNode } from './cluster.ts';
import { strategyFigures } from './figures.ts';
import { type InspectionTap, InspectionTaps } from './inspection.ts';
import { StoreIntentJournal } from './intent-journal.ts';
import { KindMachines } from './kind-machines.ts';
import { clearStoredHalt, riskDayBooks, storedHalt } from './meta-records.ts';
import { applyQueuedCommands, type OperatorContext, operate } from './operator-commands.ts';
import { RunningPositionCheck } from './position-check.ts';
import { emptyReport, Recovery, type RecoveryReport } from './recovery.ts';
import { PortfolioRisk, type PortfolioRiskLimits } from './risk.ts';
import { isPaused, ordersInFlight } from './snapshots.ts';
import { type EngineStatus, engineStatus } from './status.ts';
import {
  type EngineLogger,
  type HostServices,
  StrategyHost,
  silentLogger,
  type TransitionRecord,
  type WriteStats,
} from './strategy-host.ts';

// The engine's public types, from the modules that define them.
export type { InspectionTap } from './inspection.ts';
export type { RecoveryReport } from './recovery.ts';
export type { EngineStatus, StrategyStatusView } from './status.ts';
export { type EngineLogger, silentLogger, type TransitionRecord } from './strategy-host.ts';

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

export interface StrategySpec {
  kind: string;
  id?: string;
  params: unknown;
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

export class Engine {
  private readonly store: SnapshotStore;
  private readonly venues: Record<string, ExchangeClient>;
  private readonly clock: Clock;
  private readonly log: EngineLogger;
  private readonly running = new Map<string, StrategyHost>();
  /**
   * Strategies that ended before this process started, as the store keeps them: the risk check
   * still counts what they hold and what they lost today (`running` has the ones that end here).
   */
  private readonly endedBefore = new Map<string, { kind: AnyStrategyKind; context: never }>();
  private readonly tagToId = new Map<string, string>();
  private readonly markets = new Map<string, Market>();
  private exchange: ReturnType<typeof createExchangeActors> | undefined;
  private journal: StoreIntentJournal | undefined;
  private machines: KindMachines | undefined;
  private readonly writes: WriteStats = { writes: 0, failedWrites: 0, lastWriteMicros: 0 };
  private readonly hostServices: HostServices;
  private nextId = 1;
  private started = false;
  private readonly risk: PortfolioRisk;
  private readonly ticker: Ticker;
  private readonly inspection = new InspectionTaps(() => this.running.values());
  private readonly recovery: Recovery;
  private readonly positionCheck: RunningPositionCheck;
  /** The store when several engine processes share it: ownership is leased. */
  private readonly leased: LeasedStore | undefined;
  private readonly cluster: ClusterNode | undefined;
  private readonly capacity: number;
  /** A graceful shutdown has begun: nothing new is claimed, added, resumed or decided. */
  private shuttingDown = false;

  constructor(private readonly options: EngineOptions) {
    this.store = options.store;
    this.venues = options.venues;
    this.clock = options.clock;
    this.log = options.logger ?? silentLogger;
    this.risk = new PortfolioRisk(options.risk, riskDayBooks(this.store));
    this.ticker = new Ticker(this.clock);
    this.leased = isLeasedStore(options.store) ? options.store : undefined;
    this.capacity = options.capacity ?? Number.POSITIVE_INFINITY;
    this.hostServices = {
      store: this.store,
      clock: this.clock,
      log: this.log,
      quotePersistMs: options.quotePersistMs ?? 5_000,
      persistSnapshots: options.persistSnapshots ?? true,
      stats: this.writes,
      onTransition: options.onTransition,
      recordFailure: (at) => this.risk.recordFailure(at),
      onDropped: (host) => {
        this.cluster?.countLost();
        this.running.delete(host.id);
      },
    };
    this.recovery = new Recovery({
      store: this.store,
      venues: this.venues,
      clock: this.clock,
      log: this.log,
      leased: this.leased,
      kinds: () => STRATEGY_KINDS,
      migrations: options.migrations ?? {},
      markets: this.markets,
      market: this.market,
      journal: () => this.journal,
      positionSettleMs: options.positionSettleMs ?? 10_000,
      launch: (id, kind, instruments, snapshot, input) => {
        const host = this.launch(id, kind, instruments, snapshot, input);
        this.cluster?.countTakenOver();
        return host;
      },
      shuttingDown: () => this.shuttingDown,
    });
    this.positionCheck = new RunningPositionCheck({
      hosts: () => this.running.values(),
      markets: this.markets,
      venues: this.venues,
      clock: this.clock,
      log: this.log,
      settleMs: options.positionSettleMs ?? 10_000,
    });
    this.cluster = this.leased
      ? new ClusterNode({
          leased: this.leased,
          clock: this.clock,
          log: this.log,
          capacity: this.capacity,
          leaseCheckMs: options.leaseCheckMs ?? Math.max(50, Math.floor(this.leased.leaseMs / 3)),
          hosts: () => this.running.values(),
          liveCount: () => this.liveCount(),
          kinds: () => Object.keys(STRATEGY_KINDS),
          restore: (loaded, report) => this.recovery.restoreAll(loaded, report),
          shuttingDown: () => this.shuttingDown,
        })
      : undefined;
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
      // The strategy's snapshot is durable before its request leaves (recovery relies on it).
      beforeSend: (clientOrderId) => {
        const id = strategyOfOrder(clientOrderId, this.tagToId);
        const host = id === undefined ? undefined : this.running.get(id);
        if (host && !host.done) host.persist('active');
      },
    });
    this.machines = new KindMachines(
      bindActors(this.exchange.actors),
      this.exchange,
      this.options.quoteGating ?? true,
    );
    const report = emptyReport();
    this.loadEndedForRisk();
    // Risk is evaluated on the strategies' shared ticker: at the default period the evaluation and
    // every strategy's TIME.TICK come from one timer. stop() disposes the ticker.
    this.ticker.subscribe(this.options.riskIntervalMs ?? 1_000, () => this.evaluateRisk());
    const positionCheckMs = this.options.positionCheckMs ?? 5_000;
    if (positionCheckMs > 0) this.ticker.subscribe(positionCheckMs, () => void this.positionCheck.run());
    const commandPollMs = this.options.commandPollMs ?? 1_000;
    if (commandPollMs > 0)
      this.ticker.subscribe(commandPollMs, () =>
        applyQueuedCommands(this.store, this.clock, (id) => this.running.get(id), this.operatorContext),
      );
    // Finished orders leave the hot journal after an hour (still answered for from the archive).
    if (this.hostServices.persistSnapshots)
      this.ticker.subscribe(ARCHIVE_EVERY_MS, () => this.archiveJournal());
    // Shared store: this node runs what it can claim and keeps claiming what others leave behind.
    if (this.cluster) await this.cluster.join(report);
    else if (opts.recover) await this.recovery.restoreAll(this.store.loadActive(), report);
    return report;
  }

  private operatorContext = (): OperatorContext => ({
    shuttingDown: this.shuttingDown,
    riskClear: Object.keys(this.risk.view().breaches).length === 0,
    log: this.log,
  });

  /**
   * An operator command for a running strategy, now (the inspector's buttons; the CLI queues the
   * same commands in the store): flatten (needs attention: close its exposure; holding: exit now),
   * stop, stop-flatten, resolve (acknowledge a manual fix: it stops, releasing its locks).
   * Returns 'applied' or why the strategy's state refuses it.
   */
  operateStrategy(id: string, command: OperatorCommandName): string {
    return operate(this.get(id), command, this.operatorContext());
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
    return this.inspection.add(tap, only);
  }

  /** The live snapshot and machine of a strategy (for the inspector), or undefined. */
  inspectStrategy(
    id: string,
  ): { kind: string; machine: AnyStateMachine; snapshot: unknown; done: boolean } | undefined {
    const host = this.running.get(id);
    if (!host) return undefined;
    return {
      kind: host.kind.kind,
      machine: host.kind.machine,
      snapshot: host.actor.getSnapshot(),
      done: host.done,
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
    if (storedHalt(this.store, id)) clearStoredHalt(this.store, id);
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

  /** A strategy's host, launched from its input or its snapshot, registered, then started. */
  private launch(
    id: string,
    kind: AnyStrategyKind,
    instruments: string[],
    snapshot: unknown,
    input: unknown,
  ): StrategyHost {
    let host: StrategyHost | undefined;
    host = new StrategyHost(this.hostServices, {
      id,
      kind,
      instruments,
      machine: this.machines!.machineFor(kind),
      snapshot,
      input,
      inspect: this.inspection.observerFor(id, () => host?.actor),
    });
    this.machines!.gateStrategy(kind, host.actor);
    this.tagToId.set(host.tag, id);
    this.running.set(id, host);
    host.start();
    return host;
  }

  private get(id: string): StrategyHost {
    const r = this.running.get(id);
    if (!r) throw new Error(`no running strategy ${id}`);
    return r;
  }

  /** Ask a strategy to stop (flattening or holding its positions); resolves when it has. */
  async stopStrategy(id: string, opts: { flatten: boolean; timeoutMs?: number }): Promise<void> {
    const host = this.get(id);
    host.send({ type: 'STOP', flatten: opts.flatten });
    const deadline = this.clock.now() + (opts.timeoutMs ?? 60_000);
    while (!host.done && this.clock.now() < deadline) {
      await new Promise<void>((r) => this.clock.setTimeout(r, 50));
    }
  }

  /** Pause one strategy (no new entries or quotes; what is in flight completes): 'applied' or why not. */
  pause(id: string): string {
    return this.operateStrategy(id, 'pause');
  }

  resume(id: string): string {
    return this.operateStrategy(id, 'resume');
  }

  /** Stop every strategy: flatten (close positions) or cancel (hold them), as configured. */
  killSwitch(reason: string, opts: { flatten: boolean }): void {
    this.log.error({ reason, flatten: opts.flatten }, 'kill switch');
    for (const host of this.running.values()) if (!host.done) host.kill(reason, opts.flatten);
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
    const inputs = [...this.running.values()].map((r) => figures(r.id, r.kind, r.context, r.done));
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
        else for (const r of live) r.send({ type: 'RISK.BREACH', reason: `portfolio: ${a.reason}` });
      } else if (Object.keys(this.risk.view().breaches).length === 0) {
        this.log.info({ risk: a.name }, 'portfolio risk cleared');
        // A strategy halted for its own reason stays halted.
        for (const r of live) if (!r.halted && !r.writeFailed) r.send({ type: 'RISK.CLEAR' });
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
    const leaveQuotes = (this.options.onShutdown ?? 'cancel-quotes') === 'leave-quotes';
    const paused = new Set<StrategyHost>();
    for (const r of live) {
      if (leaveQuotes && r.kind.restsQuotes) {
        // Its quotes stay as they rest: the maker stops now, before it can re-quote a market that
        // moves while the others settle. Orders on the wire are the next start's to look up.
        r.finalStop();
        continue;
      }
      if (!isPaused(r.actor.getSnapshot())) r.shutdownPaused = true;
      r.send({ type: 'PAUSE' });
      paused.add(r);
    }
    const deadline = this.clock.now() + (opts.timeoutMs ?? 10_000);
    // A paused strategy is at rest once it is in a rest state with no order machine running: a
    // maker's quotes on their way out have landed and been cancelled, and the cancels answered.
    const atRest = () =>
      live.every(
        (r) =>
          r.done ||
          (r.kind.rest.includes(r.state) &&
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
    return engineStatus({
      hosts: this.running.values(),
      node: this.cluster?.view(),
      store: this.store,
      risk: this.risk.view(),
      writes: this.writes,
    });
  }

  /** Order placements decided but not yet handed to their venue (see createExchangeActors). */
  pendingSends(): number {
    return this.exchange?.pendingSends() ?? 0;
  }

  /** Persist every strategy as it is and stop the actors (their state stays active in the store). */
  async stop(): Promise<void> {
    // No tick of any period (risk checks, strategies' TIME.TICK) fires from here on.
    this.ticker.dispose();
    this.cluster?.stopClaiming();
    for (const host of this.running.values()) host.finalStop();
    // Then the leases go back at once: another node takes over without waiting for them to lapse.
    this.cluster?.release();
    // The stopped actors stay listed: status() after a shutdown shows where each strategy stopped.
    this.exchange?.dispose();
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

const ARCHIVE_AFTER_MS = 3_600_000;
const ARCHIVE_EVERY_MS = 600_000;
