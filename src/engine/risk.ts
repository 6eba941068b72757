/**
 * Portfolio-wide risk across every strategy of an engine: total exposure, loss since UTC
 * midnight, and a circuit breaker on repeated failures. Breaches become RISK.BREACH events the
 * machines react to (no new entries; flatten when configured) and show in status and logs.
 */

export interface PortfolioRiskLimits {
  /** Σ |position| × mark over every leg of every strategy, quote currency. */
  maxTotalExposure?: number;
  /** Loss since 00:00 UTC (realized + unrealized − fees + funding) that stops new entries. */
  maxDailyLoss?: number;
  /** On a daily-loss breach, also pull the kill switch and flatten everything. */
  flattenOnDailyLoss?: boolean;
  /** `failures` strategy failures (failed state, crash, failed write) within `windowMs` open the breaker for `cooloffMs`. */
  circuitBreaker?: { failures: number; windowMs: number; cooloffMs: number };
}

/** One strategy that holds or held money: live, ended, failed or stopped. */
export interface StrategyRiskInput {
  id: string;
  /** Its one PnL (`strategyFigures`): realized + unrealized − fees + funding. */
  netPnl: number;
  /** Σ |position| × mark of its legs. */
  exposure: number;
  /** Ended: its PnL will not change again (written at once, not on the throttle). */
  done?: boolean;
}

/** A strategy's PnL at the start of the UTC day and the last seen, kept across restarts. */
export interface RiskDayEntry {
  day: number;
  start: number;
  last: number;
}

/** Where the day's books live (the store's meta records); absent: in memory only. */
export interface RiskDayBooks {
  load(): Record<string, RiskDayEntry>;
  save(id: string, entry: RiskDayEntry): void;
}

/** A strategy's last PnL is written at most this often while it changes (and at once when it ends). */
const SAVE_EVERY_MS = 5_000;

export interface RiskView {
  exposure: number;
  dailyPnl: number;
  /** Active breaches by name with their reason. */
  breaches: Record<string, string>;
  recentFailures: number;
}

export type RiskAction =
  | { type: 'breach'; name: string; reason: string; flatten: boolean }
  | { type: 'clear'; name: string };

const DAY_MS = 86_400_000;

export class PortfolioRisk {
  private readonly breaches = new Map<string, string>();
  private readonly failures: number[] = [];
  private breakerUntil = 0;
  private day = -1;
  /** Today's books per strategy: every one that held money today, running or not. */
  private entries = new Map<string, RiskDayEntry & { savedAt: number; saved: number }>();
  private last: RiskView = { exposure: 0, dailyPnl: 0, breaches: {}, recentFailures: 0 };

  constructor(
    private readonly limits: PortfolioRiskLimits = {},
    private readonly books?: RiskDayBooks,
  ) {}

  /** Today's entries: the persisted ones on the first evaluation and after midnight. */
  private rollDay(day: number): void {
    if (day === this.day) return;
    this.day = day;
    this.entries = new Map();
    for (const [id, e] of Object.entries(this.books?.load() ?? {}))
      if (e.day === day) this.entries.set(id, { ...e, savedAt: 0, saved: e.last });
  }

  private book(now: number, s: StrategyRiskInput): void {
    let e = this.entries.get(s.id);
    if (!e) {
      e = { day: this.day, start: s.netPnl, last: s.netPnl, savedAt: now, saved: s.netPnl };
      this.entries.set(s.id, e);
      this.books?.save(s.id, { day: e.day, start: e.start, last: e.last });
      return;
    }
    e.last = s.netPnl;
    if (e.last !== e.saved && (s.done || now - e.savedAt >= SAVE_EVERY_MS)) {
      this.books?.save(s.id, { day: e.day, start: e.start, last: e.last });
      e.saved = e.last;
      e.savedAt = now;
    }
  }

  recordFailure(at: number): void {
    this.failures.push(at);
  }

  /** Evaluate at `now`; returns what changed. */
  evaluate(now: number, strategies: StrategyRiskInput[]): RiskAction[] {
    const actions: RiskAction[] = [];
    const day = Math.floor(now / DAY_MS);
    this.rollDay(day);
    let exposure = 0;
    for (const s of strategies) {
      exposure += s.exposure;
      this.book(now, s);
    }
    // Every strategy that held money today counts, including those that ended or ran before a restart.
    let dailyPnl = 0;
    for (const e of this.entries.values()) dailyPnl += e.last - e.start;

    const set = (name: string, on: boolean, reason: string, flatten = false) => {
      if (on && !this.breaches.has(name)) {
        this.breaches.set(name, reason);
        actions.push({ type: 'breach', name, reason, flatten });
      } else if (!on && this.breaches.has(name)) {
        this.breaches.delete(name);
        actions.push({ type: 'clear', name });
      }
    };
    const l = this.limits;
    if (l.maxTotalExposure !== undefined) {
      // Hysteresis: cleared only once back under 90 % of the limit.
      const over =
        exposure > l.maxTotalExposure ||
        (this.breaches.has('exposure') && exposure > 0.9 * l.maxTotalExposure);
      set('exposure', over, `total exposure ${exposure.toFixed(2)} above ${l.maxTotalExposure}`);
    }
    if (l.maxDailyLoss !== undefined) {
      // A daily-loss breach holds until the next UTC day.
      const over = dailyPnl < -l.maxDailyLoss || (this.breaches.has('dailyLoss') && this.breachDay === day);
      if (dailyPnl < -l.maxDailyLoss && !this.breaches.has('dailyLoss')) this.breachDay = day;
      set(
        'dailyLoss',
        over,
        `loss today ${(-dailyPnl).toFixed(2)} above ${l.maxDailyLoss}`,
        l.flattenOnDailyLoss === true,
      );
    }
    if (l.circuitBreaker) {
      const cb = l.circuitBreaker;
      while (this.failures.length > 0 && this.failures[0]! < now - cb.windowMs) this.failures.shift();
      if (this.failures.length >= cb.failures) {
        this.breakerUntil = now + cb.cooloffMs;
        this.failures.length = 0;
      }
      set(
        'circuitBreaker',
        now < this.breakerUntil,
        `circuit breaker open: ${cb.failures} failures within ${cb.windowMs} ms`,
      );
    }
    this.last = {
      exposure,
      dailyPnl,
      breaches: Object.fromEntries(this.breaches),
      recentFailures: this.failures.length,
    };
    return actions;
  }

  private breachDay = -1;

  view(): RiskView {
    return this.last;
  }
}
