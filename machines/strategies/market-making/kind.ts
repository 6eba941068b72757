/** Market making as the engine knows it. */
import type { Instrument, Market } from '../../../src/domain/index.ts';
import { defineStrategyKind } from '../kit/kind.ts';
import { mid } from '../kit/quotes.ts';
import { type MarketMakerContext, marketMakerMachine, validateMarketMakerParams } from './machine.ts';
import { type MarketMakerParams, marketMakingParamsSchema } from './params.ts';

export const marketMakingKind = defineStrategyKind<MarketMakerParams, MarketMakerContext>({
  kind: 'market-making',
  summary: 'a skewed ladder of bids and asks around mid or micro-price with inventory limits',
  machine: marketMakerMachine,
  version: 1,
  paramsSchema: marketMakingParamsSchema,
  instruments: (p) => [p.market],
  input: (id, p, market: (i: Instrument) => Market) => {
    const m = market(p.market);
    validateMarketMakerParams(p, m);
    return { id, params: p, market: m };
  },
  legs: (c) => [c.leg],
  marks: (c) => [mid(c.quote)],
  cycles: () => undefined,
  rest: ['quoting', 'stopped'],
  restsQuotes: true,
  volatile: ['quote', 'now'],
  terminal: ['stopped'],
  // A maker earns its half-spread on each side, so a round trip's margin is 2 × spreadBps.
  risk: { cap: ['maxPositionNotional'], floor: { param: 'spreadBps', perMarginBps: 0.5 } },
});
