/**
 * One spot–futures hedge end to end over the live-trading path: the engine and the spot–futures
 * machine, the ccxt adapter, ccxt's real binance (spot leg) and binanceusdm (perp leg) classes,
 * and the local fake Binance with its simulated wallets. The entry's first order loses its answer
 * (placed, never acknowledged): it must be found by client id, not placed twice.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { feeInQuote } from '../../machines/accounting.ts';
import { WallClock } from '../../src/clock/clock.ts';
import { createEngine, type Engine } from '../../src/engine/engine.ts';
import type { CcxtExchangeClient } from '../../src/exchange/ccxt/client.ts';
import { createCcxtClient } from '../../src/exchange/ccxt/create.ts';
import { MemoryStore } from '../../src/store/memory.ts';
import { FakeBinance } from '../support/fake-binance.ts';
import { describeHedge, oneCycleBasis } from './hedge-support.ts';
import { until } from './wait.ts';

const clock = new WallClock();
const fake = new FakeBinance({
  clock,
  apiKey: 'hedge-key',
  secret: 'hedge-secret',
  spotBalances: { USDT: 50_000, BTC: 0 },
  futuresBalances: { USDT: 50_000 },
});
const px = { spot: 60_000, perp: 60_000 };
let quoting: ReturnType<typeof setInterval>;
let spot: CcxtExchangeClient;
let perp: CcxtExchangeClient;
let engine: Engine;
const store = new MemoryStore();

const venue = (name: string, exchange: string) => {
  const c = createCcxtClient({
    name,
    exchange,
    sandbox: false,
    demo: false,
    credentials: { apiKey: 'hedge-key', secret: 'hedge-secret' },
    rewriteUrl: fake.rewriteUrl,
  });
  (c.exchange as { timeout: number }).timeout = 1_500;
  return c;
};

beforeAll(async () => {
  await fake.start();
  quoting = setInterval(() => {
    fake.quote('BTC/USDT', px.spot - 0.5, px.spot + 0.5, 2);
    fake.quote('BTC/USDT:USDT', px.perp - 0.05, px.perp + 0.05, 2);
  }, 50);
  spot = venue('binance', 'binance');
  perp = venue('binanceusdm', 'binanceusdm');
  engine = createEngine({
    store,
    venues: { binance: spot, binanceusdm: perp },
    clock,
    quotePersistMs: 1_000,
  });
  await engine.start();
});

afterAll(async () => {
  clearInterval(quoting);
  await engine?.stop();
  await fake.close();
});

describe('a spot–futures hedge through ccxt and the fake Binance', () => {
  it('enters hedged, survives a lost order answer, exits, and its books equal both wallets', async () => {
    await engine.addStrategy({
      kind: 'spot-futures',
      id: 'ccxt-basis',
      params: oneCycleBasis('binance', 'binanceusdm'),
    });
    const view = () => engine.status().strategies[0]!;
    const describe = describeHedge(view, () => [...fake.spot.allOrders(), ...fake.futures.allOrders()]);
    await until(() => view().state === 'watching', describe, 30_000);
    fake.faults.timeoutAfterPlace = 1; // the entry's first order: placed, answer lost
    px.perp = 60_900; // 150 bps rich, beyond round-trip fees and slippage: enter
    await until(() => view().state === 'holding', describe, 30_000);
    // Binance takes the spot buy's 0.1 % commission in BTC: the books hold what the wallet holds.
    const [spotLeg, perpLeg] = view().legs;
    expect(spotLeg!.position).toBeCloseTo(0.05 * (1 - 0.001), 12);
    expect(spotLeg!.position).toBeCloseTo(fake.spot.balances().BTC!.total, 12);
    expect(perpLeg!.position).toBe(-0.05);
    px.perp = 60_000; // converged: exit
    await until(() => view().state === 'completed', describe, 30_000);

    const final = view();
    // Flat, but for spot dust below the market's step (the part of the fee-reduced position a
    // 0.00001 step cannot sell), held by the books exactly as by the wallet.
    expect(final.legs[1]!.position).toBe(0);
    expect(Math.abs(final.legs[0]!.position)).toBeLessThan(0.00001);
    expect(final.legs[0]!.position).toBeCloseTo(fake.spot.balances().BTC?.total ?? 0, 12);
    // every order once per client id, every one journalled before it was sent
    const orders = [...fake.spot.allOrders(), ...fake.futures.allOrders()];
    const ids = orders.map((o) => o.clientOrderId);
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) expect(store.hasIntent(id), id).toBe(true);
    expect(orders.filter((o) => o.status === 'closed')).toHaveLength(4); // two legs in, two out
    expect(fake.faults.timeoutAfterPlace).toBe(0); // the lost answer did happen
    // books equal the venue: positions flat, and the strategy's fees are the venue's fees
    expect(fake.futures.positions()).toEqual([]);
    const venueFees = orders.flatMap((o) => o.trades).reduce((s, t) => s + feeInQuote(t), 0);
    expect(final.fees).toBeCloseTo(venueFees, 9);
    // net PnL equals the change of the two wallets (fees included, the BTC dust at the spot mid)
    const usdt = (fake.spot.balances().USDT?.total ?? 0) + (fake.futures.balances().USDT?.total ?? 0);
    const dust = (fake.spot.balances().BTC?.total ?? 0) * fake.spot.mark('BTC/USDT');
    expect(final.netPnl).toBeCloseTo(usdt + dust - 100_000, 6);
  }, 90_000);
});
