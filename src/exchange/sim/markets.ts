import type { Market } from '../../domain/index.ts';
import { parseSymbol } from '../../domain/index.ts';

/**
 * Market presets for the simulated venues, with precision, limits and fees close to what the
 * named venues publish for their regular (VIP 0) tier. They are defaults for paper trading and
 * tests, not a promise about any venue's current schedule.
 */
interface AssetSpec {
  spotAmountStep: number;
  spotTick: number;
  perpAmountStep: number;
  perpTick: number;
}

const ASSETS: Record<string, AssetSpec> = {
  BTC: { spotAmountStep: 0.00001, spotTick: 0.01, perpAmountStep: 0.001, perpTick: 0.1 },
  ETH: { spotAmountStep: 0.0001, spotTick: 0.01, perpAmountStep: 0.001, perpTick: 0.01 },
  SOL: { spotAmountStep: 0.001, spotTick: 0.01, perpAmountStep: 0.01, perpTick: 0.01 },
};

interface FeeSchedule {
  spotMaker: number;
  spotTaker: number;
  perpMaker: number;
  perpTaker: number;
  spotMinNotional: number;
  perpMinNotional: number;
}

const VENUE_FEES: Record<string, FeeSchedule> = {
  binance: {
    spotMaker: 0.001,
    spotTaker: 0.001,
    perpMaker: 0.0002,
    perpTaker: 0.0005,
    spotMinNotional: 5,
    perpMinNotional: 5,
  },
  bybit: {
    spotMaker: 0.001,
    spotTaker: 0.001,
    perpMaker: 0.0002,
    perpTaker: 0.00055,
    spotMinNotional: 1,
    perpMinNotional: 5,
  },
  okx: {
    spotMaker: 0.0008,
    spotTaker: 0.001,
    perpMaker: 0.0002,
    perpTaker: 0.0005,
    spotMinNotional: 1,
    perpMinNotional: 1,
  },
};

const DEFAULT_FEES: FeeSchedule = VENUE_FEES.binance!;

/** Build the Market for `symbol` on a simulated `venue`. */
export function simMarket(venue: string, symbol: string, overrides: Partial<Market> = {}): Market {
  const p = parseSymbol(symbol);
  const a = ASSETS[p.base] ?? {
    spotAmountStep: 0.001,
    spotTick: 0.0001,
    perpAmountStep: 0.001,
    perpTick: 0.0001,
  };
  const f = VENUE_FEES[venue] ?? DEFAULT_FEES;
  const spot = p.type === 'spot';
  const m: Market = {
    venue,
    symbol,
    id: `${p.base}${p.quote}${p.type === 'future' ? `_${symbol.slice(-6)}` : ''}`,
    base: p.base,
    quote: p.quote,
    type: p.type,
    linear: !spot,
    contractSize: 1,
    precision: spot
      ? { amount: a.spotAmountStep, price: a.spotTick }
      : { amount: a.perpAmountStep, price: a.perpTick },
    limits: {
      amount: { min: spot ? a.spotAmountStep : a.perpAmountStep },
      cost: { min: spot ? f.spotMinNotional : f.perpMinNotional },
      ...(spot ? {} : { leverage: { max: 50 } }),
    },
    maker: spot ? f.spotMaker : f.perpMaker,
    taker: spot ? f.spotTaker : f.perpTaker,
    ...(spot ? {} : { maintenanceMarginRate: 0.005 }),
    ...(p.settle !== undefined ? { settle: p.settle } : {}),
    ...(p.expiry !== undefined ? { expiry: p.expiry } : {}),
    ...overrides,
  };
  return m;
}

/** Spot and linear perp for each base asset, quoted in USDT. */
export function standardSymbols(bases: string[], opts: { datedFutures?: string[] } = {}): string[] {
  const out: string[] = [];
  for (const b of bases) {
    out.push(`${b}/USDT`, `${b}/USDT:USDT`);
    for (const d of opts.datedFutures ?? []) out.push(`${b}/USDT:USDT-${d}`);
  }
  return out;
}
