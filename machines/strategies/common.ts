/**
 * Pieces shared by the strategy machines: quotes in context, freshness, legs built from
 * markets, applying execution results and funding to the books. Pure functions only.
 */
import { type AnyActorRef, assign, enqueueActions } from 'xstate';
import type { Fill, Market } from '../../src/domain/index.ts';
import { amountToPrecision } from '../../src/domain/index.ts';
import { applyFill, applyOrderFills, type LegBook, legPnl } from '../accounting.ts';
import type {
  ErrorInfo,
  FundingPaymentEvent,
  QuoteBatchEvent,
  QuoteEvent,
  VenueClosedPositionEvent,
  WaitInput,
} from '../contracts.ts';
import { failure } from '../contracts.ts';
import {
  type HedgedPairInput,
  type HedgedPairOutput,
  hedgeTolerance,
  type LegSpec,
  minTradableBase,
  type UnknownOrder,
} from '../hedged-pair.ts';
import type { OrderMachineInput, OrderOutput } from '../order.ts';

export interface Quote {
  bid: number;
  ask: number;
  bidSize: number;
  askSize: number;
  /** Venue time of the quote. */
  timestamp: number;
  /** Actor-system time it arrived. */
  receivedAt: number;
}

export function toQuote(e: QuoteEvent): Quote {
  return {
    bid: e.bid,
    ask: e.ask,
    bidSize: e.bidSize,
    askSize: e.askSize,
    timestamp: e.timestamp,
    receivedAt: e.receivedAt,
  };
}

export const mid = (q: Quote | undefined): number => (q ? (q.bid + q.ask) / 2 : 0);

/** A quote is fresh when its venue time is within `staleAfterMs` of now. */
export function isFresh(q: Quote | undefined, now: number, staleAfterMs: number): boolean {
  return q !== undefined && now - q.timestamp <= staleAfterMs && now - q.receivedAt <= staleAfterMs;
}

/** The market facts an execution needs about one leg. */
function legFacts(m: Market) {
  return {
    venue: m.venue,
    symbol: m.symbol,
    contractSize: m.contractSize,
    amountStep: m.precision.amount,
    minAmount: m.limits.amount.min,
    minNotional: m.limits.cost.min,
    derivative: m.type !== 'spot',
  };
}

/**
 * One leg of a hedged execution: from the position the books hold to `targetBase` (signed base
 * units), at the touch the strategy sees now. `limitPrice`: IOC limit for the paired orders.
 */
export function legSpec(
  m: Market,
  book: LegBook,
  targetBase: number,
  q: Quote | undefined,
  limitPrice?: number,
): LegSpec {
  return {
    ...legFacts(m),
    startBase: book.position,
    targetBase,
    bid: q?.bid ?? 0,
    ask: q?.ask ?? 0,
    bidSize: q?.bidSize ?? 0,
    askSize: q?.askSize ?? 0,
    ...(limitPrice !== undefined ? { limitPrice } : {}),
  };
}

/**
 * The one rule for "hedged", as every strategy applies it to its books: net delta within
 * max(delta tolerance, the smallest tradable size of the legs at their marks).
 */
export function sharedTolerance(
  markets: Market[],
  quotes: (Quote | undefined)[],
  deltaTolerance: number,
): number {
  return hedgeTolerance(
    markets.map(legFacts),
    quotes.map((q) => mid(q)),
    deltaTolerance,
  );
}

/** A position below the leg's minimum order cannot be traded away: dust, reported, never fatal. */
export function isDust(book: LegBook, m: Market, q: Quote | undefined): boolean {
  return Math.abs(book.position) < 1e-12 || Math.abs(book.position) < minTradableBase(legFacts(m), mid(q));
}

/** Flat: every leg holds nothing but dust. */
export function allDust(books: LegBook[], markets: Market[], quotes: (Quote | undefined)[]): boolean {
  return books.every((b, i) => isDust(b, markets[i]!, quotes[i]));
}

/** Hedged at rest: flat, or net delta within the shared tolerance. */
export function booksHedged(
  books: LegBook[],
  markets: Market[],
  quotes: (Quote | undefined)[],
  deltaTolerance: number,
): boolean {
  // The common case first, without the dust arithmetic: the guard runs on every quote while held.
  const net = Math.abs(netDelta(books));
  if (net <= deltaTolerance) return true;
  return allDust(books, markets, quotes) || net <= sharedTolerance(markets, quotes, deltaTolerance) + 1e-12;
}

/**
 * Why a strategy holds exposure it could not close (or cannot know): kept in context, shown in
 * status, the inspector and backtest reports; the strategy keeps its locks until it is resolved.
 */
export interface Attention {
  reason: string;
  since: number;
  /** Each leg's position when it was raised (books; the venue's when it was a mismatch). */
  legs: { venue: string; symbol: string; position: number }[];
  residualBase: number;
  /** Orders whose outcome is unknown: asked about until the venue answers for each. */
  unknownOrders: UnknownOrder[];
  /** Carry on by itself once every unknown order is answered and the books are hedged. */
  clearsWhenResolved: boolean;
}

export function attention(
  reason: string,
  now: number,
  books: LegBook[],
  unknownOrders: UnknownOrder[] = [],
  clearsWhenResolved = false,
): Attention {
  return {
    reason,
    since: now,
    legs: books.map((b) => ({ venue: b.venue, symbol: b.symbol, position: b.position })),
    residualBase: netDelta(books),
    unknownOrders,
    clearsWhenResolved,
  };
}

/** A hedged execution that ended without the hedge it was for: what needs attention, and why. */
export function attentionAfter(
  what: string,
  out: HedgedPairOutput,
  now: number,
  books: LegBook[],
): Attention {
  if (out.outcome === 'unresolved')
    return attention(
      `${what}: outcome of ${out.unknown.map((u) => u.clientOrderId).join(', ')} unknown; asking the venue`,
      now,
      books,
      out.unknown,
      true,
    );
  const errors = out.errors.length ? `; ${out.errors.slice(-3).join('; ')}` : '';
  // Hedged or flat, yet here: the venue closed a position while it ran (the notice says which).
  if (Math.abs(out.residualBase) <= out.toleranceBase)
    return attention(
      `${what}: ended ${out.outcome}, net delta ${fmt(out.residualBase)} after ${out.rounds} rounds${errors}`,
      now,
      books,
    );
  return attention(
    `${what}: net delta ${fmt(out.residualBase)} beyond ${fmt(out.toleranceBase)} after ${out.rounds} rounds${errors}`,
    now,
    books,
  );
}

const fmt = (x: number) => Number(x.toPrecision(6)).toString();

/**
 * Forward quotes to a running execution (invoke id), so it re-prices and re-sizes each round.
 * `batches`: the machine also takes QUOTES (a quote gate's batch).
 */
export function forwardQuotesTo(childId: string, batches = false) {
  // Only while the execution runs: between its last order and its done event it has stopped.
  // (A pure transition — path exploration — has no live self: nothing to forward to.)
  const forward = enqueueActions(({ event, self, enqueue }) => {
    const snapshot = self.getSnapshot() as { children?: Record<string, AnyActorRef | undefined> } | undefined;
    const child = snapshot?.children?.[childId];
    if (child?.getSnapshot().status === 'active')
      enqueue.sendTo(child, event as QuoteEvent | QuoteBatchEvent);
  });
  const quote = { QUOTE: { actions: ['recordQuote', forward] } };
  // `never`: a transitions config the machine's own event types accept (the action is untyped here).
  if (!batches) return quote as never;
  return { ...quote, QUOTES: { actions: ['recordQuotes', forward] } } as never;
}

/** Ask the venue about an order whose outcome is unknown, never sending it (and cancel it if it rests). */
export function resolveOrderInput(u: UnknownOrder): OrderMachineInput {
  return { venue: u.venue, request: u.request, resolveOnly: true };
}

/**
 * The needs-attention state every hedging strategy shares. It keeps the strategy alive (so its
 * locks and positions stay with it, through restarts), asks the venue about every order whose
 * outcome is unknown until it answers (booking what it says), carries on by itself only when the
 * cause was unknown orders and the books are hedged again, and otherwise waits for an operator:
 * OPERATOR.FLATTEN (or STOP with flatten) closes both legs and resumes (or stops); OPERATOR.RESOLVE
 * acknowledges a manual fix and stops. A STOP without flatten is remembered, never obeyed quietly.
 *
 * The machine names the guards and actions after its own books: noUnknownOrders, orderStillUnknown,
 * attentionClearsNow, booksFlat, flattenAllowed, stopAsksToFlatten, pairLeftBooksFlat,
 * stopRequested; bookResolvedOrder, clearAttention, acknowledgeAttention, requestStop,
 * applyFlatten, raiseAttentionAfterFlatten, countFlatten. `resume` is where a hedged strategy with
 * a position carries on (holding; cooldown for one that holds none between executions).
 */
export function needsAttentionState(o: {
  machineId: string;
  resume: string;
  flattenInput: (ctx: never) => unknown;
  quoteBatches?: boolean;
}): never {
  const at = (s: string) => `#${o.machineId}.${s}`;
  // Returned as `never`: a state config the machine's own types accept (its invokes are untyped here).
  return {
    initial: 'checkingOrders',
    on: {
      'OPERATOR.FLATTEN': { guard: 'flattenAllowed', target: '.flattening' },
      'OPERATOR.RESOLVE': { target: at('stopped'), actions: 'acknowledgeAttention' },
      STOP: [
        { guard: 'stopAsksToFlatten', target: '.flattening', actions: 'requestStop' },
        { actions: 'requestStop' },
      ],
    },
    states: {
      checkingOrders: {
        always: [{ guard: 'noUnknownOrders', target: 'deciding' }, { target: 'resolvingOrders' }],
      },
      resolvingOrders: {
        invoke: {
          id: 'resolve',
          src: 'order',
          input: ({ context }: { context: { attention?: Attention } }) =>
            resolveOrderInput(context.attention!.unknownOrders[0]!),
          onDone: [
            { guard: 'orderStillUnknown', target: 'waitingForVenue' },
            { target: 'checkingOrders', actions: 'bookResolvedOrder' },
          ],
        },
      },
      /** The venue could not answer yet: ask again later (its fills are never guessed). */
      waitingForVenue: {
        invoke: {
          id: 'pause',
          src: 'wait',
          input: (): WaitInput => ({ ms: 30_000 }),
          onDone: 'checkingOrders',
        },
      },
      deciding: {
        always: [
          { guard: 'attentionClearsFlat', target: at('cooldown'), actions: 'clearAttention' },
          { guard: 'attentionClearsNow', target: at(o.resume), actions: 'clearAttention' },
          { target: 'waitingForOperator' },
        ],
      },
      waitingForOperator: {},
      flattening: {
        entry: 'countFlatten',
        on: {
          ...(forwardQuotesTo('flatten', o.quoteBatches) as object),
          // Already flattening: a second flatten or a stop must not restart the execution (its
          // orders in flight would be dropped with their fills); a stop is kept for afterwards.
          'OPERATOR.FLATTEN': {},
          STOP: { actions: 'requestStop' },
        },
        invoke: {
          id: 'flatten',
          src: 'hedgedPair',
          input: ({ context }: { context: never }) => o.flattenInput(context),
          onDone: [
            {
              guard: 'pairLeftBooksFlat',
              target: at('afterFlatten'),
              actions: ['applyFlatten', 'clearAttention'],
            },
            { target: 'checkingOrders', actions: ['applyFlatten', 'raiseAttentionAfterFlatten'] },
          ],
        },
      },
    },
  } as never;
}

/** After an operator's flatten: stop if a stop was asked, else cool down and trade again. */
export function afterFlattenState() {
  return {
    always: [{ guard: 'stopRequested', target: 'stopped' }, { target: 'cooldown' }],
  } as const;
}

/** Base amount tradable on both markets: rounded down to the coarser step. */
export function commonAmount(a: Market, b: Market, base: number): number {
  const x = amountToPrecision(a, base / a.contractSize) * a.contractSize;
  const y = amountToPrecision(b, x / b.contractSize) * b.contractSize;
  return Math.min(x, y);
}

/** Apply a pair's fills to the two books that correspond to its legs, in leg order. */
export function applyPair(books: [LegBook, LegBook], out: HedgedPairOutput): [LegBook, LegBook] {
  const next: [LegBook, LegBook] = [books[0], books[1]];
  for (const { leg, order } of out.orders) next[leg] = applyOrderFills(next[leg], order);
  return next;
}

export function applyOrderOutput(book: LegBook, out: OrderOutput): LegBook {
  return out.order ? applyOrderFills(book, out.order) : book;
}

export function applyFunding(book: LegBook, e: FundingPaymentEvent): LegBook {
  return { ...book, funding: book.funding + e.amount };
}

export function totalPnl(books: LegBook[], marks: number[]): number {
  return books.reduce((s, b, i) => s + legPnl(b, marks[i] ?? 0), 0);
}

export function netDelta(books: LegBook[]): number {
  return books.reduce((s, b) => s + b.position, 0);
}

export const HOUR_MS = 3_600_000;

/**
 * The pause before watching again: `cooldownMs`, but after entries that filled nothing (the venue
 * refused them: funds, min notional, a market that moved) at least 1 s, doubling per repeat up to
 * a minute — otherwise a refused entry with cooldownMs 0 is retried as fast as the venue answers.
 */
export function cooldownMs(context: { params: { cooldownMs: number }; emptyEntries?: number }): number {
  const n = context.emptyEntries ?? 0;
  if (n === 0) return context.params.cooldownMs;
  return Math.max(context.params.cooldownMs, Math.min(60_000, 1_000 * 2 ** (n - 1)));
}

/**
 * How a hedged cycle ends, shared by the spot–futures and futures–futures machines: after an
 * exit, flat → the cycle is done (stop, complete, or cool down and watch again); not flat → exit
 * again within the attempt budget, then needs attention saying so. The machines define the named
 * guards (positionsFlat, exitAttemptsLeft, stopRequested, maxCyclesReached) and actions
 * (finishCycle, recordExitIncomplete) after their own rules.
 */
export function cycleEndStates() {
  return {
    afterExit: {
      always: [
        { guard: 'positionsFlat', target: 'cycleDone', actions: 'finishCycle' },
        { guard: 'exitAttemptsLeft', target: 'exiting' },
        // Still holding (hedged, or the exit would have said otherwise): never end quietly.
        { target: 'needsAttention', actions: 'recordExitIncomplete' },
      ],
    },
    cycleDone: {
      always: [
        { guard: 'stopRequested', target: 'stopped' },
        { guard: 'maxCyclesReached', target: 'completed' },
        { target: 'cooldown' },
      ],
    },
    cooldown: {
      invoke: {
        id: 'pause',
        src: 'wait',
        input: ({
          context,
        }: {
          context: { params: { cooldownMs: number }; emptyEntries?: number };
        }): WaitInput => ({ ms: cooldownMs(context) }),
        onDone: 'watching',
      },
      always: { guard: 'stopRequested', target: 'stopped' },
    },
    completed: { type: 'final' },
    stopped: { type: 'final' },
  } as const;
}

/** Stop and risk controls every strategy takes, as context updates (the machines assign them). */
export interface ControlState {
  stopRequested: { flatten: boolean } | undefined;
  riskBlocked: string | undefined;
}

/** RISK.BREACH: no new entries; a breach that asks to flatten is also a stop with flatten. */
export function riskBreachUpdate(
  c: ControlState,
  e: { reason: string; flatten?: boolean },
): Partial<ControlState> {
  return { riskBlocked: e.reason, stopRequested: e.flatten ? { flatten: true } : c.stopRequested };
}

/** Where a two-leg strategy keeps its books, markets and quotes, in leg order (A, B). */
export interface TwoLegBooks<C> {
  books(c: C): [LegBook, LegBook];
  withBooks(c: C, books: [LegBook, LegBook]): Partial<C>;
  markets(c: C): [Market, Market];
  quotes(c: C): [Quote | undefined, Quote | undefined];
  deltaTolerance(c: C): number;
}

/** Hedged at rest by the shared rule, from a strategy's books. */
export function booksHedgedIn<C>(h: TwoLegBooks<C>, c: C): boolean {
  return booksHedged(h.books(c), h.markets(c), h.quotes(c), h.deltaTolerance(c));
}

/** Flat (every leg dust), from a strategy's books. */
export function booksFlatIn<C>(h: TwoLegBooks<C>, c: C): boolean {
  return allDust(h.books(c), h.markets(c), h.quotes(c));
}

interface AttentionContext {
  attention?: Attention | undefined;
  now: number;
  flattens?: number;
  lastError?: ErrorInfo | undefined;
  /**
   * What the venue said while an execution was in flight (a position it liquidated): it cannot
   * interrupt the execution, so it is named in the attention the execution's end raises.
   */
  venueNotice?: string | undefined;
}

type PairDoneEvent = { output: HedgedPairOutput };
type OrderDoneEvent = { output: OrderOutput };

/**
 * The guards and actions behind `needsAttentionState`, written once over a strategy's books.
 * Spread them into the machine's `setup`.
 */
export function attentionRules<C extends AttentionContext>(h: TwoLegBooks<C>) {
  const unknownLeft = (c: C) => (c.attention?.unknownOrders.length ?? 0) > 0;
  const flat = (c: C, books = h.books(c)) => allDust(books, h.markets(c), h.quotes(c));
  /** Flattening sends orders: only with no order of unknown outcome, and something to close. */
  const canFlatten = (c: C) => !unknownLeft(c) && !flat(c);
  return {
    guards: {
      /**
       * An execution ended unhedged, with an order whose fill is unknown, or after the venue
       * closed a position itself while it ran (a liquidation is the operator's to look at, even
       * when the execution then reached its targets).
       */
      executionLeftExposure: ({ context, event }: { context: C; event: unknown }) =>
        context.venueNotice !== undefined ||
        ['unhedged', 'unresolved'].includes((event as PairDoneEvent).output.outcome),
      noUnknownOrders: ({ context }: { context: C }) => !unknownLeft(context),
      orderStillUnknown: ({ event }: { event: unknown }) =>
        (event as OrderDoneEvent).output.outcome === 'lost',
      attentionClearsNow: ({ context }: { context: C }) =>
        context.attention?.clearsWhenResolved === true && !unknownLeft(context) && booksHedgedIn(h, context),
      attentionClearsFlat: ({ context }: { context: C }) =>
        context.attention?.clearsWhenResolved === true && !unknownLeft(context) && flat(context),
      flattenAllowed: ({ context }: { context: C }) => canFlatten(context),
      stopAsksToFlatten: ({ context, event }: { context: C; event: unknown }) =>
        (event as { flatten?: boolean }).flatten === true && canFlatten(context),
      pairLeftBooksFlat: ({ context, event }: { context: C; event: unknown }) =>
        flat(context, applyPair(h.books(context), (event as PairDoneEvent).output)),
    },
    // Typed by the machine that spreads them into its setup (XState infers its own event union).
    actions: {
      bookResolvedOrder: assign(({ context, event }: { context: C; event: unknown }) => {
        const a = context.attention!;
        const [u, ...rest] = a.unknownOrders;
        const books = h.books(context);
        books[u!.leg] = applyOrderOutput(books[u!.leg], (event as OrderDoneEvent).output);
        return { ...h.withBooks(context, books), attention: { ...a, unknownOrders: rest } } as never;
      }),
      clearAttention: assign({ attention: undefined, venueNotice: undefined } as never),
      acknowledgeAttention: assign(
        ({ context }: { context: C }) =>
          ({
            attention: undefined,
            venueNotice: undefined,
            lastError: failure(
              'ResolvedByOperator',
              `an operator resolved: ${context.attention?.reason ?? 'needs attention'}; books then held ${h
                .books(context)
                .map((b) => `${b.venue} ${b.symbol} ${fmt(b.position)}`)
                .join(', ')}`,
            ),
          }) as never,
      ) as never,
      applyFlatten: assign(({ context, event }: { context: C; event: unknown }) =>
        h.withBooks(context, applyPair(h.books(context), (event as PairDoneEvent).output)),
      ) as never,
      raiseAttentionAfterFlatten: assign(
        ({ context, event }: { context: C; event: unknown }) =>
          ({
            attention: withNotice(
              context,
              attentionAfter('flatten', (event as PairDoneEvent).output, context.now, h.books(context)),
            ),
            venueNotice: undefined,
          }) as never,
      ) as never,
      /** An execution ended without its hedge (params.what: entry, exit, rebalance, execution). */
      raiseAttentionAfter: assign(
        ({ context, event }: { context: C; event: unknown }, p: { what: string }) =>
          ({
            attention: withNotice(
              context,
              attentionAfter(p.what, (event as PairDoneEvent).output, context.now, h.books(context)),
            ),
            venueNotice: undefined,
          }) as never,
      ) as never,
      /**
       * The venue closed a position while an execution was running: its close is booked now (the
       * books say what the venue did), the notice kept for the attention the execution's end raises.
       */
      noteVenueNotice: enqueueActions(({ context, event, self, enqueue }) => {
        // The running execution plans from positions: it learns of the close too.
        const children = (self.getSnapshot() as { children?: Record<string, AnyActorRef | undefined> })
          .children;
        const executions = Object.values(children ?? {}).filter((child) => {
          const snap = child?.getSnapshot() as { status?: string; machine?: { id?: string } } | undefined;
          return snap?.status === 'active' && snap.machine?.id === 'hedgedPair';
        });
        // Kept for the execution's end only while one runs: a notice left over would send a later,
        // clean execution to needs attention.
        enqueue.assign({
          ...bookVenueClose(h, context as C, event, executions.length > 0),
          ...(executions.length > 0
            ? {
                venueNotice: [(context as C).venueNotice, (event as unknown as { reason: string }).reason]
                  .filter(Boolean)
                  .join('; '),
              }
            : {}),
        } as never);
        for (const child of executions) enqueue.sendTo(child!, event as VenueClosedPositionEvent);
      }) as never,
      /**
       * The engine's position check (the venue's legs as it saw them), or the venue's push of a
       * position it closed itself: that close is booked, and the legs are then the books'.
       */
      raiseAttention: assign(({ context, event }: { context: C; event: unknown }) => {
        const e = event as VenueClosedPositionEvent;
        const booked = { ...context, ...bookVenueClose(h, context, event) } as C;
        const a = withNotice(context, attention(e.reason, context.now, h.books(booked)));
        return {
          ...booked,
          attention: e.closed ? a : { ...a, legs: e.legs },
          venueNotice: undefined,
        } as never;
      }) as never,
      countFlatten: assign(
        ({ context }: { context: C }) => ({ flattens: (context.flattens ?? 0) + 1 }) as never,
      ) as never,
    } as unknown as Record<AttentionActionName, never>,
  };
}

type AttentionActionName =
  | 'bookResolvedOrder'
  | 'clearAttention'
  | 'acknowledgeAttention'
  | 'applyFlatten'
  | 'raiseAttentionAfterFlatten'
  | 'raiseAttentionAfter'
  | 'raiseAttention'
  | 'noteVenueNotice'
  | 'countFlatten';

/**
 * A liquidation or auto-deleveraging the venue pushed: its close is a trade of the leg it closed
 * (fee included), booked once by its fill id, so the books equal the venue's position and the
 * PnL carries the loss the venue realised.
 */
export function bookVenueClose<C>(
  h: TwoLegBooks<C>,
  c: C,
  event: unknown,
  /** An execution is running: its fills are not in the books yet, so the close is taken whole. */
  executing = false,
): Partial<C> {
  const closed = (event as Partial<VenueClosedPositionEvent>).closed;
  if (!closed) return {};
  const books = h.books(c);
  const i = books.findIndex((b) => b.venue === closed.venue && b.symbol === closed.fill.symbol);
  if (i < 0) return {};
  const next: [LegBook, LegBook] = [books[0], books[1]];
  next[i] = executing ? applyFill(books[i]!, closed.fill) : applyVenueClose(books[i]!, closed.fill);
  return h.withBooks(c, next);
}

/**
 * A venue's close booked on a leg — only what closes the leg's own position: a close larger than
 * the leg (the account also held a position nobody's books own, a predecessor's leftover) is
 * booked up to flat, fee in proportion, never flipping the leg; one that would add to it is not
 * the leg's. The position check names whatever is left.
 */
export function applyVenueClose(leg: LegBook, fill: Fill): LegBook {
  const q = fill.amount * leg.contractSize * (fill.side === 'buy' ? 1 : -1);
  if (leg.position === 0 || Math.sign(q) === Math.sign(leg.position)) return leg;
  const amount = Math.min(fill.amount, Math.abs(leg.position) / leg.contractSize);
  if (amount === fill.amount) return applyFill(leg, fill);
  const part = amount / fill.amount;
  return applyFill(leg, {
    ...fill,
    amount,
    cost: fill.cost * part,
    fee: {
      ...fill.fee,
      cost: fill.fee.cost * part,
      ...(fill.fee.quoteCost !== undefined ? { quoteCost: fill.fee.quoteCost * part } : {}),
    },
  });
}

/** An attention that also names what the venue said meanwhile (a liquidation during an exit). */
function withNotice(c: AttentionContext, a: Attention): Attention {
  return c.venueNotice ? { ...a, reason: `${c.venueNotice}; ${a.reason}` } : a;
}

/** The close-out of both legs an operator (or a stop with flatten) asks for in needs attention. */
export function flattenPairInput<C extends AttentionContext & { tag: string; cycle: number }>(
  h: TwoLegBooks<C>,
  c: C,
): HedgedPairInput {
  const books = h.books(c);
  const markets = h.markets(c);
  const quotes = h.quotes(c);
  return {
    tag: c.tag,
    cycle: c.cycle,
    phase: 'f',
    execution: Math.max(0, (c.flattens ?? 1) - 1),
    mode: 'close',
    legs: [legSpec(markets[0], books[0], 0, quotes[0]), legSpec(markets[1], books[1], 0, quotes[1])],
    toleranceBase: h.deltaTolerance(c),
  };
}
