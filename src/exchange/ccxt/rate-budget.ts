/**
 * One request budget per exchange account. ccxt throttles each Exchange instance on its own; an
 * account traded through several instances (Binance spot and USD-M, say) shares one limit at the
 * venue, so the instances share one ccxt throttler, and after a rate-limit answer every request of
 * the account waits out the back-off — not just the one that was refused.
 */
import type { Exchange } from 'ccxt';

export class RateBudget {
  private pausedUntil = 0;
  private backoffMs = 0;
  private readonly members: Exchange[] = [];

  constructor(readonly account: string) {}

  /** Make `ex` draw from this budget (ccxt's token bucket of the first member). */
  join(ex: Exchange): void {
    const first = this.members[0] as unknown as { throttler?: unknown } | undefined;
    if (first?.throttler) (ex as unknown as { throttler: unknown }).throttler = first.throttler;
    this.members.push(ex);
  }

  /** Wait while the account is backing off. */
  async ready(now = Date.now()): Promise<void> {
    const wait = this.pausedUntil - now;
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  }

  /** A rate-limit answer: pause the account, doubling from `baseMs` up to 60 s while they repeat. */
  limited(baseMs: number, now = Date.now()): number {
    this.backoffMs = this.backoffMs === 0 ? baseMs : Math.min(60_000, this.backoffMs * 2);
    this.pausedUntil = Math.max(this.pausedUntil, now + this.backoffMs);
    return this.backoffMs;
  }

  /** A request went through: the back-off starts over next time. */
  ok(): void {
    this.backoffMs = 0;
  }
}

const budgets = new Map<string, RateBudget>();

/** The budget of an account, shared by every venue configured on it. */
export function rateBudget(account: string): RateBudget {
  let b = budgets.get(account);
  if (!b) {
    b = new RateBudget(account);
    budgets.set(account, b);
  }
  return b;
}
