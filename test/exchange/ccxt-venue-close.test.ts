/**
 * Positions the venue closes itself, seen live: the fake Binance reports a liquidation and an
 * auto-deleveraging on the USDⓈ-M user stream as Binance does (ORDER_TRADE_UPDATE of an order
 * it placed, `autoclose-…` / `adl_autoclose`), ccxt's real binanceusdm class parses them, and
 * the adapter's account stream hands each over once, as a fill the owning leg can book. The other
 * venues' markers, which ccxt keeps only in the raw order, are read from orders as ccxt shapes them.
 */
import type { Order as CcxtOrder } from 'ccxt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WallClock } from '../../src/clock/clock.ts';
import type { AccountEvent } from '../../src/domain/index.ts';
import type { CcxtExchangeClient } from '../../src/exchange/ccxt/client.ts';
import { createCcxtClient } from '../../src/exchange/ccxt/create.ts';
import { venueCloseEvent, venueCloseKind } from '../../src/exchange/ccxt/venue-closes.ts';
import { simMarket } from '../../src/exchange/sim/markets.ts';
import { FakeBinance } from '../support/fake-binance.ts';
import { until } from './wait.ts';

const PERP = 'BTC/USDT:USDT';
type VenueClose = Extract<AccountEvent, { type: 'liquidation' | 'adl' }>;
const clock = new WallClock();
const fake = new FakeBinance({
  clock,
  apiKey: 'close-key',
  secret: 'close-secret',
  futuresBalances: { USDT: 400 },
});
const px = { perp: 60_000 };
let quoting: ReturnType<typeof setInterval>;
let perp: CcxtExchangeClient;

beforeAll(async () => {
  await fake.start();
  quoting = setInterval(() => fake.quote(PERP, px.perp - 0.05, px.perp + 0.05, 5), 50);
  fake.quote(PERP, px.perp - 0.05, px.perp + 0.05, 5);
  perp = createCcxtClient({
    name: 'binanceusdm',
    exchange: 'binanceusdm',
    sandbox: false,
    demo: false,
    credentials: { apiKey: 'close-key', secret: 'close-secret' },
    rewriteUrl: fake.rewriteUrl,
  });
  await perp.loadMarkets();
});

afterAll(async () => {
  clearInterval(quoting);
  await perp?.close();
  await fake.close();
});

describe('venue closes through ccxt', () => {
  it('an auto-deleveraging and a liquidation on the user stream reach the account stream once each, as fills', async () => {
    const events: AccountEvent[] = [];
    const sub = perp.watchAccountEvents({ data: (e) => events.push(e) });
    // The order stream's subscribers share its one reader: our own orders still reach them.
    const ours: string[] = [];
    const orders = perp.watchOrders({ data: (o) => ours.push(`${o.clientOrderId} ${o.status}`) });
    // Let the user stream connect before the venue acts.
    await new Promise((r) => setTimeout(r, 500));
    await perp.createOrder({
      symbol: PERP,
      side: 'sell',
      type: 'market',
      amount: 0.02,
      clientOrderId: 'Sclose1',
    });
    expect(fake.futures.positions([PERP])[0]!.size).toBeCloseTo(-0.02, 9);

    // Half the short deleveraged at the mark, without a fee.
    fake.futures.autoDeleverage(PERP, 0.5);
    await until(
      () => events.length === 1,
      () => JSON.stringify(events),
      20_000,
    );
    expect(events[0]).toMatchObject({ type: 'adl', symbol: PERP, size: -0.01 });
    const adl = (events[0] as VenueClose).fill!;
    expect(adl).toMatchObject({ symbol: PERP, side: 'buy', amount: 0.01 });
    expect(adl.price).toBeCloseTo(60_000, 1);
    expect(adl.fee.cost).toBe(0);

    // An 85 % rally takes the 400 USDT wallet: the venue liquidates the rest, with its fee.
    px.perp = 111_000;
    await until(
      () => events.length === 2,
      () => JSON.stringify(events),
      20_000,
    );
    expect(events[1]).toMatchObject({ type: 'liquidation', symbol: PERP, size: -0.01 });
    const liq = (events[1] as VenueClose).fill!;
    expect(liq).toMatchObject({ side: 'buy', amount: 0.01 });
    expect(liq.fee.cost).toBeGreaterThan(0);
    expect(liq.id).not.toBe(adl.id);
    expect(fake.futures.positions([PERP])[0]?.size ?? 0).toBe(0);
    // Nothing twice, and our own orders are not venue closes.
    await new Promise((r) => setTimeout(r, 300));
    expect(events).toHaveLength(2);
    expect(ours).toContain('Sclose1 closed');
    expect(ours.some((o) => o.includes('autoclose'))).toBe(false);
    sub.close();
    orders.close();
  });

  it('reads the markers of Bybit, OKX, Gate and MEXC from the raw orders ccxt keeps', () => {
    const order = (info: Record<string, unknown>, clientOrderId?: string) =>
      ({
        id: '77',
        clientOrderId,
        symbol: PERP,
        side: 'buy',
        type: 'market',
        status: 'closed',
        amount: 0.5,
        filled: 0.5,
        remaining: 0,
        average: 61_000,
        fee: { cost: 3, currency: 'USDT' },
        timestamp: 1,
        info,
      }) as unknown as CcxtOrder;
    expect(venueCloseKind('bybit', order({ createType: 'CreateByLiq' }))).toBe('liquidation');
    expect(venueCloseKind('bybit', order({ createType: 'CreateByTakeOver_PassThrough' }))).toBe(
      'liquidation',
    );
    expect(venueCloseKind('bybit', order({ createType: 'CreateByAdl_PassThrough' }))).toBe('adl');
    expect(venueCloseKind('bybit', order({ createType: 'CreateByUser' }))).toBeUndefined();
    expect(venueCloseKind('okx', order({ category: 'partial_liquidation' }))).toBe('liquidation');
    expect(venueCloseKind('okx', order({ category: 'adl' }))).toBe('adl');
    expect(venueCloseKind('okx', order({ category: 'normal' }))).toBeUndefined();
    expect(venueCloseKind('gate', order({ text: 'liq-123' }, 'liq-123'))).toBe('liquidation');
    expect(venueCloseKind('gate', order({ text: 'auto_deleveraging' }, 'auto_deleveraging'))).toBe('adl');
    expect(venueCloseKind('gate', order({ text: 't-Sabc' }, 't-Sabc'))).toBeUndefined();
    // Our own order, whatever the venue says it finished as, is never its close.
    const own = 't-Sevjaki433w000006e00a02';
    expect(venueCloseKind('gate', order({ text: own, finish_as: 'auto_deleveraged' }, own))).toBeUndefined();
    expect(venueCloseKind('mexc', order({ category: 2 }))).toBe('liquidation');
    expect(venueCloseKind('mexc', order({ category: 4 }))).toBe('adl');
    expect(venueCloseKind('mexc', order({ category: 1 }))).toBeUndefined();
    expect(venueCloseKind('binance', order({}, 'settlement_autoclose-1'))).toBeUndefined();
    // A close that has not filled yet is not an event; once filled it is one fill, by the order id.
    const m = simMarket('gate', PERP);
    expect(
      venueCloseEvent('liquidation', { ...order({}), status: 'open', filled: 0 } as CcxtOrder, m),
    ).toBeUndefined();
    expect(venueCloseEvent('liquidation', order({}), m)).toMatchObject({
      size: -0.5,
      fill: { id: 'gate-liquidation-77', side: 'buy', amount: 0.5, price: 61_000, fee: { cost: 3 } },
    });
  });
});
