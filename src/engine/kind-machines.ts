/**
 * Each kind's machine with the engine's actors provided — built once per kind (`provide()`
 * rebuilds the whole state-node tree) — and each strategy's quote gate, found by its actor
 * system when the shared quote and tick actors deliver.
 */
import type { AnyActorRef, AnyStateMachine } from 'xstate';
import type { AnyStrategyKind } from '../../machines/strategies/index.ts';
import type { bindActors } from '../actors/bind.ts';
import type { createExchangeActors } from '../actors/exchange-actors.ts';
import { QuoteGate } from '../actors/quote-gate.ts';

export class KindMachines {
  private readonly machines = new Map<string, AnyStateMachine>();
  private readonly gates = new WeakMap<object, QuoteGate>();

  constructor(
    private readonly actors: ReturnType<typeof bindActors>,
    private readonly exchange: ReturnType<typeof createExchangeActors>,
    /** Filter quotes in plain code before the machines (kinds with a gate). */
    private readonly quoteGating: boolean,
  ) {}

  machineFor(kind: AnyStrategyKind): AnyStateMachine {
    let m = this.machines.get(kind.kind);
    if (!m) {
      const gateOf = (system: unknown) => this.gates.get(system as object);
      m = kind.machine.provide({
        actors: this.gated(kind)
          ? {
              ...this.actors,
              watchQuotes: this.exchange.watchQuotesWith((system) => {
                const gate = gateOf(system);
                return gate ? (q, send) => gate.offer(q, send) : undefined;
              }),
              clockTick: this.exchange.clockTickWith((system) => {
                const gate = gateOf(system);
                return gate ? (now, send) => gate.offerTick(now, send) : undefined;
              }),
            }
          : this.actors,
      });
      this.machines.set(kind.kind, m);
    }
    return m;
  }

  /**
   * A strategy of a kind with a quote gate sees only the quotes that can change a decision: its
   * gate, registered under its actor's system before the actor starts.
   */
  gateStrategy(kind: AnyStrategyKind, actor: AnyActorRef): void {
    if (!this.gated(kind)) return;
    const gate = new QuoteGate(
      kind.quoteGate!,
      () => actor.getSnapshot() as { value: unknown; context: unknown },
    );
    this.gates.set(actor.system, gate);
  }

  private gated(kind: AnyStrategyKind): boolean {
    return Boolean(kind.quoteGate) && this.quoteGating;
  }
}
