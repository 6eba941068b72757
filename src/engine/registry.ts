/**
 * The strategy kinds the engine can run: machine, version, how to validate params against the
 * loaded markets, which instruments to lock, and where each leg's position is in the context.
 */
import type { AnyStateMachine } from 'xstate';
import type { LegBook } from '../../machines/accounting.ts';
import { mid, type Quote } from '../../machines/strategies/common.ts';
import {
  type CrossArbitrageContext,
  type CrossArbitrageParams,
  crossArbitrageMachine,
  crossArbitrageMarks,
  validateCrossArbitrageParams,
} from '../../machines/strategies/cross-arbitrage.ts';
import {
  type FuturesSpreadContext,
  type FuturesSpreadParams,
  futuresSpreadMachine,
  validateFuturesSpreadParams,
} from '../../machines/strategies/futures-spread.ts';
import {
  type MarketMakerContext,
  type MarketMakerParams,
  marketMakerMachine,
  validateMarketMakerParams,
} from '../../machines/strategies/market-maker.ts';
import {
  type SpotFuturesContext,
  type SpotFuturesParams,
  spotFuturesMachine,
  spotFuturesQuoteCanDecide,
  validateSpotFuturesParams,
} from '../../machines/strategies/spot-futures.ts';
import type { QuoteGateSpec } from '../actors/quote-gate.ts';
import type { Instrument, Market } from '../domain/index.ts';
import { instrumentKey } from '../domain/index.ts';
import { stateName } from '../util/state-name.ts';

/**
 * Version 1 → 2 of the hedging kinds: executions converge on target positions (a new hedged-pair
 * machine) and exposure they cannot close goes to `needsAttention`. A snapshot at rest carries
 * over as it is (the new context fields are optional); one taken while an execution of the old
 * pair was in flight cannot be continued by the new one and is refused with the reason — stop
 * the engine gracefully (it waits for rest states) before upgrading.
 */
function restOnlyMigration(kind: string, inFlight: string[]) {
  return (snapshot: unknown): unknown => {
    const state = stateName((snapshot as { value?: unknown }).value);
    if (inFlight.includes(state))
      throw new Error(
        `${kind} snapshot of version 1 was taken in '${state}' with an execution in flight; version 2 executes differently — let it finish on the old version (a graceful stop waits for it) or resolve its orders by hand`,
      );
    return snapshot;
  };
}

export interface StrategyKind {
  kind: string;
  machine: AnyStateMachine;
  /** Bumped when a change to the machine would break old snapshots (renamed states or actors). */
  version: number;
  /** Built-in snapshot migrations: `migrations[v]` turns a version-v snapshot into v + 1. */
  migrations?: Record<number, (snapshot: unknown) => unknown>;
  /** Instruments the strategy trades (locked for its lifetime). */
  instruments(params: never): Instrument[];
  /** Validate params against markets and build the machine input; throws InvalidParamsError. */
  input(id: string, params: never, market: (i: Instrument) => Market): unknown;
  legs(context: never): LegBook[];
  /** Mark price for each leg (same order as legs), 0 when unknown. */
  marks(context: never): number[];
  /**
   * The prices the kind values its legs at, from each leg's own mark (default: those marks).
   * The one valuation every PnL view uses — status, reports, risk — and the machine itself.
   */
  valuation?: (legMarks: number[]) => number[];
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
  /** Plain-code filter of the quotes the machine needs (src/actors/quote-gate.ts); none: all. */
  quoteGate?: QuoteGateSpec;
}

const spotFutures: StrategyKind = {
  kind: 'spot-futures',
  machine: spotFuturesMachine,
  version: 2,
  migrations: { 1: restOnlyMigration('spot-futures', ['entering', 'exiting', 'correctingDelta']) },
  instruments: (p: SpotFuturesParams) => [p.spot, p.perp],
  input: (id: string, p: SpotFuturesParams, market: (i: Instrument) => Market) => {
    const markets = { spot: market(p.spot), perp: market(p.perp) };
    validateSpotFuturesParams(p, markets);
    return { id, params: p, markets };
  },
  legs: (c: SpotFuturesContext) => [c.legs.spot, c.legs.perp],
  marks: (c: SpotFuturesContext) => [mid(c.quotes.spot), mid(c.quotes.perp)],
  rest: ['starting', 'watching', 'holding', 'cooldown', 'needsAttention', 'completed', 'stopped'],
  volatile: ['quotes', 'now', 'fundingRate'],
  terminal: ['completed', 'stopped'],
  quoteGate: {
    legOf: (c: SpotFuturesContext, venue: string, symbol: string) =>
      venue === c.params.spot.venue && symbol === c.params.spot.symbol
        ? 'spot'
        : venue === c.params.perp.venue && symbol === c.params.perp.symbol
          ? 'perp'
          : undefined,
    canDecide: (
      c: SpotFuturesContext,
      state: string,
      q: Record<string, Quote | undefined>,
      now: number,
      horizonMs: number,
    ) => spotFuturesQuoteCanDecide(c, state, { spot: q.spot, perp: q.perp }, now, horizonMs),
  },
} as unknown as StrategyKind;

const futuresSpread: StrategyKind = {
  kind: 'futures-spread',
  machine: futuresSpreadMachine,
  version: 2,
  migrations: { 1: restOnlyMigration('futures-spread', ['entering', 'exiting']) },
  instruments: (p: FuturesSpreadParams) => [p.legA, p.legB],
  input: (id: string, p: FuturesSpreadParams, market: (i: Instrument) => Market) => {
    const markets = { legA: market(p.legA), legB: market(p.legB) };
    validateFuturesSpreadParams(p, markets);
    return { id, params: p, markets };
  },
  legs: (c: FuturesSpreadContext) => [c.legs.legA, c.legs.legB],
  marks: (c: FuturesSpreadContext) => [mid(c.quotes.legA), mid(c.quotes.legB)],
  rest: ['warmingUp', 'watching', 'holding', 'cooldown', 'needsAttention', 'completed', 'stopped'],
  volatile: ['quotes', 'now', 'stats'],
  terminal: ['completed', 'stopped'],
} as unknown as StrategyKind;

const marketMaking: StrategyKind = {
  kind: 'market-making',
  machine: marketMakerMachine,
  version: 1,
  instruments: (p: MarketMakerParams) => [p.market],
  input: (id: string, p: MarketMakerParams, market: (i: Instrument) => Market) => {
    const m = market(p.market);
    validateMarketMakerParams(p, m);
    return { id, params: p, market: m };
  },
  legs: (c: MarketMakerContext) => [c.leg],
  marks: (c: MarketMakerContext) => [mid(c.quote)],
  rest: ['quoting', 'stopped'],
  restsQuotes: true,
  volatile: ['quote', 'now'],
  terminal: ['stopped'],
} as unknown as StrategyKind;

const crossArbitrage: StrategyKind = {
  kind: 'cross-arbitrage',
  machine: crossArbitrageMachine,
  version: 2,
  migrations: { 1: restOnlyMigration('cross-arbitrage', ['opportunity', 'executing']) },
  instruments: (p: CrossArbitrageParams) => [p.venueA, p.venueB],
  input: (id: string, p: CrossArbitrageParams, market: (i: Instrument) => Market) => {
    const markets = { A: market(p.venueA), B: market(p.venueB) };
    validateCrossArbitrageParams(p, markets);
    return { id, params: p, markets };
  },
  legs: (c: CrossArbitrageContext) => [c.legs.A, c.legs.B],
  marks: (c: CrossArbitrageContext) => [mid(c.quotes.A), mid(c.quotes.B)],
  valuation: crossArbitrageMarks,
  rest: ['idle', 'detecting', 'cooldown', 'recovering', 'needsAttention', 'completed', 'stopped'],
  volatile: ['quotes', 'now'],
  terminal: ['completed', 'stopped'],
} as unknown as StrategyKind;

export const STRATEGY_KINDS: Record<string, StrategyKind> = {
  'spot-futures': spotFutures,
  'futures-spread': futuresSpread,
  'market-making': marketMaking,
  'cross-arbitrage': crossArbitrage,
};

export function lockKeys(instruments: Instrument[]): string[] {
  return [...new Set(instruments.map(instrumentKey))];
}
