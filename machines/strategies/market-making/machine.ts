/**
 * Market making: quote a bid and an ask ladder around a reference price (mid or micro-price),
 * skewed by inventory, within inventory limits; cancel and replace when the desired price moves
 * beyond the refresh tolerance (but never before an order's minimum age); stop quoting on stale
 * data, a risk breach or a pause, cancelling what rests.
 *
 * Each ladder slot (bid0…bid2, ask0…ask2) is a region: idle ─▶ live (an order machine) ─▶ idle.
 * A slot that should move or stop sends CANCEL to its order and waits for the venue's answer,
 * so a fill that races the cancel is still counted (the order machine settles it).
 *
 *   running(slots…) ─(stop, all slots idle)─▶ flattening? ─▶ stopped
 */
import { assign, sendTo, setup } from 'xstate';
import type { Market, Order, Side } from '../../../src/domain/index.ts';
import { amountToPrecision, microPrice, priceToPrecision } from '../../../src/domain/index.ts';
import { applyNewFills, applyOrderFills, type LegBook, newLeg } from '../../accounting.ts';
import { actorContracts } from '../../contract-actors.ts';
import type {
  ClockTickInput,
  ErrorInfo,
  FundingPaymentEvent,
  QuoteEvent,
  VenueClosedPositionEvent,
  WaitInput,
  WatchFundingInput,
  WatchQuotesInput,
} from '../../contracts.ts';
import { failure } from '../../contracts.ts';
import { clientOrderId, strategyTag } from '../../ids.ts';
import { type OrderMachineInput, type OrderOutput, orderMachine } from '../../order.ts';
import { ParamChecker } from '../../params.ts';
import { applyFunding, applyVenueClose, totalPnl } from '../kit/books.ts';
import { controlActions, controlHandlers, type StrategyControlEvent } from '../kit/control.ts';
import { isFresh, mid, type Quote, toQuote } from '../kit/quotes.ts';
import { MAX_LEVELS, type MarketMakerParams } from './params.ts';

/** The params, typed from their schema (./params.ts). */
export type { MarketMakerParams };
export { MAX_LEVELS };

export interface MarketMakerInput {
  id: string;
  params: MarketMakerParams;
  market: Market;
}

interface Working {
  clientOrderId: string;
  price: number;
  amount: number;
  placedAt: number;
}

export interface SlotState {
  seq: number;
  working: Working | undefined;
}

export interface MarketMakerContext {
  id: string;
  tag: string;
  params: MarketMakerParams;
  market: Market;
  quote: Quote | undefined;
  now: number;
  leg: LegBook;
  /** Latest venue snapshot of every order of this strategy still of interest, by client id. */
  orders: Record<string, Order>;
  slots: Record<string, SlotState>;
  quotesPlaced: number;
  paused: boolean;
  riskBlocked: string | undefined;
  stopRequested: { flatten: boolean } | undefined;
  flattenAttempts: number;
  lastError: ErrorInfo | undefined;
  /** When the strategy first saw the clock: funding paid before it belongs to someone else. */
  startedAt?: number;
  /** The last funding settlement booked (a perpetual's payments arrive pushed and polled). */
  lastFundingTs?: number;
}

export type MarketMakerEvent =
  | QuoteEvent
  | FundingPaymentEvent
  | VenueClosedPositionEvent
  | { type: 'TIME.TICK'; now: number }
  | StrategyControlEvent
  | { type: 'ORDER.PROGRESS'; order: Order }
  | { type: 'FEED.DOWN' | 'FEED.UP'; venue: string; symbol: string; at: number };

export function validateMarketMakerParams(p: MarketMakerParams, m: Market): void {
  const c = new ParamChecker();
  c.positive('orderAmount', p.orderAmount);
  c.integer('levels', p.levels, 1);
  c.that(p.levels <= MAX_LEVELS, 'levels', `at most ${MAX_LEVELS}`);
  c.that(
    p.spreadBps + (p.levels - 1) * p.levelSpacingBps < 5_000,
    'levelSpacingBps',
    'the outer level would be more than 50 % from the reference',
  );
  c.positive('spreadBps', p.spreadBps);
  c.nonNegative('levelSpacingBps', p.levelSpacingBps);
  c.oneOf('reference', p.reference, ['mid', 'micro']);
  c.nonNegative('inventorySkewBpsPerUnit', p.inventorySkewBpsPerUnit);
  c.positive('maxInventoryBase', p.maxInventoryBase);
  c.nonNegative('refreshToleranceBps', p.refreshToleranceBps);
  c.nonNegative('minOrderAgeMs', p.minOrderAgeMs);
  c.positive('staleAfterMs', p.staleAfterMs);
  c.nonNegative('rejectBackoffMs', p.rejectBackoffMs);
  c.positive('maxPositionNotional', p.maxPositionNotional);
  c.that(
    amountToPrecision(m, p.orderAmount / m.contractSize) >= m.limits.amount.min,
    'orderAmount',
    `below the market minimum ${m.limits.amount.min}`,
  );
  c.throwIfAny('market-maker');
}

export const slotKeys = (levels = MAX_LEVELS): string[] =>
  (['bid', 'ask'] as const).flatMap((s) => Array.from({ length: levels }, (_, i) => `${s}${i}`));

const slotSide = (slot: string): Side => (slot.startsWith('bid') ? 'buy' : 'sell');
const slotLevel = (slot: string): number => Number(slot.slice(3));

function reference(ctx: MarketMakerContext): number {
  const q = ctx.quote;
  if (!q) return 0;
  return ctx.params.reference === 'micro' ? microPrice({ symbol: '', ...q }) : mid(q);
}

function quotingAllowed(ctx: MarketMakerContext): boolean {
  return (
    ctx.stopRequested === undefined &&
    !ctx.paused &&
    ctx.riskBlocked === undefined &&
    isFresh(ctx.quote, ctx.now, ctx.params.staleAfterMs)
  );
}

/**
 * The inventory rule: the position plus every order of the slot's side still resting — this
 * slot's included — may never pass `maxInventoryBase`, so no sweep of the book can take the
 * inventory beyond it. A slot whose order would break it does not quote (a working one is
 * cancelled).
 */
function withinInventoryLimit(ctx: MarketMakerContext, slot: string): boolean {
  const side = slotSide(slot);
  const sign = side === 'buy' ? 1 : -1;
  let ifAllFilled = ctx.leg.position * sign;
  for (const [key, st] of Object.entries(ctx.slots)) {
    const w = st.working;
    if (!w || key === slot || slotSide(key) !== side) continue;
    const filled = ctx.orders[w.clientOrderId]?.filled ?? 0;
    ifAllFilled += Math.max(0, w.amount - filled) * ctx.market.contractSize;
  }
  ifAllFilled += ctx.params.orderAmount;
  return ifAllFilled <= ctx.params.maxInventoryBase + 1e-12;
}

/** Desired price of a slot now, or undefined when the slot should not quote. */
export function desiredPrice(ctx: MarketMakerContext, slot: string): number | undefined {
  const level = slotLevel(slot);
  const side = slotSide(slot);
  if (level >= ctx.params.levels || !quotingAllowed(ctx)) return undefined;
  const inv = ctx.leg.position;
  if (!withinInventoryLimit(ctx, slot)) return undefined;
  const ref = reference(ctx);
  if (!(ref > 0)) return undefined;
  if (Math.abs(inv) * ref > ctx.params.maxPositionNotional && Math.sign(inv) === (side === 'buy' ? 1 : -1))
    return undefined;
  const dist = (ctx.params.spreadBps + level * ctx.params.levelSpacingBps) / 1e4;
  const skew = (-inv * ctx.params.inventorySkewBpsPerUnit) / 1e4;
  const q = ctx.quote!;
  const tick = ctx.market.precision.price;
  if (side === 'buy') {
    const p = priceToPrecision(ctx.market, ref * (1 - dist + skew), 'buy');
    return Math.min(p, priceToPrecision(ctx.market, q.ask - tick, 'buy')); // stay passive
  }
  const p = priceToPrecision(ctx.market, ref * (1 + dist + skew), 'sell');
  return Math.max(p, priceToPrecision(ctx.market, q.bid + tick, 'sell'));
}

function slotNeedsReplacing(ctx: MarketMakerContext, slot: string): boolean {
  const w = ctx.slots[slot]?.working;
  if (!w) return false;
  const want = desiredPrice(ctx, slot);
  if (want === undefined) return true; // stop quoting this slot: cancel regardless of age
  if (ctx.now - w.placedAt < ctx.params.minOrderAgeMs) return false;
  return (Math.abs(want - w.price) / w.price) * 1e4 > ctx.params.refreshToleranceBps;
}

function orderInput(ctx: MarketMakerContext, slot: string): OrderMachineInput {
  const w = ctx.slots[slot]!.working!;
  return {
    venue: ctx.market.venue,
    reportToParent: true,
    maxSubmits: 1,
    request: {
      symbol: ctx.market.symbol,
      side: slotSide(slot),
      type: 'limit',
      timeInForce: 'PO',
      price: w.price,
      amount: w.amount,
      clientOrderId: w.clientOrderId,
    },
  };
}

type OrderDone = { output: OrderOutput };

function slotRegion(slot: string) {
  return {
    initial: 'idle',
    states: {
      idle: {
        always: {
          guard: { type: 'slotShouldQuote', params: { slot } },
          target: 'live',
          actions: { type: 'planQuote', params: { slot } },
        },
      },
      live: {
        invoke: {
          id: slot,
          src: 'order',
          input: ({ context }: { context: MarketMakerContext }) => orderInput(context, slot),
          onDone: [
            // Its fate unknown: the slot quotes nothing new until the venue has answered for it.
            { guard: 'orderOutcomeUnknown', target: 'resolving', actions: { type: 'holdUnknownOrder' } },
            { guard: 'venueRefused', target: 'backoff', actions: { type: 'settleSlot', params: { slot } } },
            { target: 'idle', actions: { type: 'settleSlot', params: { slot } } },
          ],
        },
        initial: 'resting',
        states: {
          resting: {
            always: {
              guard: { type: 'slotNeedsReplacing', params: { slot } },
              target: 'canceling',
              actions: { type: 'cancelSlotOrder', params: { slot } },
            },
          },
          canceling: {},
        },
      },
      /** Ask the venue about the slot's order by client id (never re-sending it); cancel it if it rests. */
      resolving: {
        invoke: {
          id: slot,
          src: 'order',
          input: ({ context }: { context: MarketMakerContext }): OrderMachineInput => ({
            ...orderInput(context, slot),
            resolveOnly: true,
          }),
          onDone: [
            {
              guard: 'orderOutcomeUnknown',
              target: 'waitingForVenue',
              actions: { type: 'holdUnknownOrder' },
            },
            { target: 'idle', actions: { type: 'settleSlot', params: { slot } } },
          ],
        },
      },
      waitingForVenue: {
        invoke: { id: 'pause', src: 'wait', input: (): WaitInput => ({ ms: 10_000 }), onDone: 'resolving' },
      },
      backoff: {
        invoke: {
          id: 'pause',
          src: 'wait',
          input: ({ context }: { context: MarketMakerContext }): WaitInput => ({
            ms: context.params.rejectBackoffMs,
          }),
          onDone: 'idle',
        },
      },
    },
  } as const;
}

/** The inventory is above the market's minimum order and notional: a flatten can trade it. */
function positionTradable(ctx: MarketMakerContext): boolean {
  const amt = amountToPrecision(ctx.market, Math.abs(ctx.leg.position) / ctx.market.contractSize);
  return (
    amt >= ctx.market.limits.amount.min &&
    amt * ctx.market.contractSize * mid(ctx.quote) >= ctx.market.limits.cost.min
  );
}

function pnl(ctx: MarketMakerContext): number {
  return totalPnl([ctx.leg], [mid(ctx.quote)]);
}

/**
 * The machine with ladder slots for up to `maxLevels` levels per side. Every slot region is
 * built by the same function; `marketMakerMachine` is the 3-level machine the engine runs.
 */
export function createMarketMakerMachine(maxLevels = MAX_LEVELS) {
  return setup({
    types: {
      context: {} as MarketMakerContext,
      events: {} as MarketMakerEvent,
      input: {} as MarketMakerInput,
    },
    actors: { ...actorContracts, order: orderMachine },
    guards: {
      slotShouldQuote: ({ context }, p: { slot: string }) => desiredPrice(context, p.slot) !== undefined,
      slotNeedsReplacing: ({ context }, p: { slot: string }) => slotNeedsReplacing(context, p.slot),
      venueRefused: ({ event }) => (event as unknown as OrderDone).output.outcome === 'rejected',
      orderOutcomeUnknown: ({ event }) => (event as unknown as OrderDone).output.outcome === 'lost',
      stoppedAndAllSlotsIdle: ({ context }) =>
        context.stopRequested !== undefined &&
        Object.values(context.slots).every((s) => s.working === undefined),
      flattenWanted: ({ context }) => context.stopRequested?.flatten === true && positionTradable(context),
      flattenWantedWithAttemptsLeft: ({ context }) =>
        context.stopRequested?.flatten === true && context.flattenAttempts < 3 && positionTradable(context),
    },
    actions: {
      recordQuote: assign(({ context, event }) => {
        const e = event as QuoteEvent;
        if (e.venue !== context.params.market.venue || e.symbol !== context.params.market.symbol) return {};
        return { quote: toQuote(e), now: Math.max(context.now, e.receivedAt) };
      }),
      recordTime: assign(({ context, event }) => {
        const now = Math.max(context.now, (event as { now: number }).now);
        return { now, startedAt: context.startedAt ?? now };
      }),
      // A perpetual's funding is money the maker paid or got: its PnL must carry it.
      recordFundingPayment: assign(({ context, event }) => {
        const e = event as FundingPaymentEvent;
        if (e.venue !== context.market.venue || e.symbol !== context.market.symbol) return {};
        if (context.startedAt === undefined || e.timestamp < context.startedAt) return {};
        if (e.timestamp <= (context.lastFundingTs ?? Number.NEGATIVE_INFINITY)) return {};
        return { leg: applyFunding(context.leg, e), lastFundingTs: e.timestamp };
      }),
      recordProgress: assign(({ context, event }) => {
        const o = (event as { order: Order }).order;
        return {
          orders: { ...context.orders, [o.clientOrderId]: o },
          leg: applyNewFills(context.leg, context.orders[o.clientOrderId], o),
        };
      }),
      planQuote: assign(({ context }, p: { slot: string }) => {
        const s = context.slots[p.slot]!;
        const price = desiredPrice(context, p.slot)!;
        const amount = amountToPrecision(
          context.market,
          context.params.orderAmount / context.market.contractSize,
        );
        const id = clientOrderId({
          tag: context.tag,
          cycle: s.seq,
          phase: 'q',
          execution: slotLevel(p.slot),
          leg: slotSide(p.slot) === 'buy' ? 'a' : 'b',
          attempt: 0,
        });
        return {
          slots: {
            ...context.slots,
            [p.slot]: {
              seq: s.seq + 1,
              working: { clientOrderId: id, price, amount, placedAt: context.now },
            },
          },
          quotesPlaced: context.quotesPlaced + 1,
        };
      }),
      settleSlot: assign(({ context, event }, p: { slot: string }) => {
        const out = (event as unknown as OrderDone).output;
        const orders = { ...context.orders };
        delete orders[out.clientOrderId];
        return {
          leg: out.order
            ? applyNewFills(context.leg, context.orders[out.clientOrderId], out.order)
            : context.leg,
          orders,
          slots: { ...context.slots, [p.slot]: { ...context.slots[p.slot]!, working: undefined } },
          ...(out.error && out.outcome !== 'filled' && out.outcome !== 'canceled'
            ? { lastError: out.error }
            : {}),
        };
      }),
      /** Book what the venue said of an order whose outcome is still unknown; keep it for resolving. */
      holdUnknownOrder: assign(({ context, event }) => {
        const out = (event as unknown as OrderDone).output;
        if (!out.order) return { ...(out.error ? { lastError: out.error } : {}) };
        return {
          leg: applyNewFills(context.leg, context.orders[out.clientOrderId], out.order),
          orders: { ...context.orders, [out.clientOrderId]: out.order },
          ...(out.error ? { lastError: out.error } : {}),
        };
      }),
      /**
       * The venue liquidated or deleveraged the maker's position: its close is booked (the books
       * say what the venue did) and the maker stops, flattening what is left — an account the
       * venue had to close is not one to keep quoting on. A position check's mismatch (books that
       * disagree with the venue) stops it without flattening from books it cannot trust. The
       * reason stays in lastError.
       */
      stopForVenueClose: assign(({ context, event }) => {
        const e = event as VenueClosedPositionEvent;
        const own = e.closed?.venue === context.leg.venue && e.closed.fill.symbol === context.leg.symbol;
        return {
          ...(own ? { leg: applyVenueClose(context.leg, e.closed!.fill) } : {}),
          lastError: failure(e.closed ? 'VenueClosedPosition' : 'PositionMismatch', e.reason),
          // Never weaker than a stop already asked for (a risk flatten stays a flatten).
          stopRequested: { flatten: (context.stopRequested?.flatten ?? false) || e.closed !== undefined },
        };
      }),
      ...controlActions<MarketMakerContext, MarketMakerEvent>(),
      cancelSlotOrder: sendTo((_, p: { slot: string }) => p.slot, { type: 'CANCEL' }),
      recordFlattenIncomplete: assign(({ context }) => ({
        lastError: failure(
          'FlattenIncomplete',
          `stopped with inventory ${context.leg.position} after ${context.flattenAttempts} flatten attempts`,
        ),
      })),
      applyFlatten: assign(({ context, event }) => {
        const out = (event as unknown as OrderDone).output;
        return {
          leg: out.order ? applyOrderFills(context.leg, out.order) : context.leg,
          flattenAttempts: context.flattenAttempts + 1,
        };
      }),
    },
  }).createMachine({
    id: 'marketMaker',
    context: ({ input }) => {
      validateMarketMakerParams(input.params, input.market);
      return {
        id: input.id,
        tag: strategyTag(input.id),
        params: input.params,
        market: input.market,
        quote: undefined,
        now: 0,
        leg: newLeg(input.market.venue, input.market.symbol, input.market.contractSize),
        orders: {},
        slots: Object.fromEntries(slotKeys(maxLevels).map((k) => [k, { seq: 0, working: undefined }])),
        quotesPlaced: 0,
        paused: false,
        riskBlocked: undefined,
        stopRequested: undefined,
        flattenAttempts: 0,
        lastError: undefined,
      };
    },
    invoke: [
      {
        id: 'quotes',
        src: 'watchQuotes',
        input: ({ context }): WatchQuotesInput => ({ ...context.params.market }),
      },
      { id: 'clock', src: 'clockTick', input: (): ClockTickInput => ({ everyMs: 1_000 }) },
      // Funding of a perpetual (a spot market has none: the actor then does nothing).
      {
        id: 'funding',
        src: 'watchFunding',
        input: ({ context }): WatchFundingInput => ({ ...context.params.market }),
      },
    ],
    on: {
      QUOTE: { actions: 'recordQuote' },
      'FUNDING.PAYMENT': { actions: 'recordFundingPayment' },
      ATTENTION: { actions: 'stopForVenueClose' },
      'TIME.TICK': { actions: 'recordTime' },
      'ORDER.PROGRESS': { actions: 'recordProgress' },
      ...controlHandlers,
    },
    initial: 'quoting',
    states: {
      quoting: {
        type: 'parallel',
        always: { guard: 'stoppedAndAllSlotsIdle', target: 'winding' },
        states: Object.fromEntries(slotKeys(maxLevels).map((k) => [k, slotRegion(k)])),
      },
      winding: {
        always: [
          { guard: 'flattenWantedWithAttemptsLeft', target: 'flattening' },
          { guard: 'flattenWanted', target: 'stopped', actions: 'recordFlattenIncomplete' },
          { target: 'stopped' },
        ],
      },
      flattening: {
        invoke: {
          id: 'flatten',
          src: 'order',
          input: ({ context }): OrderMachineInput => {
            const amount = amountToPrecision(
              context.market,
              Math.abs(context.leg.position) / context.market.contractSize,
            );
            return {
              venue: context.market.venue,
              request: {
                symbol: context.market.symbol,
                side: context.leg.position > 0 ? 'sell' : 'buy',
                type: 'market',
                amount,
                clientOrderId: clientOrderId({
                  tag: context.tag,
                  cycle: context.flattenAttempts,
                  phase: 'f',
                  execution: 0,
                  leg: 'a',
                  attempt: 0,
                }),
                ...(context.market.type !== 'spot' ? { reduceOnly: true } : {}),
              },
            };
          },
          onDone: { target: 'winding', actions: 'applyFlatten' },
        },
      },
      stopped: { type: 'final' },
    },
  });
}

export const marketMakerMachine = createMarketMakerMachine(MAX_LEVELS);

export function marketMakerPnl(ctx: MarketMakerContext): number {
  return pnl(ctx);
}
