/**
 * Needs attention, shared by every hedging kind: exposure a strategy could not close (or orders
 * whose outcome is unknown) kept with its locks, named, resolved by the venue's answers or an
 * operator — the state, its rules and the flatten it runs.
 */

import { type AnyActorRef, assign, enqueueActions } from 'xstate';
import { fillsMissing, type LegBook } from '../../accounting.ts';
import { type ErrorInfo, failure, type VenueClosedPositionEvent, type WaitInput } from '../../contracts.ts';
import type { HedgedPairInput, HedgedPairOutput, UnknownOrder } from '../../hedged-pair.ts';
import type { OrderMachineInput, OrderOutput } from '../../order.ts';
import {
  allDust,
  applyOrderOutput,
  applyPair,
  booksFlatIn,
  booksHedged,
  booksHedgedIn,
  bookVenueClose,
  legSpec,
  netDelta,
  type TwoLegBooks,
} from './books.ts';
import { forwardQuotesTo } from './quotes.ts';

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
 * acknowledges a manual fix and stops. A STOP without flatten is remembered, never obeyed quietly;
 * one with flatten that came while an execution ran is carried out here, once. What "closes"
 * means is the kind's (`TwoLegBooks.flattenTo`): every leg flat, or the books hedged.
 *
 * The machine names the guards and actions after its own books: noUnknownOrders,
 * orderStillUnknown, attentionClearsNow, booksFlat, flattenAllowed, stopAsksToFlatten,
 * stopStillAsksToFlatten, flattenLeftNothingToDo, stopRequested; bookResolvedOrder,
 * clearAttention, acknowledgeAttention, requestStop, bookFills, raiseAttentionAfterFlatten,
 * countFlatten, takeUpTheStopsFlatten. `resume` is where a hedged strategy with a position
 * carries on (holding; cooldown for one that holds none between executions).
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
          // A stop or kill that asked to flatten while an execution ran is carried out, once.
          { guard: 'stopStillAsksToFlatten', target: 'flattening', actions: 'takeUpTheStopsFlatten' },
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
              guard: 'flattenLeftNothingToDo',
              target: at('afterFlatten'),
              actions: ['bookFills', 'clearAttention'],
            },
            { target: 'checkingOrders', actions: ['bookFills', 'raiseAttentionAfterFlatten'] },
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
  /** Nothing left for a flatten to do: every leg flat, or hedged where the kind flattens to that. */
  const flattened = (c: C, books = h.books(c)) =>
    h.flattenTo === 'hedged'
      ? booksHedged(books, h.markets(c), h.quotes(c), h.deltaTolerance(c))
      : flat(c, books);
  /** Flattening sends orders: only with no order of unknown outcome, and something to close. */
  const canFlatten = (c: C) => !unknownLeft(c) && !flattened(c);
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
      /** Lost again, or its fills still do not cover what it filled: its outcome stays unknown. */
      orderStillUnknown: ({ context, event }: { context: C; event: unknown }) => {
        const out = (event as OrderDoneEvent).output;
        const leg = context.attention?.unknownOrders[0]?.leg ?? 0;
        return (
          out.outcome === 'lost' ||
          (out.order !== undefined && fillsMissing(out.order, h.markets(context)[leg].precision.amount))
        );
      },
      attentionClearsNow: ({ context }: { context: C }) =>
        context.attention?.clearsWhenResolved === true && !unknownLeft(context) && booksHedgedIn(h, context),
      attentionClearsFlat: ({ context }: { context: C }) =>
        context.attention?.clearsWhenResolved === true && !unknownLeft(context) && flat(context),
      flattenAllowed: ({ context }: { context: C }) => canFlatten(context),
      stopStillAsksToFlatten: ({ context }: { context: C & { stopRequested?: { flatten: boolean } } }) =>
        context.stopRequested?.flatten === true && canFlatten(context),
      stopAsksToFlatten: ({ context, event }: { context: C; event: unknown }) =>
        (event as { flatten?: boolean }).flatten === true && canFlatten(context),
      flattenLeftNothingToDo: ({ context, event }: { context: C; event: unknown }) =>
        flattened(context, applyPair(h.books(context), (event as PairDoneEvent).output)),
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
      /** The stop stands; its flatten is being carried out (one that fails waits for the operator). */
      takeUpTheStopsFlatten: assign({ stopRequested: { flatten: false } } as never),
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
      /**
       * The one fill-booking action of a two-leg kind: an execution's fills (entry, exit,
       * rebalance, flatten) into the books, fill by fill by the books' own rule.
       */
      bookFills: assign(({ context, event }: { context: C; event: unknown }) =>
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
  | 'bookFills'
  | 'takeUpTheStopsFlatten'
  | 'raiseAttentionAfterFlatten'
  | 'raiseAttentionAfter'
  | 'raiseAttention'
  | 'noteVenueNotice'
  | 'countFlatten';

/** An attention that also names what the venue said meanwhile (a liquidation during an exit). */
function withNotice(c: AttentionContext, a: Attention): Attention {
  return c.venueNotice ? { ...a, reason: `${c.venueNotice}; ${a.reason}` } : a;
}

/**
 * The flatten an operator (or a stop with flatten) asks for in needs attention, as the kind
 * flattens (`flattenTo`): both legs closed, or the second leg brought back to the opposite of the
 * first (the net to zero; each venue keeps what it holds).
 */
export function flattenPairInput<C extends AttentionContext & { tag: string; cycle: number }>(
  h: TwoLegBooks<C>,
  c: C,
): HedgedPairInput {
  const books = h.books(c);
  const markets = h.markets(c);
  const quotes = h.quotes(c);
  const [targetA, targetB] = h.flattenTo === 'hedged' ? [books[0].position, -books[0].position] : [0, 0];
  return {
    tag: c.tag,
    cycle: c.cycle,
    phase: 'f',
    execution: Math.max(0, (c.flattens ?? 1) - 1),
    mode: h.flattenTo === 'hedged' ? 'adjust' : 'close',
    legs: [
      legSpec(markets[0], books[0], targetA, quotes[0]),
      legSpec(markets[1], books[1], targetB, quotes[1]),
    ],
    toleranceBase: h.deltaTolerance(c),
  };
}

/** Each leg's position, by its name: "spot 0.5, perp -0.5". */
const positions = (books: [LegBook, LegBook], names: [string, string]) =>
  `${names[0]} ${books[0].position}, ${names[1]} ${books[1].position}`;

/** Needs attention once the exit budget ran out: what each leg still holds. */
export function exitIncomplete<C extends { exitAttempts: number; now: number }>(
  h: TwoLegBooks<C>,
  c: C,
  names: [string, string],
): Attention {
  const books = h.books(c);
  return attention(
    `could not flatten after ${c.exitAttempts} exits: ${positions(books, names)}`,
    c.now,
    books,
  );
}

/** A stop without flatten that leaves a (hedged) position: said, never quiet. Undefined when flat. */
export function heldOnStop<C>(h: TwoLegBooks<C>, c: C, names: [string, string]): ErrorInfo | undefined {
  if (booksFlatIn(h, c)) return undefined;
  return failure(
    'StoppedWithPosition',
    `stopped without flattening: ${positions(h.books(c), names)} (hedged)`,
  );
}
