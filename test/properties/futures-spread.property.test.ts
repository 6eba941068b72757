import { describe, expect, it } from 'vitest';
import {
  type FuturesSpreadContext,
  futuresSpreadMachine,
} from '../../machines/strategies/futures-spread/machine.ts';
import { checkStrategyProperty, sharedTolerance } from '../../src/testing/property.ts';

const RUNS = Number(process.env.PROPERTY_RUNS ?? 1000);
const PERP = 'BTC/USDT:USDT';

describe('futures–futures spread strategy under random markets, faults and crashes', () => {
  it(`keeps the hedge, the books and both venues in agreement (${RUNS} runs)`, {
    timeout: 180_000,
  }, async () => {
    await checkStrategyProperty<FuturesSpreadContext>(
      {
        kind: 'futures-spread',
        machine: futuresSpreadMachine,
        // Variant 1: leg B's minimum order (0.01) is ten times the delta tolerance.
        variants: 2,
        instruments: (variant) => [
          { venue: 'binance', symbol: PERP, mid: 60_000, halfSpread: 0.05, size: 2 },
          {
            venue: 'bybit',
            symbol: PERP,
            mid: 60_000,
            halfSpread: 0.05,
            size: 2,
            ...(variant === 1 ? { market: { limits: { amount: { min: 0.01 }, cost: { min: 5 } } } } : {}),
          },
        ],
        balances: { USDT: 500_000 },
        input: (w) => ({
          id: 'prop-ff',
          params: {
            legA: { venue: 'binance', symbol: PERP },
            legB: { venue: 'bybit', symbol: PERP },
            amount: 0.5,
            signal: 'bps',
            entryThreshold: 15,
            exitThreshold: 3,
            halfLifeSamples: 400,
            warmupSamples: 4,
            minProfitBps: 0,
            slippageBps: 0,
            stopLossQuote: 300,
            maxHoldingHours: 1,
            deltaToleranceBase: 0.001,
            staleAfterMs: 5_000,
            maxPositionNotional: 100_000,
            maxCycles: 0,
            cooldownMs: 1_000,
          },
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
        minimums: { funded: 1 / 20, holding: 1 / 10, cycled: 0, crashesInFlight: 1 / 40 },
        moveBps: { min: -40, max: 40 },
      },
      RUNS,
    );
  });
});
