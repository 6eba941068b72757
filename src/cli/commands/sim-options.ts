import type { ParseArgsConfig } from 'node:util';
import { WallClock } from '../../clock/clock.ts';
import { SyntheticMarket } from '../../marketdata/synthetic.ts';
import { createPaperVenues, type PaperVenues } from '../../paper/venues.ts';
import { balancesFlag, intFlag, listFlag, numFlag, rateLimitFlag, UsageError } from '../args.ts';

/** Flags shared by every command that runs simulated venues on the wall clock. */
export const simFlags = {
  venues: { type: 'string' },
  assets: { type: 'string' },
  seed: { type: 'string' },
  state: { type: 'string' },
  balances: { type: 'string' },
  'latency-ms': { type: 'string' },
  'stream-latency-ms': { type: 'string' },
  'step-ms': { type: 'string' },
  'timeout-rate': { type: 'string' },
  'reject-rate': { type: 'string' },
  'rate-limit': { type: 'string' },
  'queue-model': { type: 'string' },
} as const satisfies ParseArgsConfig['options'];

export const simFlagsHelp = `  --venues a,b            simulated venues (default binance,bybit)
  --assets BTC,ETH        base assets, each with spot and USDT perp (default BTC,ETH)
  --seed N                seed of the synthetic market and the faults (default 1)
  --state FILE            save the venues' accounts and orders here; resume from it on start
  --balances A=N,B=M      starting balances per venue (default USDT=100000,BTC=2,ETH=20)
  --latency-ms N          one-way request latency (default 0)
  --stream-latency-ms N   quote and order-update delivery latency (default 0)
  --step-ms N             synthetic market step (default 250)
  --timeout-rate P        probability an order request times out, half of them after placing
  --reject-rate P         probability an order is rejected
  --rate-limit R/W        at most R requests per W ms per venue, then 429
  --queue-model cross|queue  resting-order fill model (default cross)`;

export type SimFlagValues = { [K in keyof typeof simFlags]?: string };

export interface WallClockSim {
  paper: PaperVenues;
  market: SyntheticMarket;
  clock: WallClock;
}

export function buildWallClockSim(v: SimFlagValues): WallClockSim {
  const names = listFlag('venues', v.venues, ['binance', 'bybit']);
  const bases = listFlag('assets', v.assets, ['BTC', 'ETH'], /^[A-Z0-9]+$/);
  const seed = intFlag('seed', v.seed, 1);
  const timeoutRate = numFlag('timeout-rate', v['timeout-rate'], 0, 0, 1);
  const queueModel = v['queue-model'] ?? 'cross';
  if (queueModel !== 'cross' && queueModel !== 'queue')
    throw new UsageError(`--queue-model: expected cross or queue, got "${queueModel}"`);
  const clock = new WallClock();
  const rateLimit = rateLimitFlag(v['rate-limit']);
  const balances = balancesFlag(v.balances, { USDT: 100_000, BTC: 2, ETH: 20 });
  const latency = {
    requestMs: intFlag('latency-ms', v['latency-ms'], 0, 0, 60_000),
    streamMs: intFlag('stream-latency-ms', v['stream-latency-ms'], 0, 0, 60_000),
  };
  const rejectRate = numFlag('reject-rate', v['reject-rate'], 0, 0, 1);
  const paper = createPaperVenues({
    venues: names.map((name) => ({
      name,
      balances,
      latency,
      faults: {
        seed,
        rates: {
          timeoutBeforePlace: timeoutRate / 2,
          timeoutAfterPlace: timeoutRate / 2,
          reject: rejectRate,
        },
        ...(rateLimit ? { rateLimit } : {}),
      },
      queueModel,
    })),
    bases,
    clock,
    ...(v.state ? { statePath: v.state } : {}),
  });
  const defaults: Record<string, number> = { BTC: 60_000, ETH: 3_000, SOL: 150 };
  const market = new SyntheticMarket({
    seed,
    startTs: clock.now(),
    stepMs: intFlag('step-ms', v['step-ms'], 250, 10, 60_000),
    venues: names.map((name) => ({
      name,
      spotSpreadBps: 0.6,
      perpSpreadBps: 0.4,
      touchNotional: 30_000,
      perp: true,
    })),
    assets: bases.map((base) => ({
      base,
      // Resume prices where the saved paper session left them, so positions do not jump.
      price: paper.restoredMids.get(`${names[0]}|${base}/USDT`) ?? defaults[base] ?? 100,
      annualVol: base === 'BTC' ? 0.55 : 0.7,
    })),
  });
  return { paper, market, clock };
}
