/**
 * Portfolio-wide risk across every strategy of an engine: total exposure, loss since UTC
 * midnight, and a circuit breaker on repeated failures. Breaches become RISK.BREACH events the
 * machines react to (no new entries; flatten when configured) and show in status and logs.
 */

import type { LegBook } from '../../machines/accounting.ts';
import { legPnl } from '../../machines/accounting.ts';

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

export interface StrategyRiskInput {
  id: string;
  legs: LegBook[];
  marks: number[];
}

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
  private readonly dayStart = new Map<string, number>();
  private last: RiskView = { exposure: 0, dailyPnl: 0, breaches: {}, recentFailures: 0 };

  constructor(private readonly limits: PortfolioRiskLimits = {}) {}

  recordFailure(at: number): void {
    this.failures.push(at);
  }

  /** Evaluate at `now`; returns what changed. */
  evaluate(now: number, strategies: StrategyRiskInput[]): RiskAction[] {
    const actions: RiskAction[] = [];
    const day = Math.floor(now / DAY_MS);
    let exposure = 0;
    let dailyPnl = 0;
    for (const s of strategies) {
      let pnl = 0;
      s.legs.forEach((leg, i) => {
        const mark = s.marks[i] || leg.entryPrice;
        exposure += Math.abs(leg.position) * mark;
        pnl += legPnl(leg, mark);
      });
      if (day !== this.day || !this.dayStart.has(s.id)) this.dayStart.set(s.id, pnl);
      dailyPnl += pnl - this.dayStart.get(s.id)!;
    }
    if (day !== this.day) this.day = day;

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
