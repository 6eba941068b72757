/**
 * The funding-carry kind under the shared property, as a user would test their own kind with
 * `statearb/testing`: random markets, request faults, outages, thin books, crashes with restore
 * from the persisted snapshot, stops — after every step its books equal both venues, at rest it
 * is hedged or in needs attention naming the residual, no client id is used twice.
 *
 *   npx vitest run examples/custom-strategy     (PROPERTY_RUNS=N for more or fewer runs)
 */
import { checkStrategyProperty, sharedTolerance } from 'statearb/testing';
import { describe, expect, it } from 'vitest';
import fundingCarry, { type FundingCarryContext } from './funding-carry.ts';

const RUNS = Number(process.env.PROPERTY_RUNS ?? 300);
const PERP = 'BTC/USDT:USDT';

describe('funding carry under random markets, faults and crashes', () => {
  it(`keeps the hedge and the books equal to both venues (${RUNS} runs)`, { timeout: 180_000 }, async () => {
    await checkStrategyProperty<FundingCarryContext>(
      {
        kind: fundingCarry,
        // Bybit's perp pays 5 bps more per settlement than Binance's: long Binance, short Bybit.
        instruments: [
          { venue: 'binance', symbol: PERP, mid: 60_000, halfSpread: 0.05, size: 2, fundingRate: 0.0001 },
          { venue: 'bybit', symbol: PERP, mid: 60_000, halfSpread: 0.05, size: 2, fundingRate: 0.0006 },
        ],
        balances: { USDT: 500_000 },
        input: (w) => ({
          id: 'prop-carry',
          params: fundingCarry.paramsSchema.parse({
            legA: { venue: 'binance', symbol: PERP },
            legB: { venue: 'bybit', symbol: PERP },
            amount: 0.5,
            minFundingSpreadBps: 3,
            stopLossQuote: 300,
            maxHoldingHours: 0.01,
            cooldownMs: 1_000,
          }),
          markets: { legA: w.market('binance', PERP), legB: w.market('bybit', PERP) },
        }),
        stable: ['warmingUp', 'watching', 'holding', 'cooldown', 'completed', 'stopped', 'failed'],
        checkPositions: (w, c) => {
          expect(c.legs.legA.position).toBeCloseTo(w.sims.binance!.positions([PERP])[0]?.size ?? 0, 9);
          expect(c.legs.legB.position).toBeCloseTo(w.sims.bybit!.positions([PERP])[0]?.size ?? 0, 9);
        },
        netDelta: (c) => c.legs.legA.position + c.legs.legB.position,
        legPositions: (c) => [c.legs.legA, c.legs.legB],
        tolerance: (c, w) => sharedTolerance(w, [c.params.legA, c.params.legB], c.params.deltaToleranceBase),
        interesting: (v, c) => (v === 'holding' ? 'holding' : c.completedCycles > 0 ? 'cycled' : undefined),
        minimums: { holding: 1 / 10, crashesInFlight: 1 / 40 },
        moveBps: { min: -40, max: 40 },
      },
      RUNS,
    );
  });
});
