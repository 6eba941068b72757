/**
 * One running strategy: its actor, launched from its input or its snapshot; every snapshot
 * persisted (throttled for quote-only changes); its transitions recorded; halted, dropped
 * (its lease went to another node) or stopped with a last write. The supervisor holds one host
 * per strategy it runs and never touches the actor's persistence itself.
 */
import { type AnyActorRef, type AnyStateMachine, createActor, type InspectionEvent } from 'xstate';
import type { AnyStrategyKind } from '../../machines/strategies/index.ts';
import { stateName } from '../../machines/strategies/kit/state-name.ts';
import type { Clock } from '../clock/clock.ts';
import { FencedError } from '../store/leases.ts';
import type { SnapshotStore, StrategyStatus } from '../store/types.ts';
import { clearStoredHalt, storedHalt, storeHalt } from './meta-records.ts';
import { changeRefs, ordersInFlight, sameRefs, withoutVolatile, withPauseLifted } from './snapshots.ts';

export interface EngineLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/** A logger that drops everything (the engine's default; backtests add strategies with it). */
export const silentLogger: EngineLogger = { info() {}, warn() {}, error() {} };

export interface TransitionRecord {
  strategy: string;
  kind: string;
  from: string;
  to: string;
  /** Type of the event the strategy machine was processing when its state changed. */
  event: string;
  at: number;
}

/** Snapshot writes of every host, for status(). */
export interface WriteStats {
  writes: number;
  failedWrites: number;
  lastWriteMicros: number;
}

/** What a host needs from the engine around it. */
export interface HostServices {
  store: SnapshotStore;
  clock: Clock;
  log: EngineLogger;
  /** Quote-only context changes are persisted at most this often, ms. */
  quotePersistMs: number;
  /** false: snapshots are written only when the strategy ends (backtests). */
  persistSnapshots: boolean;
  stats: WriteStats;
  onTransition: ((t: TransitionRecord) => void) | undefined;
  /** A strategy failure (crash, failed write) for the circuit breaker. */
  recordFailure(at: number): void;
  /** The host stopped because its lease is gone: the supervisor forgets it. */
  onDropped(host: StrategyHost): void;
}

export interface LaunchSpec {
  id: string;
  kind: AnyStrategyKind;
  instruments: string[];
  /** The machine with the engine's actors provided. */
  machine: AnyStateMachine;
  /** Restore from this persisted snapshot; otherwise start from `input`. */
  snapshot: unknown;
  input: unknown;
  /** Inspection observer given at creation (it stays for the actor's life). */
  inspect: ((ev: InspectionEvent) => void) | undefined;
}

export class StrategyHost {
  readonly id: string;
  readonly kind: AnyStrategyKind;
  readonly instruments: string[];
  readonly actor: AnyActorRef;
  lastTransitionAt: number;
  /** Inspection observer attached while taps are registered. */
  inspection: { unsubscribe(): void } | undefined;
  halted: string | undefined;
  writeFailed = false;
  done = false;
  /** Its lease went to another node: stopped here without another write. */
  dropped = false;
  /**
   * Paused by a graceful shutdown (not by an operator): it persists as not paused, so the next
   * start trades on, whether this process ends cleanly or is killed while it settles.
   */
  shutdownPaused = false;
  /** Its orders working when the engine stopped (a stopped actor no longer lists its children). */
  ordersAtStop: string[] | undefined;
  private lastSignature = '';
  /** References that change with anything but a quote (see changeRefs). */
  private lastRefs: unknown[] = [];
  private lastPersistAt = 0;
  private lastState = '';
  /** The event the root machine processed last (names the event behind a transition). */
  private lastEvent: string;
  /** Its last write is done and its actors stopped (see finalStop). */
  private finalStopped = false;
  private readonly restored: boolean;

  constructor(
    private readonly services: HostServices,
    spec: LaunchSpec,
  ) {
    this.id = spec.id;
    this.kind = spec.kind;
    this.instruments = spec.instruments;
    this.restored = spec.snapshot !== undefined;
    this.lastEvent = this.restored ? 'xstate.restore' : 'xstate.init';
    this.lastTransitionAt = services.clock.now();
    this.actor = createActor(
      spec.machine,
      (this.restored
        ? { snapshot: spec.snapshot, input: undefined, inspect: spec.inspect }
        : { input: spec.input, inspect: spec.inspect }) as never,
    );
    // An observer given at creation stays for the actor's life (XState has no handle to remove it).
    this.inspection = spec.inspect ? { unsubscribe() {} } : undefined;
    recordLastEvent(this.actor, (type) => {
      if (this.lastState !== '') this.lastEvent = type;
    });
  }

  /** The strategy's client-order tag (its context's `tag`). */
  get tag(): string {
    return (this.actor.getSnapshot() as { context: { tag: string } }).context.tag;
  }

  get context(): never {
    return (this.actor.getSnapshot() as { context: never }).context;
  }

  get state(): string {
    return stateName(this.actor.getSnapshot().value);
  }

  /** Run it: every snapshot from here is persisted. A stored halt is applied at once. */
  start(): void {
    const { log, clock, store } = this.services;
    this.actor.subscribe({
      next: (s) => this.onSnapshot(s as { status: string; value: unknown }),
      // One failing strategy never takes the process down.
      error: (e) => {
        log.error({ strategy: this.id, err: String(e) }, 'strategy actor crashed');
        this.services.recordFailure(clock.now());
        this.persist('failed');
        this.done = true;
        store.releaseLocks(this.id);
      },
    });
    this.actor.start();
    if (this.restored) redeliverFinishedChildren(this.actor);
    const halt = storedHalt(store, this.id);
    if (halt && !this.done) {
      this.halted = halt;
      this.actor.send({ type: 'RISK.BREACH', reason: halt });
    }
  }

  send(event: { type: string; [k: string]: unknown }): void {
    this.actor.send(event as never);
  }

  private onSnapshot(s: { status: string; value: unknown }): void {
    if (this.dropped) return;
    const { clock, log } = this.services;
    const state = stateName(s.value);
    if (state !== this.lastState) {
      const t: TransitionRecord = {
        strategy: this.id,
        kind: this.kind.kind,
        from: this.lastState || (this.lastEvent === 'xstate.restore' ? '(restored)' : '(start)'),
        to: state,
        event: this.lastEvent,
        at: clock.now(),
      };
      log.info({ strategy: t.strategy, from: t.from, to: t.to, event: t.event }, 'transition');
      this.lastState = state;
      this.lastTransitionAt = t.at;
      this.services.onTransition?.(t);
    }
    if (s.status === 'done') {
      const status: StrategyStatus =
        state === 'completed' ? 'completed' : state === 'failed' ? 'failed' : 'stopped';
      this.persist(status);
      this.done = true;
      this.services.store.releaseLocks(this.id);
      return;
    }
    this.persist('active');
  }

  /** Write the snapshot unless only quotes changed since the last write and it is recent. */
  persist(status: StrategyStatus): void {
    const { store, clock, log, stats, quotePersistMs } = this.services;
    if (this.dropped || (status === 'active' && !this.services.persistSnapshots)) return;
    const now = clock.now();
    // The per-quote hot path: XState's assign keeps every unchanged context value by reference and
    // a child's snapshot object only changes when the child does, so comparing references tells a
    // quote-only change apart without building or serialising the persisted snapshot.
    const refs = changeRefs(this.actor.getSnapshot(), this.kind.volatile);
    if (status === 'active' && sameRefs(refs, this.lastRefs) && now - this.lastPersistAt < quotePersistMs)
      return;
    this.lastRefs = refs;
    const snapshot = this.shutdownPaused
      ? withPauseLifted(this.actor.getPersistedSnapshot())
      : this.actor.getPersistedSnapshot();
    const signature = withoutVolatile(snapshot, this.kind.volatile);
    const quoteOnly = signature === this.lastSignature;
    if (status === 'active' && quoteOnly && now - this.lastPersistAt < quotePersistMs) return;
    const t0 = process.hrtime.bigint();
    try {
      store.saveSnapshot(this.id, snapshot, status, now);
      stats.writes++;
      this.lastSignature = signature;
      this.lastPersistAt = now;
      if (this.writeFailed) {
        this.writeFailed = false;
        log.info({ strategy: this.id }, 'snapshot writes recovered');
      }
    } catch (e) {
      stats.failedWrites++;
      if (e instanceof FencedError) {
        this.drop(`write refused: ${e.message}`);
        return;
      }
      if (!this.writeFailed) {
        this.services.recordFailure(now);
        this.writeFailed = true;
        // No new positions without a durable record of them; hedges in flight still complete.
        this.actor.send({ type: 'RISK.BREACH', reason: `snapshot write failed: ${(e as Error).message}` });
        log.error({ strategy: this.id, err: String(e) }, 'snapshot write failed: new entries blocked');
      }
    }
    stats.lastWriteMicros = Number(process.hrtime.bigint() - t0) / 1e3;
  }

  /**
   * Halt: no new entries until an operator resolves it. The halt is stored beside the strategy,
   * so it outlives restarts and shows in `statearb status`. Returns false if it already was.
   */
  halt(reason: string): boolean {
    if (this.halted) return false;
    const { store, clock, log } = this.services;
    this.halted = reason;
    this.actor.send({ type: 'RISK.BREACH', reason });
    log.error({ strategy: this.id, reason }, 'strategy halted');
    try {
      storeHalt(store, this.id, reason, clock.now());
    } catch (e) {
      log.error(
        { strategy: this.id, err: String(e) },
        'could not store the halt: it lasts while this process runs',
      );
    }
    return true;
  }

  /**
   * The operator has dealt with a halt: it trades again if `riskClear` (no portfolio limit
   * holds) and its writes work.
   */
  clearHalt(riskClear: boolean): void {
    if (!this.halted) return;
    // Stored first: a halt that comes back after a restart is safer than one that is lost here.
    clearStoredHalt(this.services.store, this.id);
    this.services.log.warn({ strategy: this.id, halted: this.halted }, 'halt resolved by the operator');
    this.halted = undefined;
    if (riskClear && !this.writeFailed) this.actor.send({ type: 'RISK.CLEAR' });
  }

  /** No new entries, then stop (flattening or holding): its part of a kill switch. */
  kill(reason: string, flatten: boolean): void {
    this.actor.send({ type: 'RISK.BREACH', reason: `kill switch: ${reason}`, flatten });
    this.actor.send({ type: 'STOP', flatten });
  }

  /**
   * Stop without writing: its lease is gone and its record belongs to another node (a write would
   * be fenced anyway). Orders in flight stay the new owner's to reconcile.
   */
  drop(reason: string): void {
    if (this.dropped) return;
    this.dropped = true;
    this.done = true;
    this.services.log.error({ strategy: this.id, reason }, 'strategy dropped');
    this.inspection?.unsubscribe();
    this.actor.stop();
    this.services.onDropped(this);
  }

  /** Its last write as it is (still active in the store), then its actors stop. */
  finalStop(): void {
    if (this.finalStopped) return;
    this.finalStopped = true;
    if (!this.done) {
      // The final write always happens (an operator's pause changes nothing the throttle sees).
      this.lastSignature = '';
      this.lastRefs = [];
      this.persist('active');
      this.ordersAtStop = ordersInFlight(this.actor.getPersistedSnapshot());
    }
    this.actor.stop();
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
