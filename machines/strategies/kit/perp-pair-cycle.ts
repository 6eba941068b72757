/**
 * The hedged cycle of two derivative legs, written once: a kind gives its rules — when it is
 * ready, which way to enter, why to exit — and gets the whole machine the built-in hedgers run
 * on: quotes and funding from both legs, the control block, entries and exits through the
 * hedged pair converging on targets from the books, a stop loss and a time limit, funding
 * payments booked, cooldown, and needs attention (locks kept, residual named) for any
 * exposure an execution could not close or any order whose outcome is unknown.
 *
 *   warmingUp ─(ready)─▶ watching ─(entry ≠ 0 ∧ quotes fresh ∧ not paused/blocked)─▶ entering ─▶ holding
 *   holding ─(exit ∨ stop loss ∨ time limit ∨ stop+flatten)─▶ exiting ─▶ cycleDone ─▶ cooldown ─▶ watching
 *   entering | exiting ─(exposure left, or an order's fill unknown)─▶ needsAttention
 *
 * The kind's own state lives in `context.own` (its rules update it on quotes and funding rates).
 */
import { type AnyStateMachine, assign, setup } from 'xstate';
import type { Instrument, Market } from '../../../src/domain/index.ts';
import { type LegBook, newLeg } from '../../accounting.ts';
import { actorContracts } from '../../contract-actors.ts';
import type {
  ClockTickInput,
  ErrorInfo,
  FundingPaymentEvent,
  FundingRateEvent,
  MarketEvent,
  QuoteEvent,
  WatchQuotesInput,
} from '../../contracts.ts';
import { type HedgedPairInput, type HedgedPairOutput, hedgedPairMachine } from '../../hedged-pair.ts';
import { strategyTag } from '../../ids.ts';
import { orderMachine } from '../../order.ts';
import { ParamChecker } from '../../params.ts';
import {
  type Attention,
  afterFlattenState,
  attentionRules,
  exitIncomplete,
  flattenPairInput,
  heldOnStop,
  needsAttentionState,
} from './attention.ts';
import { applyFunding, booksFlatIn, commonAmount, legSpec, type TwoLegBooks, totalPnl } from './books.ts';
import { controlActions, controlHandlers, type StrategyControlEvent } from './control.ts';
import { cycleEndStates, HOUR_MS, pairExecutionState } from './hedged-cycle.ts';
import { isFresh, mid, type Quote, toQuote } from './quotes.ts';

/** The params every perp-pair kind has (its schema adds its own). */
export interface PerpPairParams {
  legA: Instrument;
  legB: Instrument;
  /** Base units per leg per cycle. */
  amount: number;
  stopLossQuote: number;
  maxHoldingHours: number;
  deltaToleranceBase: number;
  staleAfterMs: number;
  maxPositionNotional: number;
  maxCycles: number;
  cooldownMs: number;
}

type Leg = 'legA' | 'legB';

export interface PerpPairContext<P extends PerpPairParams = PerpPairParams, X = unknown> {
  id: string;
  tag: string;
  params: P;
  markets: { legA: Market; legB: Market };
  amountBase: number;
  quotes: { legA: Quote | undefined; legB: Quote | undefined };
  /** The latest funding rate each venue announced for its leg (per settlement). */
  fundingRates: { legA: number | undefined; legB: number | undefined };
  now: number;
  startedAt: number;
  legs: { legA: LegBook; legB: LegBook };
  /** +1: long A / short B; −1: the reverse; 0: flat. */
  positionSign: 0 | 1 | -1;
  cycle: number;
  enteredAt: number | undefined;
  exitReason: string | undefined;
  lastFundingTs: { legA: number; legB: number };
  paused: boolean;
  riskBlocked: string | undefined;
  stopRequested: { flatten: boolean } | undefined;
  exitAttempts: number;
  completedCycles: number;
  emptyEntries?: number;
  lastError: ErrorInfo | undefined;
  attention?: Attention | undefined;
  flattens?: number;
  /** The kind's own state. */
  own: X;
}

export interface PerpPairInput<P> {
  id: string;
  params: P;
  markets: { legA: Market; legB: Market };
}

/** A perp-pair kind's rules: plain functions of its context. */
export interface PerpPairRules<P extends PerpPairParams, X> {
  /** The machine's id (persisted snapshots name it: never change it). */
  machineId: string;
  /** The kind's id, for parameter errors. */
  kind: string;
  /** Its own params' checks (the common ones — amount, legs on one base, limits — are the kit's). */
  checkParams?(p: P, c: ParamChecker): void;
  /** Its own state at the start. */
  own(): X;
  /** Its own state after a quote or a funding rate was recorded. */
  update?(c: PerpPairContext<P, X>, what: 'quote' | 'fundingRate'): X;
  /** Its own state as a cycle starts (the entry decided: `c.positionSign` is set). */
  onEntry?(c: PerpPairContext<P, X>): X;
  /** Its own state once a cycle ended flat. */
  onCycleEnd?(c: PerpPairContext<P, X>): X;
  /** Ready to look for an entry (statistics warm, both funding rates known…). */
  ready(c: PerpPairContext<P, X>): boolean;
  /** +1: long A / short B; −1: the reverse; 0: not now. Freshness, pause, risk and size are the kit's. */
  entry(c: PerpPairContext<P, X>): 1 | -1 | 0;
  /** Why to close the position now; undefined: hold. The stop loss and the time limit are the kit's. */
  exit(c: PerpPairContext<P, X>): string | undefined;
}

export type PerpPairEvent = MarketEvent | StrategyControlEvent;

/** Which leg an instrument is, in a context's params. */
function legOf(p: PerpPairParams, venue: string, symbol: string): Leg | undefined {
  if (venue === p.legA.venue && symbol === p.legA.symbol) return 'legA';
  if (venue === p.legB.venue && symbol === p.legB.symbol) return 'legB';
  return undefined;
}

/** The checks every perp pair needs, then the kind's. */
export function checkPerpPairParams<P extends PerpPairParams>(
  rules: Pick<PerpPairRules<P, unknown>, 'kind' | 'checkParams'>,
  p: P,
  markets: { legA: Market; legB: Market },
): void {
  const c = new ParamChecker();
  c.positive('amount', p.amount);
  c.positive('stopLossQuote', p.stopLossQuote);
  c.positive('maxHoldingHours', p.maxHoldingHours);
  c.positive('deltaToleranceBase', p.deltaToleranceBase);
  c.positive('staleAfterMs', p.staleAfterMs);
  c.positive('maxPositionNotional', p.maxPositionNotional);
  c.integer('maxCycles', p.maxCycles, 0);
  c.nonNegative('cooldownMs', p.cooldownMs);
  rules.checkParams?.(p, c);
  for (const k of ['legA', 'legB'] as const)
    c.that(markets[k].type !== 'spot', `${k}.symbol`, `${markets[k].symbol} is not a future or perpetual`);
  c.that(markets.legA.base === markets.legB.base, 'legB.symbol', 'both legs must be on the same base asset');
  c.that(
    !(p.legA.venue === p.legB.venue && p.legA.symbol === p.legB.symbol),
    'legB',
    'the two legs must be different instruments',
  );
  c.throwIfAny(rules.kind);
}

/** The machine of a perp-pair kind, from its rules. */
export function perpPairCycleMachine<P extends PerpPairParams, X>(
  rules: PerpPairRules<P, X>,
): AnyStateMachine {
  type C = PerpPairContext<P, X>;
  const BOOKS: TwoLegBooks<C> = {
    books: (c) => [c.legs.legA, c.legs.legB],
    withBooks: (_c, [legA, legB]) => ({ legs: { legA, legB } }),
    markets: (c) => [c.markets.legA, c.markets.legB],
    quotes: (c) => [c.quotes.legA, c.quotes.legB],
    deltaTolerance: (c) => c.params.deltaToleranceBase,
  };
  const isFlat = (c: C) => booksFlatIn(BOOKS, c);
  const LEGS: [string, string] = ['legA', 'legB'];
  const pnl = (c: C) => totalPnl(BOOKS.books(c), [mid(c.quotes.legA), mid(c.quotes.legB)]);
  const withOwn = (c: C, patch: Partial<C>, what: 'quote' | 'fundingRate'): Partial<C> => {
    const next = { ...c, ...patch };
    return rules.update ? { ...patch, own: rules.update(next, what) } : patch;
  };
  const pairInput = (c: C, phase: 'e' | 'x'): HedgedPairInput => {
    const a = c.amountBase * (c.positionSign || 1);
    const [targetA, targetB] = phase === 'e' ? [a, -a] : [0, 0];
    return {
      tag: c.tag,
      cycle: c.cycle,
      phase,
      execution: phase === 'x' ? c.exitAttempts : 0,
      mode: phase === 'e' ? 'open' : 'close',
      legs: [
        legSpec(c.markets.legA, c.legs.legA, targetA, c.quotes.legA),
        legSpec(c.markets.legB, c.legs.legB, targetB, c.quotes.legB),
      ],
      toleranceBase: c.params.deltaToleranceBase,
    };
  };
  type PairDone = { output: HedgedPairOutput };
  const kit = attentionRules(BOOKS);
  const entryWanted = (c: C) =>
    !c.paused &&
    c.riskBlocked === undefined &&
    c.amountBase * mid(c.quotes.legA) <= c.params.maxPositionNotional &&
    isFresh(c.quotes.legA, c.now, c.params.staleAfterMs) &&
    isFresh(c.quotes.legB, c.now, c.params.staleAfterMs) &&
    rules.entry(c) !== 0;
  const exitWhy = (c: C): string | undefined =>
    pnl(c) <= -c.params.stopLossQuote
      ? 'stop loss'
      : c.enteredAt !== undefined && c.now - c.enteredAt >= c.params.maxHoldingHours * HOUR_MS
        ? 'time limit'
        : rules.exit(c);

  return setup({
    types: { context: {} as C, events: {} as PerpPairEvent, input: {} as PerpPairInput<P> },
    actors: { ...actorContracts, order: orderMachine, hedgedPair: hedgedPairMachine },
    guards: {
      ...kit.guards,
      stopRequested: ({ context }) => context.stopRequested !== undefined,
      stopWithFlatten: ({ context }) => context.stopRequested?.flatten === true && !isFlat(context),
      ready: ({ context }) => rules.ready(context),
      entrySignalled: ({ context }) => entryWanted(context),
      entryHolds: ({ event }) =>
        ['reached', 'hedged'].includes((event as unknown as PairDone).output.outcome),
      exitSignalled: ({ context }) => exitWhy(context) !== undefined,
      positionsFlat: ({ context }) => isFlat(context),
      exitAttemptsLeft: ({ context }) => context.exitAttempts < 3,
      maxCyclesReached: ({ context }) =>
        context.params.maxCycles > 0 && context.completedCycles >= context.params.maxCycles,
    },
    actions: {
      ...kit.actions,
      ...controlActions<C, PerpPairEvent>(),
      recordQuote: assign(({ context, event }) => {
        const e = event as QuoteEvent;
        const leg = legOf(context.params, e.venue, e.symbol);
        if (!leg) return {};
        const now = Math.max(context.now, e.receivedAt);
        return withOwn(
          context,
          { quotes: { ...context.quotes, [leg]: toQuote(e) }, now, startedAt: context.startedAt || now },
          'quote',
        );
      }),
      recordTime: assign(({ context, event }) => {
        const now = Math.max(context.now, (event as { now: number }).now);
        return { now, startedAt: context.startedAt || now };
      }),
      recordFundingRate: assign(({ context, event }) => {
        const e = event as FundingRateEvent;
        const leg = legOf(context.params, e.venue, e.symbol);
        return leg
          ? withOwn(context, { fundingRates: { ...context.fundingRates, [leg]: e.rate } }, 'fundingRate')
          : {};
      }),
      recordFundingPayment: assign(({ context, event }) => {
        const e = event as FundingPaymentEvent;
        const leg = legOf(context.params, e.venue, e.symbol);
        if (!leg || e.timestamp <= context.lastFundingTs[leg] || e.timestamp < context.startedAt) return {};
        return {
          legs: { ...context.legs, [leg]: applyFunding(context.legs[leg], e) },
          lastFundingTs: { ...context.lastFundingTs, [leg]: e.timestamp },
        };
      }),
      startCycle: assign(({ context }) => {
        const started = { ...context, cycle: context.cycle + 1, positionSign: rules.entry(context) };
        return {
          cycle: started.cycle,
          positionSign: started.positionSign,
          ...(rules.onEntry ? { own: rules.onEntry(started) } : {}),
        };
      }),
      markEntered: assign(({ context }) => ({ enteredAt: context.now, exitAttempts: 0, emptyEntries: 0 })),
      countEmptyEntry: assign(({ context }) => ({ emptyEntries: (context.emptyEntries ?? 0) + 1 })),
      noteExitReason: assign(({ context }) => ({ exitReason: context.exitReason ?? exitWhy(context) })),
      countExit: assign(({ context }) => ({ exitAttempts: context.exitAttempts + 1 })),
      finishCycle: assign(({ context }) => ({
        completedCycles: context.completedCycles + 1,
        enteredAt: undefined,
        exitReason: undefined,
        positionSign: 0 as const,
        ...(rules.onCycleEnd ? { own: rules.onCycleEnd(context) } : {}),
      })),
      recordExitIncomplete: assign(({ context }) => ({ attention: exitIncomplete(BOOKS, context, LEGS) })),
      noteHeldOnStop: assign(({ context }) => {
        const held = heldOnStop(BOOKS, context, LEGS);
        return held ? { lastError: held } : {};
      }),
    },
  }).createMachine({
    id: rules.machineId,
    context: ({ input }) => {
      checkPerpPairParams(rules, input.params, input.markets);
      const { legA, legB } = input.markets;
      return {
        id: input.id,
        tag: strategyTag(input.id),
        params: input.params,
        markets: input.markets,
        amountBase: commonAmount(legA, legB, input.params.amount),
        quotes: { legA: undefined, legB: undefined },
        fundingRates: { legA: undefined, legB: undefined },
        now: 0,
        startedAt: 0,
        legs: {
          legA: newLeg(legA.venue, legA.symbol, legA.contractSize),
          legB: newLeg(legB.venue, legB.symbol, legB.contractSize),
        },
        positionSign: 0,
        cycle: 0,
        enteredAt: undefined,
        exitReason: undefined,
        lastFundingTs: { legA: 0, legB: 0 },
        paused: false,
        riskBlocked: undefined,
        stopRequested: undefined,
        exitAttempts: 0,
        completedCycles: 0,
        lastError: undefined,
        own: rules.own(),
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
      ATTENTION: { actions: 'noteVenueNotice' },
      QUOTE: { actions: 'recordQuote' },
      'TIME.TICK': { actions: 'recordTime' },
      'FUNDING.RATE': { actions: 'recordFundingRate' },
      'FUNDING.PAYMENT': { actions: 'recordFundingPayment' },
      ...controlHandlers,
    },
    initial: 'warmingUp',
    states: {
      warmingUp: {
        always: [
          { guard: 'stopRequested', target: 'stopped' },
          { guard: 'ready', target: 'watching' },
        ],
      },
      watching: {
        on: { ATTENTION: { target: 'needsAttention', actions: 'raiseAttention' } },
        always: [
          { guard: 'stopRequested', target: 'stopped' },
          { guard: 'entrySignalled', target: 'entering', actions: 'startCycle' },
        ],
      },
      entering: pairExecutionState<C>({
        id: 'entry',
        what: 'entry',
        input: (c) => pairInput(c, 'e'),
        onward: [
          { guard: 'entryHolds', target: 'holding', actions: ['markEntered'] },
          { target: 'cooldown', actions: ['countEmptyEntry'] },
        ],
      }),
      holding: {
        on: {
          ATTENTION: { target: 'needsAttention', actions: 'raiseAttention' },
          'OPERATOR.FLATTEN': 'exiting',
        },
        always: [
          { guard: 'stopWithFlatten', target: 'exiting' },
          { guard: 'stopRequested', target: 'stopped', actions: 'noteHeldOnStop' },
          { guard: 'exitSignalled', target: 'exiting', actions: 'noteExitReason' },
        ],
      },
      exiting: pairExecutionState<C>({
        id: 'exit',
        what: 'exit',
        input: (c) => pairInput(c, 'x'),
        after: ['countExit'],
        onward: [{ target: 'afterExit' }],
      }),
      ...cycleEndStates(),
      needsAttention: needsAttentionState({
        machineId: rules.machineId,
        resume: 'holding',
        flattenInput: (c: C) => flattenPairInput(BOOKS, c),
      }),
      afterFlatten: afterFlattenState(),
    },
  });
}

/** The descriptor fields every perp-pair kind shares (its own: kind, summary, schema, risk, signal). */
export function perpPairKindBase<P extends PerpPairParams, X>(
  machine: AnyStateMachine,
  rules: PerpPairRules<P, X>,
) {
  return {
    machine,
    instruments: (p: P) => [p.legA, p.legB],
    input: (id: string, p: P, market: (i: Instrument) => Market) => {
      const markets = { legA: market(p.legA), legB: market(p.legB) };
      checkPerpPairParams(rules, p, markets);
      return { id, params: p, markets };
    },
    legs: (c: PerpPairContext<P, X>) => [c.legs.legA, c.legs.legB],
    marks: (c: PerpPairContext<P, X>) => [mid(c.quotes.legA), mid(c.quotes.legB)],
    cycles: (c: PerpPairContext<P, X>) => c.completedCycles,
    rest: ['warmingUp', 'watching', 'holding', 'cooldown', 'needsAttention', 'completed', 'stopped'],
    volatile: ['quotes', 'now'],
    terminal: ['completed', 'stopped'],
  };
}
