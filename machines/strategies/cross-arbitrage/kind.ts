/** Cross-exchange arbitrage as the engine knows it. */
import type { Instrument, Market } from '../../../src/domain/index.ts';
import { defineStrategyKind, legSpreadBps, restOnlyMigration } from '../kit/kind.ts';
import { mid } from '../kit/quotes.ts';
import {
  type CrossArbitrageContext,
  crossArbitrageMachine,
  crossArbitrageMarks,
  validateCrossArbitrageParams,
} from './machine.ts';
import { type CrossArbitrageParams, crossArbitrageParamsSchema } from './params.ts';

export const crossArbitrageKind = defineStrategyKind<CrossArbitrageParams, CrossArbitrageContext>({
  kind: 'cross-arbitrage',
  summary: 'buy on one venue, sell on the other at once (IOC) when the books cross by more than fees',
  machine: crossArbitrageMachine,
  version: 2,
  // Version 2: executions converge on target positions (see spot-futures).
  migrations: { 1: restOnlyMigration('cross-arbitrage', 1, ['opportunity', 'executing']) },
  paramsSchema: crossArbitrageParamsSchema,
  instruments: (p) => [p.venueA, p.venueB],
  input: (id, p, market: (i: Instrument) => Market) => {
    const markets = { A: market(p.venueA), B: market(p.venueB) };
    validateCrossArbitrageParams(p, markets);
    return { id, params: p, markets };
  },
  legs: (c) => [c.legs.A, c.legs.B],
  marks: (c) => [mid(c.quotes.A), mid(c.quotes.B)],
  valuation: crossArbitrageMarks,
  cycles: (c) => c.executions,
  rest: ['idle', 'detecting', 'cooldown', 'recovering', 'needsAttention', 'completed', 'stopped'],
  volatile: ['quotes', 'now'],
  terminal: ['completed', 'stopped'],
  risk: { cap: ['maxNotional'], floor: { param: 'minProfitBps', perMarginBps: 1 } },
  // B over A.
  signal: { name: 'B − A bps', bps: legSpreadBps },
});
