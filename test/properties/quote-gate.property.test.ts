/**
 * The quote gate changes what the machine sees, never what it does: the same backtest with
 * gating on and off gives byte-identical reports (every trade, price, PnL figure, time in each
 * state), over random markets (dense and sparse: quotes and clock ticks are both gated),
 * parameters, latencies and portfolio risk breaches.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildSummary } from '../../src/backtest/report.ts';
import { runBacktest } from '../../src/backtest/run.ts';
import { validateConfig } from '../../src/config/load.ts';

const RUNS = Number(process.env.PROPERTY_RUNS ?? 1000) >= 1000 ? 40 : 10;

describe('quote gate', () => {
  it('a gated spot–futures strategy decides exactly as one fed every quote', {
    timeout: 120_000,
  }, async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          seed: fc.integer({ min: 1, max: 1_000_000 }),
          basisMeanBps: fc.integer({ min: 5, max: 40 }),
          basisVolBps: fc.integer({ min: 2, max: 20 }),
          latencyMs: fc.integer({ min: 0, max: 60 }),
          minEntryBasisBps: fc.integer({ min: -5, max: 20 }),
          exitGapBps: fc.integer({ min: 1, max: 15 }),
          holdMinutes: fc.integer({ min: 1, max: 30 }),
          cooldownMs: fc.integer({ min: 0, max: 120_000 }),
          staleAfterMs: fc.integer({ min: 300, max: 10_000 }),
          // Sparse markets too: with seconds between quotes, time rules fire on clock ticks.
          stepMs: fc.constantFrom(250, 250, 2_000, 5_000),
          direction: fc.constantFrom('long-spot', 'short-spot'),
          // A small exposure limit makes the portfolio breach and clear: non-quote events.
          exposureLimit: fc.option(fc.integer({ min: 2_000, max: 10_000 }), { nil: undefined }),
        }),
        async (p) => {
          const config = validateConfig(
            {
              venues: {
                binance: {
                  type: 'simulated',
                  latencyMs: p.latencyMs,
                  balances: { USDT: 1e6, BTC: 5 },
                  fees: { maker: 0, taker: 0.0002 },
                },
              },
              assets: ['BTC'],
              marketData: {
                source: 'synthetic',
                seed: p.seed,
                durationHours: 0.75,
                stepMs: p.stepMs,
                basisMeanBps: p.basisMeanBps,
                basisVolBps: p.basisVolBps,
              },
              ...(p.exposureLimit ? { risk: { maxTotalExposureUsd: p.exposureLimit } } : {}),
              strategies: [
                {
                  id: 'basis',
                  kind: 'spot-futures',
                  params: {
                    spot: { venue: 'binance', symbol: 'BTC/USDT' },
                    perp: { venue: 'binance', symbol: 'BTC/USDT:USDT' },
                    amount: 0.05,
                    direction: p.direction,
                    minEntryBasisBps: p.minEntryBasisBps,
                    exitBasisBps: p.minEntryBasisBps - p.exitGapBps,
                    slippageBps: 0.5,
                    maxHoldingHours: p.holdMinutes / 60,
                    cooldownMs: p.cooldownMs,
                    staleAfterMs: p.staleAfterMs,
                  },
                },
              ],
            },
            'property',
          );
          const gated = await runBacktest(config, { quoteGating: true, sampleMs: 30_000 });
          const ungated = await runBacktest(config, { quoteGating: false, sampleMs: 30_000 });
          // The event behind a transition may be the gate's batch (QUOTES) where ungated it is a QUOTE.
          const moves = (r: typeof gated) => r.transitions.map((t) => `${t.at} ${t.from}→${t.to}`);
          expect(moves(gated)).toEqual(moves(ungated));
          expect(gated.trades).toEqual(ungated.trades);
          expect(JSON.stringify(buildSummary(gated))).toBe(JSON.stringify(buildSummary(ungated)));
        },
      ),
      { numRuns: RUNS, ...(process.env.PROPERTY_SEED ? { seed: Number(process.env.PROPERTY_SEED) } : {}) },
    );
  });
});
