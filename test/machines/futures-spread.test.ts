import { describe, expect, it } from 'vitest';
import { createActor } from 'xstate';
import {
  type FuturesSpreadParams,
  futuresSpreadMachine,
  futuresSpreadPnl,
  validateFuturesSpreadParams,
} from '../../machines/strategies/futures-spread/machine.ts';
import { STRATEGY_KINDS } from '../../src/config/kinds.ts';
import { Rng } from '../../src/util/random.ts';
import { quote } from '../helpers.ts';
import { makeWorld } from './harness.ts';

const PERP = 'BTC/USDT:USDT';
const BAL = { USDT: 100_000 };

function params(over: Partial<FuturesSpreadParams> = {}): FuturesSpreadParams {
  return {
    legA: { venue: 'binance', symbol: PERP },
    legB: { venue: 'bybit', symbol: PERP },
    amount: 0.4,
    signal: 'zscore',
    entryThreshold: 3,
    exitThreshold: 0.5,
    halfLifeSamples: 200,
    warmupSamples: 100,
    minProfitBps: 5,
    slippageBps: 0,
    stopLossQuote: 500,
    maxHoldingHours: 12,
    deltaToleranceBase: 0.0005,
    staleAfterMs: 5_000,
    maxPositionNotional: 100_000,
    maxCycles: 1,
    cooldownMs: 1_000,
    ...over,
  };
}

function world() {
  const fees = { [PERP]: { maker: 0.0002, taker: 0.0004 } };
  const w = makeWorld([
    { name: 'binance', symbols: [PERP], balances: BAL, fees },
    { name: 'bybit', symbols: [PERP], balances: BAL, fees },
  ]);
  const rng = new Rng(5);
  const feed = (a: number, spreadBps: number) => {
    const t = w.clock.now();
    const noise = () => rng.normal() * 0.5;
    const am = a + noise();
    const bm = a * (1 + spreadBps / 1e4) + noise();
    w.sims.binance!.onBookTicker(
      quote(PERP, Math.round((am - 0.1) * 10) / 10, Math.round((am + 0.1) * 10) / 10 + 0.1, 3, 3, t),
    );
    w.sims.bybit!.onBookTicker(
      quote(PERP, Math.round((bm - 0.1) * 10) / 10, Math.round((bm + 0.1) * 10) / 10 + 0.1, 3, 3, t),
    );
  };
  return { ...w, feed };
}

async function drive(
  w: ReturnType<typeof world>,
  steps: number,
  spreadBps: (i: number) => number,
  price = 60_000,
) {
  for (let i = 0; i < steps; i++) {
    w.feed(price, spreadBps(i));
    await w.clock.advanceBy(500);
  }
}

describe('futures–futures spread strategy', () => {
  it('trades a stretched cross-venue perp spread back to its mean; PnL equals both accounts’ change', async () => {
    const w = world();
    const input = {
      id: 'spread-1',
      params: params(),
      markets: { legA: w.market('binance', PERP), legB: w.market('bybit', PERP) },
    };
    const actor = w.start(futuresSpreadMachine, input);
    await drive(w, 150, () => 0);
    expect(actor.getSnapshot().value).toBe('watching');
    await drive(w, 5, () => 30); // bybit 30 bps rich
    const held = actor.getSnapshot();
    expect(held.value).toBe('holding');
    expect(held.context.legs.legA.position).toBeCloseTo(0.4, 12); // long the cheap leg
    expect(held.context.legs.legB.position).toBeCloseTo(-0.4, 12);
    await drive(w, 20, () => 0);
    const s = actor.getSnapshot();
    expect(s.value).toBe('completed');
    const venuePnl = w.pnlAtCurrentMarks('binance', BAL) + w.pnlAtCurrentMarks('bybit', BAL);
    const reported = futuresSpreadPnl(s.context);
    expect(Math.abs(reported - venuePnl)).toBeLessThanOrEqual(1e-9 * Math.abs(venuePnl));
    expect(reported).toBeGreaterThan(0);
  });

  it('cuts the loss when the spread keeps running away', async () => {
    const w = world();
    const actor = w.start(futuresSpreadMachine, {
      id: 'spread-2',
      params: params({ stopLossQuote: 50, maxCycles: 1 }),
      markets: { legA: w.market('binance', PERP), legB: w.market('bybit', PERP) },
    });
    await drive(w, 150, () => 0);
    await drive(w, 3, () => 30);
    expect(actor.getSnapshot().value).toBe('holding');
    await drive(w, 10, (i) => 30 + 10 * i);
    const s = actor.getSnapshot();
    expect(s.value).toBe('completed');
    expect(futuresSpreadPnl(s.context)).toBeLessThan(0);
    expect(w.sims.binance!.positions()).toHaveLength(0);
    expect(w.sims.bybit!.positions()).toHaveLength(0);
  });

  it('validates params by field', () => {
    const w = world();
    expect(() =>
      validateFuturesSpreadParams(params({ exitThreshold: 5, legB: { venue: 'binance', symbol: PERP } }), {
        legA: w.market('binance', PERP),
        legB: w.market('binance', PERP),
      }),
    ).toThrow(/exitThreshold: must be below entryThreshold; legB: the two legs must be different/);
  });
  it('a version-2 snapshot (before the kit’s cycle) restores as version 3 and trades on where it was', async () => {
    const w = world();
    const input = {
      id: 'spread-v2',
      params: params({ maxCycles: 1 }),
      markets: { legA: w.market('binance', PERP), legB: w.market('bybit', PERP) },
    };
    const actor = w.start(futuresSpreadMachine, input);
    await drive(w, 150, () => 0);
    await drive(w, 5, () => 30);
    expect(actor.getSnapshot().value).toBe('holding');
    const now = actor.getPersistedSnapshot() as unknown as { context: Record<string, unknown> };
    actor.stop();
    // The snapshot as version 2 wrote it: the kind's state at the top, no funding rates or exit reason.
    const {
      own,
      fundingRates: _r,
      exitReason: _x,
      ...rest
    } = now.context as {
      own: { stats: unknown; entrySpreadBps: unknown };
      fundingRates: unknown;
      exitReason: unknown;
    };
    const v2 = { ...now, context: { ...rest, stats: own.stats, entrySpreadBps: own.entrySpreadBps } };
    const migrated = STRATEGY_KINDS['futures-spread']!.migrations![2]!(v2);
    // Funding rates start unknown again (the next poll brings them); nothing else changes.
    expect(migrated).toEqual({
      ...now,
      context: { ...now.context, fundingRates: { legA: undefined, legB: undefined }, exitReason: undefined },
    });
    const restored = createActor(w.provide(futuresSpreadMachine), {
      snapshot: migrated as never,
      input,
    } as never);
    restored.start();
    expect(restored.getSnapshot().value).toBe('holding');
    for (let i = 0; i < 20; i++) {
      w.feed(60_000, 0);
      await w.clock.advanceBy(500);
    }
    expect(restored.getSnapshot().value).toBe('completed');
    restored.stop();
  });
});
