/**
 * Inspection taps: where the strategies' inspection events go (the local inspector,
 * @statelyai/inspect). XState pays for inspection only while an observer is attached — a no-op
 * observer alone halves its event rate — so observers are attached only to the strategies at
 * least one registered tap wants, and removed when none does.
 */
import type { AnyActorRef, InspectionEvent } from 'xstate';
import type { StrategyHost } from './strategy-host.ts';

export interface InspectionTap {
  event(strategyId: string, ev: InspectionEvent, isRoot: boolean): void;
}

export class InspectionTaps {
  /** Registered taps, each with the strategies it wants (undefined: all). */
  private readonly taps = new Map<InspectionTap, ((strategyId: string) => boolean) | undefined>();

  constructor(private readonly hosts: () => Iterable<StrategyHost>) {}

  /** Send events to `tap` from now on, of every strategy or of those `only` accepts; returns the removal. */
  add(tap: InspectionTap, only?: (strategyId: string) => boolean): () => void {
    this.taps.set(tap, only);
    this.refresh();
    return () => {
      this.taps.delete(tap);
      this.refresh();
    };
  }

  /** The observer a strategy about to be created gets, if a tap wants it (`root`: its actor). */
  observerFor(id: string, root: () => AnyActorRef | undefined): ((ev: InspectionEvent) => void) | undefined {
    return this.wanted(id) ? this.dispatcher(id, root) : undefined;
  }

  private wanted(id: string): boolean {
    for (const only of this.taps.values()) if (!only || only(id)) return true;
    return false;
  }

  private refresh(): void {
    for (const host of this.hosts()) {
      const wanted = !host.done && this.wanted(host.id);
      if (wanted && !host.inspection)
        host.inspection = host.actor.system.inspect(this.dispatcher(host.id, () => host.actor));
      else if (!wanted && host.inspection) {
        host.inspection.unsubscribe();
        host.inspection = undefined;
      }
    }
  }

  private dispatcher(id: string, root: () => AnyActorRef | undefined): (ev: InspectionEvent) => void {
    return (ev) => {
      const isRoot = ev.actorRef === root();
      for (const [tap, only] of this.taps) if (!only || only(id)) tap.event(id, ev, isRoot);
    };
  }
}
