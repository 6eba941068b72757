/**
 * Fees in the currency the venue charges them in: the quote (OKX-style config), the asset
 * received (Binance, Bybit, OKX spot: base on a buy, quote on a sell) or a third asset (BNB).
 * The books must equal the account in every currency, and a basis trade bought with its fee
 * in the base must still close both legs.
 */
import { describe, expect, it } from 'vitest';
import type { AnyActorRef } from 'xstate';
import { applyFill, legPnl, newLeg } from '../../machines/accounting.ts';
import { spotFuturesMachine } from '../../machines/strategies/spot-futures/machine.ts';
import { VirtualClock } from '../../src/clock/clock.ts';
import type { FeeCurrency, Fill } from '../../src/domain/index.ts';
import { feeOverrides, simMarket } from '../../src/exchange/sim/markets.ts';
import { SimVenue } from '../../src/exchange/sim/venue.ts';
import { quote } from '../helpers.ts';
import { feedBasis, makeWorld, spotFuturesParams } from '../machines/harness.ts';

const SPOT = 'BTC/USDT';
const PERP = 'BTC/USDT:USDT';

function venue(feeCurrency: FeeCurrency, balances: Record<string, number>, withBnb = true) {
  const clock = new VirtualClock(Date.UTC(2026, 0, 1));
  const markets = [
    simMarket('v', SPOT, { maker: 0.001, taker: 0.001, feeCurrency }),
    ...(withBnb ? [simMarket('v', 'BNB/USDT', { maker: 0.001, taker: 0.001 })] : []),
  ];
  const v = new SimVenue({ name: 'v', clock, markets, balances });
  v.onBookTicker(quote(SPOT, 59_999.5, 60_000.5, 5, 5));
  if (withBnb) v.onBookTicker(quote('BNB/USDT', 599.95, 600.05, 100, 100));
  return v;
}

describe('the simulated venue charges spot fees the way the venues do', () => {
  it('received: a buy pays in the base it receives, a sell in the quote', () => {
    const v = venue('received', { USDT: 10_000 });
    const buy = v.placeOrder({
      clientOrderId: 'b1',
      symbol: SPOT,
      side: 'buy',
      type: 'market',
      amount: 0.05,
    });
    expect(buy.trades[0]!.fee).toMatchObject({ currency: 'BTC' });
    expect(buy.trades[0]!.fee.cost).toBeCloseTo(0.00005, 12);
    expect(v.balances().BTC!.total).toBeCloseTo(0.04995, 12);
    const sell = v.placeOrder({
      clientOrderId: 's1',
      symbol: SPOT,
      side: 'sell',
      type: 'market',
      amount: 0.04995,
    });
    expect(sell.trades[0]!.fee.currency).toBe('USDT');
    expect(sell.trades[0]!.fee.cost).toBeCloseTo(0.04995 * 59_999.5 * 0.001, 9);
    expect(v.balances().BTC?.total ?? 0).toBeCloseTo(0, 12);
  });

  it('a third asset: BNB at its mid, with the quote worth on the fill; the asset received when BNB runs out', () => {
    const v = venue({ asset: 'BNB' }, { USDT: 10_000, BNB: 0.006 });
    const first = v.placeOrder({
      clientOrderId: 'b1',
      symbol: SPOT,
      side: 'buy',
      type: 'market',
      amount: 0.05,
    });
    const worth = 0.05 * 60_000.5 * 0.001;
    expect(first.trades[0]!.fee).toMatchObject({ currency: 'BNB' });
    expect(first.trades[0]!.fee.cost).toBeCloseTo(worth / 600, 12);
    expect(first.trades[0]!.fee.quoteCost).toBeCloseTo(worth, 9);
    expect(v.balances().BTC!.total).toBeCloseTo(0.05, 12);
    // 0.001 BNB left, the next fee needs 0.005: charged in BTC instead.
    const second = v.placeOrder({
      clientOrderId: 'b2',
      symbol: SPOT,
      side: 'buy',
      type: 'market',
      amount: 0.05,
    });
    expect(second.trades[0]!.fee.currency).toBe('BTC');
    expect(v.balances().BTC!.total).toBeCloseTo(0.09995, 12);
  });

  it('refuses to start a market charging a third asset it has no price for, naming the fix', () => {
    expect(() => venue({ asset: 'BNB' }, { USDT: 1 }, false)).toThrow(
      /v BTC\/USDT: fees are charged in BNB but the venue has no price for it .*assetPrices\.BNB/,
    );
  });

  it('config: fee tiers per market type and per symbol, over the preset, and the fee currency', () => {
    const fees = {
      spot: { maker: 0.0009, taker: 0.001 },
      derivatives: { maker: 0.0002, taker: 0.0004 },
      symbols: { 'ETH/USDT': { maker: 0, taker: 0.0005 } },
      spotFeeCurrency: 'BNB',
    };
    expect(simMarket('binance', SPOT, feeOverrides(fees, SPOT))).toMatchObject({
      maker: 0.0009,
      taker: 0.001,
      feeCurrency: { asset: 'BNB' },
    });
    expect(simMarket('binance', PERP, feeOverrides(fees, PERP))).toMatchObject({
      maker: 0.0002,
      taker: 0.0004,
    });
    expect(simMarket('binance', PERP, feeOverrides(fees, PERP)).feeCurrency).toBeUndefined();
    expect(simMarket('binance', 'ETH/USDT', feeOverrides(fees, 'ETH/USDT'))).toMatchObject({
      maker: 0,
      taker: 0.0005,
    });
    // The presets: Binance spot 0.1 % charged in the asset received, perp 0.02 / 0.05 %.
    expect(simMarket('binance', SPOT)).toMatchObject({ maker: 0.001, taker: 0.001, feeCurrency: 'received' });
    expect(simMarket('binance', PERP)).toMatchObject({ maker: 0.0002, taker: 0.0005 });
  });
});

describe('the books follow the fee currency', () => {
  const fill = (over: Partial<Fill>): Fill => ({
    id: 't1',
    orderId: 'o1',
    clientOrderId: 'c1',
    symbol: SPOT,
    side: 'buy',
    price: 60_000,
    amount: 0.05,
    cost: 3_000,
    fee: { cost: 0.00005, currency: 'BTC' },
    takerOrMaker: 'taker',
    timestamp: 0,
    ...over,
  });

  it('a base fee moves the position by amount − fee and is still valued as a cost', () => {
    const leg = applyFill(newLeg('v', SPOT), fill({}));
    expect(leg.position).toBeCloseTo(0.04995, 12);
    expect(leg.fees).toBeCloseTo(3, 9);
    // Held 0.04995 bought for 3,000: worth 0.04995 × 61,000 − 3,000 at 61,000.
    expect(legPnl(leg, 61_000)).toBeCloseTo(0.04995 * 61_000 - 3_000, 9);
  });

  it('a third-asset fee is booked at its quote worth, never at face value', () => {
    const leg = applyFill(newLeg('v', SPOT), fill({ fee: { cost: 0.005, currency: 'BNB', quoteCost: 3 } }));
    expect(leg.position).toBe(0.05);
    expect(leg.fees).toBe(3);
  });
});

describe('spot–futures on a venue charging spot fees in the asset received', () => {
  it('enters, exits both legs from what the account holds and ends completed with the books equal to the account', async () => {
    const initial = { USDT: 100_000 };
    const w = makeWorld([
      {
        name: 'sim',
        symbols: [SPOT, PERP],
        balances: initial,
        fees: { [SPOT]: { maker: 0.001, taker: 0.001, feeCurrency: 'received' } },
      },
    ]);
    const sim = w.sims.sim!;
    const feed = (spot: number, perp: number) => feedBasis(w, spot, perp);
    const a: AnyActorRef = w.start(spotFuturesMachine, {
      id: 'fees-sf',
      params: spotFuturesParams({ amount: 0.05 }),
      markets: { spot: w.market('sim', SPOT), perp: w.market('sim', PERP) },
    });
    const state = () => String(a.getSnapshot().value);
    for (let i = 0; i < 40 && state() !== 'holding'; i++) {
      feed(60_000, 60_300);
      await w.clock.advanceBy(250);
    }
    expect(state()).toBe('holding');
    const c = a.getSnapshot().context;
    expect(c.legs.spot.position).toBeCloseTo(sim.balances().BTC!.total, 12);
    for (let i = 0; i < 400 && !['completed', 'needsAttention'].includes(state()); i++) {
      feed(60_000, 60_000);
      await w.clock.advanceBy(250);
    }
    expect(state()).toBe('completed');
    const done = a.getSnapshot().context;
    expect(sim.positions([PERP])[0]?.size ?? 0).toBe(0);
    const held = sim.balances().BTC?.total ?? 0;
    expect(done.legs.spot.position).toBeCloseTo(held, 12);
    // What is left is below the spot market's step: dust, not exposure.
    expect(Math.abs(held)).toBeLessThan(w.market('sim', SPOT).precision.amount);
    const pnl = legPnl(done.legs.spot, sim.mark(SPOT)) + legPnl(done.legs.perp, sim.mark(PERP));
    expect(pnl).toBeCloseTo(w.pnlAtCurrentMarks('sim', initial), 6);
    a.stop();
  });
});
