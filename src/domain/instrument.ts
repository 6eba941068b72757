/**
 * Instruments in ccxt's unified notation:
 *   spot                BTC/USDT
 *   linear perpetual    BTC/USDT:USDT
 *   dated future        BTC/USDT:USDT-261225   (yymmdd, expires 08:00 UTC like Binance/Bybit/OKX)
 */
export interface Instrument {
  readonly venue: string;
  readonly symbol: string;
}

export type MarketType = 'spot' | 'swap' | 'future';

export interface ParsedSymbol {
  base: string;
  quote: string;
  /** Settlement currency of a derivative; undefined for spot. */
  settle?: string;
  type: MarketType;
  /** Expiry of a dated future, epoch ms. */
  expiry?: number;
}

const SYMBOL_RE = /^([A-Z0-9]+)\/([A-Z0-9]+)(?::([A-Z0-9]+)(?:-(\d{6}))?)?$/;

export class InvalidSymbolError extends Error {
  constructor(symbol: string, reason: string) {
    super(`invalid symbol "${symbol}": ${reason}`);
    this.name = 'InvalidSymbolError';
  }
}

export function parseSymbol(symbol: string): ParsedSymbol {
  const m = SYMBOL_RE.exec(symbol);
  if (!m) {
    throw new InvalidSymbolError(
      symbol,
      'expected ccxt unified notation BASE/QUOTE, BASE/QUOTE:SETTLE or BASE/QUOTE:SETTLE-YYMMDD',
    );
  }
  const [, base, quote, settle, expiry] = m as unknown as [string, string, string, string?, string?];
  if (settle === undefined) return { base, quote, type: 'spot' };
  if (expiry === undefined) return { base, quote, settle, type: 'swap' };
  const yy = Number(expiry.slice(0, 2));
  const mm = Number(expiry.slice(2, 4));
  const dd = Number(expiry.slice(4, 6));
  const ts = Date.UTC(2000 + yy, mm - 1, dd, 8, 0, 0);
  const check = new Date(ts);
  if (check.getUTCMonth() !== mm - 1 || check.getUTCDate() !== dd) {
    throw new InvalidSymbolError(symbol, `expiry ${expiry} is not a calendar date`);
  }
  return { base, quote, settle, type: 'future', expiry: ts };
}

/** Key for maps and locks: one instrument on one venue account. */
export function instrumentKey(i: Instrument): string {
  return `${i.venue}|${i.symbol}`;
}

export function isDerivative(symbol: string): boolean {
  return symbol.includes(':');
}
