/**
 * Hedged execution: every entry, exit, rebalance and flatten of a two-leg strategy converges on
 * **target positions per leg**, measured from the fills it has booked — never on what its last
 * orders were meant to do.
 *
 *   planning ─┬─(every leg at its target, within what can trade)▶ reached
 *             ├─(a residual only the other leg can trade)─▶ [its target moves] ─▶ planning
 *             ├─(rounds left)─▶ sending ─▶ checkingRound ─┬─(targets reached)─▶ reached
 *             │                                           ├─(an order's outcome unknown)─▶ unresolved
 *             │                                           └─▶ resting ─▶ planning
 *             └─(budget spent)─▶ [open: shrink targets to the hedge it has, once] ─▶ exhausted
 *
 * Each round computes, per leg, what is still to do (target − position), sends first whatever
 * restores the hedge (the lagging leg alone), then both legs together for the same base amount,
 * capped at the displayed size of each touch (it waits for the book instead of buying and selling
 * back), and caps reduce-only orders at the open position. A leg whose remainder is below its
 * minimum order is done; in `open` and `adjust` mode the leg that can trade absorbs a residual the
 * other cannot. Closing (`close`) never re-opens a leg. Quotes forwarded by the parent (QUOTE,
 * QUOTES) re-price and re-size each round.
 *
 * An order whose outcome is unknown (`lost`) stops the execution at once: nothing is topped up,
 * unwound or re-sent against it. The parent gets `unresolved` with the client ids to resolve.
 * Every order has its own id: (tag, cycle, phase, execution, leg, attempt) — see ids.ts.
 */
import { and, assign, setup } from 'xstate';
import type { Order, OrderRequest, Side } from '../src/domain/index.ts';
import { roundToStep } from '../src/domain/index.ts';
import { distinctFills, fillEffect, fillsMissing } from './accounting.ts';
import { actorContracts } from './contract-actors.ts';
import type { QuoteBatchEvent, QuoteEvent, VenueClosedPositionEvent, WaitInput } from './contracts.ts';
import { clientOrderId, type Phase } from './ids.ts';
import { type OrderMachineInput, type OrderOutput, orderMachine } from './order.ts';

/** The touch of a leg's book: what a taker can get now. */
export interface Touch {
  bid: number;
  ask: number;
  bidSize: number;
  askSize: number;
}

export interface LegSpec extends Touch {
  venue: string;
  symbol: string;
  contractSize: number;
  amountStep: number;
  minAmount: number;
  minNotional: number;
  derivative: boolean;
  /** Signed position in base units that the strategy's books hold on this leg now. */
  startBase: number;
  /** Signed position in base units this execution must reach. */
  targetBase: number;
  /**
   * Worst price of the paired orders (IOC limits); market orders when absent. A leg sent alone to
   * restore the hedge goes at market: a naked leg costs more than the edge.
   */
  limitPrice?: number;
}

/**
 * open: build a position (entries); on a spent budget it keeps the hedge it has · close: reach
 * (0, 0), never re-opening a leg · adjust: move one leg to restore the hedge (rebalance).
 */
export type ExecutionMode = 'open' | 'close' | 'adjust';

export interface HedgedPairInput {
  tag: string;
  cycle: number;
  phase: Phase;
  /** Which execution of `phase` within the cycle (ids never repeat across executions). */
  execution: number;
  mode: ExecutionMode;
  legs: [LegSpec, LegSpec];
  /** Net delta (base units) accepted as hedged, before the legs' minimum orders widen it. */
  toleranceBase: number;
  /** Rounds of orders before giving up (an open execution gets as many again to shrink). */
  maxRounds?: number;
  /** First pause between rounds, ms; it grows by half after each round that filled nothing. */
  retryDelayMs?: number;
}

export interface LegResult {
  /** Signed base units this execution traded on the leg (+ bought, − sold). */
  signedBase: number;
  /** Signed position after the execution (start + traded). */
  positionBase: number;
  cost: number;
  fees: number;
  /** Average price of the fills in the leg's main direction. */
  averagePrice: number;
}

/**
 * reached: every leg at its target · flat: reached, and nothing is left (an exit) · hedged:
 * budget spent or targets shrunk, net delta within tolerance · nothingFilled: nothing traded ·
 * unhedged: budget spent with net delta beyond tolerance · unresolved: an order's fill is unknown.
 */
export type PairOutcome = 'reached' | 'flat' | 'hedged' | 'nothingFilled' | 'unhedged' | 'unresolved';

export interface HedgedPairOutput {
  outcome: PairOutcome;
  legs: [LegResult, LegResult];
  /** Signed net delta in base units after everything (0 = perfectly hedged). */
  residualBase: number;
  /** The net delta accepted as hedged for these legs (the shared rule). */
  toleranceBase: number;
  fees: number;
  /** Every order's final venue snapshot with the leg it belongs to, for the strategy's books. */
  orders: { leg: 0 | 1; order: Order }[];
  /** Orders whose outcome is unknown (venue, symbol, client id, leg): resolve before acting. */
  unknown: UnknownOrder[];
  rounds: number;
  errors: string[];
}

export interface UnknownOrder {
  leg: 0 | 1;
  venue: string;
  symbol: string;
  clientOrderId: string;
  request: OrderRequest;
}

interface LegState {
  spec: LegSpec;
  target: number;
  position: number;
  touch: Touch;
  buyBase: number;
  sellBase: number;
  buyCost: number;
  sellCost: number;
  fees: number;
  /** Orders sent on this leg in this execution (the id's attempt number). */
  sent: number;
  /** Consecutive orders the venue refused outright on this leg (funds, limits, reduce-only). */
  refusals?: number;
  /** Signed base units the venue closed itself during the execution (in `position`, not traded). */
  closedByVenue?: number;
}

export interface PairContext {
  input: HedgedPairInput;
  legs: [LegState, LegState];
  orders: { leg: 0 | 1; order: Order }[];
  unknown: UnknownOrder[];
  /** This round's orders per leg (undefined: the leg sits the round out). */
  plan: [OrderRequest | undefined, OrderRequest | undefined];
  rounds: number;
  /** Consecutive rounds that filled nothing (they lengthen the pause). */
  idleRounds: number;
  /** Targets shrunk to the hedge already held (open mode, once). */
  shrunk: boolean;
  /** Fill ids of the venue's own closes already taken into the legs' positions. */
  venueCloses?: string[];
  errors: string[];
}

type DoneEvent = { type: string; output: OrderOutput };

const EPS = 1e-12;
/** Outright refusals in a row after which a building leg is not chased any more. */
const REFUSALS_TO_GIVE_UP = 2;

// ───────────────────────────── the rules, as plain functions ─────────────────────────────

/** The price a taker order on `side` pays now. */
const touchPrice = (t: Touch, side: Side): number => (side === 'buy' ? t.ask : t.bid);
const touchSize = (t: Touch, side: Side): number => (side === 'buy' ? t.askSize : t.bidSize);
const markOf = (t: Touch): number => (t.bid > 0 && t.ask > 0 ? (t.bid + t.ask) / 2 : t.bid || t.ask);

/** Smallest base quantity an order on this leg may have at this price. */
export function minTradableBase(
  s: Pick<LegSpec, 'minNotional' | 'contractSize' | 'minAmount' | 'amountStep'>,
  price: number,
): number {
  const byNotional = price > 0 ? s.minNotional / (price * s.contractSize) : 0;
  return roundToStep(Math.max(s.minAmount, byNotional), s.amountStep, 'ceil') * s.contractSize;
}

/**
 * The one rule for "hedged", shared by the pair and every strategy: net delta within
 * max(delta tolerance, the smallest tradable size of the legs). Below that no order can correct it.
 */
export function hedgeTolerance(
  legs: Pick<LegSpec, 'minNotional' | 'contractSize' | 'minAmount' | 'amountStep'>[],
  marks: number[],
  deltaTolerance: number,
): number {
  const smallest = Math.min(...legs.map((l, i) => minTradableBase(l, marks[i] ?? 0)));
  return Math.max(deltaTolerance, Number.isFinite(smallest) ? smallest : 0, EPS);
}

/** Market units for `base` on this leg rounded down to its step, or 0 below its minimum order. */
function tradableAmount(l: LegState, base: number, side: Side): number {
  const s = l.spec;
  const amount = roundToStep(base / s.contractSize + EPS, s.amountStep, 'floor');
  if (amount < s.minAmount - EPS || amount <= 0) return 0;
  // The venue values an order at its own price: a paired leg goes at its limit, which a sell
  // may carry below the touch (the market rallied since the execution began).
  const touch = touchPrice(l.touch, side) || markOf(l.touch);
  const price = s.limitPrice !== undefined ? Math.min(touch, s.limitPrice) : touch;
  if (amount * s.contractSize * price < s.minNotional - 1e-9) return 0;
  return amount;
}

const remaining = (l: LegState): number => l.target - l.position;
const netOf = (ctx: PairContext): number => ctx.legs[0].position + ctx.legs[1].position;
const targetNet = (ctx: PairContext): number => ctx.legs[0].target + ctx.legs[1].target;

function tolerance(ctx: PairContext): number {
  return hedgeTolerance(
    ctx.legs.map((l) => l.spec),
    ctx.legs.map((l) => markOf(l.touch)),
    ctx.input.toleranceBase,
  );
}

/** A leg is at its target when what is left cannot be traded. */
function legReached(l: LegState): boolean {
  const r = remaining(l);
  return Math.abs(r) < EPS || tradableAmount(l, Math.abs(r), r > 0 ? 'buy' : 'sell') === 0;
}

interface Step {
  leg: 0 | 1;
  side: Side;
  amount: number;
  /** Sent with the other leg (at the legs' limit prices); a leg sent alone restores the hedge at market. */
  paired?: boolean;
}

/**
 * This round's orders. First the hedge: if the net delta is off its target by more than the
 * tolerance, the leg whose remainder moves it back goes alone, for the gap. Otherwise both legs
 * go together for the same base amount, at most what both touches display.
 */
function planRound(ctx: PairContext): Step[] {
  const [a, b] = ctx.legs;
  const gap = netOf(ctx) - targetNet(ctx);
  const tol = tolerance(ctx);
  if (Math.abs(gap) > tol) {
    for (const i of [0, 1] as const) {
      const l = ctx.legs[i];
      const r = remaining(l);
      if (Math.sign(r) !== -Math.sign(gap) || Math.abs(r) < EPS) continue;
      const side: Side = r > 0 ? 'buy' : 'sell';
      const base = Math.min(Math.abs(gap), Math.abs(r), capOf(l, side));
      const amount = tradableAmount(l, base, side);
      if (amount > 0) return [{ leg: i, side, amount }];
    }
    return [];
  }
  const ra = remaining(a);
  const rb = remaining(b);
  if (legReached(a) || legReached(b)) {
    // One leg is done: the other may still move alone if that keeps the net within tolerance.
    for (const i of [0, 1] as const) {
      const l = ctx.legs[i];
      const r = remaining(l);
      if (legReached(l)) continue;
      const side: Side = r > 0 ? 'buy' : 'sell';
      const room = tol - Math.sign(r) * gap; // how far this leg may move the net before the band
      const base = Math.min(Math.abs(r), capOf(l, side), Math.max(0, room));
      const amount = tradableAmount(l, base, side);
      if (amount > 0) return [{ leg: i, side, amount }];
    }
    return [];
  }
  const sideA: Side = ra > 0 ? 'buy' : 'sell';
  const sideB: Side = rb > 0 ? 'buy' : 'sell';
  const common = Math.min(Math.abs(ra), Math.abs(rb), capOf(a, sideA), capOf(b, sideB));
  // Each leg at its own step: a leg whose remainder after the common amount could not be traded
  // any more takes all of it now (legs of different sizes — after a base-asset fee, say — close
  // together), as long as the net stays within the band.
  const own = (l: LegState, r: number, side: Side): number =>
    tradableAmount(l, Math.abs(r) - common, side) === 0
      ? tradableAmount(l, Math.min(Math.abs(r), capOf(l, side)), side)
      : tradableAmount(l, common, side);
  const ownA = own(a, ra, sideA);
  const ownB = own(b, rb, sideB);
  const moved = (l: LegState, side: Side, amount: number) =>
    (side === 'buy' ? 1 : -1) * amount * l.spec.contractSize;
  const after = gap + moved(a, sideA, ownA) + moved(b, sideB, ownB);
  if (ownA > 0 && ownB > 0 && Math.abs(after) <= tol + EPS) return paired(sideA, ownA, sideB, ownB);
  // Otherwise the same base on both legs, snapped to the coarser of the two steps.
  const step = Math.max(a.spec.amountStep * a.spec.contractSize, b.spec.amountStep * b.spec.contractSize);
  const base = roundToStep(common + EPS, step, 'floor');
  const amtA = tradableAmount(a, base, sideA);
  const amtB = tradableAmount(b, base, sideB);
  return amtA > 0 && amtB > 0 ? paired(sideA, amtA, sideB, amtB) : [];
}

const paired = (sideA: Side, amountA: number, sideB: Side, amountB: number): Step[] => [
  { leg: 0, side: sideA, amount: amountA, paired: true },
  { leg: 1, side: sideB, amount: amountB, paired: true },
];

/** What one order on this leg may take now: the displayed size, and no more than the open
 * position when it reduces a derivative (reduce-only). */
function capOf(l: LegState, side: Side): number {
  const shown = touchSize(l.touch, side);
  let cap = shown > 0 ? shown : 0;
  if (reduces(l, side)) cap = Math.min(cap, Math.abs(l.position));
  return cap;
}

const reduces = (l: LegState, side: Side): boolean =>
  l.position !== 0 && (side === 'buy' ? l.position < 0 : l.position > 0);

/**
 * A residual no leg can trade toward its target: in open and adjust mode the leg that can trade
 * takes the other's remainder (its target moves by the gap); closing never re-opens a leg.
 */
function absorbResidual(ctx: PairContext): [LegState, LegState] | undefined {
  if (ctx.input.mode === 'close') return undefined;
  const gap = netOf(ctx) - targetNet(ctx);
  if (Math.abs(gap) <= tolerance(ctx)) return undefined;
  for (const i of [0, 1] as const) {
    const l = ctx.legs[i];
    const side: Side = gap > 0 ? 'sell' : 'buy';
    if (tradableAmount(l, Math.abs(gap), side) === 0) continue;
    // The other leg stays where it is (what is left of it cannot trade); this one moves so that
    // both together reach the net the targets were for.
    const other = ctx.legs[1 - i]!;
    const legs: [LegState, LegState] = [...ctx.legs];
    legs[1 - i] = { ...other, target: other.position };
    legs[i] = { ...l, target: targetNet(ctx) - other.position };
    return legs;
  }
  return undefined;
}

/** Open mode with the budget spent: keep the hedge already held (the leg that got further
 * comes back to the one that lagged), never more than each leg's target. */
function shrinkToHeld(ctx: PairContext): [LegState, LegState] {
  const [a, b] = ctx.legs;
  const progress = (l: LegState) => Math.abs(l.position - l.spec.startBase);
  const lag = progress(a) <= progress(b) ? 0 : 1;
  const legs: [LegState, LegState] = [{ ...a }, { ...b }];
  const lagging = legs[lag];
  const leading = legs[1 - lag]!;
  lagging.target = lagging.position;
  leading.target = -lagging.position;
  for (const l of legs) l.refusals = 0;
  return legs;
}

function orderRequest(ctx: PairContext, step: Step): OrderRequest {
  const l = ctx.legs[step.leg];
  const s = l.spec;
  const req: OrderRequest = {
    symbol: s.symbol,
    side: step.side,
    type: 'market',
    amount: step.amount,
    clientOrderId: clientOrderId({
      tag: ctx.input.tag,
      cycle: ctx.input.cycle,
      phase: ctx.input.phase,
      execution: ctx.input.execution,
      leg: step.leg === 0 ? 'a' : 'b',
      attempt: l.sent,
    }),
  };
  if (s.limitPrice !== undefined && step.paired) {
    req.type = 'limit';
    req.price = s.limitPrice;
    req.timeInForce = 'IOC';
  }
  if (s.derivative && reduces(l, step.side) && step.amount * s.contractSize <= Math.abs(l.position) + EPS)
    req.reduceOnly = true;
  return req;
}

function applyOutput(ctx: PairContext, leg: 0 | 1, out: OrderOutput): Partial<PairContext> {
  const legs: [LegState, LegState] = [...ctx.legs];
  const l = { ...legs[leg] };
  const o = out.order;
  // Fill by fill, by the books' own rule (fillEffect): the pair's tallies are what the strategy
  // will book from the same orders, to the last fee.
  for (const f of distinctFills(o?.trades ?? [])) {
    const e = fillEffect(f, l.spec.contractSize);
    l.position += e.base;
    if (f.side === 'buy') {
      l.buyBase += f.amount * l.spec.contractSize;
      l.buyCost += f.cost;
    } else {
      l.sellBase += f.amount * l.spec.contractSize;
      l.sellCost += f.cost;
    }
    l.fees += e.feeQuote;
  }
  l.refusals = out.outcome === 'rejected' ? (l.refusals ?? 0) + 1 : 0;
  legs[leg] = l;
  const request = ctx.plan[leg];
  // Lost, or said to be filled by more than its fills show: nothing is decided on it until the
  // venue answers for it (the strategy cannot book what it cannot see).
  const unknownOutcome = out.outcome === 'lost' || (o !== undefined && fillsMissing(o, l.spec.amountStep));
  const unknown =
    unknownOutcome && request
      ? [
          ...ctx.unknown,
          { leg, venue: l.spec.venue, symbol: l.spec.symbol, clientOrderId: out.clientOrderId, request },
        ]
      : ctx.unknown;
  return {
    legs,
    unknown,
    orders: o ? [...ctx.orders, { leg, order: o }] : ctx.orders,
    errors:
      out.error && out.outcome !== 'filled'
        ? [...ctx.errors, `${out.clientOrderId}: ${out.error.name}: ${out.error.message}`]
        : ctx.errors,
  };
}

function withQuote(ctx: PairContext, q: QuoteEvent): Partial<PairContext> {
  const i = ctx.legs.findIndex((l) => l.spec.venue === q.venue && l.spec.symbol === q.symbol);
  if (i < 0) return {};
  const legs: [LegState, LegState] = [...ctx.legs];
  legs[i] = { ...legs[i]!, touch: { bid: q.bid, ask: q.ask, bidSize: q.bidSize, askSize: q.askSize } };
  return { legs };
}

function legResult(l: LegState): LegResult {
  const buying = l.target >= l.spec.startBase;
  const base = buying ? l.buyBase : l.sellBase;
  const cost = buying ? l.buyCost : l.sellCost;
  return {
    signedBase: l.position - l.spec.startBase - (l.closedByVenue ?? 0),
    positionBase: l.position,
    cost: l.buyCost + l.sellCost,
    fees: l.fees,
    averagePrice: base > 0 ? cost / base : 0,
  };
}

/**
 * The venue closed (part of) a leg itself — a liquidation, auto-deleveraging — while this
 * execution runs: the leg's position is what the venue left, so the rounds plan from it (an exit
 * does not buy back a short the venue already closed). Building or adjusting stops where the
 * legs are: the venue just took exposure away, and re-opening it is the operator's call.
 */
function withVenueClose(ctx: PairContext, e: VenueClosedPositionEvent): Partial<PairContext> {
  const closed = e.closed;
  if (!closed || ctx.venueCloses?.includes(closed.fill.id)) return {};
  const i = ctx.legs.findIndex((l) => l.spec.venue === closed.venue && l.spec.symbol === closed.fill.symbol);
  if (i < 0) return {};
  const legs: [LegState, LegState] = [ctx.legs[0], ctx.legs[1]];
  const leg = legs[i]!;
  const toward = closed.fill.side === 'buy' ? 1 : -1;
  // As the strategy's books take it (applyVenueClose): up to flat, never flipping the leg.
  if (leg.position === 0 || toward === Math.sign(leg.position)) return {};
  const signed = toward * Math.min(closed.fill.amount * leg.spec.contractSize, Math.abs(leg.position));
  legs[i] = { ...leg, position: leg.position + signed, closedByVenue: (leg.closedByVenue ?? 0) + signed };
  if (ctx.input.mode !== 'close')
    for (const n of [0, 1] as const) legs[n] = { ...legs[n], target: legs[n].position };
  return {
    legs,
    shrunk: ctx.input.mode !== 'close' || ctx.shrunk,
    venueCloses: [...(ctx.venueCloses ?? []), closed.fill.id],
  };
}

function newLegState(spec: LegSpec): LegState {
  return {
    spec,
    target: spec.targetBase,
    position: spec.startBase,
    touch: { bid: spec.bid, ask: spec.ask, bidSize: spec.bidSize, askSize: spec.askSize },
    buyBase: 0,
    sellBase: 0,
    buyCost: 0,
    sellCost: 0,
    fees: 0,
    sent: 0,
  };
}

const atTargets = (ctx: PairContext): boolean =>
  ctx.legs.every(legReached) && Math.abs(netOf(ctx) - targetNet(ctx)) <= tolerance(ctx);

/** The outcome, from the context alone (the output function does not see the final state). */
function outcomeOf(ctx: PairContext): PairOutcome {
  if (ctx.unknown.length > 0) return 'unresolved';
  const traded = ctx.legs.some((l) => l.buyBase > 0 || l.sellBase > 0);
  const net = Math.abs(netOf(ctx));
  if (net > tolerance(ctx)) return 'unhedged';
  const flat = ctx.legs.every(
    (l) => Math.abs(l.position) < EPS || tradableAmount(l, Math.abs(l.position), 'sell') === 0,
  );
  if (!traded) return flat && ctx.input.mode === 'close' ? 'flat' : 'nothingFilled';
  if (flat) return 'flat';
  return atTargets(ctx) && !ctx.shrunk ? 'reached' : 'hedged';
}

const legOrderInput = (ctx: PairContext, leg: 0 | 1): OrderMachineInput => ({
  venue: ctx.legs[leg].spec.venue,
  request: ctx.plan[leg]!,
  reportToParent: false,
});

function legRegion(leg: 0 | 1) {
  return {
    initial: 'checking',
    states: {
      checking: {
        always: [{ guard: { type: 'legSitsOut', params: { leg } }, target: 'done' }, { target: 'working' }],
      },
      working: {
        invoke: {
          id: leg === 0 ? 'legA' : 'legB',
          src: 'order',
          input: ({ context }: { context: PairContext }) => legOrderInput(context, leg),
          onDone: { target: 'done', actions: { type: 'recordFill', params: { leg } } },
        },
      },
      done: { type: 'final' },
    },
  } as const;
}

export const hedgedPairMachine = setup({
  types: {
    context: {} as PairContext,
    input: {} as HedgedPairInput,
    output: {} as HedgedPairOutput,
    events: {} as QuoteEvent | QuoteBatchEvent | VenueClosedPositionEvent,
  },
  actors: { ...actorContracts, order: orderMachine },
  guards: {
    legSitsOut: ({ context }, p: { leg: 0 | 1 }) => context.plan[p.leg] === undefined,
    anOrderOutcomeIsUnknown: ({ context }) => context.unknown.length > 0,
    everyLegAtTarget: ({ context }) => atTargets(context),
    /** Building or adjusting, a leg the venue keeps refusing is not chased: funds or limits won't change. */
    aLegKeepsBeingRefused: ({ context }) =>
      context.input.mode !== 'close' && context.legs.some((l) => (l.refusals ?? 0) >= REFUSALS_TO_GIVE_UP),
    roundsLeft: ({ context }) => context.rounds < (context.input.maxRounds ?? 12) * (context.shrunk ? 2 : 1),
    residualOnlyAnotherLegCanTrade: ({ context }) =>
      context.legs.every(legReached) && absorbResidual(context) !== undefined,
    mayKeepTheHedgeHeld: ({ context }) => context.input.mode === 'open' && !context.shrunk,
  },
  actions: {
    recordFill: assign(({ context, event }, p: { leg: 0 | 1 }) =>
      applyOutput(context, p.leg, (event as unknown as DoneEvent).output),
    ),
    recordQuote: assign(({ context, event }) => withQuote(context, event as QuoteEvent)),
    recordQuotes: assign(({ context, event }) => {
      let next = context;
      for (const q of (event as QuoteBatchEvent).quotes) next = { ...next, ...withQuote(next, q) };
      return { legs: next.legs };
    }),
    planOrders: assign(({ context }) => {
      const plan: [OrderRequest | undefined, OrderRequest | undefined] = [undefined, undefined];
      const legs: [LegState, LegState] = [...context.legs];
      for (const step of planRound(context)) {
        plan[step.leg] = orderRequest({ ...context, legs }, step);
        legs[step.leg] = { ...legs[step.leg], sent: legs[step.leg].sent + 1 };
      }
      return { plan, legs, rounds: context.rounds + 1 };
    }),
    noteRoundResult: assign(({ context }) => {
      const filled = context.orders.slice(-2).some((o) => o.order.filled > 0);
      return { idleRounds: filled ? 0 : context.idleRounds + 1, plan: [undefined, undefined] as const };
    }),
    bookVenueClose: assign(({ context, event }) =>
      withVenueClose(context, event as VenueClosedPositionEvent),
    ),
    absorbResidual: assign(({ context }) => ({ legs: absorbResidual(context)! })),
    keepTheHedgeHeld: assign(({ context }) => ({ legs: shrinkToHeld(context), shrunk: true })),
  },
}).createMachine({
  id: 'hedgedPair',
  context: ({ input }) => ({
    input,
    legs: [newLegState(input.legs[0]), newLegState(input.legs[1])],
    orders: [],
    unknown: [],
    plan: [undefined, undefined],
    rounds: 0,
    idleRounds: 0,
    shrunk: false,
    errors: [],
  }),
  on: {
    QUOTE: { actions: 'recordQuote' },
    QUOTES: { actions: 'recordQuotes' },
    ATTENTION: { actions: 'bookVenueClose' },
  },
  initial: 'planning',
  states: {
    planning: {
      always: [
        { guard: 'everyLegAtTarget', target: 'reached' },
        {
          guard: 'residualOnlyAnotherLegCanTrade',
          target: 'planning',
          reenter: true,
          actions: 'absorbResidual',
        },
        {
          guard: and(['aLegKeepsBeingRefused', 'mayKeepTheHedgeHeld']),
          target: 'planning',
          reenter: true,
          actions: 'keepTheHedgeHeld',
        },
        { guard: 'aLegKeepsBeingRefused', target: 'exhausted' },
        { guard: 'roundsLeft', target: 'sending', actions: 'planOrders' },
        { guard: 'mayKeepTheHedgeHeld', target: 'planning', reenter: true, actions: 'keepTheHedgeHeld' },
        { target: 'exhausted' },
      ],
    },
    sending: {
      type: 'parallel',
      states: { legA: legRegion(0), legB: legRegion(1) },
      onDone: { target: 'checkingRound', actions: 'noteRoundResult' },
    },
    /** Done at once when the round reached the targets; otherwise the book gets time to refresh. */
    checkingRound: {
      always: [
        { guard: 'anOrderOutcomeIsUnknown', target: 'unresolved' },
        { guard: 'everyLegAtTarget', target: 'reached' },
        { target: 'resting' },
      ],
    },
    /** The pause between rounds: the book refreshes (longer after rounds that filled nothing). */
    resting: {
      invoke: {
        id: 'pause',
        src: 'wait',
        input: ({ context }): WaitInput => ({
          ms: Math.min(5_000, (context.input.retryDelayMs ?? 250) * 1.5 ** context.idleRounds),
        }),
        onDone: 'planning',
      },
    },
    reached: { type: 'final' },
    exhausted: { type: 'final' },
    unresolved: { type: 'final' },
  },
  output: ({ context }) => {
    const [a, b] = context.legs;
    return {
      outcome: outcomeOf(context),
      legs: [legResult(a), legResult(b)],
      residualBase: netOf(context),
      toleranceBase: tolerance(context),
      fees: a.fees + b.fees,
      orders: context.orders,
      unknown: context.unknown,
      rounds: context.rounds,
      errors: context.errors,
    };
  },
});
