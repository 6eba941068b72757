/**
 * Venues' refusals as ccxt's real classes raise them (each exchange's own handleErrors on the
 * body the venue sends), mapped to the port's errors: what a caller decides by.
 */
import ccxt from 'ccxt';
import { describe, expect, it } from 'vitest';
import { fromCcxtError } from '../../src/exchange/ccxt/errors.ts';

/** What ccxt's `exchange` class raises for this HTTP answer. */
function raised(exchange: string, status: number, body: unknown): unknown {
  const ex = new (ccxt as unknown as Record<string, new () => { handleErrors: (...a: unknown[]) => void }>)[
    exchange
  ]!();
  const text = JSON.stringify(body);
  try {
    ex.handleErrors(status, 'Bad Request', 'https://api.example/x', 'GET', {}, text, body, {}, '');
  } catch (e) {
    return e;
  }
  throw new Error(`${exchange} raised nothing for ${text}`);
}

describe('venue refusals through ccxt', () => {
  it('MEXC "order does not exist" (-2013) and "unknown order sent" (-2011) are not found, not a bad request', () => {
    for (const body of [
      { code: -2013, msg: 'Order does not exist.' },
      { code: -2011, msg: 'Unknown order sent.' },
    ]) {
      const e = fromCcxtError(raised('mexc', 400, body), 'mexc');
      expect(e.name).toBe('OrderNotFound');
    }
  });

  it('a MEXC refusal that is not about a missing order stays what it is', () => {
    expect(
      fromCcxtError(raised('mexc', 400, { code: 30004, msg: 'Insufficient position' }), 'mexc').name,
    ).toBe('InsufficientFunds');
    expect(fromCcxtError(raised('mexc', 400, { code: -1121, msg: 'Invalid symbol.' }), 'mexc').name).toBe(
      'InvalidOrder',
    );
  });
});
