/**
 * Market making on a perpetual: two levels of bids and asks around the mid, skewed against the
 * inventory, never more than 0.2 BTC long or short; orders are replaced when the desired price
 * moves more than the tolerance (and the order is old enough), and quoting pauses on stale data.
 *
 *   node --import tsx examples/market-making.ts [--hours 1] [--realtime SECONDS] [--quiet]
 */
import { exampleArgs, paperWorld, printSummary } from './support/paper-world.ts';

const args = exampleArgs(1);
const world = await paperWorld(
  {
    venues: {
      bybit: {
        type: 'simulated',
        latencyMs: 15,
        streamLatencyMs: 5,
        fees: { maker: -0.00005, taker: 0.00055 },
      },
    },
    assets: ['BTC'],
    marketData: { source: 'synthetic', seed: 21 },
  },
  args,
);

await world.engine.addStrategy({
  kind: 'market-making',
  id: 'maker-btc',
  params: {
    market: { venue: 'bybit', symbol: 'BTC/USDT:USDT' },
    orderAmount: 0.02,
    levels: 2,
    spreadBps: 1.5,
    levelSpacingBps: 2,
    reference: 'micro',
    inventorySkewBpsPerUnit: 20,
    maxInventoryBase: 0.2,
    refreshToleranceBps: 1,
    minOrderAgeMs: 1_000,
    staleAfterMs: 3_000,
    rejectBackoffMs: 1_000,
    maxPositionNotional: 20_000,
  },
});
await world.run();
const s = world.engine.status().strategies[0]!;
process.stdout.write(`\nopen orders at the end: ${s.openOrders.length}\n`);
printSummary(world.engine);
await world.close();
