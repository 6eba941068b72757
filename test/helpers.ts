import { VirtualClock } from '../src/clock/clock.ts';
import type { BookTicker } from '../src/domain/index.ts';
import { type SimClientOptions, SimExchangeClient } from '../src/exchange/sim/client.ts';
import { simMarket } from '../src/exchange/sim/markets.ts';
import { SimVenue, type SimVenueOptions } from '../src/exchange/sim/venue.ts';

export const SPOT = 'BTC/USDT';
export const PERP = 'BTC/USDT:USDT';

/** A venue with BTC spot and perp at round-number fees so hand computations stay readable. */
export function makeVenue(opts: Partial<SimVenueOptions> = {}): { venue: SimVenue; clock: VirtualClock } {
  const clock = (opts.clock as VirtualClock | undefined) ?? new VirtualClock(1_700_000_000_000);
  const venue = new SimVenue({
    name: 'sim',
    clock,
    markets: [
      simMarket('sim', SPOT, { maker: 0.001, taker: 0.002 }),
      simMarket('sim', PERP, { maker: 0.0002, taker: 0.0005 }),
    ],
    balances: { USDT: 100_000, BTC: 1 },
    ...opts,
  });
  return { venue, clock };
}

export function makeClient(opts: Partial<SimVenueOptions> = {}, clientOpts: SimClientOptions = {}) {
  const { venue, clock } = makeVenue(opts);
  return { venue, clock, client: new SimExchangeClient(venue, clientOpts) };
}

export function quote(
  symbol: string,
  bid: number,
  ask: number,
  bidSize = 1,
  askSize = 1,
  timestamp = 0,
): BookTicker {
  return { symbol, bid, bidSize, ask, askSize, timestamp };
}
