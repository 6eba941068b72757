/**
 * Model-based path coverage: @xstate/graph walks a machine's pure transition function over an
 * event alphabet; every state node and every transition must be reached by some generated path,
 * and the state's invariant is asserted at every step of every path.
 */
import { getAdjacencyMap, getShortestPaths } from '@xstate/graph';
import type { AnyMachineSnapshot, AnyStateMachine, EventObject } from 'xstate';

interface StateNodeLike {
  id: string;
  states: Record<string, StateNodeLike>;
  transitions: Map<string, { eventType: string; target?: readonly StateNodeLike[]; guard?: unknown }[]>;
  always?: { target?: readonly StateNodeLike[] }[];
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

/** A state that always leaves at once: its last `always` branch has no guard. */
function isTransient(n: StateNodeLike): boolean {
  const a = n.always ?? [];
  return (
    a.length > 0 &&
    !(a[a.length - 1] as { guard?: unknown }).guard &&
    n.transitions.size === 0 &&
    Object.keys(n.states).length === 0
  );
}

function activeIds(s: AnyMachineSnapshot): Set<string> {
  return new Set((s as unknown as { _nodes: StateNodeLike[] })._nodes.map((n) => n.id));
}

export interface CoverageOptions<E extends EventObject> {
  input: unknown;
  events: (s: AnyMachineSnapshot) => E[];
  serializeState: (s: AnyMachineSnapshot) => string;
  invariant: (s: AnyMachineSnapshot) => void;
  /** State node ids that cannot be reached by design (documented at the call). */
  unreachable?: string[];
  limit?: number;
}

export interface CoverageReport {
  paths: number;
  states: { total: number; reached: number; missing: string[] };
  transitions: { total: number; reached: number; missing: string[] };
}

export function coverage<E extends EventObject>(
  machine: AnyStateMachine,
  o: CoverageOptions<E>,
): CoverageReport {
  const paths = getShortestPaths(machine, {
    input: o.input,
    events: o.events as never,
    serializeState: o.serializeState as never,
    limit: o.limit ?? 1_000_000,
  });
  const nodes = allNodes(machine.root as unknown as StateNodeLike);
  const reachedStates = new Set<string>();
  const reachedTransitions = new Set<string>();
  const transitionKey = (node: StateNodeLike, i: number, type: string) => `${node.id} --${type}#${i}`;
  const allTransitions: string[] = [];
  for (const n of nodes) {
    for (const [type, list] of n.transitions)
      list.forEach((_, i) => allTransitions.push(transitionKey(n, i, type)));
    (n.always ?? []).forEach((_, i) => allTransitions.push(transitionKey(n, i, 'always')));
  }
  // Every edge of the reachable graph (each is the end of a generated path: the shortest path to
  // its source plus itself), not just the edges on the shortest paths.
  const adj = getAdjacencyMap(machine, {
    input: o.input,
    events: o.events as never,
    serializeState: o.serializeState as never,
    limit: o.limit ?? 1_000_000,
  }) as Record<
    string,
    {
      state: AnyMachineSnapshot;
      transitions: Record<string, { event: EventObject; state: AnyMachineSnapshot }>;
    }
  >;
  const steps: { prev: AnyMachineSnapshot; event: EventObject; state: AnyMachineSnapshot }[] = [];
  for (const v of Object.values(adj)) {
    o.invariant(v.state);
    for (const t of Object.values(v.transitions))
      steps.push({ prev: v.state, event: t.event, state: t.state });
  }
  for (const first of Object.values(adj)) {
    for (const id of activeIds(first.state)) reachedStates.add(id);
  }
  for (const step of steps) {
    {
      const s = step.state;
      o.invariant(s);
      const now = activeIds(s);
      for (const id of now) reachedStates.add(id);
      const prev: AnyMachineSnapshot | undefined = step.prev;
      if (prev) {
        const before = activeIds(prev);
        const enteredTransient = (target: StateNodeLike): void => {
          // A transient state (left by `always` in the same macrostep) is never in a snapshot:
          // it counts as reached when a transition targets it, and its branch by where we landed.
          if (!isTransient(target)) return;
          reachedStates.add(target.id);
          const branches = target.always ?? [];
          const i = branches.findIndex((b) => (b.target ?? []).every((tg) => now.has(tg.id)));
          if (i >= 0) {
            reachedTransitions.add(transitionKey(target, i, 'always'));
            for (const tg of branches[i]!.target ?? []) enteredTransient(tg);
          }
        };
        for (const n of nodes) {
          if (!before.has(n.id)) continue;
          const list = n.transitions.get(step.event.type) ?? [];
          list.forEach((t, i) => {
            const targets = t.target ?? [];
            if (targets.every((tg) => now.has(tg.id) || isTransient(tg))) {
              reachedTransitions.add(transitionKey(n, i, step.event.type));
              for (const tg of targets) enteredTransient(tg);
            }
          });
        }
        // Eventless transitions of stable states that fired during this step.
        for (const n of nodes) {
          if (isTransient(n) || (!now.has(n.id) && !before.has(n.id))) continue;
          (n.always ?? []).forEach((t, i) => {
            const targets = t.target ?? [];
            if (
              targets.length > 0 &&
              targets.some((tg) => (now.has(tg.id) && !before.has(tg.id)) || isTransient(tg))
            ) {
              reachedTransitions.add(transitionKey(n, i, 'always'));
              for (const tg of targets) enteredTransient(tg);
            }
          });
        }
      }
    }
  }
  const unreachable = new Set(o.unreachable ?? []);
  const missingStates = nodes.map((n) => n.id).filter((id) => !reachedStates.has(id) && !unreachable.has(id));
  const missingTransitions = allTransitions.filter(
    (k) => !reachedTransitions.has(k) && ![...unreachable].some((u) => k.startsWith(`${u} --`)),
  );
  return {
    paths: paths.length,
    states: { total: nodes.length, reached: nodes.length - missingStates.length, missing: missingStates },
    transitions: {
      total: allTransitions.length,
      reached: allTransitions.length - missingTransitions.length,
      missing: missingTransitions,
    },
  };
}
