/** Spot–futures (basis) hedging as the engine knows it. */
import type { Instrument, Market } from '../../../src/domain/index.ts';
import { defineStrategyKind, legSpreadBps, restOnlyMigration } from '../kit/kind.ts';
import { mid, type Quote } from '../kit/quotes.ts';
import {
  type SpotFuturesContext,
  spotFuturesMachine,
  spotFuturesQuoteCanDecide,
  validateSpotFuturesParams,
} from './machine.ts';
import { type SpotFuturesParams, spotFuturesParamsSchema } from './params.ts';

export const spotFuturesKind = defineStrategyKind<SpotFuturesParams, SpotFuturesContext>({
  kind: 'spot-futures',
  summary: 'basis / cash-and-carry: long spot, short perp (or the reverse) while the basis pays',
  machine: spotFuturesMachine,
  version: 2,
  // Version 2: executions converge on target positions, and exposure they cannot close goes to
  // needsAttention. A snapshot at rest carries over as it is (the new fields are optional).
  migrations: { 1: restOnlyMigration('spot-futures', 1, ['entering', 'exiting', 'correctingDelta']) },
  paramsSchema: spotFuturesParamsSchema,
  instruments: (p) => [p.spot, p.perp],
  input: (id, p, market: (i: Instrument) => Market) => {
    const markets = { spot: market(p.spot), perp: market(p.perp) };
    validateSpotFuturesParams(p, markets);
    return { id, params: p, markets };
  },
  legs: (c) => [c.legs.spot, c.legs.perp],
  marks: (c) => [mid(c.quotes.spot), mid(c.quotes.perp)],
  cycles: (c) => c.completedCycles,
  rest: ['starting', 'watching', 'holding', 'cooldown', 'needsAttention', 'completed', 'stopped'],
  volatile: ['quotes', 'now', 'fundingRate'],
  terminal: ['completed', 'stopped'],
  quoteGate: {
    legOf: (c, venue, symbol) =>
      venue === c.params.spot.venue && symbol === c.params.spot.symbol
        ? 'spot'
        : venue === c.params.perp.venue && symbol === c.params.perp.symbol
          ? 'perp'
          : undefined,
    canDecide: (c, state, q: Record<string, Quote | undefined>, now, horizonMs) =>
      spotFuturesQuoteCanDecide(c, state, { spot: q.spot, perp: q.perp }, now, horizonMs),
  },
  risk: { cap: ['maxPositionNotional'], floor: { param: 'minEntryBasisBps', perMarginBps: 1 } },
  // The perp over spot.
  signal: { name: 'basis bps', bps: legSpreadBps },
});
