import { describe, expect, it } from 'vitest';
import {
  type CrossArbitrageContext,
  crossArbitrageMachine,
} from '../../machines/strategies/cross-arbitrage/machine.ts';
import { checkStrategyProperty, sharedTolerance } from '../../src/testing/property.ts';

const RUNS = Number(process.env.PROPERTY_RUNS ?? 1000);
const SPOT = 'BTC/USDT';
const BAL = { USDT: 100_000, BTC: 2 };

describe('cross-exchange arbitrage under random markets, faults and crashes', () => {
  it(`keeps inventory balanced across venues and the books equal to both accounts (${RUNS} runs)`, {
    timeout: 180_000,
  }, async () => {
    await checkStrategyProperty<CrossArbitrageContext>(
      {
        kind: 'cross-arbitrage',
        machine: crossArbitrageMachine,
        instruments: [
          { venue: 'binance', symbol: SPOT, mid: 60_000, halfSpread: 0.5, size: 0.3 },
          { venue: 'bybit', symbol: SPOT, mid: 60_000, halfSpread: 0.5, size: 0.3 },
        ],
        balances: BAL,
        input: (w) => ({
          id: 'prop-xa',
          params: {
            venueA: { venue: 'binance', symbol: SPOT },
            venueB: { venue: 'bybit', symbol: SPOT },
            minProfitBps: 2,
            slippageBps: 0,
            maxNotional: 20_000,
            maxBalanceFraction: 0.5,
            staleAfterMs: 5_000,
            maxExecutions: 0,
            cooldownMs: 500,
            toleranceBase: 0.00002,
          },
          markets: { A: w.market('binance', SPOT), B: w.market('bybit', SPOT) },
        }),
        stable: ['idle', 'detecting', 'settling', 'cooldown', 'recovering', 'completed', 'stopped', 'failed'],
        checkPositions: (w, c) => {
          expect(c.legs.A.position).toBeCloseTo(w.sims.binance!.balances().BTC!.total - BAL.BTC, 9);
          expect(c.legs.B.position).toBeCloseTo(w.sims.bybit!.balances().BTC!.total - BAL.BTC, 9);
        },
        netDelta: (c) => c.legs.A.position + c.legs.B.position,
        legPositions: (c) => [c.legs.A, c.legs.B],
        tolerance: (c, w) => sharedTolerance(w, [c.params.venueA, c.params.venueB], c.params.toleranceBase),
        interesting: (_v, c) => (c.executions > 0 ? 'executed' : undefined),
        minimums: { executed: 1 / 10, crashesInFlight: 1 / 40 },
        moveBps: { min: -40, max: 40 },
      },
      RUNS,
    );
  });
});
