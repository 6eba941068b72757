/**
 * What a strategy kind is, in one descriptor: its machine and version, its parameter schema (the
 * one source of the params' TypeScript type), what it trades and locks, where its books are, which
 * states are at rest, how portfolio risk tightens it, the signal a backtest charts, and the quote
 * gate that spares the machine quotes it cannot act on. Everything above the machines — engine,
 * config, CLI, backtest, status — asks the kind; nothing switches on kind ids.
 */
import type { AnyStateMachine } from 'xstate';
import type { z } from 'zod';
import { type Instrument, instrumentKey, type Market } from '../../../src/domain/index.ts';
import type { LegBook } from '../../accounting.ts';
import type { Quote } from './quotes.ts';
import { stateName } from './state-name.ts';

/** Plain-code filter of the quotes a machine needs (src/actors/quote-gate.ts). */
export interface QuoteGateSpec<C = never> {
  /** The context's leg name for an instrument, e.g. 'spot' or 'perp'; undefined: not gated. */
  legOf(context: C, venue: string, symbol: string): string | undefined;
  /** `horizonMs`: time-driven rules must be reported that far ahead (a tick may fire them first). */
  canDecide(
    context: C,
    state: string,
    quotes: Record<string, Quote | undefined>,
    now: number,
    horizonMs: number,
  ): boolean;
}

export interface StrategyKind<P, C> {
  /** The id configs name (`kind: spot-futures`). */
  kind: string;
  /** One line for `statearb strategies` and the config reference. */
  summary: string;
  machine: AnyStateMachine;
  /** Bumped when a change to the machine would break old snapshots (renamed states or actors). */
  version: number;
  /** Snapshot migrations: `migrations[v]` turns a version-v snapshot into v + 1. */
  migrations?: Record<number, (snapshot: unknown) => unknown>;
  /** The params as a config writes them; defaults filled, every field described. */
  paramsSchema: z.ZodType<P>;
  /** Instruments the strategy trades (locked for its lifetime). */
  instruments(params: P): Instrument[];
  /** Validate params against markets and build the machine input; throws InvalidParamsError. */
  input(id: string, params: P, market: (i: Instrument) => Market): unknown;
  legs(context: C): LegBook[];
  /** Mark price for each leg (same order as legs), 0 when unknown. */
  marks(context: C): number[];
  /**
   * The prices the kind values its legs at, from each leg's own mark (default: those marks).
   * The one valuation every PnL view uses — status, reports, risk — and the machine itself.
   */
  valuation?: (legMarks: number[]) => number[];
  /** Cycles (or executions) completed, for status and reports; undefined: the kind has none. */
  cycles(context: C): number | undefined;
  /** States with nothing in flight: a graceful shutdown waits for one of these. */
  rest: string[];
  /**
   * Leaves orders resting on the book between decisions (a maker's quotes), which its pause
   * cancels: engine.onShutdown decides whether a graceful shutdown pauses it.
   */
  restsQuotes?: boolean;
  /** Context keys that change with every quote: a change only there is persisted lazily. */
  volatile: string[];
  terminal: string[];
  /** Plain-code filter of the quotes the machine needs; none: all. */
  quoteGate?: QuoteGateSpec<C>;
  /**
   * How portfolio limits tighten the params: `cap` are the position-size params that
   * risk.maxPositionSizeUsd lowers, `floor` the profit-margin param risk.minProfitMarginBps
   * raises (`perMarginBps` of it per bp of margin: a maker earns half the round trip per side).
   */
  risk: { cap: (keyof P & string)[]; floor?: { param: keyof P & string; perMarginBps: number } };
  /** What a backtest charts for it from its legs' mids, bps; none: price and PnL only. */
  signal?: { name: string; bps(legMids: number[]): number | null };
}

/** A kind as the engine holds it: params and context erased (the kind's own code is typed). */
export type AnyStrategyKind = Omit<StrategyKind<never, never>, 'paramsSchema' | 'risk'> & {
  paramsSchema: z.ZodType;
  risk: { cap: string[]; floor?: { param: string; perMarginBps: number } };
};

/** A kind typed by its params and context, erased for the catalogue that holds every kind. */
export function defineStrategyKind<P, C>(kind: StrategyKind<P, C>): AnyStrategyKind {
  return kind as unknown as AnyStrategyKind;
}

/** The symbol locks a strategy on these instruments holds. */
export function lockKeys(instruments: Instrument[]): string[] {
  return [...new Set(instruments.map(instrumentKey))];
}

/** B over A in bps (the second leg's mid over the first's), null without both. */
export function legSpreadBps([a, b]: number[]): number | null {
  if (!a || !b || !(a > 0) || !(b > 0)) return null;
  return ((b - a) / a) * 1e4;
}

/**
 * A version step that carries a snapshot at rest over as it is and refuses one taken while an
 * execution was in flight (`inFlight` states): the new version cannot continue the old one's.
 */
export function restOnlyMigration(kind: string, fromVersion: number, inFlight: string[]) {
  return (snapshot: unknown): unknown => {
    const state = stateName((snapshot as { value?: unknown }).value);
    if (inFlight.includes(state))
      throw new Error(
        `${kind} snapshot of version ${fromVersion} was taken in '${state}' with an execution in flight; version ${fromVersion + 1} executes differently — let it finish on the old version (a graceful stop waits for it) or resolve its orders by hand`,
      );
    return snapshot;
  };
}
