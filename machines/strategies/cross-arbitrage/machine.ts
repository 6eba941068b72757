/**
 * Simple cross-exchange spot arbitrage with inventory on both venues: when one venue's bid
 * exceeds the other's ask by more than both taker fees plus `minProfitBps`, buy on the cheap
 * venue and sell on the rich one at once (IOC at the quoted prices), sized by the top-of-book
 * sizes, the balances on each side and `maxNotional`.
 *
 *   idle ─(balances loaded)─▶ detecting ─(profitableCrossExists)─▶ opportunity ─(stillExecutable)─▶ executing
 *   executing ─▶ settling ─▶ cooldown ─▶ detecting | completed
 *   executing ─(unhedged, or an order's fill unknown)─▶ needsAttention
 *   idle | detecting ─(feed down / error)─▶ recovering ─▶ detecting | needsAttention
 *
 * Each execution's targets are absolute: venue A moves by ±a from what the books hold and venue B
 * to the opposite of A, so a residual left by an earlier execution is absorbed by the next one
 * instead of adding up.
 */
import { assign, setup } from 'xstate';
import type { Balances, Market } from '../../../src/domain/index.ts';
import { amountToPrecision, minTradableAmount } from '../../../src/domain/index.ts';
import { type LegBook, newLeg } from '../../accounting.ts';
import { actorContracts } from '../../contract-actors.ts';
import type {
  ClockTickInput,
  ErrorInfo,
  FeedStatusEvent,
  QuoteEvent,
  WaitInput,
  WatchQuotesInput,
} from '../../contracts.ts';
import { failure, toErrorInfo } from '../../contracts.ts';
import { type HedgedPairInput, type HedgedPairOutput, hedgedPairMachine } from '../../hedged-pair.ts';
import { strategyTag } from '../../ids.ts';
import { orderMachine } from '../../order.ts';
import { ParamChecker } from '../../params.ts';
import {
  type Attention,
  afterFlattenState,
  attention,
  attentionRules,
  flattenPairInput,
  needsAttentionState,
} from '../kit/attention.ts';
import { applyPair, booksHedgedIn, legSpec, type TwoLegBooks, totalPnl } from '../kit/books.ts';
import { controlActions, controlHandlers, type StrategyControlEvent } from '../kit/control.ts';
import { pairExecutionState } from '../kit/hedged-cycle.ts';
import { isFresh, mid, type Quote, toQuote } from '../kit/quotes.ts';
import type { CrossArbitrageParams } from './params.ts';

/** The params, typed from their schema (./params.ts). */
export type { CrossArbitrageParams };

export interface CrossArbitrageInput {
  id: string;
  params: CrossArbitrageParams;
  markets: { A: Market; B: Market };
}

interface Opportunity {
  /** Buy here, sell there. */
  buy: 'A' | 'B';
  buyPrice: number;
  sellPrice: number;
  edgeBps: number;
  amountBase: number;
  at: number;
}

export interface CrossArbitrageContext {
  id: string;
  tag: string;
  params: CrossArbitrageParams;
  markets: { A: Market; B: Market };
  quotes: { A: Quote | undefined; B: Quote | undefined };
  balances: { A: Balances | undefined; B: Balances | undefined };
  feedDown: string[];
  now: number;
  legs: { A: LegBook; B: LegBook };
  opportunity: Opportunity | undefined;
  executions: number;
  cycle: number;
  paused: boolean;
  riskBlocked: string | undefined;
  stopRequested: { flatten: boolean } | undefined;
  recoveries: number;
  lastError: ErrorInfo | undefined;
  lastExecution: { outcome: string; edgeBps: number; pnl: number } | undefined;
  /** Inventory off balance it could not correct, or orders whose outcome is unknown. */
  attention?: Attention | undefined;
  flattens?: number;
}

export type CrossArbitrageEvent =
  | QuoteEvent
  | FeedStatusEvent
  | { type: 'TIME.TICK'; now: number }
  | StrategyControlEvent;

export function validateCrossArbitrageParams(p: CrossArbitrageParams, m: { A: Market; B: Market }): void {
  const c = new ParamChecker();
  c.finite('minProfitBps', p.minProfitBps);
  c.nonNegative('slippageBps', p.slippageBps);
  c.positive('maxNotional', p.maxNotional);
  c.that(
    p.maxBalanceFraction > 0 && p.maxBalanceFraction <= 1,
    'maxBalanceFraction',
    `must be in (0, 1], got ${p.maxBalanceFraction}`,
  );
  c.positive('staleAfterMs', p.staleAfterMs);
  c.integer('maxExecutions', p.maxExecutions, 0);
  c.nonNegative('cooldownMs', p.cooldownMs);
  c.positive('toleranceBase', p.toleranceBase);
  c.that(
    m.A.type === 'spot' && m.B.type === 'spot',
    'venueA.symbol',
    'both instruments must be spot markets',
  );
  c.that(
    m.A.base === m.B.base && m.A.quote === m.B.quote,
    'venueB.symbol',
    'both venues must trade the same pair',
  );
  c.that(
    p.venueA.venue !== p.venueB.venue,
    'venueB.venue',
    'the two instruments must be on different venues',
  );
  c.throwIfAny('cross-arbitrage');
}

const free = (b: Balances | undefined, asset: string): number => b?.[asset]?.free ?? 0;

/** The best executable cross right now, sized, or undefined. */
function findOpportunity(ctx: CrossArbitrageContext): Opportunity | undefined {
  const { A, B } = ctx.quotes;
  if (!A || !B) return undefined;
  const p = ctx.params;
  const best = (buy: 'A' | 'B'): Opportunity | undefined => {
    const sell = buy === 'A' ? 'B' : 'A';
    const qb = ctx.quotes[buy]!;
    const qs = ctx.quotes[sell]!;
    const mb = ctx.markets[buy];
    const ms = ctx.markets[sell];
    const edgeBps = ((qs.bid * (1 - ms.taker) - qb.ask * (1 + mb.taker)) / qb.ask) * 1e4 - 2 * p.slippageBps;
    if (edgeBps < p.minProfitBps) return undefined;
    const byBook = Math.min(qb.askSize, qs.bidSize);
    const byNotional = p.maxNotional / qb.ask;
    const byQuote = (free(ctx.balances[buy], mb.quote) * p.maxBalanceFraction) / (qb.ask * (1 + mb.taker));
    const byBase = free(ctx.balances[sell], ms.base) * p.maxBalanceFraction;
    const raw = Math.min(byBook, byNotional, byQuote, byBase);
    const amount = Math.min(amountToPrecision(mb, raw), amountToPrecision(ms, raw));
    if (amount < Math.max(minTradableAmount(mb, qb.ask), minTradableAmount(ms, qs.bid))) return undefined;
    return { buy, buyPrice: qb.ask, sellPrice: qs.bid, edgeBps, amountBase: amount, at: ctx.now };
  };
  const a = best('A');
  const b = best('B');
  if (a && b) return a.edgeBps >= b.edgeBps ? a : b;
  return a ?? b;
}

/** The books in leg order (A, B): inventory moved on each venue since the start. */
const BOOKS: TwoLegBooks<CrossArbitrageContext> = {
  books: (c) => [c.legs.A, c.legs.B],
  withBooks: (_c, [A, B]) => ({ legs: { A, B } }),
  markets: (c) => [c.markets.A, c.markets.B],
  quotes: (c) => [c.quotes.A, c.quotes.B],
  deltaTolerance: (c) => c.params.toleranceBase,
  flattenTo: 'hedged',
};

const balanced = (ctx: CrossArbitrageContext): boolean => booksHedgedIn(BOOKS, ctx);

const executionsDone = (ctx: CrossArbitrageContext): boolean =>
  ctx.params.maxExecutions > 0 && ctx.executions >= ctx.params.maxExecutions;

/**
 * Buy `a` on one venue, sell it on the other, at the quoted prices (IOC); leg 0 is always venue A.
 * B's target is the opposite of A's, so any residual in the books is absorbed here.
 */
function pairInput(ctx: CrossArbitrageContext): HedgedPairInput {
  const o = ctx.opportunity!;
  const targetA = ctx.legs.A.position + (o.buy === 'A' ? o.amountBase : -o.amountBase);
  const [priceA, priceB] = o.buy === 'A' ? [o.buyPrice, o.sellPrice] : [o.sellPrice, o.buyPrice];
  return {
    tag: ctx.tag,
    cycle: ctx.cycle,
    phase: 'e',
    execution: 0,
    mode: 'open',
    legs: [
      legSpec(ctx.markets.A, ctx.legs.A, targetA, ctx.quotes.A, priceA),
      legSpec(ctx.markets.B, ctx.legs.B, -targetA, ctx.quotes.B, priceB),
    ],
    toleranceBase: ctx.params.toleranceBase,
    // A missed IOC leg is chased at market; then the hedge already held is kept.
    maxRounds: 4,
    retryDelayMs: 100,
  };
}

const attentionKit = attentionRules(BOOKS);

type PairDone = { output: HedgedPairOutput };

/**
 * PnL with both venues' inventory valued at one common mark (the average of the two mids):
 * the asset is the same on both venues, and an arbitrage moves it from one to the other, so
 * valuing each side at its own venue's mid would book the captured spread as a loss.
 */
/** Fetch both venues' balances at once; a failure goes to `onErrorTarget`. */
function loadBalances(onErrorTarget: string) {
  return [
    {
      id: 'balanceA',
      src: 'fetchBalance',
      input: ({ context }: { context: CrossArbitrageContext }) => ({ venue: context.params.venueA.venue }),
      onDone: { actions: 'recordBalanceA' },
      onError: { target: onErrorTarget, actions: 'recordError' },
    },
    {
      id: 'balanceB',
      src: 'fetchBalance',
      input: ({ context }: { context: CrossArbitrageContext }) => ({ venue: context.params.venueB.venue }),
      onDone: { actions: 'recordBalanceB' },
      onError: { target: onErrorTarget, actions: 'recordError' },
    },
  ] as const;
}

/**
 * How an arbitrage values its legs: both at one common price (the mean of the two mids). The
 * inventories on the two venues offset each other, so the spread captured is profit already —
 * marking each leg at its own venue's mid would show it as a loss until the venues converge.
 * Every view of the strategy's PnL (status, reports, risk) values it this way.
 */
export function crossArbitrageMarks(marks: number[]): number[] {
  const [a = 0, b = 0] = marks;
  const m = a > 0 && b > 0 ? (a + b) / 2 : a || b;
  return [m, m];
}

function pnl(ctx: CrossArbitrageContext): number {
  return totalPnl([ctx.legs.A, ctx.legs.B], crossArbitrageMarks([mid(ctx.quotes.A), mid(ctx.quotes.B)]));
}

export const crossArbitrageMachine = setup({
  types: {
    context: {} as CrossArbitrageContext,
    events: {} as CrossArbitrageEvent,
    input: {} as CrossArbitrageInput,
  },
  actors: { ...actorContracts, order: orderMachine, hedgedPair: hedgedPairMachine },
  guards: {
    ...attentionKit.guards,
    stopRequested: ({ context }) => context.stopRequested !== undefined,
    feedIsDown: ({ context }) => context.feedDown.length > 0,
    balancesKnown: ({ context }) => context.balances.A !== undefined && context.balances.B !== undefined,
    profitableCrossExists: ({ context }) =>
      !context.paused &&
      context.riskBlocked === undefined &&
      isFresh(context.quotes.A, context.now, context.params.staleAfterMs) &&
      isFresh(context.quotes.B, context.now, context.params.staleAfterMs) &&
      findOpportunity(context) !== undefined,
    maxExecutionsReached: ({ context }) => executionsDone(context),
    stopRequestedWhileUnbalanced: ({ context }) => context.stopRequested !== undefined && !balanced(context),
    /** About to end (its last execution, or a stop) with the books off. */
    endingWithBooksOff: ({ context }) =>
      (executionsDone(context) || context.stopRequested !== undefined) && !balanced(context),
    inventoryUnbalanced: ({ context }) => !balanced(context),
  },
  actions: {
    ...attentionKit.actions,
    /**
     * What a stop leaves behind, said plainly: an arbitrage's flatten brings the net inventory to
     * zero, but the asset it bought on one venue and sold on the other stays where it is (only a
     * transfer between the venues moves it back).
     */
    noteInventoryOnStop: assign(({ context }) => {
      const { A, B } = context.legs;
      const moved = Math.abs(A.position) > 1e-12 || Math.abs(B.position) > 1e-12;
      // An operator's resolve already said what the books held.
      if (!moved || context.lastError?.name === 'ResolvedByOperator') return {};
      const fmt = (x: number) => `${x > 0 ? '+' : ''}${+x.toFixed(8)}`;
      const { venueA, venueB } = context.params;
      return {
        lastError: failure(
          'InventoryMovedBetweenVenues',
          `stopped with ${venueA.venue} ${fmt(A.position)} ${venueA.symbol}, ${venueB.venue} ${fmt(B.position)} ${venueB.symbol} (net ${fmt(A.position + B.position)}): the arbitrage is hedged across the venues; a transfer between them rebalances it`,
        ),
      };
    }),
    recordUnbalanced: assign(({ context }, p: { after: 'recovery' | 'the execution' }) => ({
      attention: attention(
        `inventory is off by ${context.legs.A.position + context.legs.B.position} base after ${p.after}${context.lastError ? `; ${context.lastError.message}` : ''}`,
        context.now,
        BOOKS.books(context),
      ),
    })),
    recordQuote: assign(({ context, event }) => {
      const e = event as QuoteEvent;
      const key =
        e.venue === context.params.venueA.venue && e.symbol === context.params.venueA.symbol
          ? 'A'
          : e.venue === context.params.venueB.venue && e.symbol === context.params.venueB.symbol
            ? 'B'
            : undefined;
      if (!key) return {};
      return { quotes: { ...context.quotes, [key]: toQuote(e) }, now: Math.max(context.now, e.receivedAt) };
    }),
    recordTime: assign({
      now: ({ context, event }) => Math.max(context.now, (event as { now: number }).now),
    }),
    recordFeedDown: assign({
      feedDown: ({ context, event }) => {
        const e = event as FeedStatusEvent;
        const k = `${e.venue}|${e.symbol}`;
        return context.feedDown.includes(k) ? context.feedDown : [...context.feedDown, k];
      },
    }),
    recordFeedUp: assign({
      feedDown: ({ context, event }) => {
        const e = event as FeedStatusEvent;
        return context.feedDown.filter((k) => k !== `${e.venue}|${e.symbol}`);
      },
    }),
    ...controlActions<CrossArbitrageContext, CrossArbitrageEvent>(),
    captureOpportunity: assign(({ context }) => ({ opportunity: findOpportunity(context) })),
    refreshOpportunity: assign(({ context }) => ({
      opportunity: findOpportunity(context),
      cycle: context.cycle + 1,
    })),
    /** What an execution did (before its fills are booked: its PnL is the books' change). */
    noteExecution: assign(({ context, event }) => {
      const out = (event as unknown as PairDone).output;
      // The pair's legs are always [A, B] (see pairInput), whichever side buys.
      const [A, B] = applyPair([context.legs.A, context.legs.B], out);
      return {
        executions: ['reached', 'hedged'].includes(out.outcome) ? context.executions + 1 : context.executions,
        // Balances moved: refresh them before the next decision.
        balances: { A: undefined, B: undefined },
        lastExecution: {
          outcome: out.outcome,
          edgeBps: context.opportunity!.edgeBps,
          pnl: pnl({ ...context, legs: { A, B } }) - pnl(context),
        },
        ...(out.errors.length ? { lastError: failure('ExecutionErrors', out.errors.join('; ')) } : {}),
      };
    }),
    recordBalanceA: assign({
      balances: ({ context, event }) => ({
        ...context.balances,
        A: (event as unknown as { output: Balances }).output,
      }),
    }),
    recordBalanceB: assign({
      balances: ({ context, event }) => ({
        ...context.balances,
        B: (event as unknown as { output: Balances }).output,
      }),
    }),
    recordError: assign({ lastError: ({ event }) => toErrorInfo((event as { error?: unknown }).error) }),
    countRecovery: assign({ recoveries: ({ context }) => context.recoveries + 1 }),
  },
}).createMachine({
  id: 'crossArbitrage',
  context: ({ input }) => {
    validateCrossArbitrageParams(input.params, input.markets);
    return {
      id: input.id,
      tag: strategyTag(input.id),
      params: input.params,
      markets: input.markets,
      quotes: { A: undefined, B: undefined },
      balances: { A: undefined, B: undefined },
      feedDown: [],
      now: 0,
      legs: {
        A: newLeg(input.markets.A.venue, input.markets.A.symbol),
        B: newLeg(input.markets.B.venue, input.markets.B.symbol),
      },
      opportunity: undefined,
      executions: 0,
      cycle: 0,
      paused: false,
      riskBlocked: undefined,
      stopRequested: undefined,
      recoveries: 0,
      lastError: undefined,
      lastExecution: undefined,
    };
  },
  invoke: [
    {
      id: 'quotesA',
      src: 'watchQuotes',
      input: ({ context }): WatchQuotesInput => ({ ...context.params.venueA }),
    },
    {
      id: 'quotesB',
      src: 'watchQuotes',
      input: ({ context }): WatchQuotesInput => ({ ...context.params.venueB }),
    },
    { id: 'clock', src: 'clockTick', input: (): ClockTickInput => ({ everyMs: 1_000 }) },
  ],
  on: {
    // The venue closed a position mid-execution: named when the execution ends (rest states go at once).
    ATTENTION: { actions: 'noteVenueNotice' },
    QUOTE: { actions: 'recordQuote' },
    'TIME.TICK': { actions: 'recordTime' },
    'FEED.DOWN': { actions: 'recordFeedDown' },
    'FEED.UP': { actions: 'recordFeedUp' },
    ...controlHandlers,
  },
  initial: 'idle',
  states: {
    /** Loads both venues' balances. */
    idle: {
      always: [
        { guard: 'stopRequested', target: 'stopped' },
        { guard: 'feedIsDown', target: 'recovering' },
        { guard: 'balancesKnown', target: 'detecting' },
      ],
      invoke: loadBalances('#crossArbitrage.recovering'),
    },
    detecting: {
      on: { ATTENTION: { target: 'needsAttention', actions: 'raiseAttention' } },
      always: [
        { guard: 'stopRequested', target: 'stopped', actions: 'noteInventoryOnStop' },
        { guard: 'feedIsDown', target: 'recovering' },
        { guard: 'profitableCrossExists', target: 'opportunity', actions: 'captureOpportunity' },
      ],
    },
    /**
     * Sizes the cross against the latest books and balances and commits to a cycle number (and
     * so to client order ids). Entered only when detecting found the cross on this same
     * snapshot, so it leaves at once; it is a state so the diagram and the logs show it.
     */
    opportunity: {
      entry: 'refreshOpportunity',
      always: { target: 'executing' },
    },
    executing: pairExecutionState<CrossArbitrageContext>({
      id: 'execution',
      what: 'execution',
      input: pairInput,
      before: ['noteExecution'],
      onward: [{ target: 'settling' }],
    }),
    /** Refreshes balances after an execution, then looks again (or finishes). */
    settling: {
      invoke: loadBalances('#crossArbitrage.recovering'),
      always: [
        // The last execution, or a stop, with the books off (an execution left a residual): as in
        // recovering, say so and keep the locks; a stop or kill that asks to flatten closes it.
        {
          guard: 'endingWithBooksOff',
          target: 'needsAttention',
          actions: { type: 'recordUnbalanced', params: { after: 'the execution' } },
        },
        { guard: 'maxExecutionsReached', target: 'completed' },
        { guard: 'stopRequested', target: 'stopped', actions: 'noteInventoryOnStop' },
        { guard: 'balancesKnown', target: 'cooldown' },
      ],
    },
    cooldown: {
      on: { ATTENTION: { target: 'needsAttention', actions: 'raiseAttention' } },
      invoke: {
        id: 'pause',
        src: 'wait',
        input: ({ context }): WaitInput => ({ ms: context.params.cooldownMs }),
        onDone: 'detecting',
      },
    },
    /**
     * After a data loss, an error or an unhedged execution: wait for the feeds, reload balances,
     * and only go back to detecting with inventory balanced; otherwise fail loudly.
     */
    recovering: {
      entry: ['countRecovery', assign({ balances: { A: undefined, B: undefined } })],
      always: [
        // Told to stop with inventory off: say so and keep it, never stop quietly.
        {
          guard: 'stopRequestedWhileUnbalanced',
          target: 'needsAttention',
          actions: { type: 'recordUnbalanced', params: { after: 'recovery' } },
        },
        { guard: 'stopRequested', target: 'stopped', actions: 'noteInventoryOnStop' },
      ],
      initial: 'waitingForFeeds',
      states: {
        waitingForFeeds: {
          invoke: { id: 'pause', src: 'wait', input: (): WaitInput => ({ ms: 1_000 }), onDone: 'check' },
        },
        check: {
          always: [{ guard: 'feedIsDown', target: 'waitingForFeeds' }, { target: 'reloading' }],
        },
        reloading: {
          invoke: loadBalances('#crossArbitrage.recovering.waitingForFeeds'),
          always: [
            {
              guard: 'inventoryUnbalanced',
              target: '#crossArbitrage.needsAttention',
              actions: { type: 'recordUnbalanced', params: { after: 'recovery' } },
            },
            { guard: 'balancesKnown', target: '#crossArbitrage.detecting' },
          ],
        },
      },
    },
    /** Inventory off balance, or an order's outcome unknown: locks kept, operator told. */
    needsAttention: needsAttentionState({
      machineId: 'crossArbitrage',
      resume: 'cooldown',
      flattenInput: (c: CrossArbitrageContext) => flattenPairInput(BOOKS, c),
    }),
    afterFlatten: afterFlattenState(),
    completed: { type: 'final' },
    stopped: { type: 'final' },
  },
});

export function crossArbitragePnl(ctx: CrossArbitrageContext): number {
  return pnl(ctx);
}
