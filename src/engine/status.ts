/**
 * What the engine reports of itself: each strategy's money figures and state, the locks, the
 * portfolio risk, the persistence counters, and this node when several share the store. Read by
 * the CLI's status table, the inspector, /metrics and backtest reports.
 */
import type { Attention } from '../../machines/strategies/kit/attention.ts';
import type { SnapshotStore } from '../store/types.ts';
import type { NodeView } from './cluster.ts';
import { type StrategyFigures, strategyFigures } from './figures.ts';
import type { AttentionLeg } from './position-check.ts';
import type { RiskView } from './risk.ts';
import { liveOrders } from './snapshots.ts';
import type { StrategyHost, WriteStats } from './strategy-host.ts';

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
  node?: NodeView;
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

/** What status, the inspector and reports show of a strategy's needs-attention record. */
export function attentionView(a: Attention): NonNullable<StrategyStatusView['attention']> {
  return {
    reason: a.reason,
    since: a.since,
    legs: a.legs,
    unknownOrders: a.unknownOrders.map((u) => `${u.venue} ${u.clientOrderId}`),
  };
}

export function strategyStatus(host: StrategyHost): StrategyStatusView {
  const s = host.actor.getSnapshot() as {
    value: unknown;
    context: { lastError?: unknown; attention?: Attention };
  };
  return {
    id: host.id,
    kind: host.kind.kind,
    state: host.state,
    instruments: host.instruments,
    ...strategyFigures(host.kind, s.context),
    openOrders: host.done ? [] : (host.ordersAtStop ?? liveOrders(host.actor.getPersistedSnapshot())),
    lastError: s.context.lastError,
    halted: host.halted,
    ...(s.context.attention ? { attention: attentionView(s.context.attention) } : {}),
    lastTransitionAt: host.lastTransitionAt,
  };
}

export function engineStatus(parts: {
  hosts: Iterable<StrategyHost>;
  node: NodeView | undefined;
  store: SnapshotStore;
  risk: RiskView;
  writes: WriteStats;
}): EngineStatus {
  const strategies: StrategyStatusView[] = [];
  const counts = { active: 0, completed: 0, stopped: 0, failed: 0 };
  for (const host of parts.hosts) {
    const view = strategyStatus(host);
    if (!host.done) counts.active++;
    else if (view.state === 'completed') counts.completed++;
    else if (view.state === 'failed' || host.actor.getSnapshot().status === 'error') counts.failed++;
    else counts.stopped++;
    strategies.push(view);
  }
  return {
    ...(parts.node ? { node: parts.node } : {}),
    strategies,
    locks: parts.store.locks(),
    risk: parts.risk,
    persistence: {
      ...counts,
      quarantined: parts.store.listQuarantined().length,
      writes: parts.writes.writes,
      failedWrites: parts.writes.failedWrites,
      lastWriteMicros: parts.writes.lastWriteMicros,
    },
  };
}
