/**
 * The life of one order at one venue, as a machine.
 *
 *   submitting ─▶ routing ─▶ live.open ─▶ live.partiallyFilled ─▶ filled
 *        │                      └──────── live.canceling ─▶ canceled | filled
 *        ├─(outcome unknown)─▶ unknown ─▶ (ask the venue by client id) ─▶ routing | resubmit
 *        ├─(rate limit / 503)─▶ backoff ─▶ submitting
 *        └─(rejected)─▶ rejected
 *   resolving (a restored or needs-attention strategy asking about an order it lost) ─▶ unknown
 *
 * The rule it exists for: after a timeout or a disconnect the order's fate is unknown, and it is
 * resolved only by asking the venue for the client order id — never by assuming it was rejected
 * (that is how orphan orders and naked legs are made). Re-sending uses the same client order id,
 * so a venue that did get the first request refuses the second as a duplicate. While the venue
 * cannot be asked, the machine keeps asking with a growing pause; when its budget is spent it
 * ends `lost`, which means *unknown*: its parent may not count it as filled or as unfilled, and
 * may not send anything against it, until the venue has answered for that client id.
 *
 * Fills are reported to the parent as ORDER.PROGRESS with the venue's whole order snapshot
 * (idempotent: the parent keeps the latest per client id), and the machine's output is the
 * final snapshot.
 */
import { assign, enqueueActions, setup } from 'xstate';
import type { Order, OrderRequest } from '../src/domain/index.ts';
import { actorContracts } from './contract-actors.ts';
import type {
  CancelOrderInput,
  ErrorInfo,
  OrderUpdateEvent,
  PlaceOrderInput,
  QueryOrderInput,
  WaitInput,
  WatchOrderInput,
} from './contracts.ts';
import { toErrorInfo } from './contracts.ts';

export interface OrderMachineInput {
  venue: string;
  request: OrderRequest;
  /** Submissions allowed in total (first send, retries after rate limits, resends after "not found"). */
  maxSubmits?: number;
  /** Venue queries allowed while the outcome is unknown before giving up as `lost`. */
  maxQueries?: number;
  /** Cancel requests allowed before the order is handed over as `lost` (still open, uncancellable). */
  maxCancels?: number;
  /** Pause between attempts, ms; queries about an unknown outcome double it each time. */
  retryDelayMs?: number;
  /** Longest pause between queries about an unknown outcome, ms. */
  maxQueryDelayMs?: number;
  /**
   * Never send: ask the venue about an order sent earlier whose outcome is unknown (and cancel it
   * if it rests), e.g. for a strategy in needs attention.
   */
  resolveOnly?: boolean;
  /** How long an unanswered request may still be in flight, ms: wait this before trusting "not found". */
  inFlightGraceMs?: number;
  /**
   * After this long of "not found" answers a request can no longer land (venues refuse requests
   * older than their receive window: Binance's recvWindow is 5 s by default), ms. Only then may an
   * order that was never found be called never placed (`rejected`).
   */
  landingWindowMs?: number;
  /** Send ORDER.PROGRESS to the parent on every change (set by parents that track fills live). */
  reportToParent?: boolean;
}

export type OrderOutcome = 'filled' | 'canceled' | 'expired' | 'rejected' | 'lost';

export interface OrderOutput {
  clientOrderId: string;
  venue: string;
  outcome: OrderOutcome;
  /** The venue's last word on the order (absent when it never existed or could not be learnt). */
  order?: Order;
  error?: ErrorInfo;
}

export interface OrderContext {
  venue: string;
  request: OrderRequest;
  order: Order | undefined;
  submits: number;
  queries: number;
  cancels: number;
  maxCancels: number;
  cancelRequested: boolean;
  notFoundOnce: boolean;
  /** "Not found" answers since the last submission, each a grace period apart. */
  notFoundCount?: number;
  landingWindowMs?: number;
  maxSubmits: number;
  maxQueries: number;
  retryDelayMs: number;
  maxQueryDelayMs: number;
  inFlightGraceMs: number;
  resolveOnly?: boolean;
  lastError: ErrorInfo | undefined;
  outcome: OrderOutcome | undefined;
  reportToParent: boolean;
}

export type OrderEvent = OrderUpdateEvent | { type: 'CANCEL' };

/** Where the venue finds this order: venue, symbol, client order id. */
function locate(ctx: OrderContext): QueryOrderInput {
  return { venue: ctx.venue, symbol: ctx.request.symbol, clientOrderId: ctx.request.clientOrderId };
}

/** Prefer the snapshot that knows more: never let a stale update roll back fills. */
function newer(current: Order | undefined, next: Order): Order {
  if (!current) return next;
  if (next.filled < current.filled - 1e-12) return current;
  if (current.status !== 'open' && next.status === 'open' && next.filled <= current.filled) return current;
  return next;
}

/** Wait the retry delay, then go to `target` (rate limits, 503s, failed queries or cancels). */
function retryAfterPause(target: string, ms: (c: OrderContext) => number = (c) => c.retryDelayMs) {
  return {
    invoke: {
      id: 'pause',
      src: 'wait',
      input: ({ context }: { context: OrderContext }): WaitInput => ({ ms: ms(context) }),
      onDone: target,
    },
  } as const;
}

/** The pause before the next query about an unknown outcome: doubling, capped. */
export function queryDelayMs(c: Pick<OrderContext, 'retryDelayMs' | 'maxQueryDelayMs' | 'queries'>): number {
  // `?? 10_000`: an order restored from a snapshot taken before this setting existed.
  return Math.min(c.maxQueryDelayMs ?? 10_000, c.retryDelayMs * 2 ** Math.max(0, c.queries - 1));
}

/**
 * Where the venue's latest word on the order leads, in priority order. Used after every new
 * snapshot of the order (placement answer, query, stream update, cancel answer).
 */
const ROUTE_BY_VENUE_STATUS = [
  { guard: 'venueReportsFilled', target: '#order.filled' },
  { guard: 'venueReportsCanceled', target: '#order.canceled' },
  { guard: 'venueReportsExpired', target: '#order.expired' },
  { guard: 'venueReportsRejected', target: '#order.rejected' },
  { guard: 'cancelWasRequestedWithCancelsLeft', target: '#order.live.canceling' },
  // Asked to cancel, cancels spent, venue still says open: hand it over, never pretend.
  { guard: 'cancelWasRequested', target: '#order.lost' },
  { guard: 'venueReportsPartialFill', target: '#order.live.partiallyFilled' },
  { target: '#order.live.open' },
] as const;

export const orderMachine = setup({
  types: {
    context: {} as OrderContext,
    events: {} as OrderEvent,
    input: {} as OrderMachineInput,
    output: {} as OrderOutput,
  },
  actors: actorContracts,
  guards: {
    venueReportsFilled: ({ context }) => context.order?.status === 'closed',
    venueReportsCanceled: ({ context }) => context.order?.status === 'canceled',
    venueReportsExpired: ({ context }) => context.order?.status === 'expired',
    venueReportsRejected: ({ context }) => context.order?.status === 'rejected',
    venueReportsPartialFill: ({ context }) => (context.order?.filled ?? 0) > 0,
    cancelWasRequested: ({ context }) => context.cancelRequested,
    outcomeUnknown: ({ event }) => toErrorInfo((event as { error?: unknown }).error).outcomeUnknown,
    retryableWithSubmitsLeft: ({ context, event }) =>
      toErrorInfo((event as { error?: unknown }).error).retryable && context.submits < context.maxSubmits,
    orderFoundAtVenue: ({ event }) => (event as { output?: Order | null }).output != null,
    notFoundTwiceWithSubmitsLeft: ({ context }) =>
      context.notFoundOnce && context.submits < context.maxSubmits,
    resolvingOnly: ({ context }) => context.resolveOnly === true,
    /** Not found for longer than a request can take to land: it was never placed. */
    neverLanded: ({ context }) =>
      ((context.notFoundCount ?? 0) + 1) * context.inFlightGraceMs >= (context.landingWindowMs ?? 10_000),
    queriesLeft: ({ context }) => context.queries < context.maxQueries,
    cancelsLeft: ({ context }) => context.cancels < context.maxCancels,
    cancelWasRequestedWithCancelsLeft: ({ context }) =>
      context.cancelRequested && context.cancels < context.maxCancels,
    orderFoundWithQueriesLeft: ({ context, event }) =>
      (event as { output?: Order | null }).output != null && context.queries < context.maxQueries,

    cancelRefusedAsNotOpen: ({ event }) =>
      toErrorInfo((event as { error?: unknown }).error).name === 'OrderNotFound',
  },
  actions: {
    recordVenueOrder: assign({
      order: ({ context, event }) => {
        const o = (event as unknown as { output: Order | null }).output;
        return o ? newer(context.order, o) : context.order;
      },
    }),
    recordUpdate: assign({
      order: ({ context, event }) => newer(context.order, (event as OrderUpdateEvent).order),
    }),
    recordError: assign({ lastError: ({ event }) => toErrorInfo((event as { error?: unknown }).error) }),
    countSubmit: assign({ submits: ({ context }) => context.submits + 1 }),
    countQuery: assign({ queries: ({ context }) => context.queries + 1 }),
    countCancel: assign({ cancels: ({ context }) => context.cancels + 1 }),
    // The venue answered: failed queries start counting again from zero.
    rememberNotFound: assign(({ context }) => ({
      notFoundOnce: true,
      notFoundCount: (context.notFoundCount ?? 0) + 1,
      queries: 0,
    })),
    forgetNotFound: assign({ notFoundOnce: false, notFoundCount: 0, queries: 0 }),
    recordNeverLanded: assign({
      lastError: (): ErrorInfo => ({
        name: 'NeverLanded',
        message: 'not found at the venue for longer than a request can take to land',
        retryable: false,
        outcomeUnknown: false,
      }),
    }),
    requestCancel: assign({ cancelRequested: true }),
    reportProgress: enqueueActions(({ context, enqueue }) => {
      if (context.reportToParent && context.order)
        enqueue.sendParent({ type: 'ORDER.PROGRESS', order: context.order });
    }),
  },
}).createMachine({
  id: 'order',
  context: ({ input }) => ({
    venue: input.venue,
    request: input.request,
    order: undefined,
    submits: 0,
    queries: 0,
    cancels: 0,
    maxCancels: input.maxCancels ?? 5,
    cancelRequested: false,
    notFoundOnce: false,
    // Resolving never sends: "not found" twice is not a reason to send it now.
    maxSubmits: input.resolveOnly ? 0 : (input.maxSubmits ?? 3),
    maxQueries: input.maxQueries ?? 12,
    retryDelayMs: input.retryDelayMs ?? 500,
    maxQueryDelayMs: input.maxQueryDelayMs ?? 10_000,
    ...(input.resolveOnly ? { resolveOnly: true, cancelRequested: true } : {}),
    inFlightGraceMs: input.inFlightGraceMs ?? 2_000,
    landingWindowMs: input.landingWindowMs ?? 10_000,
    notFoundCount: 0,
    lastError: undefined,
    outcome: undefined,
    reportToParent: input.reportToParent ?? false,
  }),
  initial: 'starting',
  on: {
    // A cancel asked before the venue acknowledged is remembered and carried out once it has.
    CANCEL: { actions: 'requestCancel' },
  },
  states: {
    starting: {
      always: [{ guard: 'resolvingOnly', target: 'unknown' }, { target: 'submitting' }],
    },
    submitting: {
      entry: 'countSubmit',
      invoke: {
        id: 'place',
        src: 'placeOrder',
        input: ({ context }): PlaceOrderInput => ({ venue: context.venue, request: context.request }),
        onDone: { target: 'routing', actions: ['recordVenueOrder', 'reportProgress'] },
        onError: [
          { guard: 'outcomeUnknown', target: 'unknown', actions: 'recordError' },
          { guard: 'retryableWithSubmitsLeft', target: 'backoff', actions: 'recordError' },
          { target: 'rejected', actions: 'recordError' },
        ],
      },
    },
    backoff: retryAfterPause('submitting'),
    unknown: {
      entry: 'countQuery',
      invoke: {
        id: 'query',
        src: 'queryOrder',
        input: ({ context }): QueryOrderInput => locate(context),
        onDone: [
          {
            guard: 'orderFoundAtVenue',
            target: 'routing',
            actions: ['recordVenueOrder', 'forgetNotFound', 'reportProgress'],
          },
          // Not found twice, a grace period apart: the request is not in flight any more. Re-send
          // with the same client id — if the venue does know it after all, it refuses the duplicate.
          { guard: 'notFoundTwiceWithSubmitsLeft', target: 'submitting', actions: 'forgetNotFound' },
          // No submits left (or never to send): a slow first request may still land, so "not found"
          // means rejected only once no request could land any more; until then keep asking.
          { guard: 'neverLanded', target: 'rejected', actions: 'recordNeverLanded' },
          { target: 'awaitingInFlight', actions: 'rememberNotFound' },
        ],
        onError: [
          { guard: 'queriesLeft', target: 'queryBackoff', actions: 'recordError' },
          { target: 'lost', actions: 'recordError' },
        ],
      },
    },
    awaitingInFlight: {
      invoke: {
        id: 'pause',
        src: 'wait',
        input: ({ context }): WaitInput => ({ ms: context.inFlightGraceMs }),
        onDone: 'unknown',
      },
    },
    queryBackoff: retryAfterPause('unknown', queryDelayMs),
    routing: { always: ROUTE_BY_VENUE_STATUS },
    live: {
      invoke: {
        id: 'watch',
        src: 'watchOrder',
        input: ({ context }): WatchOrderInput => locate(context),
      },
      on: {
        'ORDER.UPDATE': { target: '.routed', actions: ['recordUpdate', 'reportProgress'] },
      },
      initial: 'open',
      states: {
        open: { on: { CANCEL: { target: 'canceling', actions: 'requestCancel' } } },
        partiallyFilled: { on: { CANCEL: { target: 'canceling', actions: 'requestCancel' } } },
        canceling: {
          entry: 'countCancel',
          invoke: {
            id: 'cancel',
            src: 'cancelOrder',
            input: ({ context }): CancelOrderInput => locate(context),
            onDone: { target: 'routed', actions: ['recordVenueOrder', 'reportProgress'] },
            onError: [
              // The venue says the order is not open: it filled or died meanwhile — ask what happened.
              { guard: 'cancelRefusedAsNotOpen', target: '#order.settling', actions: 'recordError' },
              { guard: 'cancelsLeft', target: 'cancelRetry', actions: 'recordError' },
              { target: '#order.settling', actions: 'recordError' },
            ],
          },
        },
        cancelRetry: retryAfterPause('canceling'),
        routed: { always: ROUTE_BY_VENUE_STATUS },
      },
    },
    settling: {
      entry: 'countQuery',
      invoke: {
        id: 'query',
        src: 'queryOrder',
        input: ({ context }): QueryOrderInput => locate(context),
        onDone: [
          {
            guard: 'orderFoundWithQueriesLeft',
            target: 'routing',
            actions: ['recordVenueOrder', 'reportProgress'],
          },
          { target: 'lost', actions: 'recordVenueOrder' },
        ],
        onError: [
          { guard: 'queriesLeft', target: 'settleBackoff', actions: 'recordError' },
          { target: 'lost', actions: 'recordError' },
        ],
      },
    },
    settleBackoff: retryAfterPause('settling'),
    filled: { type: 'final', entry: assign({ outcome: 'filled' as const }) },
    canceled: { type: 'final', entry: assign({ outcome: 'canceled' as const }) },
    expired: { type: 'final', entry: assign({ outcome: 'expired' as const }) },
    rejected: { type: 'final', entry: assign({ outcome: 'rejected' as const }) },
    /**
     * Outcome unknown: the venue could not be asked (or would not cancel) within the budget. Not
     * filled, not unfilled — the parent must resolve it by client id before acting on this leg.
     */
    lost: { type: 'final', entry: assign({ outcome: 'lost' as const }) },
  },
  output: ({ context }) => {
    return {
      clientOrderId: context.request.clientOrderId,
      venue: context.venue,
      outcome: context.outcome ?? 'lost',
      ...(context.order ? { order: context.order } : {}),
      ...(context.lastError ? { error: context.lastError } : {}),
    };
  },
});
