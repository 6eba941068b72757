/**
 * A machine definition as a graph the inspector page can lay out: nested states (with their
 * type) and every transition that has a target, labelled with its event and guard.
 */
import type { AnyStateMachine } from 'xstate';

export interface GraphNode {
  id: string;
  key: string;
  type: 'atomic' | 'compound' | 'parallel' | 'final' | 'history';
  /** Id of the initial child (compound states). */
  initial?: string;
  children: GraphNode[];
  /** Events handled without a state change (context updates only). */
  internalEvents: string[];
  /** Actors invoked while in this state. */
  invokes: string[];
}

export interface GraphEdge {
  id: string;
  source: string;
  target: string;
  /** Event type; '' for eventless (`always`) transitions; done/error events of invoked actors as XState names them. */
  event: string;
  guard?: string;
}

export interface MachineGraph {
  id: string;
  root: GraphNode;
  edges: GraphEdge[];
}

interface TransitionLike {
  eventType: string;
  guard?: unknown;
  target?: { id: string }[];
}

interface StateNodeLike {
  id: string;
  key: string;
  type: GraphNode['type'];
  states: Record<string, StateNodeLike>;
  initial?: { target?: { id: string }[] };
  transitions: Map<string, TransitionLike[]>;
  always?: TransitionLike[];
  invoke?: { src: unknown; id?: string }[];
}

function guardName(g: unknown): string | undefined {
  if (g === undefined || g === null) return undefined;
  if (typeof g === 'string') return g;
  if (typeof g === 'function') return g.name || 'guard';
  if (typeof g === 'object' && 'type' in g) return String((g as { type: unknown }).type);
  return 'guard';
}

/** A readable event label: `xstate.done.actor.entry` → `done: entry`. */
export function eventLabel(event: string): string {
  if (event === '') return 'always';
  const done = /^xstate\.done\.actor\.(.+)$/.exec(event);
  if (done) return `done: ${done[1]}`;
  const err = /^xstate\.error\.actor\.(.+)$/.exec(event);
  if (err) return `error: ${err[1]}`;
  return event;
}

export function machineGraph(machine: AnyStateMachine): MachineGraph {
  const edges: GraphEdge[] = [];
  const walk = (n: StateNodeLike): GraphNode => {
    const internal: string[] = [];
    const add = (t: TransitionLike) => {
      const guard = guardName(t.guard);
      if (!t.target || t.target.length === 0) {
        if (!internal.includes(t.eventType)) internal.push(t.eventType);
        return;
      }
      for (const target of t.target)
        edges.push({
          id: `e${edges.length}`,
          source: n.id,
          target: target.id,
          event: t.eventType,
          ...(guard ? { guard } : {}),
        });
    };
    for (const list of n.transitions.values()) for (const t of list) add(t);
    for (const t of n.always ?? []) add(t);
    const initial = n.initial?.target?.[0]?.id;
    return {
      id: n.id,
      key: n.key,
      type: n.type,
      ...(initial ? { initial } : {}),
      children: Object.values(n.states ?? {}).map(walk),
      internalEvents: internal,
      invokes: (n.invoke ?? []).map((i) => (typeof i.src === 'string' ? i.src : (i.id ?? 'actor'))),
    };
  };
  const root = walk(machine.root as unknown as StateNodeLike);
  return { id: machine.id, root, edges };
}

/** The ids of the active state nodes for a snapshot's state value (`{ a: { b: 'c' } }` → root, a, a.b, a.b.c). */
export function activeStateIds(rootId: string, value: unknown): string[] {
  const out = [rootId];
  const walk = (prefix: string, v: unknown) => {
    if (typeof v === 'string') {
      out.push(`${prefix}.${v}`);
      return;
    }
    if (v && typeof v === 'object')
      for (const [k, sub] of Object.entries(v)) {
        out.push(`${prefix}.${k}`);
        walk(`${prefix}.${k}`, sub);
      }
  };
  walk(rootId, value);
  return out;
}
