import { existsSync, readFileSync } from 'node:fs';
import type { Clock } from '../clock/clock.ts';
import { type LatencyConfig, SimExchangeClient } from '../exchange/sim/client.ts';
import { type FaultConfig, FaultInjector } from '../exchange/sim/faults.ts';
import {
  type FeeTiers,
  feeOverrides,
  simMarket,
  standardSymbols,
  venueCollateralHaircuts,
} from '../exchange/sim/markets.ts';
import { SimVenue, type SimVenueState } from '../exchange/sim/venue.ts';
import { writeFileAtomic } from '../util/atomic-file.ts';

/** One simulated venue and the network between it and the engine. */
export interface PaperVenueSpec {
  name: string;
  balances: Record<string, number>;
  latency?: LatencyConfig;
  faults?: FaultConfig;
  requestTimeoutMs?: number;
  queueModel?: 'cross' | 'queue';
  liquidity?: 'persistent' | 'refresh';
  /** Fee tiers and fee currency (default: the venue's public base tier). */
  fees?: FeeTiers;
  /** What backs the derivatives (default: the venue's preset, venueCollateralHaircuts). */
  collateralHaircuts?: Record<string, number> | false;
}

export interface PaperVenuesOptions {
  venues: PaperVenueSpec[];
  bases: string[];
  datedFutures?: string[];
  clock: Clock;
  /** File holding the venues' saved state; loaded when present, written by save(). */
  statePath?: string;
}

export interface PaperVenues {
  venues: SimVenue[];
  clients: SimExchangeClient[];
  /** True when the state file existed and was restored. */
  restored: boolean;
  /** Last mid per `venue|symbol` from the restored state, to resume prices where they were. */
  restoredMids: Map<string, number>;
  save(): void;
}

interface StateFile {
  version: 1;
  venues: SimVenueState[];
}

/**
 * Simulated venues for paper trading: standard spot and perp markets per base asset, a
 * client per venue with the configured latency and faults, and save/load of the accounts
 * so that paper trading survives an engine or venue restart.
 */
export function createPaperVenues(opts: PaperVenuesOptions): PaperVenues {
  const symbols = standardSymbols(opts.bases, { datedFutures: opts.datedFutures ?? [] });
  const venues = opts.venues.map(
    (spec) =>
      new SimVenue({
        name: spec.name,
        clock: opts.clock,
        markets: symbols.map((s) => simMarket(spec.name, s, feeOverrides(spec.fees, s))),
        balances: spec.balances,
        ...(spec.fees?.assetPrices ? { assetPrices: spec.fees.assetPrices } : {}),
        ...(spec.queueModel ? { queueModel: spec.queueModel } : {}),
        ...(spec.liquidity ? { liquidity: spec.liquidity } : {}),
        collateralHaircuts: spec.collateralHaircuts ?? venueCollateralHaircuts(spec.name),
      }),
  );
  const restoredMids = new Map<string, number>();
  let restored = false;
  if (opts.statePath && existsSync(opts.statePath)) {
    let file: StateFile;
    try {
      file = JSON.parse(readFileSync(opts.statePath, 'utf8')) as StateFile;
    } catch (e) {
      throw new Error(`${opts.statePath}: venue state is not valid JSON (${(e as Error).message})`);
    }
    if (file.version !== 1 || !Array.isArray(file.venues))
      throw new Error(`${opts.statePath}: not a statearb venue state file (version ${String(file.version)})`);
    for (const s of file.venues) {
      const v = venues.find((x) => x.name === s.name);
      if (!v) continue;
      v.loadState(s);
      for (const b of s.books) restoredMids.set(`${s.name}|${b.symbol}`, (b.bid + b.ask) / 2);
    }
    restored = true;
  }
  const clients = venues.map((v, i) => {
    const spec = opts.venues[i]!;
    return new SimExchangeClient(v, {
      ...(spec.latency ? { latency: spec.latency } : {}),
      ...(spec.requestTimeoutMs ? { requestTimeoutMs: spec.requestTimeoutMs } : {}),
      faults: new FaultInjector({ ...spec.faults, seed: (spec.faults?.seed ?? 1) + i }),
    });
  });
  return {
    venues,
    clients,
    restored,
    restoredMids,
    save() {
      if (!opts.statePath) return;
      const file: StateFile = { version: 1, venues: venues.map((v) => v.toState()) };
      writeFileAtomic(opts.statePath, JSON.stringify(file));
    },
  };
}
