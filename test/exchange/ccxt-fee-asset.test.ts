/**
 * A fee in a third asset through ccxt: the fake Binance charges a spot buy's commission in BNB
 * (as with "pay fees with BNB"), ccxt reports `fee.currency: 'BNB'`, and the adapter gives the
 * fill its quote worth from the venue's BNB/USDT book — never the BNB amount read as USDT.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { feeInQuote } from '../../machines/accounting.ts';
import { WallClock } from '../../src/clock/clock.ts';
import type { CcxtExchangeClient } from '../../src/exchange/ccxt/client.ts';
import { createCcxtClient } from '../../src/exchange/ccxt/create.ts';
import { FakeBinance } from '../support/fake-binance.ts';

const clock = new WallClock();
const fake = new FakeBinance({
  clock,
  apiKey: 'k',
  secret: 's',
  assets: ['BTC', 'BNB'],
  spotBalances: { USDT: 100_000, BNB: 10 },
  spotFeeCurrency: { asset: 'BNB' },
});
let spot: CcxtExchangeClient;
let quoting: ReturnType<typeof setInterval>;

const client = (assetPrices?: Record<string, number>) =>
  createCcxtClient({
    name: 'binance',
    exchange: 'binance',
    sandbox: false,
    demo: false,
    account: `fee-asset-${assetPrices ? 'configured' : 'book'}`,
    credentials: { apiKey: 'k', secret: 's' },
    rewriteUrl: fake.rewriteUrl,
    ...(assetPrices ? { assetPrices } : {}),
  });

beforeAll(async () => {
  await fake.start();
  const quote = () => {
    fake.quote('BTC/USDT', 59_999.5, 60_000.5, 5);
    fake.quote('BNB/USDT', 599.9, 600.1, 500);
  };
  quote();
  quoting = setInterval(quote, 50);
  spot = client();
  await spot.loadMarkets();
});

afterAll(async () => {
  clearInterval(quoting);
  await spot?.close();
  await fake.close();
});

describe('ccxt adapter: fees in a third asset', () => {
  it("values a BNB commission at the venue's BNB/USDT mid, and at a configured price when one is set", async () => {
    const o = await spot.createOrder({
      symbol: 'BTC/USDT',
      side: 'buy',
      type: 'market',
      amount: 0.01,
      clientOrderId: 'Sbnb1',
    });
    const fee = o.trades[0]!.fee;
    const worth = 0.01 * 60_000.5 * 0.001;
    expect(fee.currency).toBe('BNB');
    expect(fee.cost).toBeCloseTo(worth / 600, 8);
    expect(fee.quoteCost).toBeCloseTo(fee.cost * 600, 6);
    expect(feeInQuote(o.trades[0]!)).toBeCloseTo(worth, 6);
    const configured = client({ BNB: 650 });
    await configured.loadMarkets();
    const again = await configured.fetchOrder({ clientOrderId: 'Sbnb1' }, 'BTC/USDT');
    expect(again.trades[0]!.fee.quoteCost).toBeCloseTo(fee.cost * 650, 6);
    await configured.close();
  });
});
