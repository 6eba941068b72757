/** The params of market making, as a config writes them: the one source of their type. */
import { z } from 'zod';
import { instrumentSchema, nonneg, pos } from '../kit/params.ts';

/** Levels per side the machine has slots for (each slot is a parallel region: see machine.ts). */
export const MAX_LEVELS = 3;

export const marketMakingParamsSchema = z.strictObject({
  market: instrumentSchema.describe('the instrument quoted'),
  orderAmount: pos().describe('base units per order'),
  levels: z.number().int().min(1).max(MAX_LEVELS).default(1).describe('orders per side'),
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

export type MarketMakerParams = z.output<typeof marketMakingParamsSchema>;
