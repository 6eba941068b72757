/**
 * Stress demo: hundreds of strategies across many symbols and venues in one engine — a basis
 * trade on every spot/perp pair and a market maker on every dated future — driven by the
 * synthetic market on a virtual clock. Prints throughput, memory per strategy and what traded.
 *
 *   node --expose-gc --import tsx examples/stress.ts [--assets 60] [--venues 3] [--minutes 1]
 */
import { parseArgs } from 'node:util';
import { VirtualClock } from '../src/clock/clock.ts';
import { validateConfig } from '../src/config/load.ts';
import { createEngine } from '../src/engine/engine.ts';
import { VenueRouter } from '../src/marketdata/feed.ts';
import { createPaperVenues } from '../src/paper/venues.ts';
import { syntheticMarketFor } from '../src/runtime/market.ts';
import { paperVenueSpec } from '../src/runtime/venues.ts';
import { MemoryStore } from '../src/store/memory.ts';

const { values } = parseArgs({
  options: { assets: { type: 'string' }, venues: { type: 'string' }, minutes: { type: 'string' } },
  strict: true,
});
const nAssets = Number(values.assets ?? 60);
const nVenues = Number(values.venues ?? 3);
const minutes = Number(values.minutes ?? 1);
if (!(nAssets >= 1 && nAssets <= 500 && nVenues >= 1 && nVenues <= 6 && minutes > 0))
  throw new Error('--assets 1..500, --venues 1..6, --minutes > 0');

const EXPIRY = '261225';
const assets = Array.from({ length: nAssets }, (_, i) => `X${String(i).padStart(3, '0')}`);
const venueNames = ['binance', 'bybit', 'okx', 'gate', 'kucoin', 'bitget'].slice(0, nVenues);
const config = validateConfig(
  {
    venues: Object.fromEntries(
      venueNames.map((v) => [
        v,
        {
          type: 'simulated',
          latencyMs: 10,
          balances: { USDT: 10_000_000 },
          fees: { maker: 0, taker: 0.0002 },
        },
      ]),
    ),
    assets,
    datedFutures: [EXPIRY],
    marketData: {
      source: 'synthetic',
      seed: 99,
      basisMeanBps: 20,
      prices: Object.fromEntries(assets.map((a, i) => [a, 20 + i * 7])),
    },
  },
  'stress config',
);

const clock = new VirtualClock(Date.UTC(2026, 0, 1));
const paper = createPaperVenues({
  venues: Object.entries(config.venues).map(([name, v]) => paperVenueSpec(name, v as never)),
  bases: assets,
  datedFutures: [EXPIRY],
  clock,
});
const market = syntheticMarketFor(config, {
  venues: venueNames,
  markets: paper.venues.flatMap((v) => v.listMarkets()),
  startTs: clock.now(),
  endTs: clock.now() + minutes * 60_000,
});
const engine = createEngine({
  store: new MemoryStore(),
  venues: Object.fromEntries(paper.venues.map((v, i) => [v.name, paper.clients[i]!])),
  clock,
  persistSnapshots: false,
});
let started = false;
const startP = engine.start().finally(() => {
  started = true;
});
while (!started) await clock.advanceBy(1);
await startP;

globalThis.gc?.();
const heapBefore = process.memoryUsage().heapUsed;
for (const venue of venueNames) {
  for (const [i, a] of assets.entries()) {
    const price = 20 + i * 7;
    await engine.addStrategy({
      kind: 'spot-futures',
      id: `basis-${a}-${venue}`,
      params: {
        spot: { venue, symbol: `${a}/USDT` },
        perp: { venue, symbol: `${a}/USDT:USDT` },
        amount: Math.max(0.001, +(500 / price).toFixed(3)),
        direction: 'long-spot',
        minEntryBasisBps: 6,
        exitBasisBps: 0,
        maxEntryCostPct: 1,
        slippageBps: 0.5,
        maxHoldingHours: 0.1,
        maxAdverseFundingHours: 8,
        deltaToleranceBase: 0.001,
        staleAfterMs: 5_000,
        maxPositionNotional: 10_000,
        maxCycles: 0,
        cooldownMs: 30_000,
      },
    });
    await engine.addStrategy({
      kind: 'market-making',
      id: `maker-${a}-${venue}`,
      params: {
        market: { venue, symbol: `${a}/USDT:USDT-${EXPIRY}` },
        orderAmount: Math.max(0.001, +(200 / price).toFixed(3)),
        levels: 1,
        spreadBps: 4,
        levelSpacingBps: 0,
        reference: 'mid',
        inventorySkewBpsPerUnit: 0,
        maxInventoryBase: Math.max(0.01, +(2_000 / price).toFixed(3)),
        refreshToleranceBps: 3,
        minOrderAgeMs: 2_000,
        staleAfterMs: 5_000,
        rejectBackoffMs: 1_000,
        maxPositionNotional: 5_000,
      },
    });
  }
}
globalThis.gc?.();
const strategies = engine.status().strategies.length;
const heapPerStrategy = (process.memoryUsage().heapUsed - heapBefore) / strategies;

const router = new VenueRouter(paper.venues);
let events = 0;
const t0 = process.hrtime.bigint();
for await (const batch of market.batches()) {
  for (const e of batch) {
    if (e.timestamp > clock.now()) await clock.advanceTo(e.timestamp);
    router.route(e);
    events++;
  }
}
const wallS = Number(process.hrtime.bigint() - t0) / 1e9;
const st = engine.status();
const byState = new Map<string, number>();
for (const s of st.strategies)
  byState.set(`${s.kind} ${s.state}`, (byState.get(`${s.kind} ${s.state}`) ?? 0) + 1);
const cycles = st.strategies.reduce((a, s) => a + (s.kind === 'spot-futures' ? (s.cycles ?? 0) : 0), 0);
process.stdout.write(
  `${JSON.stringify(
    {
      strategies,
      symbols: paper.venues.reduce((a, v) => a + v.listMarkets().length, 0),
      locks: Object.keys(st.locks).length,
      simulatedMinutes: minutes,
      events,
      wallSeconds: +wallS.toFixed(2),
      eventsPerSecond: Math.round(events / wallS),
      heapPerStrategyKiB: +(heapPerStrategy / 1024).toFixed(1),
      rssMiB: +(process.memoryUsage().rss / 2 ** 20).toFixed(0),
      basisCycles: cycles,
      openMakerOrders: st.strategies.reduce((a, s) => a + s.openOrders.length, 0),
      netPnl: +st.strategies.reduce((a, s) => a + s.netPnl, 0).toFixed(2),
      states: Object.fromEntries([...byState.entries()].sort()),
    },
    null,
    2,
  )}\n`,
);
await engine.stop();
for (const v of paper.venues) v.dispose();
