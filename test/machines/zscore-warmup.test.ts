/**
 * The futures-spread z-score must be trustworthy the moment warm-up ends: on an i.i.d. spread
 * the machine may enter on |z| ≥ 3 about as often as a normal variable passes 3 (0.27 % per
 * sample), not on a 0.67σ move because the variance started at zero and the mean at the first
 * sample.
 */
import { describe, expect, it } from 'vitest';
import { createActor, fromCallback, fromPromise } from 'xstate';
import {
  type FuturesSpreadParams,
  futuresSpreadMachine,
  updateSpreadStats,
} from '../../machines/strategies/futures-spread/machine.ts';
import { simMarket } from '../../src/exchange/sim/markets.ts';
import { Rng } from '../../src/util/random.ts';

const PERP = 'BTC/USDT:USDT';
const params: FuturesSpreadParams = {
  legA: { venue: 'a', symbol: PERP },
  legB: { venue: 'b', symbol: PERP },
  amount: 0.1,
  signal: 'zscore',
  entryThreshold: 3,
  exitThreshold: 0.5,
  // The documented defaults.
  halfLifeSamples: 200,
  warmupSamples: 100,
  minProfitBps: 0,
  slippageBps: 0,
  stopLossQuote: 500,
  maxHoldingHours: 12,
  deltaToleranceBase: 0.001,
  staleAfterMs: 60_000,
  maxPositionNotional: 1_000_000,
  maxCycles: 1,
  cooldownMs: 1_000,
};

const idle = fromCallback(() => () => {});
const machine = futuresSpreadMachine.provide({
  actors: {
    watchQuotes: idle,
    watchFunding: idle,
    clockTick: idle,
    hedgedPair: fromPromise(() => new Promise<never>(() => {})),
  } as never,
});
const market = (venue: string) => ({ ...simMarket(venue, PERP), maker: 0, taker: 0 });

/** Feed i.i.d. spread samples (σ = 5 bps) and report whether it entered within `after` samples of warm-up. */
function entersOnNoise(seed: number, after: number): boolean {
  const rng = new Rng(seed);
  const a = createActor(machine, {
    input: { id: `z${seed}`, params, markets: { legA: market('a'), legB: market('b') } },
  });
  a.start();
  const at = Date.UTC(2026, 0, 1);
  const q = (venue: string, m: number, t: number) =>
    a.send({
      type: 'QUOTE',
      venue,
      symbol: PERP,
      bid: m - 0.05,
      ask: m + 0.05,
      bidSize: 10,
      askSize: 10,
      timestamp: t,
      receivedAt: t,
    } as never);
  q('a', 60_000, at);
  let entered = false;
  for (let i = 1; i < params.warmupSamples + after && !entered; i++) {
    q('b', 60_000 * (1 + (5 * rng.normal()) / 1e4), at + i);
    entered = String(a.getSnapshot().value) === 'entering';
  }
  a.stop();
  return entered;
}

describe('futures-spread z-score warm-up', () => {
  it('on an i.i.d. spread, entries on |z| ≥ 3 in the 20 samples after warm-up are as rare as the normal law says', () => {
    const runs = 400;
    let entries = 0;
    for (let seed = 1; seed <= runs; seed++) if (entersOnNoise(seed, 20)) entries++;
    // 20 samples × P(|t| ≥ 3) ≈ 20 × 0.3 % ≈ 6 % of runs; the start-up bias made it most of them.
    expect(entries / runs).toBeLessThan(0.12);
  });

  it('early on the estimate is the plain sample mean and variance; later it forgets with the half-life', () => {
    let s = { mean: 0, variance: 0, samples: 0 };
    for (const x of [1, 2, 3, 4]) s = updateSpreadStats(s, x, 1e9);
    expect(s.mean).toBeCloseTo(2.5, 6);
    expect(s.variance).toBeCloseTo(5 / 3, 6); // the unbiased sample variance of 1..4
    let t = { mean: 0, variance: 0, samples: 0 };
    for (let i = 0; i < 2_000; i++) t = updateSpreadStats(t, i < 1_000 ? 0 : 10, 50);
    expect(t.mean).toBeCloseTo(10, 3); // 1,000 samples = 20 half-lives after the shift
  });
});
