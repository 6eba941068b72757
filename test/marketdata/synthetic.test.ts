import { describe, expect, it } from 'vitest';
import type { MarketEvent, QuoteEvent } from '../../src/marketdata/events.ts';
import { SyntheticMarket } from '../../src/marketdata/synthetic.ts';

function take(m: SyntheticMarket, n: number): MarketEvent[] {
  const out: MarketEvent[] = [];
  for (let i = 0; i < n; i++) {
    const e = m.next();
    if (!e) break;
    out.push(e);
  }
  return out;
}

describe('synthetic market', () => {
  it('is deterministic for a seed and differs across seeds', () => {
    const a = take(new SyntheticMarket({ seed: 7 }), 5000);
    const b = take(new SyntheticMarket({ seed: 7 }), 5000);
    const c = take(new SyntheticMarket({ seed: 8 }), 5000);
    expect(b).toEqual(a);
    expect(c).not.toEqual(a);
  });

  it('emits time-ordered, uncrossed quotes on the tick grid for every venue and instrument', () => {
    const m = new SyntheticMarket({ seed: 3, endTs: Date.UTC(2026, 0, 1, 0, 20) });
    const seen = new Set<string>();
    let last = 0;
    let n = 0;
    for (let e = m.next(); e; e = m.next()) {
      expect(e.timestamp).toBeGreaterThanOrEqual(last);
      last = e.timestamp;
      if (e.kind !== 'quote') continue;
      n++;
      seen.add(`${e.venue}|${e.symbol}`);
      expect(e.ask).toBeGreaterThan(e.bid);
      expect(e.bidSize).toBeGreaterThan(0);
      const tick = e.symbol.startsWith('BTC/USDT:') ? 0.1 : 0.01;
      expect(Math.abs(e.bid / tick - Math.round(e.bid / tick))).toBeLessThan(1e-6);
    }
    expect(last).toBeLessThan(Date.UTC(2026, 0, 1, 0, 20) + 250);
    expect(seen.size).toBe(8); // 2 venues × 2 assets × (spot + perp)
    expect(n).toBeGreaterThan(0.6 * 8 * 4_800);
  });

  it('keeps spot and perp on a common walk with a mean-reverting basis that sometimes opens wide', () => {
    const m = new SyntheticMarket({
      seed: 11,
      endTs: Date.UTC(2026, 0, 1, 12),
      assets: [{ base: 'BTC', price: 60_000, annualVol: 0.6 }],
    });
    const mids = new Map<string, number>();
    const basis: number[] = [];
    const xvenue: number[] = [];
    for (let e = m.next(); e; e = m.next()) {
      if (e.kind !== 'quote') continue;
      mids.set(`${e.venue}|${e.symbol}`, (e.bid + e.ask) / 2);
      const s = mids.get('binance|BTC/USDT');
      const p = mids.get('binance|BTC/USDT:USDT');
      const s2 = mids.get('bybit|BTC/USDT');
      if (s && p && e.venue === 'binance') basis.push(((p - s) / s) * 1e4);
      if (s && s2 && e.symbol === 'BTC/USDT') xvenue.push(((s2 - s) / s) * 1e4);
    }
    const mean = basis.reduce((a, b) => a + b, 0) / basis.length;
    expect(mean).toBeGreaterThan(-5);
    expect(mean).toBeLessThan(15);
    expect(basis.reduce((a, b) => Math.max(a, b), -Infinity)).toBeGreaterThan(20); // entries open now and then
    const sorted = [...basis].sort((a, b) => a - b);
    expect(sorted[Math.floor(sorted.length / 2)]!).toBeLessThan(15); // but not most of the time
    expect(xvenue.reduce((a, b) => Math.max(a, Math.abs(b)), 0)).toBeGreaterThan(10);
  });

  it('publishes funding rates that follow the basis, clamped like Binance', () => {
    const m = new SyntheticMarket({ seed: 5, endTs: Date.UTC(2026, 0, 1, 2) });
    const f = take(m, 10_000_000).filter((e) => e.kind === 'funding');
    expect(f.length).toBeGreaterThan(100);
    for (const e of f) {
      if (e.kind !== 'funding') continue;
      expect(Math.abs(e.rate)).toBeLessThanOrEqual(0.0075);
      expect(e.nextFundingTimestamp % (8 * 3_600_000)).toBe(0);
      expect(e.nextFundingTimestamp).toBeGreaterThan(e.timestamp);
    }
    expect(new Set(f.map((e) => (e as { rate: number }).rate)).size).toBeGreaterThan(10);
  });

  it('batches() yields the same events as next()', async () => {
    const a = take(new SyntheticMarket({ seed: 2, endTs: Date.UTC(2026, 0, 1, 0, 5) }), 1e9);
    const b: MarketEvent[] = [];
    for await (const batch of new SyntheticMarket({ seed: 2, endTs: Date.UTC(2026, 0, 1, 0, 5) }).batches(
      100,
    ))
      b.push(...batch);
    expect(b).toEqual(a);
    expect((a[0] as QuoteEvent).kind).toBe('quote');
  });
});
