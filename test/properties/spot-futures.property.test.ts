import { describe, expect, it } from 'vitest';
import {
  type SpotFuturesContext,
  spotFuturesMachine,
} from '../../machines/strategies/spot-futures/machine.ts';
import { checkStrategyProperty, sharedTolerance } from '../../src/testing/property.ts';

const RUNS = Number(process.env.PROPERTY_RUNS ?? 1000);
const SPOT = 'BTC/USDT';
const PERP = 'BTC/USDT:USDT';

describe('spot–futures strategy under random markets, faults and crashes', () => {
  it(`keeps the hedge, the books and the venue in agreement (${RUNS} runs)`, {
    timeout: 180_000,
  }, async () => {
    await checkStrategyProperty<SpotFuturesContext>(
      {
        kind: 'spot-futures',
        machine: spotFuturesMachine,
        // Variant 1: the perp's minimum order (0.01) is ten times the delta tolerance, so residuals
        // between the two can only be traded on the spot leg, or are dust. Variant 2: a thin
        // account at 20× whose spot does not back the perp (separate wallets), so a shock step
        // liquidates the perp and leaves the spot naked.
        variants: 3,
        account: (variant) =>
          variant === 2 ? { balances: { USDT: 33_000 }, leverage: 20, collateralHaircuts: false } : undefined,
        instruments: (variant) => [
          { venue: 'sim', symbol: SPOT, mid: 60_000, halfSpread: 0.5, size: 2 },
          {
            venue: 'sim',
            symbol: PERP,
            mid: 60_000,
            halfSpread: 0.05,
            size: 2,
            ...(variant === 1 ? { market: { limits: { amount: { min: 0.01 }, cost: { min: 5 } } } } : {}),
          },
        ],
        balances: { USDT: 500_000 },
        input: (w) => ({
          id: 'prop-sf',
          params: {
            spot: { venue: 'sim', symbol: SPOT },
            perp: { venue: 'sim', symbol: PERP },
            amount: 0.5,
            direction: 'long-spot',
            minEntryBasisBps: 5,
            exitBasisBps: 2,
            maxEntryCostPct: 1,
            slippageBps: 0,
            maxHoldingHours: 1,
            maxAdverseFundingHours: 8,
            deltaToleranceBase: 0.001,
            staleAfterMs: 5_000,
            maxPositionNotional: 100_000,
            maxCycles: 0,
            cooldownMs: 1_000,
          },
          markets: { spot: w.market('sim', SPOT), perp: w.market('sim', PERP) },
        }),
        stable: ['starting', 'watching', 'holding', 'cooldown', 'completed', 'stopped', 'failed'],
        checkPositions: (w, c) => {
          expect(c.legs.spot.position).toBeCloseTo(w.sims.sim!.balances().BTC?.total ?? 0, 9);
          expect(c.legs.perp.position).toBeCloseTo(w.sims.sim!.positions([PERP])[0]?.size ?? 0, 9);
        },
        netDelta: (c) => c.legs.spot.position + c.legs.perp.position,
        legPositions: (c) => [c.legs.spot, c.legs.perp],
        tolerance: (c, w) => sharedTolerance(w, [c.params.spot, c.params.perp], c.params.deltaToleranceBase),
        interesting: (v, c) => (v === 'holding' ? 'holding' : c.completedCycles > 0 ? 'cycled' : undefined),
        minimums: {
          funded: 1 / 20,
          holding: 1 / 10,
          cycled: 0,
          crashesInFlight: 1 / 20,
          liquidated: 1 / 200,
          deleveraged: 1 / 40,
        },
        moveBps: { min: -40, max: 60 },
      },
      RUNS,
    );
  });
});
