/** Quotes as a strategy keeps them: the top of book per leg, its mid and freshness, and forwarding them to a running execution. */

import { type AnyActorRef, enqueueActions } from 'xstate';
import type { QuoteBatchEvent, QuoteEvent } from '../../contracts.ts';

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
