/** The params of cross-exchange arbitrage, as a config writes them: the one source of their type. */
import { z } from 'zod';
import { instrumentSchema, maxCount, nonneg, pos } from '../kit/params.ts';

export const crossArbitrageParamsSchema = z.strictObject({
  venueA: instrumentSchema.describe('the spot pair on the first venue'),
  venueB: instrumentSchema.describe('the same pair on the second venue'),
  minProfitBps: z.number().describe('net edge after both taker fees and slippage, bps'),
  slippageBps: nonneg().default(1).describe('expected slippage per leg, bps'),
  maxNotional: pos().describe('largest notional per execution, quote currency'),
  maxBalanceFraction: z
    .number()
    .positive()
    .max(1)
    .default(0.5)
    .describe('use at most this fraction of a venue’s free balance'),
  staleAfterMs: pos().default(2_000).describe('quotes older than this block executions, ms'),
  maxExecutions: maxCount('executions before completed'),
  cooldownMs: nonneg().default(1_000).describe('pause after an execution, ms'),
  toleranceBase: nonneg()
    .default(0.001)
    .describe('residual base imbalance accepted after an execution, base units'),
});

export type CrossArbitrageParams = z.output<typeof crossArbitrageParamsSchema>;
