/** The params of spot–futures (basis) hedging, as a config writes them: the one source of their type. */
import { z } from 'zod';
import { instrumentSchema, maxCount, nonneg, pos } from '../kit/params.ts';

export const spotFuturesParamsSchema = z.strictObject({
  spot: instrumentSchema.describe('the spot leg'),
  perp: instrumentSchema.describe('the perpetual (or dated future) leg'),
  amount: pos().describe('base units per cycle, e.g. 0.05 BTC'),
  direction: z
    .enum(['long-spot', 'short-spot'])
    .default('long-spot')
    .describe(
      'long-spot: buy spot, sell perp when the perp is rich; short-spot: the reverse (needs spot inventory)',
    ),
  minEntryBasisBps: z
    .number()
    .describe('enter when the basis net of round-trip fees and slippage exceeds this, bps'),
  exitBasisBps: z
    .number()
    .default(0)
    .describe('exit when the basis in the position’s favour falls to this or below, bps'),
  maxEntryCostPct: pos()
    .default(0.5)
    .describe('entry fees + expected slippage must stay under this, % of notional'),
  slippageBps: nonneg().default(1).describe('expected slippage per leg, bps'),
  maxHoldingHours: pos().default(72).describe('exit after holding this long, hours'),
  maxAdverseFundingHours: pos()
    .default(24)
    .describe('exit when funding has been against the position this long, hours'),
  deltaToleranceBase: nonneg().default(0.001).describe('net delta accepted before rebalancing, base units'),
  staleAfterMs: pos().default(5_000).describe('quotes older than this block entries, ms'),
  maxPositionNotional: pos().default(100_000).describe('largest notional per leg, quote currency'),
  maxCycles: maxCount('stop after this many cycles'),
  cooldownMs: nonneg().default(5_000).describe('pause between an exit and the next entry, ms'),
});

export type SpotFuturesParams = z.output<typeof spotFuturesParamsSchema>;
