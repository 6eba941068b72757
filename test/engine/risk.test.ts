import { describe, expect, it } from 'vitest';
import { newLeg } from '../../machines/accounting.ts';
import { PortfolioRisk } from '../../src/engine/risk.ts';

const leg = (position: number, entryPrice: number, realizedPnl = 0) => ({
  ...newLeg('v', 'BTC/USDT'),
  position,
  entryPrice,
  realizedPnl,
});
const DAY = 86_400_000;

describe('portfolio risk', () => {
  it('breaches on total exposure and clears only under 90 % of the limit', () => {
    const r = new PortfolioRisk({ maxTotalExposure: 100_000 });
    const at = (pos: number) => [
      { id: 's', legs: [leg(pos, 60_000), leg(-pos, 60_000)], marks: [60_000, 60_000] },
    ];
    expect(r.evaluate(1, at(0.5))).toEqual([]);
    expect(r.evaluate(2, at(1))).toEqual([
      { type: 'breach', name: 'exposure', reason: 'total exposure 120000.00 above 100000', flatten: false },
    ]);
    expect(r.evaluate(3, at(0.8))).toEqual([]); // 96 000: still held
    expect(r.evaluate(4, at(0.7))).toEqual([{ type: 'clear', name: 'exposure' }]);
    expect(r.view().exposure).toBeCloseTo(84_000, 6);
  });

  it('a daily-loss breach holds for the rest of the UTC day, flattening when configured', () => {
    const r = new PortfolioRisk({ maxDailyLoss: 500, flattenOnDailyLoss: true });
    const t0 = Date.UTC(2026, 0, 1, 10);
    const s = (mark: number) => [{ id: 's', legs: [leg(1, 60_000)], marks: [mark] }];
    expect(r.evaluate(t0, s(60_000))).toEqual([]);
    expect(r.evaluate(t0 + 1_000, s(59_400))).toEqual([
      { type: 'breach', name: 'dailyLoss', reason: 'loss today 600.00 above 500', flatten: true },
    ]);
    expect(r.evaluate(t0 + 2_000, s(60_000))).toEqual([]); // recovered, but not before tomorrow
    expect(r.evaluate(Date.UTC(2026, 0, 2, 0, 0, 1), s(60_000))).toEqual([
      { type: 'clear', name: 'dailyLoss' },
    ]);
    expect(r.view().dailyPnl).toBe(0);
    void DAY;
  });

  it('opens the circuit breaker after N failures within the window and closes it after the cool-off', () => {
    const r = new PortfolioRisk({ circuitBreaker: { failures: 3, windowMs: 60_000, cooloffMs: 300_000 } });
    r.recordFailure(0);
    r.recordFailure(70_000); // the first is outside the window by now
    r.recordFailure(80_000);
    expect(r.evaluate(90_000, [])).toEqual([]);
    r.recordFailure(95_000);
    expect(r.evaluate(100_000, [])).toMatchObject([{ type: 'breach', name: 'circuitBreaker' }]);
    expect(r.evaluate(399_000, [])).toEqual([]);
    expect(r.evaluate(400_001, [])).toEqual([{ type: 'clear', name: 'circuitBreaker' }]);
  });
});
