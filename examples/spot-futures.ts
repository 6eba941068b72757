/**
 * Spot–futures basis (cash and carry) on a simulated venue: buy BTC spot and sell the perpetual
 * when the perp trades rich enough to pay both legs' fees in and out, hold while delta-neutral,
 * exit when the basis converges or the holding time is up.
 *
 *   node --import tsx examples/spot-futures.ts [--hours 6] [--realtime SECONDS] [--quiet]
 */
import { exampleArgs, paperWorld, printSummary } from './support/paper-world.ts';

const args = exampleArgs(6);
const world = await paperWorld(
  {
    venues: { binance: { type: 'simulated', latencyMs: 20, fees: { maker: 0, taker: 0.0002 } } },
    assets: ['BTC'],
    marketData: { source: 'synthetic', seed: 11, basisMeanBps: 20, basisVolBps: 8 },
  },
  args,
);

await world.engine.addStrategy({
  kind: 'spot-futures',
  id: 'basis-btc',
  params: {
    spot: { venue: 'binance', symbol: 'BTC/USDT' },
    perp: { venue: 'binance', symbol: 'BTC/USDT:USDT' },
    amount: 0.1,
    direction: 'long-spot',
    minEntryBasisBps: 3, // net of 4 taker fees and slippage
    exitBasisBps: 0,
    maxEntryCostPct: 0.5,
    slippageBps: 0.5,
    maxHoldingHours: 0.5,
    maxAdverseFundingHours: 8,
    deltaToleranceBase: 0.001,
    staleAfterMs: 5_000,
    maxPositionNotional: 20_000,
    maxCycles: 0,
    cooldownMs: 60_000,
  },
});
await world.run();
printSummary(world.engine);
await world.close();
