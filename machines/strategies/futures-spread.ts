/**
 * Futures–futures spread: long one future, short another (two venues' perpetuals, or a perp
 * against a dated future) when their spread stretches away from its recent mean, by z-score or
 * by bps; out on convergence, on a stop loss, or when the time limit passes.
 *
 *   warmingUp ─(enough samples)─▶ watching ─(spreadStretchedBeyondEntry ∧ quotesFresh)─▶ entering ─▶ holding
 *   holding ─(spreadConverged ∨ stopLossHit ∨ timeLimitExceeded ∨ stop+flatten)─▶ exiting ─▶ cycleDone
 *   entering | exiting ─(exposure it could not close, or an order's fill unknown)─▶ needsAttention
 *
 * Executions converge on targets per leg from the books: entry (±a, ∓a), exit (0, 0) — each
 * leg's exit side comes from that leg's own position, never from the other leg's.
 */
import { assign, setup } from 'xstate';
import type { Instrument, Market } from '../../src/domain/index.ts';
import { type LegBook, newLeg } from '../accounting.ts';
import { actorContracts } from '../contract-actors.ts';
import type {
  ClockTickInput,
  ErrorInfo,
  FundingPaymentEvent,
  QuoteEvent,
  WatchQuotesInput,
} from '../contracts.ts';
import { failure } from '../contracts.ts';
import { type HedgedPairInput, type HedgedPairOutput, hedgedPairMachine } from '../hedged-pair.ts';
import { strategyTag } from '../ids.ts';
import { orderMachine } from '../order.ts';
import { ParamChecker } from '../params.ts';
import {
  type Attention,
  afterFlattenState,
  applyFunding,
  applyPair,
  attention,
  attentionRules,
  booksFlatIn,
  commonAmount,
  cycleEndStates,
  flattenPairInput,
  forwardQuotesTo,
  HOUR_MS,
  isFresh,
  legSpec,
  mid,
  needsAttentionState,
  type Quote,
  riskBreachUpdate,
  type TwoLegBooks,
  toQuote,
  totalPnl,
} from './common.ts';
import type { SpotFuturesEvent } from './spot-futures.ts';

export interface FuturesSpreadParams {
  legA: Instrument;
  legB: Instrument;
  /** Base units per leg per cycle. */
  amount: number;
  signal: 'zscore' | 'bps';
  /** Enter when |z| (signal zscore) or |spread − mean| in bps (signal bps) reaches this. */
  entryThreshold: number;
  /** Exit when it has come back within this. */
  exitThreshold: number;
  /** EWMA half-life of the spread's mean and variance, in quote updates. */
  halfLifeSamples: number;
  /** Samples needed before the statistics are trusted. */
  warmupSamples: number;
  /** The expected gain (distance to the mean) must exceed round-trip fees + slippage by this, bps. */
  minProfitBps: number;
  slippageBps: number;
  /** Exit when the position's PnL falls below −stopLossQuote (quote currency). */
  stopLossQuote: number;
  maxHoldingHours: number;
  deltaToleranceBase: number;
  staleAfterMs: number;
  maxPositionNotional: number;
  maxCycles: number;
  cooldownMs: number;
}

export interface FuturesSpreadInput {
  id: string;
  params: FuturesSpreadParams;
  markets: { legA: Market; legB: Market };
}

export interface FuturesSpreadContext {
  id: string;
  tag: string;
  params: FuturesSpreadParams;
  markets: { legA: Market; legB: Market };
  amountBase: number;
  quotes: { legA: Quote | undefined; legB: Quote | undefined };
  now: number;
  startedAt: number;
  /** EWMA of the spread (bps of legA) and of its squared deviation (see `updateSpreadStats`). */
  stats: SpreadStats;
  legs: { legA: LegBook; legB: LegBook };
  /** +1: long A / short B (B was rich); −1: the reverse. */
  positionSign: 0 | 1 | -1;
  cycle: number;
  enteredAt: number | undefined;
  entrySpreadBps: number | undefined;
  lastFundingTs: { legA: number; legB: number };
  paused: boolean;
  riskBlocked: string | undefined;
  stopRequested: { flatten: boolean } | undefined;
  exitAttempts: number;
  completedCycles: number;
  /** Consecutive entries that filled nothing (they lengthen the cooldown). */
  emptyEntries?: number;
  lastError: ErrorInfo | undefined;
  /** Exposure it could not close, or orders whose outcome is unknown (needsAttention). */
  attention?: Attention | undefined;
  flattens?: number;
}

export function validateFuturesSpreadParams(
  p: FuturesSpreadParams,
  markets: { legA: Market; legB: Market },
): void {
  const c = new ParamChecker();
  c.positive('amount', p.amount);
  c.oneOf('signal', p.signal, ['zscore', 'bps']);
  c.positive('entryThreshold', p.entryThreshold);
  c.nonNegative('exitThreshold', p.exitThreshold);
  c.that(p.exitThreshold < p.entryThreshold, 'exitThreshold', 'must be below entryThreshold');
  c.positive('halfLifeSamples', p.halfLifeSamples);
  c.integer('warmupSamples', p.warmupSamples, 2);
  c.finite('minProfitBps', p.minProfitBps);
  c.nonNegative('slippageBps', p.slippageBps);
  c.positive('stopLossQuote', p.stopLossQuote);
  c.positive('maxHoldingHours', p.maxHoldingHours);
  c.positive('deltaToleranceBase', p.deltaToleranceBase);
  c.positive('staleAfterMs', p.staleAfterMs);
  c.positive('maxPositionNotional', p.maxPositionNotional);
  c.integer('maxCycles', p.maxCycles, 0);
  c.nonNegative('cooldownMs', p.cooldownMs);
  for (const k of ['legA', 'legB'] as const) {
    c.that(markets[k].type !== 'spot', `${k}.symbol`, `${markets[k].symbol} is not a future or perpetual`);
  }
  c.that(markets.legA.base === markets.legB.base, 'legB.symbol', 'both legs must be on the same base asset');
  c.that(
    !(p.legA.venue === p.legB.venue && p.legA.symbol === p.legB.symbol),
    'legB',
    'the two legs must be different instruments',
  );
  c.throwIfAny('futures-spread');
}

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
  if (!Number.isFinite(s) || ctx.stats.samples < ctx.params.warmupSamples) return 0;
  const dev = s - ctx.stats.mean;
  if (ctx.params.signal === 'bps') return dev;
  const sd = Math.sqrt(ctx.stats.variance);
  return sd > 1e-9 ? dev / sd : 0;
}

function roundTripCostBps(ctx: FuturesSpreadContext): number {
  return 2 * (ctx.markets.legA.taker + ctx.markets.legB.taker) * 1e4 + 4 * ctx.params.slippageBps;
}

function pnl(ctx: FuturesSpreadContext): number {
  return totalPnl([ctx.legs.legA, ctx.legs.legB], [mid(ctx.quotes.legA), mid(ctx.quotes.legB)]);
}

/** The books in leg order (A, B), as every execution and the attention rules see them. */
const BOOKS: TwoLegBooks<FuturesSpreadContext> = {
  books: (c) => [c.legs.legA, c.legs.legB],
  withBooks: (_c, [legA, legB]) => ({ legs: { legA, legB } }),
  markets: (c) => [c.markets.legA, c.markets.legB],
  quotes: (c) => [c.quotes.legA, c.quotes.legB],
  deltaTolerance: (c) => c.params.deltaToleranceBase,
};

const isFlat = (ctx: FuturesSpreadContext): boolean => booksFlatIn(BOOKS, ctx);

/** Entry: B rich → long A, short B (targets +a, −a); A rich → the reverse. Exit: (0, 0). */
function pairInput(ctx: FuturesSpreadContext, phase: 'e' | 'x'): HedgedPairInput {
  const { legA: ma, legB: mb } = ctx.markets;
  const a = ctx.amountBase * (ctx.positionSign || 1);
  const [targetA, targetB] = phase === 'e' ? [a, -a] : [0, 0];
  return {
    tag: ctx.tag,
    cycle: ctx.cycle,
    phase,
    execution: phase === 'x' ? ctx.exitAttempts : 0,
    mode: phase === 'e' ? 'open' : 'close',
    legs: [
      legSpec(ma, ctx.legs.legA, targetA, ctx.quotes.legA),
      legSpec(mb, ctx.legs.legB, targetB, ctx.quotes.legB),
    ],
    toleranceBase: ctx.params.deltaToleranceBase,
  };
}

type PairDone = { output: HedgedPairOutput };
const attentionKit = attentionRules(BOOKS);

export const futuresSpreadMachine = setup({
  types: {
    context: {} as FuturesSpreadContext,
    events: {} as SpotFuturesEvent,
    input: {} as FuturesSpreadInput,
  },
  actors: { ...actorContracts, order: orderMachine, hedgedPair: hedgedPairMachine },
  guards: {
    ...attentionKit.guards,
    stopRequested: ({ context }) => context.stopRequested !== undefined,
    stopWithFlatten: ({ context }) => context.stopRequested?.flatten === true && !isFlat(context),
    statisticsWarm: ({ context }) => context.stats.samples >= context.params.warmupSamples,
    spreadStretchedBeyondEntry: ({ context }) => {
      const z = stretch(context);
      const distanceBps = Math.abs(spreadBps(context) - context.stats.mean);
      return (
        Math.abs(z) >= context.params.entryThreshold &&
        distanceBps - roundTripCostBps(context) >= context.params.minProfitBps &&
        context.amountBase * mid(context.quotes.legA) <= context.params.maxPositionNotional &&
        !context.paused &&
        context.riskBlocked === undefined &&
        isFresh(context.quotes.legA, context.now, context.params.staleAfterMs) &&
        isFresh(context.quotes.legB, context.now, context.params.staleAfterMs)
      );
    },
    entryHolds: ({ event }) => ['reached', 'hedged'].includes((event as unknown as PairDone).output.outcome),
    spreadConverged: ({ context }) => context.positionSign * stretch(context) <= context.params.exitThreshold,
    stopLossHit: ({ context }) => pnl(context) <= -context.params.stopLossQuote,
    timeLimitExceeded: ({ context }) =>
      context.enteredAt !== undefined &&
      context.now - context.enteredAt >= context.params.maxHoldingHours * HOUR_MS,
    positionsFlat: ({ context }) => isFlat(context),
    exitAttemptsLeft: ({ context }) => context.exitAttempts < 3,
    maxCyclesReached: ({ context }) =>
      context.params.maxCycles > 0 && context.completedCycles >= context.params.maxCycles,
  },
  actions: {
    ...attentionKit.actions,
    recordQuote: assign(({ context, event }) => {
      const e = event as QuoteEvent;
      const isA = e.venue === context.params.legA.venue && e.symbol === context.params.legA.symbol;
      const isB = e.venue === context.params.legB.venue && e.symbol === context.params.legB.symbol;
      if (!isA && !isB) return {};
      const quotes = {
        legA: isA ? toQuote(e) : context.quotes.legA,
        legB: isB ? toQuote(e) : context.quotes.legB,
      };
      const next = { ...context, quotes };
      const s = spreadBps(next);
      const stats = Number.isFinite(s)
        ? updateSpreadStats(context.stats, s, context.params.halfLifeSamples)
        : context.stats;
      const now = Math.max(context.now, e.receivedAt);
      return { quotes, stats, now, startedAt: context.startedAt || now };
    }),
    recordTime: assign(({ context, event }) => {
      const now = Math.max(context.now, (event as { now: number }).now);
      return { now, startedAt: context.startedAt || now };
    }),
    recordFundingPayment: assign(({ context, event }) => {
      const e = event as FundingPaymentEvent;
      const key =
        e.venue === context.params.legA.venue && e.symbol === context.params.legA.symbol
          ? 'legA'
          : e.venue === context.params.legB.venue && e.symbol === context.params.legB.symbol
            ? 'legB'
            : undefined;
      if (!key || e.timestamp <= context.lastFundingTs[key] || e.timestamp < context.startedAt) return {};
      return {
        legs: { ...context.legs, [key]: applyFunding(context.legs[key], e) },
        lastFundingTs: { ...context.lastFundingTs, [key]: e.timestamp },
      };
    }),
    requestStop: assign({
      stopRequested: ({ event }) => ({ flatten: (event as { flatten: boolean }).flatten }),
    }),
    pause: assign({ paused: true }),
    resume: assign({ paused: false }),
    blockForRisk: assign(({ context, event }) =>
      riskBreachUpdate(context, event as { reason: string; flatten?: boolean }),
    ),
    clearRisk: assign({ riskBlocked: undefined }),
    startCycle: assign(({ context }) => ({
      cycle: context.cycle + 1,
      positionSign: (stretch(context) > 0 ? 1 : -1) as 1 | -1,
      entrySpreadBps: spreadBps(context),
    })),
    applyPairResult: assign(({ context, event }) => {
      const [legA, legB] = applyPair(
        [context.legs.legA, context.legs.legB],
        (event as unknown as PairDone).output,
      );
      return { legs: { legA, legB } };
    }),
    markEntered: assign(({ context }) => ({ enteredAt: context.now, exitAttempts: 0 })),
    countExit: assign(({ context }) => ({ exitAttempts: context.exitAttempts + 1 })),
    finishCycle: assign(({ context }) => ({
      completedCycles: context.completedCycles + 1,
      enteredAt: undefined,
      entrySpreadBps: undefined,
      positionSign: 0 as const,
    })),
    recordExitIncomplete: assign(({ context }) => ({
      attention: attention(
        `could not flatten after ${context.exitAttempts} exits: legA ${context.legs.legA.position}, legB ${context.legs.legB.position}`,
        context.now,
        BOOKS.books(context),
      ),
    })),
    noteHeldOnStop: assign(({ context }) =>
      isFlat(context)
        ? {}
        : {
            lastError: failure(
              'StoppedWithPosition',
              `stopped without flattening: legA ${context.legs.legA.position}, legB ${context.legs.legB.position} (hedged)`,
            ),
          },
    ),
  },
}).createMachine({
  id: 'futuresSpread',
  context: ({ input }) => {
    validateFuturesSpreadParams(input.params, input.markets);
    const { legA, legB } = input.markets;
    return {
      id: input.id,
      tag: strategyTag(input.id),
      params: input.params,
      markets: input.markets,
      amountBase: commonAmount(legA, legB, input.params.amount),
      quotes: { legA: undefined, legB: undefined },
      now: 0,
      startedAt: 0,
      stats: { mean: 0, variance: 0, samples: 0 },
      legs: {
        legA: newLeg(legA.venue, legA.symbol, legA.contractSize),
        legB: newLeg(legB.venue, legB.symbol, legB.contractSize),
      },
      positionSign: 0,
      cycle: 0,
      enteredAt: undefined,
      entrySpreadBps: undefined,
      lastFundingTs: { legA: 0, legB: 0 },
      paused: false,
      riskBlocked: undefined,
      stopRequested: undefined,
      exitAttempts: 0,
      completedCycles: 0,
      lastError: undefined,
    };
  },
  invoke: [
    {
      id: 'quotesA',
      src: 'watchQuotes',
      input: ({ context }): WatchQuotesInput => ({ ...context.params.legA }),
    },
    {
      id: 'quotesB',
      src: 'watchQuotes',
      input: ({ context }): WatchQuotesInput => ({ ...context.params.legB }),
    },
    { id: 'fundingA', src: 'watchFunding', input: ({ context }) => ({ ...context.params.legA }) },
    { id: 'fundingB', src: 'watchFunding', input: ({ context }) => ({ ...context.params.legB }) },
    { id: 'clock', src: 'clockTick', input: (): ClockTickInput => ({ everyMs: 1_000 }) },
  ],
  on: {
    // The venue closed a position mid-execution: named when the execution ends (rest states go at once).
    ATTENTION: { actions: 'noteVenueNotice' },
    QUOTE: { actions: 'recordQuote' },
    'TIME.TICK': { actions: 'recordTime' },
    'FUNDING.PAYMENT': { actions: 'recordFundingPayment' },
    STOP: { actions: 'requestStop' },
    PAUSE: { actions: 'pause' },
    RESUME: { actions: 'resume' },
    'RISK.BREACH': { actions: 'blockForRisk' },
    'RISK.CLEAR': { actions: 'clearRisk' },
  },
  initial: 'warmingUp',
  states: {
    warmingUp: {
      always: [
        { guard: 'stopRequested', target: 'stopped' },
        { guard: 'statisticsWarm', target: 'watching' },
      ],
    },
    watching: {
      on: { ATTENTION: { target: 'needsAttention', actions: 'raiseAttention' } },
      always: [
        { guard: 'stopRequested', target: 'stopped' },
        { guard: 'spreadStretchedBeyondEntry', target: 'entering', actions: 'startCycle' },
      ],
    },
    entering: {
      on: forwardQuotesTo('entry'),
      invoke: {
        id: 'entry',
        src: 'hedgedPair',
        input: ({ context }) => pairInput(context, 'e'),
        onDone: [
          {
            guard: 'executionLeftExposure',
            target: 'needsAttention',
            actions: ['applyPairResult', { type: 'raiseAttentionAfter', params: { what: 'entry' } }],
          },
          {
            guard: 'entryHolds',
            target: 'holding',
            actions: ['applyPairResult', 'markEntered', assign({ emptyEntries: 0 })],
          },
          {
            target: 'cooldown',
            actions: [
              'applyPairResult',
              assign({ emptyEntries: ({ context }) => (context.emptyEntries ?? 0) + 1 }),
            ],
          },
        ],
      },
    },
    holding: {
      on: {
        ATTENTION: { target: 'needsAttention', actions: 'raiseAttention' },
        // An operator's flatten: exit now (then trade on, as after any exit).
        'OPERATOR.FLATTEN': 'exiting',
      },
      always: [
        { guard: 'stopWithFlatten', target: 'exiting' },
        { guard: 'stopRequested', target: 'stopped', actions: 'noteHeldOnStop' },
        { guard: 'stopLossHit', target: 'exiting' },
        { guard: 'timeLimitExceeded', target: 'exiting' },
        { guard: 'spreadConverged', target: 'exiting' },
      ],
    },
    exiting: {
      on: forwardQuotesTo('exit'),
      invoke: {
        id: 'exit',
        src: 'hedgedPair',
        input: ({ context }) => pairInput(context, 'x'),
        onDone: [
          {
            guard: 'executionLeftExposure',
            target: 'needsAttention',
            actions: [
              'applyPairResult',
              'countExit',
              { type: 'raiseAttentionAfter', params: { what: 'exit' } },
            ],
          },
          { target: 'afterExit', actions: ['applyPairResult', 'countExit'] },
        ],
      },
    },
    ...cycleEndStates(),
    /** Exposure it could not close, or an order's outcome unknown: locks kept, operator told. */
    needsAttention: needsAttentionState({
      machineId: 'futuresSpread',
      resume: 'holding',
      flattenInput: (c: FuturesSpreadContext) => flattenPairInput(BOOKS, c),
    }),
    afterFlatten: afterFlattenState(),
  },
});

export function futuresSpreadPnl(ctx: FuturesSpreadContext): number {
  return pnl(ctx);
}
