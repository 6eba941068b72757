/**
 * Cross-exchange arbitrage with inventory on both venues: when one venue's bid is above the
 * other's ask by more than both taker fees plus 2 bps, buy on the cheap venue and sell on the
 * rich one at once (IOC), sized by the top of book, balances and maxNotional.
 *
 *   node --import tsx examples/cross-arbitrage.ts [--hours 6] [--realtime SECONDS] [--quiet]
 */
import { exampleArgs, paperWorld, printSummary } from './support/paper-world.ts';

const args = exampleArgs(6);
const world = await paperWorld(
  {
    venues: {
      binance: {
        type: 'simulated',
        latencyMs: 10,
        balances: { USDT: 50_000, ETH: 15 },
        fees: { maker: 0, taker: 0.0002 },
      },
      bybit: {
        type: 'simulated',
        latencyMs: 25,
        balances: { USDT: 50_000, ETH: 15 },
        fees: { maker: 0, taker: 0.0002 },
      },
    },
    assets: ['ETH'],
    marketData: { source: 'synthetic', seed: 8, venuePremiumVolBps: 5 },
  },
  args,
);

await world.engine.addStrategy({
  kind: 'cross-arbitrage',
  id: 'arb-eth',
  params: {
    venueA: { venue: 'binance', symbol: 'ETH/USDT' },
    venueB: { venue: 'bybit', symbol: 'ETH/USDT' },
    minProfitBps: 2,
    slippageBps: 0.5,
    maxNotional: 3_000,
    maxBalanceFraction: 0.5,
    staleAfterMs: 2_000,
    maxExecutions: 0,
    cooldownMs: 5_000,
    toleranceBase: 0.001,
  },
});
await world.run();
printSummary(world.engine);
await world.close();
