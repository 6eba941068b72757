import { describe, expect, it } from 'vitest';
import {
  type MarketMakerContext,
  marketMakerMachine,
} from '../../machines/strategies/market-making/machine.ts';
import { checkStrategyProperty } from '../../src/testing/property.ts';

const RUNS = Number(process.env.PROPERTY_RUNS ?? 1000);
const SPOT = 'BTC/USDT';
const BAL = { USDT: 100_000, BTC: 1 };

describe('market maker under random markets, faults and crashes', () => {
  it(`keeps inventory within its limit and the books equal to the account (${RUNS} runs)`, {
    timeout: 180_000,
  }, async () => {
    await checkStrategyProperty<MarketMakerContext>(
      {
        kind: 'market-making',
        machine: marketMakerMachine,
        instruments: [{ venue: 'sim', symbol: SPOT, mid: 60_000, halfSpread: 0.5, size: 1 }],
        balances: BAL,
        input: (w) => ({
          id: 'prop-mm',
          params: {
            market: { venue: 'sim', symbol: SPOT },
            orderAmount: 0.01,
            levels: 2,
            spreadBps: 3,
            levelSpacingBps: 3,
            reference: 'mid',
            inventorySkewBpsPerUnit: 50,
            maxInventoryBase: 0.03,
            refreshToleranceBps: 2,
            minOrderAgeMs: 1_000,
            staleAfterMs: 5_000,
            rejectBackoffMs: 500,
            maxPositionNotional: 10_000,
          },
          market: w.market('sim', SPOT),
        }),
        // The maker always has orders out: its books must match the account whenever no order is in flight
        // (flattening is a market order in flight, checked by the in-flight bound instead).
        stable: ['quoting', 'stopped'],
        // Fills reach the strategy through the order stream: only with no order working are they all in.
        booksSettled: (c) => Object.values(c.slots).every((s) => s.working === undefined),
        checkPositions: (w, c) => {
          if (Object.values(c.slots).every((s) => s.working === undefined))
            expect(c.leg.position).toBeCloseTo(w.sims.sim!.balances().BTC!.total - BAL.BTC, 9);
          // The inventory limit counts what is resting: position + every same-side order left can
          // never pass it, whatever sweeps the book.
          expect(Math.abs(w.sims.sim!.balances().BTC!.total - BAL.BTC)).toBeLessThanOrEqual(
            c.params.maxInventoryBase + 1e-9,
          );
        },
        tolerance: () => 0,
        interesting: (_v, c) => (c.leg.volume > 0 ? 'traded' : undefined),
        minimums: { traded: 1 / 10, crashesInFlight: 1 / 40 },
        moveBps: { min: -15, max: 15 },
      },
      RUNS,
    );
  });
});
