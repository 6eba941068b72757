/**
 * Hedged pair execution: the building block every hedged entry, exit and rebalance uses.
 *
 *   sending (both legs at once) ─▶ evaluating ─┬─▶ hedged | nothingFilled
 *                                     ▲        ├─▶ pausing ─▶ toppingUp   (retry the lagging leg's missing quantity)
 *                                     └────────┼─▶ pausing ─▶ unwinding   (trade the leading leg's excess back)
 *                                              └─▶ unhedged               (bounds exhausted: report, never silently)
 *
 * The guarantee: the pair ends with net delta within tolerance (hedged or flat) or says loudly
 * that it could not, with the residual. Retrying the missing quantity is bounded, unwinding is
 * bounded, and both use fresh deterministic client order ids (attempt numbers), so a restored
 * pair never sends an order twice. This is where naked legs come from in other engines (a fill
 * on one side, a reject or cancel/fill race on the other, and nobody cleaning up).
 */
import { assign, setup } from 'xstate';
import type { Order, OrderRequest, Side } from '../src/domain/index.ts';
import { roundToStep } from '../src/domain/index.ts';
import { actorContracts } from './contract-actors.ts';
import type { WaitInput } from './contracts.ts';
import { clientOrderId, type Phase } from './ids.ts';
import { type OrderMachineInput, type OrderOutput, orderMachine } from './order.ts';

export interface LegSpec {
  venue: string;
  symbol: string;
  side: Side;
  /** Amount in the market's unit (base for spot, contracts for derivatives). */
  amount: number;
  contractSize: number;
  amountStep: number;
  minAmount: number;
  minNotional: number;
  /** Reference price when the decision was made: notional checks and slippage. */
  refPrice: number;
  derivative: boolean;
  /** Limit price for IOC orders (worst acceptable); market orders when absent. */
  limitPrice?: number;
}

export interface HedgedPairInput {
  tag: string;
  cycle: number;
  phase: Phase;
  legs: [LegSpec, LegSpec];
  /** Net delta (base units) accepted as hedged. */
  toleranceBase: number;
  maxTopUps?: number;
  maxUnwinds?: number;
  /** Pause before a top-up or unwind so the book can refresh, ms. */
  retryDelayMs?: number;
  /** Derivative legs may only reduce (exits). */
  reduceOnly?: boolean;
}

export interface LegResult {
  /** Base units filled in the leg's own direction, net of unwinds. */
  filledBase: number;
  /** Signed base units: + bought, − sold. */
  signedBase: number;
  cost: number;
  fees: number;
  averagePrice: number;
  /** Execution vs reference price, bps, > 0 = worse. */
  slippageBps: number;
}

/** hedged: both legs on, net within tolerance · flat: something filled, all of it unwound ·
 * nothingFilled: no fill on either leg · unhedged: bounds exhausted with a residual beyond tolerance. */
export type PairOutcome = 'hedged' | 'flat' | 'nothingFilled' | 'unhedged';

export interface HedgedPairOutput {
  outcome: PairOutcome;
  legs: [LegResult, LegResult];
  /** Signed net delta in base units after everything (0 = perfectly hedged). */
  residualBase: number;
  fees: number;
  /** Every order's final venue snapshot with the leg it belongs to, fills included, for the strategy's books. */
  orders: { leg: 0 | 1; order: Order }[];
  topUps: number;
  unwinds: number;
  errors: string[];
}

interface LegState {
  spec: LegSpec;
  signedBase: number;
  /** Signed base of the leg's own-direction fills (excludes unwinds), for averages. */
  buyBase: number;
  sellBase: number;
  buyCost: number;
  sellCost: number;
  fees: number;
  attempts: number;
}

interface PairContext {
  input: HedgedPairInput;
  legs: [LegState, LegState];
  orders: { leg: 0 | 1; order: Order }[];
  topUps: number;
  unwinds: number;
  /** The corrective order in flight: which leg, which request. */
  pending: { leg: 0 | 1; request: OrderRequest } | undefined;
  errors: string[];
}

type DoneEvent = { type: string; output: OrderOutput };

function newLegState(spec: LegSpec): LegState {
  return { spec, signedBase: 0, buyBase: 0, sellBase: 0, buyCost: 0, sellCost: 0, fees: 0, attempts: 0 };
}

function request(
  ctx: PairContext,
  leg: 0 | 1,
  side: Side,
  amount: number,
  attempt: number,
  reduce: boolean,
): OrderRequest {
  const s = ctx.legs[leg].spec;
  const phase: Phase = side === s.side ? ctx.input.phase : 'u';
  const req: OrderRequest = {
    symbol: s.symbol,
    side,
    type: s.limitPrice !== undefined && side === s.side ? 'limit' : 'market',
    amount,
    clientOrderId: clientOrderId(ctx.input.tag, ctx.input.cycle, phase, leg === 0 ? 'a' : 'b', attempt),
  };
  if (req.type === 'limit') {
    req.price = s.limitPrice!;
    req.timeInForce = 'IOC';
  }
  if (s.derivative && reduce) req.reduceOnly = true;
  return req;
}

function applyOutput(ctx: PairContext, leg: 0 | 1, out: OrderOutput): Partial<PairContext> {
  const legs: [LegState, LegState] = [...ctx.legs];
  const l = { ...legs[leg] };
  const o = out.order;
  if (o && o.filled > 0) {
    const base = o.filled * l.spec.contractSize;
    if (o.side === 'buy') {
      l.signedBase += base;
      l.buyBase += base;
      l.buyCost += o.cost;
    } else {
      l.signedBase -= base;
      l.sellBase += base;
      l.sellCost += o.cost;
    }
    l.fees += o.fee.cost;
  }
  l.attempts += 1;
  legs[leg] = l;
  return {
    legs,
    orders: o ? [...ctx.orders, { leg, order: o }] : ctx.orders,
    errors:
      out.error && out.outcome !== 'filled'
        ? [...ctx.errors, `${out.clientOrderId}: ${out.error.name}: ${out.error.message}`]
        : ctx.errors,
  };
}

const net = (ctx: PairContext): number => ctx.legs[0].signedBase + ctx.legs[1].signedBase;

/** Smallest base quantity either leg can trade: below it a residual cannot be corrected. */
function minTradableBase(s: LegSpec): number {
  const byNotional = s.minNotional / (s.refPrice * s.contractSize);
  return roundToStep(Math.max(s.minAmount, byNotional), s.amountStep, 'ceil') * s.contractSize;
}

function tolerance(ctx: PairContext): number {
  return Math.max(ctx.input.toleranceBase, 1e-12);
}

/** Amount (market units) to trade on `leg` for `base` units, or 0 if untradable. */
function tradable(spec: LegSpec, base: number): number {
  const amount = roundToStep(base / spec.contractSize, spec.amountStep, 'floor');
  if (amount < spec.minAmount - 1e-12) return 0;
  if (amount * spec.contractSize * spec.refPrice < spec.minNotional - 1e-9) return 0;
  return amount;
}

/** The leg that lags in its own direction, and the base quantity that would balance the pair. */
function topUpPlan(ctx: PairContext): { leg: 0 | 1; amount: number } | undefined {
  const [a, b] = ctx.legs;
  const doneA = Math.abs(a.signedBase);
  const doneB = Math.abs(b.signedBase);
  const leg: 0 | 1 = doneA < doneB ? 0 : 1;
  const missing = Math.abs(net(ctx));
  const amount = tradable(ctx.legs[leg].spec, missing);
  return amount > 0 ? { leg, amount } : undefined;
}

/** The leg that leads, and how much of it to trade back. */
function unwindPlan(ctx: PairContext): { leg: 0 | 1; amount: number; side: Side } | undefined {
  const n = net(ctx);
  // The leg whose signed position has the same sign as the net excess is the one to reduce.
  const candidates = ([0, 1] as const).filter((i) => Math.sign(ctx.legs[i].signedBase) === Math.sign(n));
  for (const leg of candidates) {
    const amount = tradable(ctx.legs[leg].spec, Math.min(Math.abs(n), Math.abs(ctx.legs[leg].signedBase)));
    if (amount > 0) return { leg, amount, side: n > 0 ? 'sell' : 'buy' };
  }
  return undefined;
}

function legResult(l: LegState): LegResult {
  const own = l.spec.side === 'buy' ? l.buyBase : l.sellBase;
  const ownCost = l.spec.side === 'buy' ? l.buyCost : l.sellCost;
  const avg = own > 0 ? ownCost / own : 0;
  const sign = l.spec.side === 'buy' ? 1 : -1;
  return {
    filledBase: Math.abs(l.signedBase),
    signedBase: l.signedBase,
    cost: l.buyCost + l.sellCost,
    fees: l.fees,
    averagePrice: avg,
    slippageBps: avg > 0 ? (sign * (avg - l.spec.refPrice) * 1e4) / l.spec.refPrice : 0,
  };
}

const legOrderInput = (ctx: PairContext, leg: 0 | 1): OrderMachineInput => {
  const s = ctx.legs[leg].spec;
  return {
    venue: s.venue,
    request: request(ctx, leg, s.side, s.amount, 0, ctx.input.reduceOnly ?? false),
    reportToParent: false,
  };
};

export const hedgedPairMachine = setup({
  types: {
    context: {} as PairContext,
    input: {} as HedgedPairInput,
    output: {} as HedgedPairOutput,
  },
  actors: { ...actorContracts, order: orderMachine },
  guards: {
    legHasNothingToTrade: ({ context }, p: { leg: 0 | 1 }) => !(context.legs[p.leg].spec.amount > 0),
    netDeltaWithinTolerance: ({ context }) => Math.abs(net(context)) <= tolerance(context),
    neitherLegFilled: ({ context }) => context.legs.every((l) => l.buyBase === 0 && l.sellBase === 0),
    residualTooSmallToTrade: ({ context }) => {
      const n = Math.abs(net(context));
      return n < Math.min(minTradableBase(context.legs[0].spec), minTradableBase(context.legs[1].spec));
    },
    topUpAllowed: ({ context }) =>
      context.topUps < (context.input.maxTopUps ?? 2) && topUpPlan(context) !== undefined,
    unwindAllowed: ({ context }) =>
      context.unwinds < (context.input.maxUnwinds ?? 3) && unwindPlan(context) !== undefined,
  },
  actions: {
    recordLegA: assign(({ context, event }) =>
      applyOutput(context, 0, (event as unknown as DoneEvent).output),
    ),
    recordLegB: assign(({ context, event }) =>
      applyOutput(context, 1, (event as unknown as DoneEvent).output),
    ),
    recordCorrection: assign(({ context, event }) =>
      applyOutput(context, context.pending!.leg, (event as unknown as DoneEvent).output),
    ),
    planTopUp: assign(({ context }) => {
      const p = topUpPlan(context)!;
      const s = context.legs[p.leg].spec;
      return {
        topUps: context.topUps + 1,
        pending: {
          leg: p.leg,
          request: request(
            context,
            p.leg,
            s.side,
            p.amount,
            context.legs[p.leg].attempts,
            context.input.reduceOnly ?? false,
          ),
        },
      };
    }),
    planUnwind: assign(({ context }) => {
      const p = unwindPlan(context)!;
      return {
        unwinds: context.unwinds + 1,
        // Unwinding a derivative only ever reduces; a spot unwind sells what was bought.
        pending: {
          leg: p.leg,
          request: request(context, p.leg, p.side, p.amount, context.legs[p.leg].attempts, true),
        },
      };
    }),
  },
}).createMachine({
  id: 'hedgedPair',
  context: ({ input }) => ({
    input,
    legs: [newLegState(input.legs[0]), newLegState(input.legs[1])],
    orders: [],
    topUps: 0,
    unwinds: 0,
    pending: undefined,
    errors: [],
  }),
  initial: 'sending',
  states: {
    sending: {
      type: 'parallel',
      states: {
        legA: {
          initial: 'checking',
          states: {
            // A leg with nothing to trade (an exit where this side is already flat) sends nothing.
            checking: {
              always: [
                { guard: { type: 'legHasNothingToTrade', params: { leg: 0 } }, target: 'done' },
                { target: 'working' },
              ],
            },
            working: {
              invoke: {
                id: 'legA',
                src: 'order',
                input: ({ context }) => legOrderInput(context, 0),
                onDone: { target: 'done', actions: 'recordLegA' },
              },
            },
            done: { type: 'final' },
          },
        },
        legB: {
          initial: 'checking',
          states: {
            // A leg with nothing to trade (an exit where this side is already flat) sends nothing.
            checking: {
              always: [
                { guard: { type: 'legHasNothingToTrade', params: { leg: 1 } }, target: 'done' },
                { target: 'working' },
              ],
            },
            working: {
              invoke: {
                id: 'legB',
                src: 'order',
                input: ({ context }) => legOrderInput(context, 1),
                onDone: { target: 'done', actions: 'recordLegB' },
              },
            },
            done: { type: 'final' },
          },
        },
      },
      onDone: 'evaluating',
    },
    evaluating: {
      always: [
        { guard: 'neitherLegFilled', target: 'nothingFilled' },
        { guard: 'netDeltaWithinTolerance', target: 'hedged' },
        { guard: 'topUpAllowed', target: 'pausingBeforeTopUp', actions: 'planTopUp' },
        { guard: 'unwindAllowed', target: 'pausingBeforeUnwind', actions: 'planUnwind' },
        { guard: 'residualTooSmallToTrade', target: 'hedged' },
        { target: 'unhedged' },
      ],
    },
    pausingBeforeTopUp: {
      invoke: {
        id: 'pause',
        src: 'wait',
        input: ({ context }): WaitInput => ({ ms: context.input.retryDelayMs ?? 250 }),
        onDone: 'toppingUp',
      },
    },
    toppingUp: {
      invoke: {
        id: 'topUp',
        src: 'order',
        input: ({ context }): OrderMachineInput => ({
          venue: context.legs[context.pending!.leg].spec.venue,
          request: context.pending!.request,
        }),
        onDone: { target: 'evaluating', actions: 'recordCorrection' },
      },
    },
    pausingBeforeUnwind: {
      invoke: {
        id: 'pause',
        src: 'wait',
        input: ({ context }): WaitInput => ({ ms: context.input.retryDelayMs ?? 250 }),
        onDone: 'unwinding',
      },
    },
    unwinding: {
      invoke: {
        id: 'unwind',
        src: 'order',
        input: ({ context }): OrderMachineInput => ({
          venue: context.legs[context.pending!.leg].spec.venue,
          request: context.pending!.request,
        }),
        onDone: { target: 'evaluating', actions: 'recordCorrection' },
      },
    },
    hedged: { type: 'final' },
    nothingFilled: { type: 'final' },
    unhedged: { type: 'final' },
  },
  output: ({ context }) => {
    const [a, b] = context.legs;
    const n = net(context);
    const flat = a.buyBase === 0 && a.sellBase === 0 && b.buyBase === 0 && b.sellBase === 0;
    const withinTol =
      Math.abs(n) <= tolerance(context) ||
      Math.abs(n) < Math.min(minTradableBase(a.spec), minTradableBase(b.spec));
    return {
      outcome: flat
        ? 'nothingFilled'
        : !withinTol
          ? 'unhedged'
          : Math.max(Math.abs(a.signedBase), Math.abs(b.signedBase)) <= tolerance(context)
            ? 'flat'
            : 'hedged',
      legs: [legResult(a), legResult(b)],
      residualBase: n,
      fees: a.fees + b.fees,
      orders: context.orders,
      topUps: context.topUps,
      unwinds: context.unwinds,
      errors: context.errors,
    };
  },
});
