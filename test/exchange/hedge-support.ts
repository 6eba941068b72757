/** What the end-to-end hedges over ccxt and the fakes share. */
import type { Order } from '../../src/domain/index.ts';

/** One cycle of a long-spot basis trade of 0.05 BTC that enters at 20 bps and exits at 2. */
export const oneCycleBasis = (spotVenue: string, perpVenue: string) => ({
  spot: { venue: spotVenue, symbol: 'BTC/USDT' },
  perp: { venue: perpVenue, symbol: 'BTC/USDT:USDT' },
  amount: 0.05,
  direction: 'long-spot' as const,
  minEntryBasisBps: 20,
  exitBasisBps: 2,
  maxEntryCostPct: 1,
  slippageBps: 5,
  maxHoldingHours: 1,
  maxAdverseFundingHours: 8,
  deltaToleranceBase: 0.001,
  staleAfterMs: 5_000,
  maxPositionNotional: 100_000,
  maxCycles: 1,
  cooldownMs: 500,
});

/** The strategy's state and books beside every order at the venues: what a timed-out wait reports. */
export const describeHedge =
  (view: () => { state: string; legs: unknown; lastError?: unknown }, orders: () => Order[]) => () =>
    JSON.stringify({
      state: view().state,
      legs: view().legs,
      err: view().lastError,
      orders: orders().map((o) => [o.clientOrderId, o.symbol, o.side, o.status, o.filled]),
    });
