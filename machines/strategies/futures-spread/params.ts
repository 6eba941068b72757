/** The params of futures–futures spread hedging, as a config writes them: the one source of their type. */
import { z } from 'zod';
import { instrumentSchema, maxCount, nonneg, pos } from '../kit/params.ts';

export const futuresSpreadParamsSchema = z.strictObject({
  legA: instrumentSchema.describe('first future (perp or dated)'),
  legB: instrumentSchema.describe('second future (perp or dated)'),
  amount: pos().describe('base units per leg per cycle'),
  signal: z
    .enum(['zscore', 'bps'])
    .default('zscore')
    .describe('entry signal: EWMA z-score or bps distance from the mean'),
  entryThreshold: pos()
    .default(2)
    .describe('enter when |z| (zscore) or |spread − mean| bps (bps) reaches this'),
  exitThreshold: nonneg().default(0.5).describe('exit when it has come back within this'),
  halfLifeSamples: pos().default(200).describe('EWMA half-life of the spread statistics, in quote updates'),
  warmupSamples: z
    .number()
    .int()
    .positive()
    .default(100)
    .describe('samples needed before the statistics are trusted'),
  minProfitBps: z
    .number()
    .default(2)
    .describe('expected gain must exceed round-trip fees + slippage by this, bps'),
  slippageBps: nonneg().default(1).describe('expected slippage per leg, bps'),
  stopLossQuote: pos()
    .default(1_000)
    .describe('exit when the position’s PnL falls below −this, quote currency'),
  maxHoldingHours: pos().default(24).describe('exit after holding this long, hours'),
  deltaToleranceBase: nonneg().default(0.001).describe('net delta accepted, base units'),
  staleAfterMs: pos().default(5_000).describe('quotes older than this block entries, ms'),
  maxPositionNotional: pos().default(100_000).describe('largest notional per leg, quote currency'),
  maxCycles: maxCount('stop after this many cycles'),
  cooldownMs: nonneg().default(5_000).describe('pause between an exit and the next entry, ms'),
});

export type FuturesSpreadParams = z.output<typeof futuresSpreadParamsSchema>;
