/**
 * A user's project, as scripts/pack-check.mjs builds it around the packed tarball: only the
 * package's public entry points (`statearb`, `statearb/testing`). Its kind of its own
 * (my-kind.ts, from defineStrategyKind) is registered and property-tested with the shared
 * property — what the README's "Your own strategy kinds" relies on.
 */
import { registerStrategyKind, STRATEGY_KINDS } from 'statearb';
import { checkStrategyProperty, sharedTolerance } from 'statearb/testing';
import { describe, expect, it } from 'vitest';
import mine from './my-kind.ts';

describe('statearb as installed', () => {
  it('registers a kind of the user’s own', () => {
    registerStrategyKind(mine);
    expect(STRATEGY_KINDS['consumer-spread']).toBe(mine);
  });

  it('property-tests it with statearb/testing', { timeout: 120_000 }, async () => {
    const PERP = 'BTC/USDT:USDT';
    type Ctx = {
      params: { legA: { venue: string; symbol: string }; legB: { venue: string; symbol: string } };
      legs: { legA: { position: number }; legB: { position: number } };
    };
    const seen = await checkStrategyProperty<Ctx>(
      {
        kind: mine,
        machine: mine.machine,
        instruments: [
          { venue: 'binance', symbol: PERP, mid: 60_000, halfSpread: 0.05, size: 2 },
          { venue: 'bybit', symbol: PERP, mid: 60_000, halfSpread: 0.05, size: 2 },
        ],
        balances: { USDT: 500_000 },
        input: (w) => ({
          id: 'pack-spread',
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
        legPositions: (c) => [
          { venue: 'binance', symbol: PERP, position: c.legs.legA.position },
          { venue: 'bybit', symbol: PERP, position: c.legs.legB.position },
        ],
        tolerance: (c, w) => sharedTolerance(w, [c.params.legA, c.params.legB], 0.001),
        interesting: (v) => (v === 'holding' ? 'holding' : undefined),
        minimums: {},
        moveBps: { min: -40, max: 40 },
      },
      20,
    );
    expect(seen.runs).toBe(20);
  });
});
