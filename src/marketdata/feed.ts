import type { VirtualClock } from '../clock/clock.ts';
import type { SimVenue } from '../exchange/sim/venue.ts';
import type { MarketDataSource, MarketEvent } from './events.ts';

/** Hands each event to the simulated venue it names; events for unknown venues are counted. */
export class VenueRouter {
  private readonly venues = new Map<string, SimVenue>();
  unrouted = 0;

  constructor(venues: Iterable<SimVenue>) {
    for (const v of venues) this.venues.set(v.name, v);
  }

  route(e: MarketEvent): void {
    const v = this.venues.get(e.venue);
    if (!v) {
      this.unrouted++;
      return;
    }
    if (e.kind === 'quote') v.onBookTicker(e);
    else v.onFundingRate(e);
  }
}

export interface ReplayResult {
  events: number;
  firstTs: number;
  lastTs: number;
}

/**
 * Replay a source through venues on a virtual clock, as fast as possible: time jumps to each
 * event, and timers due on the way (latency, funding, strategy deadlines) fire in order first.
 */
export async function replay(
  source: MarketDataSource,
  clock: VirtualClock,
  onEvent: (e: MarketEvent) => void,
  opts: { onProgress?: (events: number, ts: number) => void } = {},
): Promise<ReplayResult> {
  let n = 0;
  let firstTs = Number.NaN;
  let lastTs = Number.NaN;
  for await (const batch of source.batches()) {
    for (const e of batch) {
      const ts = e.timestamp;
      if (n === 0) firstTs = ts;
      if (ts > clock.now()) {
        if (clock.nextTimerAt() <= ts) await clock.advanceTo(ts);
        else clock.jumpTo(ts);
      }
      onEvent(e);
      lastTs = ts;
      n++;
    }
    opts.onProgress?.(n, lastTs);
  }
  return { events: n, firstTs, lastTs };
}
