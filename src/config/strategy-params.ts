/**
 * The parameter schemas of the four strategy kinds, as users write them in a config file.
 * Defaults fill the knobs most people leave alone; the machines' own validation (against the
 * loaded markets: precision, min notional) still runs when a strategy is added.
 */
import { z } from 'zod';
import { parseSymbol } from '../domain/index.ts';

const symbol = z.string().refine(
  (s) => {
    try {
      parseSymbol(s);
      return true;
    } catch {
      return false;
    }
  },
  { message: 'not a ccxt unified symbol (BTC/USDT, BTC/USDT:USDT, BTC/USDT:USDT-261225)' },
);

export const instrumentSchema = z
  .strictObject({
    venue: z.string().min(1).describe('venue name as configured under venues'),
    symbol: symbol.describe('ccxt unified symbol'),
  })
  .describe('an instrument: { venue, symbol }');

const pos = () => z.number().positive();
const nonneg = () => z.number().nonnegative();

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
  maxCycles: z
    .number()
    .int()
    .nonnegative()
    .default(0)
    .describe('stop after this many cycles (0 = until stopped)'),
  cooldownMs: nonneg().default(5_000).describe('pause between an exit and the next entry, ms'),
});

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
  maxCycles: z
    .number()
    .int()
    .nonnegative()
    .default(0)
    .describe('stop after this many cycles (0 = until stopped)'),
  cooldownMs: nonneg().default(5_000).describe('pause between an exit and the next entry, ms'),
});

export const marketMakingParamsSchema = z.strictObject({
  market: instrumentSchema.describe('the instrument quoted'),
  orderAmount: pos().describe('base units per order'),
  levels: z.number().int().min(1).max(5).default(1).describe('orders per side'),
  spreadBps: pos().describe('distance of the first level from the reference price, bps'),
  levelSpacingBps: nonneg().default(2).describe('extra distance per further level, bps'),
  reference: z
    .enum(['mid', 'micro'])
    .default('mid')
    .describe('reference price: mid or size-weighted micro-price'),
  inventorySkewBpsPerUnit: nonneg()
    .default(0)
    .describe('shift of both quotes per base unit of inventory, bps'),
  maxInventoryBase: pos().describe('no more bids at +limit, no more asks at −limit, base units'),
  refreshToleranceBps: nonneg()
    .default(1)
    .describe('replace an order when its desired price moved more than this, bps'),
  minOrderAgeMs: nonneg()
    .default(500)
    .describe('never cancel an order younger than this for a price move, ms'),
  staleAfterMs: pos().default(5_000).describe('quotes older than this pause quoting, ms'),
  rejectBackoffMs: nonneg().default(1_000).describe('pause of a slot after the venue refused its order, ms'),
  maxPositionNotional: pos().default(50_000).describe('largest inventory notional, quote currency'),
});

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
  maxExecutions: z
    .number()
    .int()
    .nonnegative()
    .default(0)
    .describe('executions before completed (0 = until stopped)'),
  cooldownMs: nonneg().default(1_000).describe('pause after an execution, ms'),
  toleranceBase: nonneg()
    .default(0.001)
    .describe('residual base imbalance accepted after an execution, base units'),
});

/** Parameter schema per strategy kind (the keys are the registry's kinds). */
export const PARAMS_SCHEMAS = {
  'spot-futures': spotFuturesParamsSchema,
  'futures-spread': futuresSpreadParamsSchema,
  'market-making': marketMakingParamsSchema,
  'cross-arbitrage': crossArbitrageParamsSchema,
} as const;

export type StrategyKindName = keyof typeof PARAMS_SCHEMAS;

export const KIND_SUMMARIES: Record<StrategyKindName, string> = {
  'spot-futures': 'basis / cash-and-carry: long spot, short perp (or the reverse) while the basis pays',
  'futures-spread':
    'two futures (two venues’ perps, or perp vs dated) when their spread strays from its mean',
  'market-making': 'a skewed ladder of bids and asks around mid or micro-price with inventory limits',
  'cross-arbitrage':
    'buy on one venue, sell on the other at once (IOC) when the books cross by more than fees',
};
