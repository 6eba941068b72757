/**
 * Time source for everything that waits: venue latency, funding schedules, strategy deadlines.
 * Backtests and tests use {@link VirtualClock} so hours of market time run in milliseconds.
 * The `setTimeout`/`clearTimeout` pair matches XState's actor-system clock interface, so the
 * same object can be handed to `createActor(machine, { clock })`.
 */
export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export class WallClock implements Clock {
  now(): number {
    return Date.now();
  }
  setTimeout(fn: () => void, ms: number): unknown {
    return setTimeout(fn, ms);
  }
  clearTimeout(handle: unknown): void {
    clearTimeout(handle as NodeJS.Timeout);
  }
}

interface Timer {
  at: number;
  seq: number;
  fn: () => void;
  cancelled: boolean;
}

/** Resolves after every queued microtask (promise continuation) has run. */
export function flushMicrotasks(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * A clock that only moves when told to. Timers fire in (time, insertion) order; between two
 * timers the promise continuations they caused are allowed to run, so a chain like
 * "order sent → ack after latency → next order" unfolds exactly as on a wall clock.
 */
export class VirtualClock implements Clock {
  private t: number;
  private seq = 0;
  private heap: Timer[] = [];

  constructor(start = 0) {
    this.t = start;
  }

  now(): number {
    return this.t;
  }

  setTimeout(fn: () => void, ms: number): Timer {
    const timer: Timer = { at: this.t + Math.max(0, ms), seq: this.seq++, fn, cancelled: false };
    this.push(timer);
    return timer;
  }

  clearTimeout(handle: unknown): void {
    if (handle && typeof handle === 'object' && 'cancelled' in handle) (handle as Timer).cancelled = true;
  }

  /** Time of the next pending timer, or Infinity. */
  nextTimerAt(): number {
    this.dropCancelled();
    return this.heap[0]?.at ?? Number.POSITIVE_INFINITY;
  }

  pendingTimers(): number {
    return this.heap.filter((t) => !t.cancelled).length;
  }

  /**
   * Move time to `t`, firing due timers in order. Cheap when nothing is due, so a replay loop
   * can call it for every quote: `if (clock.nextTimerAt() <= ts) await clock.advanceTo(ts)
   * else clock.jumpTo(ts)`.
   */
  async advanceTo(t: number): Promise<void> {
    await flushMicrotasks();
    for (;;) {
      this.dropCancelled();
      const next = this.heap[0];
      if (!next || next.at > t) break;
      this.pop();
      if (next.at > this.t) this.t = next.at;
      next.fn();
      await flushMicrotasks();
    }
    if (t > this.t) this.t = t;
  }

  /** Advance by `ms`, firing timers on the way. */
  advanceBy(ms: number): Promise<void> {
    return this.advanceTo(this.t + ms);
  }

  /** Set the time without firing timers; only valid when none is due before `t`. */
  jumpTo(t: number): void {
    if (this.nextTimerAt() <= t) throw new Error('VirtualClock.jumpTo would skip a due timer; use advanceTo');
    if (t > this.t) this.t = t;
  }

  /** Fire every pending timer, however far in the future (drains a finished backtest). */
  async runAll(maxTimers = 1_000_000): Promise<void> {
    for (let i = 0; i < maxTimers; i++) {
      const at = this.nextTimerAt();
      if (at === Number.POSITIVE_INFINITY) return;
      await this.advanceTo(at);
    }
    throw new Error(`VirtualClock.runAll: more than ${maxTimers} timers; a timer keeps rescheduling itself`);
  }

  private dropCancelled(): void {
    while (this.heap.length > 0 && this.heap[0]!.cancelled) this.pop();
  }

  private less(a: Timer, b: Timer): boolean {
    return a.at < b.at || (a.at === b.at && a.seq < b.seq);
  }

  private push(x: Timer): void {
    const h = this.heap;
    h.push(x);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(h[i]!, h[p]!)) break;
      [h[i], h[p]] = [h[p]!, h[i]!];
      i = p;
    }
  }

  private pop(): Timer | undefined {
    const h = this.heap;
    const top = h[0];
    const last = h.pop();
    if (h.length > 0 && last) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && this.less(h[l]!, h[m]!)) m = l;
        if (r < h.length && this.less(h[r]!, h[m]!)) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m]!, h[i]!];
        i = m;
      }
    }
    return top;
  }
}

/** Promise that resolves after `ms` on `clock`. */
export function sleep(clock: Clock, ms: number): Promise<void> {
  return new Promise((resolve) => clock.setTimeout(resolve, ms));
}
