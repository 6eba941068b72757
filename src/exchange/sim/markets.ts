import type { FeeCurrency, Market } from '../../domain/index.ts';
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
  /** What spot fees are charged in on the base tier (all three charge the asset received). */
  spotFeeCurrency: FeeCurrency;
}

const VENUE_FEES: Record<string, FeeSchedule> = {
  binance: {
    spotMaker: 0.001,
    spotTaker: 0.001,
    perpMaker: 0.0002,
    perpTaker: 0.0005,
    spotMinNotional: 5,
    perpMinNotional: 5,
    spotFeeCurrency: 'received',
  },
  bybit: {
    spotMaker: 0.001,
    spotTaker: 0.001,
    perpMaker: 0.0002,
    perpTaker: 0.00055,
    spotMinNotional: 1,
    perpMinNotional: 5,
    spotFeeCurrency: 'received',
  },
  okx: {
    spotMaker: 0.0008,
    spotTaker: 0.001,
    perpMaker: 0.0002,
    perpTaker: 0.0005,
    spotMinNotional: 1,
    perpMinNotional: 1,
    spotFeeCurrency: 'received',
  },
};

/**
 * What backs a venue's derivatives (SimVenueOptions.collateralHaircuts), per preset: Binance's
 * regular account keeps spot and USDⓈ-M futures in separate wallets, so only the futures wallet
 * margins the perp (`false`); Bybit's unified trading account and OKX's multi-currency margin
 * count spot holdings at a haircut, close to their base-tier collateral ratios (BTC and ETH 5 %,
 * other assets 10 %). A venue without a preset is unified, with those haircuts.
 */
const VENUE_COLLATERAL: Record<string, Record<string, number> | false> = {
  binance: false,
  bybit: { BTC: 0.05, ETH: 0.05, default: 0.1 },
  okx: { BTC: 0.05, ETH: 0.05, default: 0.1 },
};

export function venueCollateralHaircuts(venue: string): Record<string, number> | false {
  const preset = VENUE_COLLATERAL[venue];
  return preset === undefined
    ? { BTC: 0.05, ETH: 0.05, default: 0.1 }
    : preset === false
      ? false
      : { ...preset };
}

/** A venue without a preset: Binance's rates, fees in the quote (the simplest books to read). */
const DEFAULT_FEES: FeeSchedule = { ...VENUE_FEES.binance!, spotFeeCurrency: 'quote' };

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
    ...(spot ? { feeCurrency: f.spotFeeCurrency } : { maintenanceMarginRate: 0.005 }),
    ...(p.settle !== undefined ? { settle: p.settle } : {}),
    ...(p.expiry !== undefined ? { expiry: p.expiry } : {}),
    ...overrides,
  };
  return m;
}

/** A venue's configured fees (`venues.X.fees`); the most specific entry wins. */
export interface FeeTiers {
  maker?: number;
  taker?: number;
  spot?: { maker: number; taker: number };
  derivatives?: { maker: number; taker: number };
  symbols?: Record<string, { maker: number; taker: number }>;
  /** quote | received | an asset code such as BNB. */
  spotFeeCurrency?: string;
  assetPrices?: Record<string, number>;
}

/** What `fees` changes in the preset market of `symbol`: symbol tier > market type tier > venue-wide. */
export function feeOverrides(fees: FeeTiers | undefined, symbol: string): Partial<Market> {
  if (!fees) return {};
  const spot = parseSymbol(symbol).type === 'spot';
  const tier =
    fees.symbols?.[symbol] ??
    (spot ? fees.spot : fees.derivatives) ??
    (fees.maker !== undefined && fees.taker !== undefined
      ? { maker: fees.maker, taker: fees.taker }
      : undefined);
  const c = fees.spotFeeCurrency;
  const currency: FeeCurrency | undefined =
    c === undefined ? undefined : c === 'quote' || c === 'received' ? c : { asset: c };
  return {
    ...(tier ? { maker: tier.maker, taker: tier.taker } : {}),
    ...(spot && currency ? { feeCurrency: currency } : {}),
  };
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
