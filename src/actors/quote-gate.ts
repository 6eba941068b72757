/**
 * The quote gate: plain code in front of a strategy machine that decides which quotes can change
 * a decision and sends the machine only those (plus a refresh per leg every `refreshMs`, so the
 * context's marks stay recent). A quote the machine does not need costs a few comparisons
 * instead of an XState macrostep. Clock ticks go through the same gate (offerTick).
 *
 * Exactness: a quote is sent when the kind's `canDecide` says the latest quotes could trigger a
 * rule, and also while the last quote sent said so. So whenever the machine's quotes lag behind
 * the latest, both evaluate the quote-driven rules to false, and any event (a tick, a resume) that
 * makes the machine re-evaluate reaches the same decision it would with every quote.
 * When sending, the other legs' newer quotes go first: the machine then sees the same latest
 * book on every leg as one fed every quote.
 */

import type { QuoteBatchEvent, QuoteEvent } from '../../machines/contracts.ts';
import type { QuoteGateSpec } from '../../machines/strategies/kit/kind.ts';
import { type Quote, toQuote } from '../../machines/strategies/kit/quotes.ts';
import { stateName } from '../../machines/strategies/kit/state-name.ts';

interface Pending {
  quote: QuoteEvent;
  send: (e: QuoteEvent | QuoteBatchEvent) => void;
  sent: boolean;
}

export class QuoteGate {
  private readonly latest = new Map<string, Pending>();
  private readonly lastSentAt = new Map<string, number>();
  private lastVerdict = true;
  /** When the machine last got a quote or a tick from this gate (its clock is at least that). */
  private lastPassedAt = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly spec: QuoteGateSpec,
    private readonly snapshot: () => { value: unknown; context: unknown },
    private readonly refreshMs = 1_000,
  ) {}

  offer(quote: QuoteEvent, send: (e: QuoteEvent | QuoteBatchEvent) => void): void {
    const snap = this.snapshot();
    const context = snap.context as { quotes?: Record<string, Quote | undefined> };
    const leg = this.spec.legOf(context as never, quote.venue, quote.symbol);
    if (leg === undefined) {
      send(quote);
      return;
    }
    const entry: Pending = { quote, send, sent: false };
    this.latest.set(leg, entry);
    const state = stateName(snap.value);
    const quotes: Record<string, Quote | undefined> = { ...context.quotes };
    for (const [l, p] of this.latest) quotes[l] = l === leg || !p.sent ? toQuote(p.quote) : quotes[l];
    const verdict = this.spec.canDecide(context as never, state, quotes, quote.receivedAt, this.refreshMs);
    const due = quote.receivedAt - (this.lastSentAt.get(leg) ?? Number.NEGATIVE_INFINITY) >= this.refreshMs;
    if (!verdict && !this.lastVerdict && !due) return;
    // Other legs' newer quotes go in the same event: evaluated one by one, they would show the
    // machine combinations of old and new quotes that a machine fed every quote never saw.
    const batch: QuoteEvent[] = [];
    for (const [l, p] of this.latest) {
      if (l === leg || p.sent) continue;
      this.mark(l, p);
      batch.push(p.quote);
    }
    this.mark(leg, entry);
    this.lastVerdict = verdict;
    if (batch.length === 0) send(quote);
    else {
      batch.sort((a, b) => a.receivedAt - b.receivedAt);
      batch.push(quote);
      send({ type: 'QUOTES', quotes: batch });
    }
  }

  /**
   * A TIME.TICK: passed when a rule could fire at `now` (or within a refresh) on the machine's own
   * quotes, while the last event passed said so, or when nothing reached the machine for a refresh
   * period (its clock stays within a second of the market's). Otherwise the machine would only
   * move its clock and decide nothing, so the tick is held back. Every tick passes in states the
   * kind's `canDecide` does not cover.
   */
  offerTick(now: number, send: () => void): void {
    const snap = this.snapshot();
    const context = snap.context as { quotes?: Record<string, Quote | undefined> };
    const state = stateName(snap.value);
    const verdict = this.spec.canDecide(context as never, state, { ...context.quotes }, now, this.refreshMs);
    const due = now - this.lastPassedAt >= this.refreshMs;
    if (!verdict && !this.lastVerdict && !due) return;
    this.lastVerdict = verdict;
    this.lastPassedAt = now;
    this.flushHeldQuotes();
    send();
  }

  /**
   * Before a tick, the machine gets the quotes held back since it last heard from a leg: a tick
   * can move it to a state whose rules read the quotes' age (cooldown → entering asks whether
   * both quotes are fresh), and there a held-back quote is a staler one than the ungated
   * machine would hold. Each held quote evaluated to no decision when it was offered, so giving
   * it now changes nothing but the marks the next decision reads.
   */
  private flushHeldQuotes(): void {
    const batch: QuoteEvent[] = [];
    let send: Pending['send'] | undefined;
    for (const [l, p] of this.latest) {
      if (p.sent) continue;
      this.mark(l, p);
      batch.push(p.quote);
      send = p.send;
    }
    const [first] = batch;
    if (!send || !first) return;
    batch.sort((a, b) => a.receivedAt - b.receivedAt);
    send(batch.length === 1 ? first : { type: 'QUOTES', quotes: batch });
  }

  private mark(leg: string, p: Pending): void {
    p.sent = true;
    this.lastSentAt.set(leg, p.quote.receivedAt);
    this.lastPassedAt = Math.max(this.lastPassedAt, p.quote.receivedAt);
  }
}
