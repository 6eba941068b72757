/**
 * The engine tests' world: one simulated venue (BTC spot and perp, an ETH perp) on a virtual
 * clock, an engine factory over a store, quotes driven by the test, and a basis strategy's params.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SpotFuturesParams } from '../../machines/strategies/spot-futures/machine.ts';
import { VirtualClock } from '../../src/clock/clock.ts';
import type { OrderRequest } from '../../src/domain/index.ts';
import { createEngine, type Engine, type EngineOptions } from '../../src/engine/engine.ts';
import { SimExchangeClient } from '../../src/exchange/sim/client.ts';
import { simMarket } from '../../src/exchange/sim/markets.ts';
import { SimVenue, type SimVenueOptions } from '../../src/exchange/sim/venue.ts';
import { SqliteStore } from '../../src/store/sqlite.ts';
import type { SnapshotStore } from '../../src/store/types.ts';

export const SPOT = 'BTC/USDT';
export const PERP = 'BTC/USDT:USDT';
const dir = mkdtempSync(join(tmpdir(), 'statearb-engine-'));
let files = 0;

/** `engineOptions`: what every engine of this world is created with besides store, venues and clock. */
export function world(
  engineOptions: Partial<EngineOptions> = {},
  venueOptions: Partial<SimVenueOptions> = {},
) {
  const clock = new VirtualClock(Date.UTC(2026, 0, 1, 7));
  const venue = new SimVenue({
    name: 'sim',
    clock,
    markets: [
      simMarket('sim', SPOT, { taker: 0.0005 }),
      simMarket('sim', PERP, { taker: 0.0004 }),
      simMarket('sim', 'ETH/USDT:USDT'),
    ],
    balances: { USDT: 1_000_000 },
    ...venueOptions,
  });
  const client = new SimExchangeClient(venue, {
    latency: { requestMs: 5, streamMs: 1 },
    requestTimeoutMs: 1_000,
  });
  const file = join(dir, `e${files++}.db`);
  const feed = (spot: number, perp: number) => {
    const t = clock.now();
    venue.onBookTicker({
      symbol: SPOT,
      bid: spot - 0.5,
      ask: spot + 0.5,
      bidSize: 5,
      askSize: 5,
      timestamp: t,
    });
    venue.onBookTicker({
      symbol: PERP,
      bid: perp - 0.05,
      ask: perp + 0.05,
      bidSize: 5,
      askSize: 5,
      timestamp: t,
    });
  };
  const drive = async (ms: number, spot: number, perp: number) => {
    const end = clock.now() + ms;
    while (clock.now() < end) {
      feed(spot, perp);
      await clock.advanceBy(250);
    }
  };
  const engine = (store = new SqliteStore(file)) =>
    createEngine({ ...engineOptions, store, venues: { sim: client }, clock });
  /** Await something that talks to the venue: the virtual clock has to move for answers to come. */
  const settle = async <T>(p: Promise<T>): Promise<T> => {
    let done = false;
    const out = p.finally(() => {
      done = true;
    });
    out.catch(() => {});
    while (!done) await clock.advanceBy(5);
    return out;
  };
  /** A tight book on the ETH perp (the maker's market), stamped now. */
  const feedEth = () =>
    venue.onBookTicker({
      symbol: ETH_PERP,
      bid: 2_999.99,
      ask: 3_000.01,
      bidSize: 5,
      askSize: 5,
      timestamp: clock.now(),
    });
  return { clock, venue, client, file, feed, feedEth, drive, engine, settle };
}

export const ETH_PERP = 'ETH/USDT:USDT';

/** A store whose basis strategy `basis-1` watched for a second and was stopped cleanly. */
export async function stoppedBasis(w: ReturnType<typeof world>): Promise<SqliteStore> {
  const store = new SqliteStore(w.file);
  const e = w.engine(store);
  await w.settle(e.start());
  await e.addStrategy({ kind: 'spot-futures', id: 'basis-1', params: params() });
  await w.drive(1_000, 60_000, 60_000);
  await e.stop();
  return store;
}

/** kill -9: the engine's actors vanish without a final write. */
export function crash(engine: Engine): void {
  for (const r of (
    engine as unknown as { running: Map<string, { actor: { stop(): void } }> }
  ).running.values())
    r.actor.stop();
}

/** The client-order tag of a stored strategy (its ids are `S<tag>…`). */
export function storedTag(store: SnapshotStore, id: string): string {
  return JSON.stringify(store.get(id)!.snapshot).match(/"tag":"(\w+)"/)![1]!;
}

/**
 * An order the strategy sent just before dying: journalled and at the venue, unknown to its
 * snapshot (id `S<tag>9ea0`). Returns the request.
 */
export function sentBeforeDying(
  w: ReturnType<typeof world>,
  store: SnapshotStore,
  id: string,
  order: Omit<OrderRequest, 'clientOrderId'>,
): OrderRequest {
  const req = { ...order, clientOrderId: `S${storedTag(store, id)}9ea0` };
  store.appendIntent({ strategyId: id, venue: 'sim', request: req, createdAt: w.clock.now() });
  w.venue.placeOrder(req);
  return req;
}

/** A one-level maker on the ETH perp: a second kind of strategy with an instrument of its own. */
export const makerParams = (over: Record<string, unknown> = {}) => ({
  market: { venue: 'sim', symbol: ETH_PERP },
  orderAmount: 0.01,
  levels: 1,
  spreadBps: 5,
  levelSpacingBps: 0,
  reference: 'mid',
  inventorySkewBpsPerUnit: 0,
  maxInventoryBase: 1,
  refreshToleranceBps: 2,
  minOrderAgeMs: 0,
  staleAfterMs: 5_000,
  rejectBackoffMs: 500,
  maxPositionNotional: 10_000,
  ...over,
});

export const params = (over: Partial<SpotFuturesParams> = {}): SpotFuturesParams => ({
  spot: { venue: 'sim', symbol: SPOT },
  perp: { venue: 'sim', symbol: PERP },
  amount: 0.5,
  direction: 'long-spot',
  minEntryBasisBps: 5,
  exitBasisBps: 2,
  maxEntryCostPct: 1,
  slippageBps: 0,
  maxHoldingHours: 24,
  maxAdverseFundingHours: 8,
  deltaToleranceBase: 0.001,
  staleAfterMs: 5_000,
  maxPositionNotional: 100_000,
  maxCycles: 1,
  cooldownMs: 1_000,
  ...over,
});
