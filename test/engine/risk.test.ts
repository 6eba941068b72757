import { describe, expect, it } from 'vitest';
import { type LegBook, legPnl, newLeg } from '../../machines/accounting.ts';
import { PortfolioRisk, type RiskDayEntry, type StrategyRiskInput } from '../../src/engine/risk.ts';

const leg = (position: number, entryPrice: number, realizedPnl = 0) => ({
  ...newLeg('v', 'BTC/USDT'),
  position,
  entryPrice,
  realizedPnl,
});
const DAY = 86_400_000;

/** A strategy's risk input as the engine builds it: its one PnL and its exposure at the marks. */
function strategy(id: string, legs: LegBook[], marks: number[], done = false): StrategyRiskInput {
  return {
    id,
    netPnl: legs.reduce((x, l, i) => x + legPnl(l, marks[i]!), 0),
    exposure: legs.reduce((x, l, i) => x + Math.abs(l.position) * marks[i]!, 0),
    done,
  };
}

describe('portfolio risk', () => {
  it('breaches on total exposure and clears only under 90 % of the limit', () => {
    const r = new PortfolioRisk({ maxTotalExposure: 100_000 });
    const at = (pos: number) => [strategy('s', [leg(pos, 60_000), leg(-pos, 60_000)], [60_000, 60_000])];
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
    const s = (mark: number) => [strategy('s', [leg(1, 60_000)], [mark])];
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

  it('a strategy that ended today still counts: its loss stays in the day, whether or not it is passed again', () => {
    const r = new PortfolioRisk({ maxDailyLoss: 2_500 });
    const t0 = Date.UTC(2026, 0, 1, 10);
    expect(r.evaluate(t0, [strategy('a', [leg(1, 60_000)], [60_000])])).toEqual([]);
    // 'a' closes at a 1,500 loss and ends; 'b' then loses 2,500 more.
    r.evaluate(t0 + 1_000, [strategy('a', [leg(0, 0, -1_500)], [58_500], true)]);
    r.evaluate(t0 + 2_000, [strategy('b', [leg(1, 60_000)], [60_000])]);
    expect(r.evaluate(t0 + 3_000, [strategy('b', [leg(1, 60_000)], [57_500])])).toEqual([
      { type: 'breach', name: 'dailyLoss', reason: 'loss today 4000.00 above 2500', flatten: false },
    ]);
  });

  it('the day survives a restart: the day start is read back from the books, so the loss is not reset to 0', () => {
    const saved: Record<string, RiskDayEntry> = {};
    const books = {
      load: () => ({ ...saved }),
      save: (id: string, e: RiskDayEntry) => {
        saved[id] = { ...e };
      },
    };
    const t0 = Date.UTC(2026, 0, 1, 10);
    const before = new PortfolioRisk({ maxDailyLoss: 2_500 }, books);
    before.evaluate(t0, [strategy('a', [leg(1, 60_000)], [60_000])]);
    before.evaluate(t0 + 10_000, [strategy('a', [leg(1, 60_000)], [58_000])]);
    // The engine restarts: a new PortfolioRisk on the same books.
    const after = new PortfolioRisk({ maxDailyLoss: 2_500 }, books);
    expect(after.evaluate(t0 + 20_000, [strategy('a', [leg(1, 60_000)], [57_000])])).toEqual([
      { type: 'breach', name: 'dailyLoss', reason: 'loss today 3000.00 above 2500', flatten: false },
    ]);
    // A strategy that ended before the restart is counted from its last booked PnL.
    const third = new PortfolioRisk({ maxDailyLoss: 2_500 }, books);
    third.evaluate(t0 + 30_000, []);
    expect(third.view().dailyPnl).toBeCloseTo(-3_000, 6);
    // The next UTC day starts from zero.
    third.evaluate(Date.UTC(2026, 0, 2, 0, 0, 1), [strategy('a', [leg(1, 60_000)], [57_000])]);
    expect(third.view().dailyPnl).toBe(0);
  });
});
