/**
 * Futures–futures spread: the ETH perpetual on two venues. When the spread between them strays
 * from its EWMA mean by 2 standard deviations (and the expected reversion pays the fees), go long
 * the cheap one and short the rich one; exit when it comes back, on the stop loss or time limit.
 *
 *   node --import tsx examples/futures-spread.ts [--hours 6] [--realtime SECONDS] [--quiet]
 */
import { exampleArgs, paperWorld, printSummary } from './support/paper-world.ts';

const args = exampleArgs(6);
const world = await paperWorld(
  {
    venues: {
      binance: { type: 'simulated', latencyMs: 20, fees: { maker: 0, taker: 0.0002 } },
      bybit: { type: 'simulated', latencyMs: 35, fees: { maker: 0, taker: 0.0002 } },
    },
    assets: ['ETH'],
    marketData: { source: 'synthetic', seed: 5, venuePremiumVolBps: 6 },
  },
  args,
);

await world.engine.addStrategy({
  kind: 'futures-spread',
  id: 'spread-eth',
  params: {
    legA: { venue: 'binance', symbol: 'ETH/USDT:USDT' },
    legB: { venue: 'bybit', symbol: 'ETH/USDT:USDT' },
    amount: 1,
    signal: 'zscore',
    entryThreshold: 2,
    exitThreshold: 0.25,
    halfLifeSamples: 400,
    warmupSamples: 200,
    minProfitBps: 0.5,
    slippageBps: 0.5,
    stopLossQuote: 100,
    maxHoldingHours: 1,
    deltaToleranceBase: 0.001,
    staleAfterMs: 5_000,
    maxPositionNotional: 20_000,
    maxCycles: 0,
    cooldownMs: 30_000,
  },
});
await world.run();
printSummary(world.engine);
await world.close();
