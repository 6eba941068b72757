import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  amountToPrecision,
  checkOrderLimits,
  decimalsOf,
  InvalidSymbolError,
  isOnStep,
  isPortableClientOrderId,
  minTradableAmount,
  notional,
  parseSymbol,
  priceToPrecision,
  roundToStep,
} from '../src/domain/index.ts';
import { simMarket } from '../src/exchange/sim/markets.ts';

describe('symbols', () => {
  it('parses ccxt unified notation for spot, perpetual and dated futures', () => {
    expect(parseSymbol('BTC/USDT')).toEqual({ base: 'BTC', quote: 'USDT', type: 'spot' });
    expect(parseSymbol('BTC/USDT:USDT')).toEqual({
      base: 'BTC',
      quote: 'USDT',
      settle: 'USDT',
      type: 'swap',
    });
    expect(parseSymbol('BTC/USDT:USDT-261225')).toEqual({
      base: 'BTC',
      quote: 'USDT',
      settle: 'USDT',
      type: 'future',
      expiry: Date.UTC(2026, 11, 25, 8),
    });
  });

  it('says why a symbol is invalid', () => {
    expect(() => parseSymbol('BTCUSDT')).toThrow(InvalidSymbolError);
    expect(() => parseSymbol('BTCUSDT')).toThrow(/ccxt unified notation/);
    expect(() => parseSymbol('BTC/USDT:USDT-261345')).toThrow(/not a calendar date/);
  });
});

describe('precision and limits', () => {
  const spot = simMarket('binance', 'BTC/USDT');
  const perp = simMarket('binance', 'BTC/USDT:USDT');

  it('rounds amounts down and prices toward the passive side', () => {
    expect(amountToPrecision(spot, 0.123456789)).toBe(0.12345);
    expect(amountToPrecision(perp, 0.0019999)).toBe(0.001);
    expect(priceToPrecision(perp, 60_000.07, 'buy')).toBe(60_000);
    expect(priceToPrecision(perp, 60_000.01, 'sell')).toBe(60_000.1);
    expect(priceToPrecision(perp, 60_000.06)).toBe(60_000.1);
    // a value already on the grid never moves, even with float noise
    expect(amountToPrecision(spot, 0.1 + 0.2)).toBe(0.3);
    expect(roundToStep(0.3, 0.1, 'ceil')).toBe(0.3);
  });

  it('roundToStep matches the decimal rounding of toFixed for any value and step', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 1e-6, max: 1e7, noNaN: true }),
        fc.constantFrom(1e-8, 1e-5, 0.001, 0.01, 0.1, 0.5, 1, 5, 25),
        fc.constantFrom('floor' as const, 'ceil' as const, 'nearest' as const),
        (v, step, mode) => {
          const r = roundToStep(v, step, mode);
          const d = decimalsOf(step);
          expect(r).toBe(Number(r.toFixed(d)));
          expect(isOnStep(r, step)).toBe(true);
          // floor/ceil may absorb float noise of a thousandth of a step, never more
          if (mode === 'floor') expect(r).toBeLessThanOrEqual(v + step * 1e-3 + Math.abs(v) * 1e-15);
          if (mode === 'ceil') expect(r).toBeGreaterThanOrEqual(v - step * 1e-3 - Math.abs(v) * 1e-15);
          expect(Math.abs(r - v)).toBeLessThanOrEqual(step * (1 + 1e-6));
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('checks min amount, min notional and precision, naming the field', () => {
    expect(checkOrderLimits(spot, { type: 'limit', amount: 0.001, price: 60_000 })).toBeUndefined();
    expect(checkOrderLimits(spot, { type: 'limit', amount: 0.00005, price: 60_000 })).toMatchObject({
      field: 'notional',
    });
    expect(checkOrderLimits(spot, { type: 'market', amount: 0.00005 }, 60_000)).toMatchObject({
      field: 'notional',
    });
    expect(checkOrderLimits(spot, { type: 'limit', amount: 0.000015, price: 60_000 })).toMatchObject({
      field: 'amount',
    });
    expect(checkOrderLimits(spot, { type: 'limit', amount: 0.001 })).toMatchObject({ field: 'price' });
    expect(checkOrderLimits(perp, { type: 'limit', amount: 0.0005, price: 60_000 })).toMatchObject({
      field: 'amount',
      reason: expect.stringMatching(/multiple of the step/),
    });
  });

  it('finds the smallest tradable amount and computes notional', () => {
    expect(minTradableAmount(spot, 60_000)).toBe(0.00009); // 5 USDT / 60 000 = 0.0000833 → ceil to step
    expect(notional(perp, -0.5, 60_000)).toBe(30_000);
  });

  it('client order ids are portable: alphanumeric, 1–26 chars, not starting with t', () => {
    expect(isPortableClientOrderId('s1c3L0A1')).toBe(true);
    expect(isPortableClientOrderId('t1')).toBe(false);
    expect(isPortableClientOrderId('a-b')).toBe(false);
    expect(isPortableClientOrderId('a'.repeat(27))).toBe(false);
  });
});
