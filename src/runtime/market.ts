/** The synthetic market a config describes, for the simulated venues it names. */
import type { Config } from '../config/schema.ts';
import type { Market } from '../domain/index.ts';
import { defaultSyntheticConfig, SyntheticMarket } from '../marketdata/synthetic.ts';

const DEFAULT_PRICES: Record<string, number> = { BTC: 60_000, ETH: 3_000, SOL: 150 };
const DEFAULT_VOL: Record<string, number> = { BTC: 0.55, ETH: 0.7 };

export interface SyntheticOptions {
  venues: string[];
  markets: Market[];
  startTs: number;
  endTs?: number;
  /** Mid per `venue|symbol` where a saved paper session left off, so positions do not jump. */
  resumeMids?: Map<string, number>;
}

export function syntheticMarketFor(config: Config, opts: SyntheticOptions): SyntheticMarket {
  const md = config.marketData.source === 'synthetic' ? config.marketData : undefined;
  const base = defaultSyntheticConfig();
  return new SyntheticMarket({
    seed: md?.seed ?? 1,
    startTs: opts.startTs,
    ...(opts.endTs !== undefined ? { endTs: opts.endTs } : {}),
    stepMs: md?.stepMs ?? 250,
    markets: opts.markets,
    venues: opts.venues.map((name, i) => ({
      name,
      // The first venue is the deepest and tightest, like the largest exchange of a pair.
      spotSpreadBps: i === 0 ? 0.4 : 0.8,
      perpSpreadBps: i === 0 ? 0.3 : 0.5,
      touchNotional: i === 0 ? 40_000 : 25_000,
      perp: true,
      datedFutures: config.datedFutures,
    })),
    assets: config.assets.map((asset) => ({
      base: asset,
      price:
        opts.resumeMids?.get(`${opts.venues[0]}|${asset}/USDT`) ??
        md?.prices[asset] ??
        DEFAULT_PRICES[asset] ??
        100,
      annualVol: DEFAULT_VOL[asset] ?? 0.8,
    })),
    basis: {
      ...base.basis,
      ...(md?.basisMeanBps !== undefined ? { meanBps: md.basisMeanBps } : {}),
      ...(md?.basisVolBps !== undefined ? { volBps: md.basisVolBps } : {}),
    },
    venuePremium: {
      ...base.venuePremium,
      ...(md?.venuePremiumVolBps !== undefined ? { volBps: md.venuePremiumVolBps } : {}),
    },
  });
}
