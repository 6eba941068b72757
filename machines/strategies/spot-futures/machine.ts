/**
 * Spot–futures basis (cash-and-carry): long spot / short perpetual when the perp trades rich
 * (or the reverse when it trades cheap and spot inventory allows), held delta-neutral, closed
 * when the basis converges, when the holding time runs out, or when funding has run against
 * the position for too long.
 *
 *   watching ─(basisWideEnoughToEnter ∧ quotesFresh ∧ entryAllowed)─▶ entering ─▶ holding
 *   holding ─(basisConverged ∨ holdingTimeExceeded ∨ fundingAgainstTooLong ∨ stop+flatten)─▶ exiting
 *   holding ─(deltaDriftBeyondTolerance)─▶ rebalancing ─▶ holding
 *   exiting ─▶ cycleDone ─▶ cooldown ─▶ watching | completed | stopped
 *   entering | exiting | rebalancing ─(exposure it could not close, or an order's fill unknown)─▶
 *     needsAttention (keeps its locks; resolves unknown orders; operator: flatten | resolve)
 *   STOP without flatten ─▶ stopped (hedged positions kept, said so)
 *
 * Every execution converges on target positions per leg from the books: entry (+a, −a),
 * exit (0, 0), rebalance (the perp back to −spot, or spot to −perp when only spot can trade it).
 */
import { assign, setup } from 'xstate';
import type { Market } from '../../../src/domain/index.ts';
import { type LegBook, newLeg } from '../../accounting.ts';
import { actorContracts } from '../../contract-actors.ts';
import type {
  ClockTickInput,
  ErrorInfo,
  FundingPaymentEvent,
  FundingRateEvent,
  MarketEvent,
  QuoteBatchEvent,
  QuoteEvent,
  WatchFundingInput,
  WatchQuotesInput,
} from '../../contracts.ts';
import { failure } from '../../contracts.ts';
import { type HedgedPairInput, type HedgedPairOutput, hedgedPairMachine } from '../../hedged-pair.ts';
import { strategyTag } from '../../ids.ts';
import { orderMachine } from '../../order.ts';
import { ParamChecker } from '../../params.ts';
import {
  type Attention,
  afterFlattenState,
  attention,
  attentionRules,
  exitIncomplete,
  flattenPairInput,
  heldOnStop,
  needsAttentionState,
} from '../kit/attention.ts';
import {
  applyFunding,
  booksFlatIn,
  booksHedgedIn,
  commonAmount,
  legSpec,
  netDelta,
  type TwoLegBooks,
  totalPnl,
} from '../kit/books.ts';
import { controlActions, controlHandlers, type StrategyControlEvent } from '../kit/control.ts';
import { cycleEndStates, HOUR_MS, pairExecutionState } from '../kit/hedged-cycle.ts';
import { isFresh, mid, type Quote, toQuote } from '../kit/quotes.ts';
import type { SpotFuturesParams } from './params.ts';

/** The params, typed from their schema (./params.ts). */
export type { SpotFuturesParams };

export interface SpotFuturesInput {
  id: string;
  params: SpotFuturesParams;
  markets: { spot: Market; perp: Market };
}

interface Opportunity {
  grossBps: number;
  netBps: number;
  costPct: number;
  at: number;
}

export interface SpotFuturesContext {
  id: string;
  tag: string;
  params: SpotFuturesParams;
  markets: { spot: Market; perp: Market };
  /** Base amount per leg, on both markets' steps. */
  amountBase: number;
  quotes: { spot: Quote | undefined; perp: Quote | undefined };
  now: number;
  startedAt: number;
  legs: { spot: LegBook; perp: LegBook };
  cycle: number;
  opportunity: Opportunity | undefined;
  enteredAt: number | undefined;
  holdingDeadline: number | undefined;
  entryBasisBps: number | undefined;
  fundingRate: number | undefined;
  fundingAdverseSince: number | undefined;
  lastFundingTs: number;
  paused: boolean;
  riskBlocked: string | undefined;
  stopRequested: { flatten: boolean } | undefined;
  rebalances: number;
  exitAttempts: number;
  completedCycles: number;
  /** Consecutive entries that filled nothing (they lengthen the cooldown). */
  emptyEntries?: number;
  lastError: ErrorInfo | undefined;
  lastPair: { outcome: string; residualBase: number; fees: number } | undefined;
  /** Exposure it could not close, or orders whose outcome is unknown (needsAttention). */
  attention?: Attention | undefined;
  /** Flattens asked in needs attention (their executions' ids). */
  flattens?: number;
}

export type { StrategyControlEvent };

export type SpotFuturesEvent = MarketEvent | StrategyControlEvent;

export function validateSpotFuturesParams(
  p: SpotFuturesParams,
  markets: { spot: Market; perp: Market },
): void {
  const c = new ParamChecker();
  c.positive('amount', p.amount);
  c.oneOf('direction', p.direction, ['long-spot', 'short-spot']);
  c.finite('minEntryBasisBps', p.minEntryBasisBps);
  c.finite('exitBasisBps', p.exitBasisBps);
  c.that(p.exitBasisBps < p.minEntryBasisBps, 'exitBasisBps', 'must be below minEntryBasisBps');
  c.positive('maxEntryCostPct', p.maxEntryCostPct);
  c.nonNegative('slippageBps', p.slippageBps);
  c.positive('maxHoldingHours', p.maxHoldingHours);
  c.positive('maxAdverseFundingHours', p.maxAdverseFundingHours);
  c.positive('deltaToleranceBase', p.deltaToleranceBase);
  c.positive('staleAfterMs', p.staleAfterMs);
  c.positive('maxPositionNotional', p.maxPositionNotional);
  c.integer('maxCycles', p.maxCycles, 0);
  c.nonNegative('cooldownMs', p.cooldownMs);
  c.that(markets.spot.type === 'spot', 'spot.symbol', `${markets.spot.symbol} is not a spot market`);
  c.that(markets.perp.type === 'swap', 'perp.symbol', `${markets.perp.symbol} is not a perpetual`);
  c.that(markets.spot.base === markets.perp.base, 'perp.symbol', 'spot and perp must share the base asset');
  c.that(
    markets.spot.venue === p.spot.venue && markets.perp.venue === p.perp.venue,
    'markets',
    'markets do not match the instruments',
  );
  c.throwIfAny('spot-futures');
}

/** Entry legs' gross basis in bps for the configured direction, from executable prices. */
function entryBasisBps(ctx: SpotFuturesContext): number {
  const { spot, perp } = ctx.quotes;
  if (!spot || !perp) return Number.NEGATIVE_INFINITY;
  return ctx.params.direction === 'long-spot'
    ? ((perp.bid - spot.ask) / spot.ask) * 1e4 // buy spot at ask, sell perp at bid
    : ((spot.bid - perp.ask) / perp.ask) * 1e4; // sell spot at bid, buy perp at ask
}

/** Basis still in the position's favour if we exited now, bps (exit prices). */
function exitBasisBps(ctx: SpotFuturesContext): number {
  const { spot, perp } = ctx.quotes;
  if (!spot || !perp) return Number.POSITIVE_INFINITY;
  return ctx.params.direction === 'long-spot'
    ? ((perp.ask - spot.bid) / spot.bid) * 1e4 // sell spot at bid, buy perp back at ask
    : ((spot.ask - perp.bid) / perp.bid) * 1e4;
}

/** Taker fees of both legs, in and out, plus expected slippage on all four fills, bps. */
function roundTripCostBps(ctx: SpotFuturesContext): number {
  const { spot, perp } = ctx.markets;
  return 2 * (spot.taker + perp.taker) * 1e4 + 4 * ctx.params.slippageBps;
}

function entryCostPct(ctx: SpotFuturesContext): number {
  const { spot, perp } = ctx.markets;
  return ((spot.taker + perp.taker) * 1e4 + 2 * ctx.params.slippageBps) / 100;
}

/** The books in leg order (spot, perp), as every execution and the attention rules see them. */
const BOOKS: TwoLegBooks<SpotFuturesContext> = {
  books: (c) => [c.legs.spot, c.legs.perp],
  withBooks: (_c, [spot, perp]) => ({ legs: { spot, perp } }),
  markets: (c) => [c.markets.spot, c.markets.perp],
  quotes: (c) => [c.quotes.spot, c.quotes.perp],
  deltaTolerance: (c) => c.params.deltaToleranceBase,
};

const isFlat = (ctx: SpotFuturesContext): boolean => booksFlatIn(BOOKS, ctx);
/** The legs' names in messages, in book order. */
const LEGS: [string, string] = ['spot', 'perp'];
const hedged = (ctx: SpotFuturesContext): boolean => booksHedgedIn(BOOKS, ctx);

/** Long spot: spot +a, perp −a; short spot: the reverse. Absolute targets: leftover dust is absorbed. */
function entryTargets(ctx: SpotFuturesContext): { spot: number; perp: number } {
  const a = ctx.amountBase;
  return ctx.params.direction === 'long-spot' ? { spot: a, perp: -a } : { spot: -a, perp: a };
}

function execution(
  ctx: SpotFuturesContext,
  phase: 'e' | 'x' | 'r',
  execution: number,
  mode: HedgedPairInput['mode'],
  targets: { spot: number; perp: number },
): HedgedPairInput {
  const { spot: ms, perp: mp } = ctx.markets;
  return {
    tag: ctx.tag,
    cycle: ctx.cycle,
    phase,
    execution,
    mode,
    legs: [
      legSpec(ms, ctx.legs.spot, targets.spot, ctx.quotes.spot),
      legSpec(mp, ctx.legs.perp, targets.perp, ctx.quotes.perp),
    ],
    toleranceBase: ctx.params.deltaToleranceBase,
  };
}

const entryInput = (ctx: SpotFuturesContext) => execution(ctx, 'e', 0, 'open', entryTargets(ctx));
const exitInput = (ctx: SpotFuturesContext) =>
  execution(ctx, 'x', ctx.exitAttempts, 'close', { spot: 0, perp: 0 });
/** The perp goes back to −spot; when the perp cannot trade the residual the pair moves spot instead. */
const rebalanceInput = (ctx: SpotFuturesContext) =>
  execution(ctx, 'r', ctx.rebalances, 'adjust', {
    spot: ctx.legs.spot.position,
    perp: -ctx.legs.spot.position,
  });

/** The market side of the entry rule: basis net of costs, entry cost, notional, fresh quotes. */
function entryMarketOpen(context: SpotFuturesContext): boolean {
  const net = entryBasisBps(context) - roundTripCostBps(context);
  return (
    net >= context.params.minEntryBasisBps &&
    entryCostPct(context) <= context.params.maxEntryCostPct &&
    context.amountBase * mid(context.quotes.spot) <= context.params.maxPositionNotional &&
    isFresh(context.quotes.spot, context.now, context.params.staleAfterMs) &&
    isFresh(context.quotes.perp, context.now, context.params.staleAfterMs)
  );
}

function basisConverged(context: SpotFuturesContext): boolean {
  return exitBasisBps(context) <= context.params.exitBasisBps;
}

function holdingTimeExceeded(context: SpotFuturesContext): boolean {
  return context.holdingDeadline !== undefined && context.now >= context.holdingDeadline;
}

function fundingAgainstTooLong(context: SpotFuturesContext): boolean {
  return (
    context.fundingAdverseSince !== undefined &&
    context.now - context.fundingAdverseSince > context.params.maxAdverseFundingHours * HOUR_MS
  );
}

/**
 * Could these quotes (arriving at `now`) change a decision? In `watching` that is the market side
 * of the entry rule, in `holding` the exit rules that quotes or time can trigger — the time rules
 * already `horizonMs` ahead, because a clock tick may fire them before the next quote, and the
 * exit orders are priced from the quotes the machine holds; in every other state, yes. The engine
 * sends the machine a quote when this says so, while the previous quote it sent said so, or at
 * least every `horizonMs` per leg (see src/actors/quote-gate.ts): whenever the machine's quotes lag
 * behind, both they and the latest ones evaluate these rules to false, so a machine fed this way
 * decides as one fed every quote — at a fraction of the cost.
 */
export function spotFuturesQuoteCanDecide(
  context: SpotFuturesContext,
  state: string,
  quotes: { spot: Quote | undefined; perp: Quote | undefined },
  now: number,
  horizonMs: number,
): boolean {
  if (state !== 'watching' && state !== 'holding') return true;
  // Only the fields the rules read (a full context copy per quote would cost more than the rules).
  const next = {
    params: context.params,
    markets: context.markets,
    amountBase: context.amountBase,
    holdingDeadline: context.holdingDeadline,
    fundingAdverseSince: context.fundingAdverseSince,
    quotes,
    now: Math.max(context.now, now),
  } as SpotFuturesContext;
  if (state === 'watching') return entryMarketOpen(next);
  if (basisConverged(next)) return true;
  const soon = { ...next, now: next.now + horizonMs };
  return holdingTimeExceeded(soon) || fundingAgainstTooLong(soon);
}

function withQuote(
  context: Pick<SpotFuturesContext, 'now' | 'quotes' | 'params'>,
  e: QuoteEvent,
): Pick<SpotFuturesContext, 'now' | 'quotes'> {
  const q = toQuote(e);
  const isSpot = e.venue === context.params.spot.venue && e.symbol === context.params.spot.symbol;
  const isPerp = e.venue === context.params.perp.venue && e.symbol === context.params.perp.symbol;
  return {
    now: Math.max(context.now, e.receivedAt),
    quotes: {
      spot: isSpot ? q : context.quotes.spot,
      perp: isPerp ? q : context.quotes.perp,
    },
  };
}

type PairDone = { output: HedgedPairOutput };
const attentionKit = attentionRules(BOOKS);

export const spotFuturesMachine = setup({
  types: {
    context: {} as SpotFuturesContext,
    events: {} as SpotFuturesEvent,
    input: {} as SpotFuturesInput,
  },
  actors: { ...actorContracts, order: orderMachine, hedgedPair: hedgedPairMachine },
  guards: {
    ...attentionKit.guards,
    stopRequested: ({ context }) => context.stopRequested !== undefined,
    stopWithFlatten: ({ context }) => context.stopRequested?.flatten === true && !isFlat(context),
    quotesFresh: ({ context }) =>
      isFresh(context.quotes.spot, context.now, context.params.staleAfterMs) &&
      isFresh(context.quotes.perp, context.now, context.params.staleAfterMs),
    basisWideEnoughToEnter: ({ context }) =>
      entryMarketOpen(context) && !context.paused && context.riskBlocked === undefined,
    /** The entry holds a hedged position (all of it, or the part both legs reached). */
    entryHolds: ({ event }) => ['reached', 'hedged'].includes((event as unknown as PairDone).output.outcome),
    entryLeftNothing: ({ event }) =>
      ['flat', 'nothingFilled'].includes((event as unknown as PairDone).output.outcome),
    basisConverged: ({ context }) => basisConverged(context),
    holdingTimeExceeded: ({ context }) => holdingTimeExceeded(context),
    fundingAgainstTooLong: ({ context }) => fundingAgainstTooLong(context),
    riskWantsFlat: ({ context }) =>
      context.riskBlocked !== undefined && context.stopRequested?.flatten === true,
    deltaDriftBeyondTolerance: ({ context }) => !hedged(context),
    rebalanceBudgetLeft: ({ context }) => context.rebalances < 3,
    positionsFlat: ({ context }) => isFlat(context),
    exitAttemptsLeft: ({ context }) => context.exitAttempts < 3,
    maxCyclesReached: ({ context }) =>
      context.params.maxCycles > 0 && context.completedCycles >= context.params.maxCycles,
    hasQuotes: ({ context }) => context.quotes.spot !== undefined && context.quotes.perp !== undefined,
  },
  actions: {
    ...attentionKit.actions,
    recordQuote: assign(({ context, event }) => withQuote(context, event as QuoteEvent)),
    recordQuotes: assign(({ context, event }) => {
      let next: Pick<SpotFuturesContext, 'now' | 'quotes'> = context;
      for (const q of (event as QuoteBatchEvent).quotes)
        next = withQuote({ ...next, params: context.params }, q);
      return { now: next.now, quotes: next.quotes };
    }),
    recordTime: assign({
      now: ({ context, event }) => Math.max(context.now, (event as { now: number }).now),
    }),
    recordFundingRate: assign(({ context, event }) => {
      const e = event as FundingRateEvent;
      // Short perp receives when rate > 0; long perp receives when rate < 0.
      const perpShort = context.params.direction === 'long-spot';
      const hasPosition = context.legs.perp.position !== 0;
      const adverse = hasPosition && (perpShort ? e.rate < 0 : e.rate > 0);
      return {
        now: Math.max(context.now, e.at),
        fundingRate: e.rate,
        fundingAdverseSince: adverse ? (context.fundingAdverseSince ?? e.at) : undefined,
      };
    }),
    recordFundingPayment: assign(({ context, event }) => {
      const e = event as FundingPaymentEvent;
      // Payments before this strategy started, or already counted, are not ours to add.
      if (e.timestamp <= context.lastFundingTs || e.timestamp < context.startedAt) return {};
      return {
        legs: { ...context.legs, perp: applyFunding(context.legs.perp, e) },
        lastFundingTs: e.timestamp,
      };
    }),
    ...controlActions<SpotFuturesContext, SpotFuturesEvent>(),
    captureOpportunity: assign(({ context }) => ({
      opportunity: {
        grossBps: entryBasisBps(context),
        netBps: entryBasisBps(context) - roundTripCostBps(context),
        costPct: entryCostPct(context),
        at: context.now,
      },
      cycle: context.cycle + 1,
    })),
    /** What the last execution did, for status and reports; an entry's order errors too. */
    notePairResult: assign(({ event }, p: { errorsAs?: string }) => {
      const out = (event as unknown as PairDone).output;
      return {
        lastPair: { outcome: out.outcome, residualBase: out.residualBase, fees: out.fees },
        ...(p.errorsAs && out.errors.length ? { lastError: failure(p.errorsAs, out.errors.join('; ')) } : {}),
      };
    }),
    markEntered: assign(({ context }) => ({
      enteredAt: context.now,
      holdingDeadline: context.now + context.params.maxHoldingHours * HOUR_MS,
      entryBasisBps: context.opportunity?.grossBps,
      exitAttempts: 0,
      rebalances: 0,
    })),
    countExit: assign(({ context }) => ({ exitAttempts: context.exitAttempts + 1 })),
    countRebalance: assign(({ context }) => ({ rebalances: context.rebalances + 1 })),
    finishCycle: assign(({ context }) => ({
      completedCycles: context.completedCycles + 1,
      enteredAt: undefined,
      holdingDeadline: undefined,
      entryBasisBps: undefined,
      opportunity: undefined,
      fundingAdverseSince: undefined,
    })),
    recordDeltaUncorrectable: assign(({ context }) => ({
      attention: attention(
        `net delta ${netDelta(BOOKS.books(context))} still beyond tolerance after ${context.rebalances} rebalances`,
        context.now,
        BOOKS.books(context),
      ),
    })),
    recordExitIncomplete: assign(({ context }) => ({ attention: exitIncomplete(BOOKS, context, LEGS) })),
    noteHeldOnStop: assign(({ context }) => {
      const held = heldOnStop(BOOKS, context, LEGS);
      return held ? { lastError: held } : {};
    }),
  },
}).createMachine({
  id: 'spotFutures',
  context: ({ input }) => {
    validateSpotFuturesParams(input.params, input.markets);
    const { spot, perp } = input.markets;
    return {
      id: input.id,
      tag: strategyTag(input.id),
      params: input.params,
      markets: input.markets,
      amountBase: commonAmount(spot, perp, input.params.amount),
      quotes: { spot: undefined, perp: undefined },
      now: 0,
      startedAt: 0,
      legs: {
        spot: newLeg(spot.venue, spot.symbol, spot.contractSize),
        perp: newLeg(perp.venue, perp.symbol, perp.contractSize),
      },
      cycle: 0,
      opportunity: undefined,
      enteredAt: undefined,
      holdingDeadline: undefined,
      entryBasisBps: undefined,
      fundingRate: undefined,
      fundingAdverseSince: undefined,
      lastFundingTs: 0,
      paused: false,
      riskBlocked: undefined,
      stopRequested: undefined,
      rebalances: 0,
      exitAttempts: 0,
      completedCycles: 0,
      lastError: undefined,
      lastPair: undefined,
    };
  },
  invoke: [
    {
      id: 'quotesSpot',
      src: 'watchQuotes',
      input: ({ context }): WatchQuotesInput => ({ ...context.params.spot }),
    },
    {
      id: 'quotesPerp',
      src: 'watchQuotes',
      input: ({ context }): WatchQuotesInput => ({ ...context.params.perp }),
    },
    {
      id: 'funding',
      src: 'watchFunding',
      input: ({ context }): WatchFundingInput => ({ ...context.params.perp }),
    },
    { id: 'clock', src: 'clockTick', input: (): ClockTickInput => ({ everyMs: 1_000 }) },
  ],
  on: {
    // The venue closed a position mid-execution: named when the execution ends (rest states go at once).
    ATTENTION: { actions: 'noteVenueNotice' },
    QUOTE: { actions: 'recordQuote' },
    QUOTES: { actions: 'recordQuotes' },
    'TIME.TICK': { actions: 'recordTime' },
    'FUNDING.RATE': { actions: 'recordFundingRate' },
    'FUNDING.PAYMENT': { actions: 'recordFundingPayment' },
    ...controlHandlers,
  },
  initial: 'starting',
  states: {
    /** Waits for the first time reading and both books. */
    starting: {
      on: {
        'TIME.TICK': {
          target: 'watching',
          actions: ['recordTime', assign({ startedAt: ({ event }) => (event as { now: number }).now })],
        },
        QUOTE: {
          target: 'watching',
          actions: ['recordQuote', assign({ startedAt: ({ event }) => (event as QuoteEvent).receivedAt })],
        },
        QUOTES: {
          target: 'watching',
          actions: [
            'recordQuotes',
            assign({ startedAt: ({ event }) => (event as QuoteBatchEvent).quotes[0]!.receivedAt }),
          ],
        },
      },
    },
    watching: {
      on: { ATTENTION: { target: 'needsAttention', actions: 'raiseAttention' } },
      always: [
        { guard: 'stopRequested', target: 'stopped' },
        { guard: 'basisWideEnoughToEnter', target: 'entering', actions: 'captureOpportunity' },
      ],
    },
    entering: pairExecutionState<SpotFuturesContext>({
      id: 'entry',
      what: 'entry',
      input: entryInput,
      quoteBatches: true,
      after: [{ type: 'notePairResult', params: { errorsAs: 'EntryErrors' } }],
      onward: [
        { guard: 'entryHolds', target: 'holding', actions: ['markEntered', assign({ emptyEntries: 0 })] },
        {
          target: 'cooldown',
          actions: [assign({ emptyEntries: ({ context }) => (context.emptyEntries ?? 0) + 1 })],
        },
      ],
    }),
    holding: {
      on: {
        ATTENTION: { target: 'needsAttention', actions: 'raiseAttention' },
        // An operator's flatten: exit now (then trade on, as after any exit).
        'OPERATOR.FLATTEN': 'exiting',
      },
      always: [
        { guard: 'stopWithFlatten', target: 'exiting' },
        { guard: 'stopRequested', target: 'stopped', actions: 'noteHeldOnStop' },
        { guard: 'deltaDriftBeyondTolerance', target: 'rebalancing' },
        { guard: 'holdingTimeExceeded', target: 'exiting' },
        { guard: 'fundingAgainstTooLong', target: 'exiting' },
        { guard: 'basisConverged', target: 'exiting' },
      ],
    },
    rebalancing: {
      always: [
        { guard: 'rebalanceBudgetLeft', target: 'correctingDelta' },
        { target: 'needsAttention', actions: 'recordDeltaUncorrectable' },
      ],
    },
    correctingDelta: pairExecutionState<SpotFuturesContext>({
      id: 'rebalance',
      what: 'rebalance',
      input: rebalanceInput,
      quoteBatches: true,
      after: ['countRebalance'],
      onward: [{ target: 'holding' }],
    }),
    exiting: pairExecutionState<SpotFuturesContext>({
      id: 'exit',
      what: 'exit',
      input: exitInput,
      quoteBatches: true,
      after: ['countExit', { type: 'notePairResult', params: {} }],
      onward: [{ target: 'afterExit' }],
    }),
    ...cycleEndStates(),
    /** Exposure it could not close, or an order's outcome unknown: locks kept, operator told. */
    needsAttention: needsAttentionState({
      machineId: 'spotFutures',
      resume: 'holding',
      flattenInput: (c: SpotFuturesContext) => flattenPairInput(BOOKS, c),
      quoteBatches: true,
    }),
    afterFlatten: afterFlattenState(),
  },
});

/** Reported PnL at current mids: realized + unrealized − fees + funding, both legs. */
export function spotFuturesPnl(ctx: SpotFuturesContext): number {
  return totalPnl([ctx.legs.spot, ctx.legs.perp], [mid(ctx.quotes.spot), mid(ctx.quotes.perp)]);
}
