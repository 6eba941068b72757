import type { MarketEvent } from './events.ts';
import type { SyntheticMarket } from './synthetic.ts';

/**
 * Drive a synthetic market on the wall clock (paper trading, the standalone venue): every
 * `tickMs` the events whose time has come are routed. The market must start at about now.
 */
export function startRealtimeFeed(
  market: SyntheticMarket,
  route: (e: MarketEvent) => void,
  opts: { tickMs?: number; now?: () => number } = {},
): { stop(): void } {
  const now = opts.now ?? Date.now;
  let pending: MarketEvent | undefined = market.next();
  const pump = () => {
    const t = now();
    while (pending && pending.timestamp <= t) {
      route(pending);
      pending = market.next();
    }
  };
  pump();
  const timer = setInterval(pump, opts.tickMs ?? 50);
  return { stop: () => clearInterval(timer) };
}
