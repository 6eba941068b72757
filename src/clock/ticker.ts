/**
 * One periodic timer per interval, shared by everything that wants that period: strategies'
 * TIME.TICK streams and the engine's risk evaluation. A thousand strategies ticking every second
 * cost one timer a second instead of a thousand — on a virtual clock each fired timer also costs
 * the replay a turn of the event loop, so this is most of a quiet backtest's timer overhead.
 *
 * Subscribers of an interval are called in subscription order; one that subscribes during a
 * tick is first called on the next. The timer runs only while the interval has subscribers.
 */
import type { Clock } from './clock.ts';

interface Period {
  subscribers: Set<(now: number) => void>;
  timer: unknown;
}

export class Ticker {
  private readonly periods = new Map<number, Period>();

  constructor(private readonly clock: Clock) {}

  /** Call `fn(now)` every `everyMs` from now on; returns the unsubscribe function. */
  subscribe(everyMs: number, fn: (now: number) => void): () => void {
    if (!(everyMs > 0)) throw new Error(`ticker: everyMs must be positive, got ${everyMs}`);
    let p = this.periods.get(everyMs);
    if (!p) {
      const period: Period = { subscribers: new Set(), timer: undefined };
      const fire = () => {
        period.timer = this.clock.setTimeout(fire, everyMs);
        const now = this.clock.now();
        for (const s of [...period.subscribers]) if (period.subscribers.has(s)) s(now);
      };
      period.timer = this.clock.setTimeout(fire, everyMs);
      this.periods.set(everyMs, period);
      p = period;
    }
    // A function subscribed twice is two subscriptions: wrap it so each has its own identity.
    const sub = (now: number) => fn(now);
    p.subscribers.add(sub);
    const period = p;
    return () => {
      if (!period.subscribers.delete(sub) || period.subscribers.size > 0) return;
      this.clock.clearTimeout(period.timer);
      if (this.periods.get(everyMs) === period) this.periods.delete(everyMs);
    };
  }

  /** Intervals with a running timer (for tests and shutdown checks). */
  activePeriods(): number[] {
    return [...this.periods.keys()];
  }

  /** Stop every timer (shutdown). */
  dispose(): void {
    for (const p of this.periods.values()) {
      this.clock.clearTimeout(p.timer);
      p.subscribers.clear();
    }
    this.periods.clear();
  }
}
