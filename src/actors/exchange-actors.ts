/**
 * The concrete actors behind the machines' contracts (machines/contracts.ts), over
 * ExchangeClients and a Clock. `machine.provide({ actors: createExchangeActors(deps) })`.
 */
import { fromCallback, fromPromise } from 'xstate';
import type {
  CancelOrderInput,
  ClockTickInput,
  FetchBalanceInput,
  MarketEvent,
  OrderUpdateEvent,
  PlaceOrderInput,
  QueryOrderInput,
  QuoteBatchEvent,
  QuoteEvent,
  WaitInput,
  WatchFundingInput,
  WatchOrderInput,
  WatchQuotesInput,
} from '../../machines/contracts.ts';
import type { Clock } from '../clock/clock.ts';
import { Ticker } from '../clock/ticker.ts';
import {
  type AccountEvent,
  type Balances,
  ClientIdRetired,
  DuplicateClientOrderId,
  type Order,
  OrderNotFound,
  type OrderRequest,
  RequestTimeout,
} from '../domain/index.ts';
import { capabilitiesOf, type ExchangeClient, landingEndsAt } from '../exchange/port.ts';
import { backoff } from '../util/backoff.ts';
import { OrderUpdateHub } from './order-hub.ts';

/** Hands a quote to the machine (`toMachine`) or holds it back: see src/actors/quote-gate.ts. */
export type QuoteDelivery = (quote: QuoteEvent, toMachine: (e: QuoteEvent | QuoteBatchEvent) => void) => void;

/** Hands a tick to the machine (`send`) or holds it back: see QuoteGate.offerTick. */
export type TickDelivery = (now: number, send: () => void) => void;

/**
 * Where order intents become durable before a request leaves the process. `record` must not
 * resolve until the intent is on disk; `has` says whether an intent for the id was ever written
 * (then the order may exist at the venue, and placement asks before sending).
 */
export interface IntentJournal {
  record(venue: string, req: OrderRequest): Promise<void> | void;
  /** On every placement's path: cheap. */
  has(clientOrderId: string): boolean;
  /** The request journalled under the id and when (asked only when `has` says there is one). */
  intent(clientOrderId: string): JournalledIntent | undefined;
  /**
   * A journalled request is about to be sent again: when, durable before it leaves — a restart
   * must not take an old first send for the last one and re-send while this one may still land.
   */
  resending(clientOrderId: string): Promise<void> | void;
}

export interface JournalledIntent {
  request: OrderRequest;
  /** When the intent became durable: its request left at or after this. */
  recordedAt: number;
  /** When a request under the id last left (the first send, or the latest re-send). */
  lastSentAt: number;
}

/**
 * Intents kept in memory: they survive an actor being stopped and restored within the process,
 * not a process crash. The engine passes a durable journal; this is the default for direct use.
 */
export class InMemoryIntentJournal implements IntentJournal {
  private readonly intents = new Map<string, JournalledIntent>();
  /** `now`: the clock the requests are sent on (a re-send waits on how long ago one last left). */
  constructor(private readonly now: () => number) {}
  record(_venue: string, req: OrderRequest): void {
    if (this.intents.has(req.clientOrderId)) return;
    const at = this.now();
    this.intents.set(req.clientOrderId, { request: { ...req }, recordedAt: at, lastSentAt: at });
  }
  resending(clientOrderId: string): void {
    const i = this.intents.get(clientOrderId);
    if (i) i.lastSentAt = this.now();
  }
  has(clientOrderId: string): boolean {
    return this.intents.has(clientOrderId);
  }
  intent(clientOrderId: string): JournalledIntent | undefined {
    return this.intents.get(clientOrderId);
  }
}

/** The same order: what the venue is asked to do, field by field (the id aside). */
function sameOrder(a: OrderRequest, b: OrderRequest): boolean {
  return (
    a.symbol === b.symbol &&
    a.side === b.side &&
    a.type === b.type &&
    a.amount === b.amount &&
    a.price === b.price &&
    a.timeInForce === b.timeInForce &&
    Boolean(a.reduceOnly) === Boolean(b.reduceOnly)
  );
}

export interface ExchangeActorDeps {
  venues: Record<string, ExchangeClient>;
  clock: Clock;
  /** Where intents become durable before sending; defaults to an in-memory journal. */
  journal?: IntentJournal;
  /** Poll period of order status while the order stream is down, ms. */
  orderPollMs?: number;
  /** First delay before resubscribing a dropped stream, ms; doubles while drops repeat (see backoff). */
  reconnectMs?: number;
  /** Longest delay between resubscriptions, ms (default 30 s). */
  maxReconnectMs?: number;
  /** Poll period of funding rates and payments, ms. */
  fundingPollMs?: number;
  /** Called when an actor swallows an error it can only report (stream drops, poll failures). */
  onError?: (where: string, e: unknown) => void;
  /** Shared periodic timers for TIME.TICK; defaults to one of its own over `clock`. */
  ticker?: Ticker;
  /**
   * Called with the intent durable and the request about to leave: the engine persists the
   * owning strategy's snapshot here, so a step an execution took on its own (a top-up after a
   * retry delay, with no event at the strategy) is never lost to a crash while its order lives.
   */
  beforeSend?: (clientOrderId: string) => void;
}

export function createExchangeActors(deps: ExchangeActorDeps) {
  const { clock } = deps;
  const ticker = deps.ticker ?? new Ticker(clock);
  const journal = deps.journal ?? new InMemoryIntentJournal(() => clock.now());
  const reconnectMs = deps.reconnectMs ?? 1_000;
  const maxReconnectMs = deps.maxReconnectMs ?? 30_000;
  const hubs = new Map<string, OrderUpdateHub>();
  let pendingSends = 0;
  const venue = (name: string): ExchangeClient => {
    const c = deps.venues[name];
    if (!c) throw new Error(`no exchange client for venue "${name}"`);
    return c;
  };
  const hub = (name: string): OrderUpdateHub => {
    let h = hubs.get(name);
    if (!h) {
      h = new OrderUpdateHub(venue(name), clock, {
        reconnectMs,
        maxReconnectMs,
        pollMs: deps.orderPollMs ?? 2_000,
      });
      hubs.set(name, h);
    }
    return h;
  };
  /** `placedAfter`: when its intent was journalled (how far back a venue's history is searched). */
  const findByClientId = async (
    c: ExchangeClient,
    req: OrderRequest,
    placedAfter = journal.intent(req.clientOrderId)?.recordedAt,
  ): Promise<Order | null> => {
    try {
      return await c.fetchOrder(
        { clientOrderId: req.clientOrderId, ...(placedAfter !== undefined ? { placedAfter } : {}) },
        req.symbol,
      );
    } catch (e) {
      if (e instanceof OrderNotFound || (e as Error).name === 'OrderNotFound') return null;
      throw e;
    }
  };
  /**
   * The order under the id, or null only once "not found" proves it absent. While a request may
   * still land, that proves nothing: where the venue refuses a reused id it is harmless (a
   * re-send is refused, or refuses the late one); elsewhere a re-send would make a second order,
   * so until the venue's landing window has passed between the last send and the moment the
   * venue was asked (not when its answer came back), the outcome stays unknown (RequestTimeout:
   * the machine keeps asking).
   */
  const findOrProveAbsent = async (
    venueName: string,
    c: ExchangeClient,
    req: OrderRequest,
    placedAfter?: number,
  ): Promise<Order | null> => {
    const askedAt = clock.now();
    const found = await findByClientId(c, req, placedAfter);
    if (found) return found;
    if (capabilitiesOf(c).refusesReusedClientId === 'always') return null;
    // Read after the answer: a re-send that left meanwhile (another placement of the id) counts.
    const intent = journal.intent(req.clientOrderId);
    if (!intent || askedAt >= landingEndsAt(c, intent.lastSentAt)) return null;
    throw new RequestTimeout(
      `${venueName}: ${req.clientOrderId} not found ${Math.round(askedAt - intent.lastSentAt)} ms after it left; the venue accepts a reused client id, so it counts as unknown until the request can no longer land (${capabilitiesOf(c).landingWindowMs} ms)`,
    );
  };

  /**
   * The quote stream actor; when `route` gives a delivery for the actor's system, every QUOTE goes
   * through it (that strategy's quote gate) instead of straight to the machine. Feed up/down
   * events always go straight.
   */
  const watchQuotesWith = (route: ((system: unknown) => QuoteDelivery | undefined) | undefined) =>
    fromCallback<{ type: 'noop' }, WatchQuotesInput, MarketEvent>(({ input, sendBack, system }) => {
      // Each strategy is the root of its own actor system: the route finds that strategy's gate,
      // so one provided machine per kind serves every strategy.
      const deliver = route?.(system);
      const toMachine = sendBack as (e: QuoteEvent | QuoteBatchEvent) => void;
      const c = venue(input.venue);
      let stopped = false;
      let sub: { close(): void } | undefined;
      let retry: unknown;
      let wasDown = false;
      // Drops in a row: a venue that keeps refusing is asked less and less often.
      let drops = 0;
      const subscribe = () => {
        if (stopped) return;
        sub = c.watchBookTicker(input.symbol, {
          data: (t) => {
            if (wasDown) {
              wasDown = false;
              drops = 0;
              sendBack({ type: 'FEED.UP', venue: input.venue, symbol: input.symbol, at: clock.now() });
            }
            const q: QuoteEvent = {
              type: 'QUOTE',
              venue: input.venue,
              symbol: t.symbol,
              bid: t.bid,
              bidSize: t.bidSize,
              ask: t.ask,
              askSize: t.askSize,
              timestamp: t.timestamp,
              receivedAt: clock.now(),
            };
            if (deliver) deliver(q, toMachine);
            else toMachine(q);
          },
          error: (e) => {
            // A drop reported after the actor stopped must not arm a timer that outlives it.
            if (stopped) return;
            deps.onError?.(`watchQuotes ${input.venue} ${input.symbol}`, e);
            wasDown = true;
            sendBack({ type: 'FEED.DOWN', venue: input.venue, symbol: input.symbol, at: clock.now() });
            retry = clock.setTimeout(subscribe, backoff(reconnectMs, drops++, maxReconnectMs));
          },
        });
      };
      subscribe();
      return () => {
        stopped = true;
        sub?.close();
        if (retry) clock.clearTimeout(retry);
      };
    });

  /**
   * The clock tick actor: every strategy's ticks come from one shared timer per period (see
   * src/clock/ticker.ts); when `route` gives a gate for the actor's system, each tick is offered
   * to it (QuoteGate.offerTick) instead of going straight to the machine.
   */
  const clockTickWith = (route: ((system: unknown) => TickDelivery | undefined) | undefined) =>
    fromCallback<{ type: 'noop' }, ClockTickInput, MarketEvent>(({ input, sendBack, system }) => {
      const deliver = route?.(system);
      return ticker.subscribe(input.everyMs, (now) => {
        const send = () => sendBack({ type: 'TIME.TICK', now });
        if (deliver) deliver(now, send);
        else send();
      });
    });

  const actors = {
    placeOrder: fromPromise<Order, PlaceOrderInput>(async ({ input, signal }) => {
      const c = venue(input.venue);
      const req = input.request;
      // XState re-runs an in-flight promise actor when a snapshot is restored. If this id was
      // journalled before, the first request may have reached the venue: ask before sending.
      const resend = journal.has(req.clientOrderId);
      if (resend) {
        // An id is bound to the request journalled under it. A different one under the same id
        // (a strategy that died between journalling and sending, then decided again) is never
        // sent, and an order the venue has under the id is not this one's: the id is retired,
        // and the strategy's next attempt takes a new one.
        const journalled = journal.intent(req.clientOrderId);
        if (journalled && !sameOrder(journalled.request, req)) throw new ClientIdRetired(req.clientOrderId);
        const existing = await findOrProveAbsent(input.venue, c, req, journalled?.recordedAt);
        if (existing) return existing;
      }
      // Durable before the request leaves: the intent, or when it is sent again. Meanwhile the
      // request waits on a promise, not on the clock: a replay must let it through before moving
      // time on (see pendingSends).
      pendingSends++;
      try {
        await (resend ? journal.resending(req.clientOrderId) : journal.record(input.venue, req));
      } finally {
        pendingSends--;
      }
      // Stopped while it waited (a crash, a lease lost, a strategy stopped): a dead strategy
      // sends nothing more — its restored self, or the node that took it over, decides.
      if (signal.aborted) throw new Error(`${req.clientOrderId}: placement stopped before it was sent`);
      if (!resend) deps.beforeSend?.(req.clientOrderId);
      try {
        return await c.createOrder(req, { signal });
      } catch (e) {
        if (e instanceof DuplicateClientOrderId || (e as Error).name === 'DuplicateClientOrderId') {
          const existing = await findByClientId(c, req);
          if (existing) return existing;
        }
        const x = e as { outcomeUnknown?: boolean; message?: string };
        if (resend && !x.outcomeUnknown) {
          // A refused re-send (rejected, 503, rate limited) proves nothing about the first
          // request, which may still land — and may be why this one was refused. The outcome
          // stays unknown until the venue is asked again after the in-flight grace period.
          throw new RequestTimeout(
            `${input.venue}: re-sent ${req.clientOrderId} refused (${x.message}); the first request may still land`,
          );
        }
        throw e;
      }
    }),

    cancelOrder: fromPromise<Order, CancelOrderInput>(({ input }) =>
      venue(input.venue).cancelOrder({ clientOrderId: input.clientOrderId }, input.symbol),
    ),

    queryOrder: fromPromise<Order | null, QueryOrderInput>(({ input }) =>
      findOrProveAbsent(input.venue, venue(input.venue), {
        symbol: input.symbol,
        clientOrderId: input.clientOrderId,
        side: 'buy',
        type: 'market',
        amount: 0,
      }),
    ),

    watchOrder: fromCallback<{ type: 'noop' }, WatchOrderInput, OrderUpdateEvent>(({ input, sendBack }) =>
      hub(input.venue).watch(input.clientOrderId, input.symbol, (order) =>
        sendBack({ type: 'ORDER.UPDATE', order }),
      ),
    ),

    watchQuotes: watchQuotesWith(undefined),

    watchFunding: fromCallback<{ type: 'noop' }, WatchFundingInput, MarketEvent>(({ input, sendBack }) => {
      const c = venue(input.venue);
      // Spot pays no funding and the venue closes no spot position: nothing to watch.
      if (marketType(c, input.symbol) === 'spot') return () => {};
      const every = deps.fundingPollMs ?? 60_000;
      let stopped = false;
      let timer: unknown;
      let since = 0;
      // Venue closes from now on: older ones were booked before a restart (the engine's position
      // check finds any the process was down for) or belong to no strategy of this actor's.
      let closesSince = clock.now();
      const closesSent = new Set<string>();
      const sendVenueClose = (e: Extract<AccountEvent, { type: 'liquidation' | 'adl' }>) => {
        const key = e.fill?.id ?? `${e.type}|${e.timestamp}|${e.size}`;
        if (closesSent.has(key)) return;
        closesSent.add(key);
        closesSince = Math.max(closesSince, e.timestamp);
        sendBack({
          type: 'ATTENTION',
          reason: `${input.venue} closed ${e.size} ${e.symbol} itself (${e.type === 'adl' ? 'auto-deleveraging' : 'liquidation'}) at ${e.price}`,
          legs: [{ venue: input.venue, symbol: e.symbol, position: 0 }],
          ...(e.fill ? { closed: { venue: input.venue, fill: e.fill } } : {}),
        });
      };
      const poll = async () => {
        try {
          const r = await c.fetchFundingRate(input.symbol);
          if (stopped) return;
          sendBack({
            type: 'FUNDING.RATE',
            venue: input.venue,
            symbol: input.symbol,
            rate: r.rate,
            nextFundingTimestamp: r.nextFundingTimestamp,
            at: clock.now(),
          });
          const payments = await c.fetchFundingHistory(input.symbol, since);
          if (stopped) return;
          for (const p of payments) {
            sendBack({
              type: 'FUNDING.PAYMENT',
              venue: input.venue,
              symbol: p.symbol,
              amount: p.amount,
              id: p.id,
              timestamp: p.timestamp,
            });
            since = Math.max(since, p.timestamp);
          }
        } catch (e) {
          deps.onError?.(`watchFunding ${input.venue} ${input.symbol}`, e);
        }
        // What a dropped push missed (a push and a poll of one close carry one fill id): asked
        // on its own, so a funding endpoint that fails does not hide a liquidation.
        if (c.fetchVenueCloses && !stopped)
          try {
            const closes = await c.fetchVenueCloses(input.symbol, closesSince);
            if (stopped) return;
            for (const e of closes) sendVenueClose(e);
          } catch (e) {
            deps.onError?.(`fetchVenueCloses ${input.venue} ${input.symbol}`, e);
          }
        if (!stopped) timer = clock.setTimeout(() => void poll(), every);
      };
      // The venue's push: a payment reaches the strategy when it settles, a position the venue
      // closed itself at once. The poll above stays as the fallback (and covers a dropped stream);
      // a payment seen both ways carries one id and is booked once.
      let push: { close(): void } | undefined;
      let resubscribe: unknown;
      const subscribePush = () => {
        if (stopped || !c.watchAccountEvents) return;
        push = c.watchAccountEvents({
          data: (e) => {
            if (stopped || (e.type !== 'funding' && e.symbol !== input.symbol)) return;
            if (e.type === 'funding') {
              if (e.payment.symbol !== input.symbol) return;
              sendBack({
                type: 'FUNDING.PAYMENT',
                venue: input.venue,
                symbol: e.payment.symbol,
                amount: e.payment.amount,
                id: e.payment.id,
                timestamp: e.payment.timestamp,
              });
              since = Math.max(since, e.payment.timestamp);
            } else sendVenueClose(e);
          },
          error: (e) => {
            if (stopped) return;
            deps.onError?.(`watchAccountEvents ${input.venue}`, e);
            // Back on the stream soon; the poll fetches what the gap missed.
            resubscribe = clock.setTimeout(subscribePush, reconnectMs);
          },
        });
      };
      subscribePush();
      void poll();
      return () => {
        stopped = true;
        if (timer) clock.clearTimeout(timer);
        if (resubscribe) clock.clearTimeout(resubscribe);
        push?.close();
      };
    }),

    clockTick: clockTickWith(undefined),

    // Cancelled with its state: a wait left behind must not fire into a machine that moved on.
    wait: fromPromise<void, WaitInput>(
      ({ input, signal }) =>
        new Promise<void>((resolve) => {
          const timer = clock.setTimeout(resolve, input.ms);
          signal.addEventListener('abort', () => clock.clearTimeout(timer), { once: true });
        }),
    ),

    fetchBalance: fromPromise<Balances, FetchBalanceInput>(({ input }) => venue(input.venue).fetchBalance()),
  };
  return {
    actors,
    watchQuotesWith,
    clockTickWith,
    /**
     * Placements decided but not yet handed to their venue (journalling in progress). A backtest
     * settles these before the next quote: otherwise the request would leave at the next timer,
     * up to a second of market time after the decision, and fill against a later book.
     */
    pendingSends: () => pendingSends,
    /** Close the shared order streams (engine shutdown). */
    dispose(): void {
      for (const h of hubs.values()) h.dispose();
      hubs.clear();
    },
  };
}

export type ExchangeActors = ReturnType<typeof createExchangeActors>['actors'];

/** A market's type, or undefined when the client has not loaded it (then watch as a derivative). */
function marketType(c: ExchangeClient, symbol: string): string | undefined {
  try {
    return c.market(symbol).type;
  } catch {
    return undefined;
  }
}
