/**
 * The pieces every kind's params schema is made of: instruments, ccxt symbols, positive and
 * non-negative numbers. A kind's schema is the one source of its params' type (`z.output`).
 */
import { z } from 'zod';
import { parseSymbol } from '../../../src/domain/index.ts';

const symbol = z.string().refine(
  (s) => {
    try {
      parseSymbol(s);
      return true;
    } catch {
      return false;
    }
  },
  { message: 'not a ccxt unified symbol (BTC/USDT, BTC/USDT:USDT, BTC/USDT:USDT-261225)' },
);

export const instrumentSchema = z
  .strictObject({
    venue: z.string().min(1).describe('venue name as configured under venues'),
    symbol: symbol.describe('ccxt unified symbol'),
  })
  .describe('an instrument: { venue, symbol }');

export const pos = () => z.number().positive();
export const nonneg = () => z.number().nonnegative();

/** Stop after this many (0: until stopped). */
export const maxCount = (what: string) =>
  z.number().int().nonnegative().default(0).describe(`${what} (0 = until stopped)`);
