import { type Market, roundToStep } from '../domain/index.ts';
import { simMarket } from '../exchange/sim/markets.ts';
import { Rng } from '../util/random.ts';
import type { FundingEvent, MarketDataSource, MarketEvent, QuoteEvent } from './events.ts';

const YEAR_MS = 365 * 86_400_000;
const HOUR_MS = 3_600_000;

export interface SyntheticAsset {
  base: string;
  /** Starting price in USDT. */
  price: number;
  /** Annualised volatility of the common price, e.g. 0.6. */
  annualVol: number;
}

export interface SyntheticVenue {
  name: string;
  /** Typical quoted spread of the spot market, bps. */
  spotSpreadBps: number;
  /** Typical quoted spread of the perpetual, bps. */
  perpSpreadBps: number;
  /** Median displayed size at the touch, in USDT notional (converted to base per asset). */
  touchNotional: number;
  /** Markets listed: spot always; perpetual and dated futures (yymmdd) optional. */
  perp?: boolean;
  datedFutures?: string[];
}

export interface OuParams {
  /** Long-run mean, bps. */
  meanBps: number;
  /** Stationary standard deviation, bps. */
  volBps: number;
  /** Half-life of a deviation, minutes. */
  halfLifeMin: number;
  /** Expected shocks per hour; a shock jumps the process by ±shockBps (× a random factor). */
  shocksPerHour: number;
  shockBps: number;
}

export interface SyntheticConfig {
  seed: number;
  startTs: number;
  /** Stop after this time (exclusive); omit for an endless stream. */
  endTs?: number;
  /** Simulation step, ms. Each instrument quotes at most once per step. */
  stepMs: number;
  assets: SyntheticAsset[];
  venues: SyntheticVenue[];
  /** Perp-over-spot basis per venue and asset (mean-reverting, with shocks that open entries). */
  basis: OuParams;
  /** Each venue's price premium over the common price (cross-venue arbitrage). */
  venuePremium: OuParams;
  /** Annualised premium of dated futures over spot (cash-and-carry), bps per year. */
  futuresCarryBpsPerYear: number;
  /** Price jumps of the common price: expected per hour and typical size in bps. */
  jumps: { perHour: number; sizeBps: number };
  /** Volatility bursts: expected per hour, peak multiplier, half-life minutes. */
  bursts: { perHour: number; multiplier: number; halfLifeMin: number };
  /** Probability that an instrument updates its quote in a step. */
  updateProbability: number;
  funding: { intervalMs: number; publishEveryMs: number; interestRate: number };
  /** Markets for tick and lot sizes; defaults to the simulator presets. */
  markets?: Market[];
}

export function defaultSyntheticConfig(overrides: Partial<SyntheticConfig> = {}): SyntheticConfig {
  return {
    seed: 1,
    startTs: Date.UTC(2026, 0, 1),
    stepMs: 250,
    assets: [
      { base: 'BTC', price: 60_000, annualVol: 0.55 },
      { base: 'ETH', price: 3_000, annualVol: 0.7 },
    ],
    venues: [
      { name: 'binance', spotSpreadBps: 0.4, perpSpreadBps: 0.3, touchNotional: 40_000, perp: true },
      { name: 'bybit', spotSpreadBps: 0.8, perpSpreadBps: 0.5, touchNotional: 25_000, perp: true },
    ],
    basis: { meanBps: 4, volBps: 6, halfLifeMin: 20, shocksPerHour: 3, shockBps: 25 },
    venuePremium: { meanBps: 0, volBps: 2.5, halfLifeMin: 2, shocksPerHour: 6, shockBps: 18 },
    futuresCarryBpsPerYear: 800,
    jumps: { perHour: 0.5, sizeBps: 40 },
    bursts: { perHour: 0.5, multiplier: 3, halfLifeMin: 15 },
    updateProbability: 0.7,
    funding: { intervalMs: 8 * HOUR_MS, publishEveryMs: 60_000, interestRate: 0.0001 },
    ...overrides,
  };
}

interface Instrument {
  venue: string;
  symbol: string;
  kind: 'spot' | 'swap' | 'future';
  assetIdx: number;
  venueIdx: number;
  expiry?: number;
  spreadBps: number;
  tick: number;
  lot: number;
  medianSize: number;
}

class Ou {
  x: number;
  private readonly decay: number;
  private readonly noise: number;
  private readonly shockP: number;
  constructor(
    private readonly p: OuParams,
    stepMs: number,
    rng: Rng,
  ) {
    const tau = (p.halfLifeMin * 60_000) / Math.LN2;
    this.decay = Math.exp(-stepMs / tau);
    this.noise = p.volBps * Math.sqrt(1 - this.decay * this.decay);
    this.shockP = (p.shocksPerHour * stepMs) / HOUR_MS;
    this.x = p.meanBps + p.volBps * rng.normal();
  }
  step(rng: Rng): number {
    this.x = this.p.meanBps + (this.x - this.p.meanBps) * this.decay + this.noise * rng.normal();
    if (rng.chance(this.shockP)) this.x += (rng.next() < 0.5 ? -1 : 1) * this.p.shockBps * (0.5 + rng.next());
    return this.x;
  }
}

/**
 * Seeded synthetic market: spot and perpetual (and dated futures) of each asset on several
 * venues, all driven by one common random walk with jumps and volatility bursts. Each venue
 * carries a mean-reverting premium over the common price and each perp a mean-reverting
 * basis over its spot, both with occasional shocks — so real, fleeting opportunities for
 * basis, calendar and cross-venue strategies appear now and then. Funding follows the perp's
 * premium the way Binance computes it (premium + clamp(interest − premium, ±0.05 %)).
 *
 * The same seed and config produce the same event stream, bit for bit.
 */
export class SyntheticMarket implements MarketDataSource {
  readonly config: SyntheticConfig;
  readonly instruments: { venue: string; symbol: string }[];
  private readonly rng: Rng;
  private readonly inst: Instrument[];
  private readonly logPrice: number[];
  private readonly stepVol: number[];
  private readonly premium: Ou[][];
  private readonly basis: Ou[][];
  private readonly jumpP: number;
  private readonly burstP: number;
  private readonly burstDecay: number;
  private burst = 0;
  private t: number;
  private nextFundingPublish: number;
  private readonly queue: MarketEvent[] = [];
  private qi = 0;
  private first = true;

  constructor(config: Partial<SyntheticConfig> = {}) {
    const c = defaultSyntheticConfig(config);
    this.config = c;
    this.rng = new Rng(c.seed);
    this.t = c.startTs;
    this.nextFundingPublish = c.startTs;
    this.logPrice = c.assets.map((a) => Math.log(a.price));
    this.stepVol = c.assets.map((a) => a.annualVol * Math.sqrt(c.stepMs / YEAR_MS));
    this.premium = c.venues.map((_, vi) =>
      c.assets.map(
        () => new Ou(vi === 0 ? { ...c.venuePremium, shocksPerHour: 0 } : c.venuePremium, c.stepMs, this.rng),
      ),
    );
    this.basis = c.venues.map(() => c.assets.map(() => new Ou(c.basis, c.stepMs, this.rng)));
    this.jumpP = (c.jumps.perHour * c.stepMs) / HOUR_MS;
    this.burstP = (c.bursts.perHour * c.stepMs) / HOUR_MS;
    this.burstDecay = Math.exp((-c.stepMs * Math.LN2) / (c.bursts.halfLifeMin * 60_000));
    const byKey = new Map((c.markets ?? []).map((m) => [`${m.venue}|${m.symbol}`, m]));
    const marketFor = (venue: string, symbol: string) =>
      byKey.get(`${venue}|${symbol}`) ?? simMarket(venue, symbol);
    this.inst = [];
    c.venues.forEach((v, venueIdx) => {
      c.assets.forEach((a, assetIdx) => {
        const add = (symbol: string, kind: Instrument['kind'], spreadBps: number, expiry?: number) => {
          const m = marketFor(v.name, symbol);
          this.inst.push({
            venue: v.name,
            symbol,
            kind,
            assetIdx,
            venueIdx,
            spreadBps,
            tick: m.precision.price,
            lot: m.precision.amount,
            medianSize: v.touchNotional / a.price / m.contractSize,
            ...(expiry !== undefined ? { expiry } : {}),
          });
        };
        add(`${a.base}/USDT`, 'spot', v.spotSpreadBps);
        if (v.perp !== false) add(`${a.base}/USDT:USDT`, 'swap', v.perpSpreadBps);
        for (const d of v.datedFutures ?? []) {
          const m = marketFor(v.name, `${a.base}/USDT:USDT-${d}`);
          add(m.symbol, 'future', v.perpSpreadBps * 1.5, m.expiry);
        }
      });
    });
    this.instruments = this.inst.map((i) => ({ venue: i.venue, symbol: i.symbol }));
  }

  /** Current simulated time (start of the next step). */
  now(): number {
    return this.t;
  }

  /** Next event in time order, or undefined after endTs. */
  next(): MarketEvent | undefined {
    while (this.qi >= this.queue.length) {
      if (this.config.endTs !== undefined && this.t >= this.config.endTs) return undefined;
      this.queue.length = 0;
      this.qi = 0;
      this.step();
    }
    return this.queue[this.qi++];
  }

  async *batches(size = 4096): AsyncIterable<MarketEvent[]> {
    for (;;) {
      const batch: MarketEvent[] = [];
      for (let i = 0; i < size; i++) {
        const e = this.next();
        if (!e) break;
        batch.push(e);
      }
      if (batch.length === 0) return;
      yield batch;
    }
  }

  /** Advance one step and queue its events, sorted by timestamp. */
  private step(): void {
    const c = this.config;
    const rng = this.rng;
    const t = this.t;
    if (rng.chance(this.burstP)) this.burst = c.bursts.multiplier - 1;
    else this.burst *= this.burstDecay;
    const volMult = 1 + this.burst;
    for (let a = 0; a < this.logPrice.length; a++) {
      let dx = this.stepVol[a]! * volMult * rng.normal();
      if (rng.chance(this.jumpP)) dx += (c.jumps.sizeBps / 1e4) * rng.normal();
      this.logPrice[a]! += dx;
    }
    for (let v = 0; v < c.venues.length; v++) {
      for (let a = 0; a < c.assets.length; a++) {
        this.premium[v]![a]!.step(rng);
        this.basis[v]![a]!.step(rng);
      }
    }
    const out = this.queue;
    for (const ins of this.inst) {
      if (!this.first && !rng.chance(c.updateProbability)) continue;
      const spot =
        Math.exp(this.logPrice[ins.assetIdx]!) * (1 + this.premium[ins.venueIdx]![ins.assetIdx]!.x / 1e4);
      let mid = spot;
      if (ins.kind === 'swap') mid = spot * (1 + this.basis[ins.venueIdx]![ins.assetIdx]!.x / 1e4);
      else if (ins.kind === 'future') {
        const years = Math.max(0, (ins.expiry! - t) / YEAR_MS);
        mid =
          spot * (1 + (this.basis[ins.venueIdx]![ins.assetIdx]!.x + c.futuresCarryBpsPerYear * years) / 1e4);
      }
      const half = (mid * ins.spreadBps * (0.5 + rng.next()) * Math.sqrt(volMult)) / 2e4;
      const bid = roundToStep(mid - half, ins.tick, 'floor');
      let ask = roundToStep(mid + half, ins.tick, 'ceil');
      if (ask <= bid) ask = roundToStep(bid + ins.tick, ins.tick, 'nearest');
      const size = () =>
        Math.max(ins.lot, roundToStep(rng.logNormal(ins.medianSize, 0.8), ins.lot, 'nearest'));
      const q: QuoteEvent = {
        kind: 'quote',
        venue: ins.venue,
        symbol: ins.symbol,
        bid,
        bidSize: size(),
        ask,
        askSize: size(),
        // The first step opens every book at the start time; later quotes spread over the step.
        timestamp: this.first ? t : t + Math.floor(rng.next() * c.stepMs),
      };
      out.push(q);
    }
    if (t >= this.nextFundingPublish) {
      this.nextFundingPublish += c.funding.publishEveryMs;
      const interval = c.funding.intervalMs;
      for (const ins of this.inst) {
        if (ins.kind !== 'swap') continue;
        const premium = this.basis[ins.venueIdx]![ins.assetIdx]!.x / 1e4;
        const r = c.funding.interestRate;
        const rate = premium + Math.min(0.0005, Math.max(-0.0005, r - premium));
        const f: FundingEvent = {
          kind: 'funding',
          venue: ins.venue,
          symbol: ins.symbol,
          rate: Math.max(-0.0075, Math.min(0.0075, rate)),
          nextFundingTimestamp: Math.floor(t / interval) * interval + interval,
          intervalMs: interval,
          timestamp: t,
        };
        out.push(f);
      }
    }
    out.sort((x, y) => x.timestamp - y.timestamp);
    this.first = false;
    this.t += c.stepMs;
  }
}
