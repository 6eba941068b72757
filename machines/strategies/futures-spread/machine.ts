/**
 * Futures–futures spread: long one future, short another (two venues' perpetuals, or a perp
 * against a dated future) when their spread stretches away from its recent mean, by z-score or
 * by bps; out on convergence, on a stop loss, or when the time limit passes.
 *
 * The hedged cycle is the kit's (perpPairCycleMachine: warmingUp → watching → entering → holding
 * → exiting → cooldown, needs attention for exposure it could not close); this file is the kind's
 * rules — the spread's EWMA statistics, when it is stretched enough to pay for the round trip,
 * and when it has converged.
 */
import type { Market } from '../../../src/domain/index.ts';
import { totalPnl } from '../kit/books.ts';
import {
  checkPerpPairParams,
  type PerpPairContext,
  type PerpPairEvent,
  type PerpPairInput,
  type PerpPairRules,
  perpPairCycleMachine,
} from '../kit/perp-pair-cycle.ts';
import { mid } from '../kit/quotes.ts';
import type { FuturesSpreadParams } from './params.ts';

/** The params, typed from their schema (./params.ts). */
export type { FuturesSpreadParams };

/** The kind's own state: the spread's statistics, and the spread its position was entered at. */
export interface FuturesSpreadOwn {
  /** EWMA of the spread (bps of legA) and of its squared deviation (see `updateSpreadStats`). */
  stats: SpreadStats;
  entrySpreadBps: number | undefined;
}

export type FuturesSpreadContext = PerpPairContext<FuturesSpreadParams, FuturesSpreadOwn>;
export type FuturesSpreadInput = PerpPairInput<FuturesSpreadParams>;
export type FuturesSpreadEvent = PerpPairEvent;

export interface SpreadStats {
  mean: number;
  /** Unbiased estimate of the spread's variance (reliability weights). */
  variance: number;
  samples: number;
  /** Σ of the decayed sample weights, Σ of their squares, and the weighted sum of squared deviations. */
  weight?: number;
  weight2?: number;
  m2?: number;
}

/**
 * One spread sample into the exponentially weighted mean and variance, without the start-up
 * bias of seeding the average with the first sample: every sample has weight 1 when it arrives
 * and decays by 2^(−1/halfLife) per sample after, the mean is the weighted mean of what was
 * seen, and the variance is the weighted one corrected for the effective number of samples
 * (W − ΣW²/W) — early on it is the plain sample mean and variance, later a true EWMA.
 */
export function updateSpreadStats(stats: SpreadStats, x: number, halfLifeSamples: number): SpreadStats {
  const decay = 2 ** (-1 / halfLifeSamples);
  // A snapshot from before these fields: rebuild them from the sample count.
  const n = stats.samples;
  const w0 = stats.weight ?? (1 - decay ** n) / (1 - decay);
  const w20 = stats.weight2 ?? (1 - decay ** (2 * n)) / (1 - decay * decay);
  const m20 = stats.m2 ?? stats.variance * Math.max(0, w0 - w20 / Math.max(w0, 1e-12));
  const weight = w0 * decay + 1;
  const weight2 = w20 * decay * decay + 1;
  const delta = x - stats.mean;
  const mean = n === 0 ? x : stats.mean + delta / weight;
  const m2 = m20 * decay + delta * (x - mean);
  const effective = weight - weight2 / weight;
  return { mean, variance: effective > 1e-12 ? m2 / effective : 0, samples: n + 1, weight, weight2, m2 };
}

/** Spread of B over A in bps of A, from mids. */
function spreadBps(ctx: FuturesSpreadContext): number {
  const a = mid(ctx.quotes.legA);
  const b = mid(ctx.quotes.legB);
  return a > 0 && b > 0 ? ((b - a) / a) * 1e4 : Number.NaN;
}

/** How stretched the spread is, in the signal's unit, signed (+ = B rich). */
function stretch(ctx: FuturesSpreadContext): number {
  const s = spreadBps(ctx);
  const stats = ctx.own.stats;
  if (!Number.isFinite(s) || stats.samples < ctx.params.warmupSamples) return 0;
  const dev = s - stats.mean;
  if (ctx.params.signal === 'bps') return dev;
  const sd = Math.sqrt(stats.variance);
  return sd > 1e-9 ? dev / sd : 0;
}

function roundTripCostBps(ctx: FuturesSpreadContext): number {
  return 2 * (ctx.markets.legA.taker + ctx.markets.legB.taker) * 1e4 + 4 * ctx.params.slippageBps;
}

export const futuresSpreadRules: PerpPairRules<FuturesSpreadParams, FuturesSpreadOwn> = {
  machineId: 'futuresSpread',
  kind: 'futures-spread',
  checkParams: (p, c) => {
    c.oneOf('signal', p.signal, ['zscore', 'bps']);
    c.positive('entryThreshold', p.entryThreshold);
    c.nonNegative('exitThreshold', p.exitThreshold);
    c.that(p.exitThreshold < p.entryThreshold, 'exitThreshold', 'must be below entryThreshold');
    c.positive('halfLifeSamples', p.halfLifeSamples);
    c.integer('warmupSamples', p.warmupSamples, 2);
    c.finite('minProfitBps', p.minProfitBps);
    c.nonNegative('slippageBps', p.slippageBps);
  },
  own: () => ({ stats: { mean: 0, variance: 0, samples: 0 }, entrySpreadBps: undefined }),
  // Every quote is a sample of the spread (funding rates are not).
  update: (c, what) => {
    const s = spreadBps(c);
    if (what !== 'quote' || !Number.isFinite(s)) return c.own;
    return { ...c.own, stats: updateSpreadStats(c.own.stats, s, c.params.halfLifeSamples) };
  },
  ready: (c) => c.own.stats.samples >= c.params.warmupSamples,
  // Stretched beyond the entry threshold and far enough from the mean to pay for the round trip:
  // B rich → long A, short B (+1); A rich → the reverse.
  entry: (c) => {
    const z = stretch(c);
    const distanceBps = Math.abs(spreadBps(c) - c.own.stats.mean);
    if (Math.abs(z) < c.params.entryThreshold || distanceBps - roundTripCostBps(c) < c.params.minProfitBps)
      return 0;
    return z > 0 ? 1 : -1;
  },
  onEntry: (c) => ({ ...c.own, entrySpreadBps: spreadBps(c) }),
  exit: (c) => (c.positionSign * stretch(c) <= c.params.exitThreshold ? 'the spread converged' : undefined),
  onCycleEnd: (c) => ({ ...c.own, entrySpreadBps: undefined }),
};

export function validateFuturesSpreadParams(
  p: FuturesSpreadParams,
  markets: { legA: Market; legB: Market },
): void {
  checkPerpPairParams(futuresSpreadRules, p, markets);
}

export const futuresSpreadMachine = perpPairCycleMachine(futuresSpreadRules);

export function futuresSpreadPnl(ctx: FuturesSpreadContext): number {
  return totalPnl([ctx.legs.legA, ctx.legs.legB], [mid(ctx.quotes.legA), mid(ctx.quotes.legB)]);
}
