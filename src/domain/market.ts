import { InvalidOrder } from './errors.ts';
import type { MarketType } from './instrument.ts';
import { decimalsOf, isOnStep, type RoundingMode, roundToStep } from './num.ts';
import type { OrderRequest, Side } from './order.ts';

/**
 * A tradable market as loaded from a venue. Precision is expressed as tick sizes (ccxt's
 * TICK_SIZE precision mode): `precision.amount = 0.001` means amounts are multiples of 0.001.
 */
export interface Market {
  venue: string;
  symbol: string;
  /** The venue's own id (BTCUSDT), for adapters. */
  id: string;
  base: string;
  quote: string;
  settle?: string;
  type: MarketType;
  /** Linear (USDT-margined) derivative; spot markets are neither linear nor inverse. */
  linear: boolean;
  /** Base units per contract; 1 for spot and for venues quoting amounts in base. */
  contractSize: number;
  expiry?: number;
  precision: { amount: number; price: number };
  limits: {
    amount: { min: number; max?: number };
    /** Minimum notional (amount × price × contractSize) in quote currency. */
    cost: { min: number };
    leverage?: { max: number };
  };
  /** Fee rates as fractions (0.001 = 10 bps). Negative maker fee is a rebate. */
  maker: number;
  taker: number;
  /** Maintenance margin rate for derivatives (fraction of notional). */
  maintenanceMarginRate?: number;
  /** The currency a spot market charges its fees in (derivatives pay in the settle currency). */
  feeCurrency?: FeeCurrency;
}

/**
 * How a spot venue charges fees: `quote` (OKX, Bybit), `received` — the asset the trade
 * delivers, base on a buy and quote on a sell (Binance's default) — or a third asset such as
 * BNB (Binance with "pay fees with BNB"; the venue falls back to `received` when the account
 * holds too little of it). A fee in the base asset moves the position; a third asset's fee is
 * worth its price at the fill.
 */
export type FeeCurrency = 'quote' | 'received' | { asset: string };

/** The currency a spot fill of `side` is charged in under `mode` (third assets aside). */
export function feeAssetOf(m: Pick<Market, 'base' | 'quote' | 'feeCurrency'>, side: 'buy' | 'sell'): string {
  const mode = m.feeCurrency ?? 'quote';
  if (mode === 'quote') return m.quote;
  if (mode === 'received') return side === 'buy' ? m.base : m.quote;
  return mode.asset;
}

export function isDerivativeMarket(m: Market): boolean {
  return m.type !== 'spot';
}

/** Notional value in quote currency. */
export function notional(m: Pick<Market, 'contractSize'>, amount: number, price: number): number {
  return Math.abs(amount) * price * m.contractSize;
}

export function feeCost(m: Market, amount: number, price: number, takerOrMaker: 'taker' | 'maker'): number {
  return notional(m, amount, price) * (takerOrMaker === 'taker' ? m.taker : m.maker);
}

const decimalsCache = new WeakMap<Market, { amount: number; price: number }>();
function marketDecimals(m: Market): { amount: number; price: number } {
  let d = decimalsCache.get(m);
  if (!d) {
    d = { amount: decimalsOf(m.precision.amount), price: decimalsOf(m.precision.price) };
    decimalsCache.set(m, d);
  }
  return d;
}

/** Round an amount down to the step: never trade more than asked. */
export function amountToPrecision(m: Market, amount: number, mode: RoundingMode = 'floor'): number {
  return roundToStep(amount, m.precision.amount, mode, marketDecimals(m).amount);
}

/**
 * Round a price to the tick. Default rounds toward the passive side (buy down, sell up) so that
 * rounding never makes a limit order more aggressive than the caller asked.
 */
export function priceToPrecision(m: Market, price: number, side?: Side, mode?: RoundingMode): number {
  const r: RoundingMode = mode ?? (side === 'buy' ? 'floor' : side === 'sell' ? 'ceil' : 'nearest');
  return roundToStep(price, m.precision.price, r, marketDecimals(m).price);
}

export interface LimitViolation {
  field: 'amount' | 'price' | 'notional';
  reason: string;
}

/**
 * Check an order against the market's precision and limits. `refPrice` is used for the
 * notional of market orders (ccxt does not check min notional; the venue would reject later,
 * after a round trip, so we check before sending).
 */
export function checkOrderLimits(
  m: Market,
  req: Pick<OrderRequest, 'amount' | 'price' | 'type'>,
  refPrice?: number,
): LimitViolation | undefined {
  if (!Number.isFinite(req.amount) || req.amount <= 0)
    return { field: 'amount', reason: `amount must be a positive number, got ${req.amount}` };
  if (!isOnStep(req.amount, m.precision.amount))
    return {
      field: 'amount',
      reason: `amount ${req.amount} is not a multiple of the step ${m.precision.amount}`,
    };
  if (req.amount < m.limits.amount.min - 1e-12)
    return { field: 'amount', reason: `amount ${req.amount} is below the minimum ${m.limits.amount.min}` };
  if (m.limits.amount.max !== undefined && req.amount > m.limits.amount.max)
    return { field: 'amount', reason: `amount ${req.amount} is above the maximum ${m.limits.amount.max}` };
  if (req.type === 'limit') {
    if (req.price === undefined || !Number.isFinite(req.price) || req.price <= 0)
      return { field: 'price', reason: `limit order needs a positive price, got ${req.price}` };
    if (!isOnStep(req.price, m.precision.price))
      return {
        field: 'price',
        reason: `price ${req.price} is not a multiple of the tick ${m.precision.price}`,
      };
  }
  const px = req.type === 'limit' ? req.price : refPrice;
  if (px !== undefined) {
    const n = notional(m, req.amount, px);
    if (n < m.limits.cost.min - 1e-9)
      return {
        field: 'notional',
        reason: `notional ${n.toFixed(4)} ${m.quote} is below the minimum ${m.limits.cost.min}`,
      };
  }
  return undefined;
}

/** Throwing form of {@link checkOrderLimits}, as a venue would answer. */
export function assertOrderLimits(
  m: Market,
  req: Pick<OrderRequest, 'amount' | 'price' | 'type'>,
  refPrice?: number,
): void {
  const v = checkOrderLimits(m, req, refPrice);
  if (v) throw new InvalidOrder(`${m.venue} ${m.symbol}: ${v.reason}`, v.field);
}

/** Smallest amount that satisfies both min amount and min notional at `price`. */
export function minTradableAmount(m: Market, price: number): number {
  const byNotional = m.limits.cost.min / (price * m.contractSize);
  return amountToPrecision(m, Math.max(m.limits.amount.min, byNotional), 'ceil');
}
