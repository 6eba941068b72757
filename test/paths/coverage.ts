/**
 * Model-based path coverage. @xstate/graph explores a machine's pure transition function over
 * an event alphabet (abstracted by `serializeState`); every edge of that graph is the end of a
 * generated path (the shortest path to its source, then the edge). Each edge is replayed
 * microstep by microstep, and XState's own inspection events say exactly which transitions
 * fired — so eventless and internal transitions, and states left within a macrostep, count too.
 * Every state node and every transition must be reached, and the invariant holds at every
 * microstep of every path.
 */
import { getAdjacencyMap } from '@xstate/graph';
import { type AnyMachineSnapshot, type AnyStateMachine, createEmptyActor, type EventObject } from 'xstate';

interface TransitionLike {
  source: StateNodeLike;
  eventType: string;
}

interface StateNodeLike {
  id: string;
  states: Record<string, StateNodeLike>;
  transitions: Map<string, TransitionLike[]>;
  always?: TransitionLike[];
}

function allNodes(root: StateNodeLike): StateNodeLike[] {
  const out: StateNodeLike[] = [];
  const walk = (n: StateNodeLike) => {
    out.push(n);
    for (const c of Object.values(n.states)) walk(c);
  };
  walk(root);
  return out;
}

function activeIds(s: AnyMachineSnapshot): string[] {
  return (s as unknown as { _nodes: StateNodeLike[] })._nodes.map((n) => n.id);
}

export interface CoverageOptions<E extends EventObject> {
  /** One input, or several whose explorations are united (e.g. a leg with nothing to trade). */
  input: unknown;
  inputs?: unknown[];
  events: (s: AnyMachineSnapshot) => E[];
  serializeState: (s: AnyMachineSnapshot) => string;
  /** Checked on every stable snapshot (stable = true) and every microstep snapshot (stable = false). */
  invariant: (s: AnyMachineSnapshot, stable: boolean) => void;
  limit?: number;
}

export interface CoverageReport {
  /** Distinct abstract states explored (each the end of a shortest generated path). */
  paths: number;
  edges: number;
  states: { total: number; reached: number; missing: string[] };
  transitions: { total: number; reached: number; missing: string[] };
}

export function coverage<E extends EventObject>(
  machine: AnyStateMachine,
  o: CoverageOptions<E>,
): CoverageReport {
  const nodes = allNodes(machine.root as unknown as StateNodeLike);
  const keyOf = new Map<TransitionLike, string>();
  for (const n of nodes) {
    for (const [type, list] of n.transitions) {
      list.forEach((t, i) => {
        keyOf.set(t, `${n.id} --${type}#${i}`);
      });
    }
    (n.always ?? []).forEach((t, i) => {
      keyOf.set(t, `${n.id} --always#${i}`);
    });
  }

  const reachedStates = new Set<string>();
  const reachedTransitions = new Set<string>();
  let taken: TransitionLike[] = [];
  const empty = createEmptyActor();
  const scope = {
    self: empty,
    logger: () => {},
    id: '',
    sessionId: 'coverage',
    defer: () => {},
    system: {
      ...empty.system,
      _sendInspectionEvent: (e: { type: string; _transitions?: TransitionLike[] }) => {
        if (e.type === '@xstate.microstep' && e._transitions) taken.push(...e._transitions);
      },
    },
    stopChild: () => {},
    emit: () => {},
    actionExecutor: () => {},
  };

  const record = (): void => {
    for (const tr of taken) {
      const k = keyOf.get(tr);
      if (k) reachedTransitions.add(k);
      // A transition's source and targets were active, even if only within one macrostep.
      reachedStates.add(tr.source.id);
      for (const t of (tr as { target?: StateNodeLike[] }).target ?? []) reachedStates.add(t.id);
    }
    taken = [];
  };

  let edges = 0;
  let explored = 0;
  for (const input of o.inputs ?? [o.input]) {
    const traversal = {
      input,
      events: o.events as never,
      serializeState: o.serializeState as never,
      limit: o.limit ?? 1_000_000,
    };
    const adj = getAdjacencyMap(machine, traversal) as unknown as Record<
      string,
      { state: AnyMachineSnapshot; transitions: Record<string, { event: EventObject }> }
    >;
    explored += Object.keys(adj).length;
    // The initial macrostep (eventless transitions out of initial states) counts too.
    taken = [];
    machine.getInitialSnapshot(scope as never, input);
    record();
    for (const v of Object.values(adj)) {
      o.invariant(v.state, true);
      for (const id of activeIds(v.state)) reachedStates.add(id);
      for (const t of Object.values(v.transitions)) {
        edges++;
        taken = [];
        const micro = machine.microstep(v.state, t.event, scope as never) as AnyMachineSnapshot[];
        micro.forEach((m, i) => {
          o.invariant(m, i === micro.length - 1);
          for (const id of activeIds(m)) reachedStates.add(id);
        });
        record();
      }
    }
  }
  const allTransitions = [...keyOf.values()];
  const missingStates = nodes.map((n) => n.id).filter((id) => !reachedStates.has(id));
  const missingTransitions = allTransitions.filter((k) => !reachedTransitions.has(k));
  return {
    paths: explored,
    edges,
    states: { total: nodes.length, reached: nodes.length - missingStates.length, missing: missingStates },
    transitions: {
      total: allTransitions.length,
      reached: allTransitions.length - missingTransitions.length,
      missing: missingTransitions,
    },
  };
}
