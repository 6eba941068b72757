/**
 * Two engines sharing one PostgreSQL store (needs a server: test/support/postgres.ts), in one
 * process on a virtual clock: capacity, queued strategies, graceful hand-over, and a node that
 * cannot renew its leases stopping what it runs. The cross-process failover is test/cluster.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { VirtualClock } from '../../src/clock/clock.ts';
import { createEngine, type EngineLogger } from '../../src/engine/engine.ts';
import { SimExchangeClient } from '../../src/exchange/sim/client.ts';
import { simMarket } from '../../src/exchange/sim/markets.ts';
import { SimVenue } from '../../src/exchange/sim/venue.ts';
import { PostgresStore } from '../../src/store/postgres/store.ts';
import { dropTestSchemas, freshSchemaUrl, postgresAvailable } from '../support/postgres.ts';

const available = await postgresAvailable();
afterAll(dropTestSchemas);

const SPOT = 'BTC/USDT';
const PERP = 'BTC/USDT:USDT';

function world() {
  const clock = new VirtualClock(Date.UTC(2026, 0, 1, 7));
  const venue = new SimVenue({
    name: 'sim',
    clock,
    markets: [simMarket('sim', SPOT), simMarket('sim', PERP), simMarket('sim', 'ETH/USDT:USDT')],
    balances: { USDT: 1_000_000 },
  });
  const client = new SimExchangeClient(venue, {
    latency: { requestMs: 5, streamMs: 1 },
    requestTimeoutMs: 1_000,
  });
  const drive = async (ms: number, spot: number, perp: number) => {
    const end = clock.now() + ms;
    while (clock.now() < end) {
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
      venue.onBookTicker({
        symbol: 'ETH/USDT:USDT',
        bid: 3_000,
        ask: 3_000.1,
        bidSize: 5,
        askSize: 5,
        timestamp: t,
      });
      await clock.advanceBy(250);
    }
  };
  const settle = async <T>(p: Promise<T>): Promise<T> => {
    let done = false;
    const out = p.finally(() => {
      done = true;
    });
    out.catch(() => {});
    while (!done) await clock.advanceBy(5);
    return out;
  };
  return { clock, venue, client, drive, settle };
}

const basis = {
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
};

const maker = {
  market: { venue: 'sim', symbol: 'ETH/USDT:USDT' },
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
};

function capture(): EngineLogger & { lines: string[] } {
  const lines: string[] = [];
  const put = (o: object, msg: string) => lines.push(`${msg} ${JSON.stringify(o)}`);
  return { lines, info: put, warn: put, error: put };
}

describe.runIf(available)('engines sharing a PostgreSQL store', () => {
  it('capacity queues strategies for another node; a graceful stop hands its strategies over mid-trade', async () => {
    const w = world();
    const url = freshSchemaUrl('engines');
    const storeA = new PostgresStore({ url, nodeId: 'node-a', leaseMs: 60_000 });
    const a = createEngine({ store: storeA, venues: { sim: w.client }, clock: w.clock, capacity: 1 });
    await w.settle(a.start());
    await a.addStrategy({ kind: 'spot-futures', id: 'basis-1', params: basis });
    await a.addStrategy({ kind: 'market-making', id: 'mm-1', params: maker });
    expect(a.status().strategies.map((s) => s.id)).toEqual(['basis-1']);
    expect(a.status().node).toMatchObject({ id: 'node-a', capacity: 1, owned: 1 });
    // both strategies hold their symbol locks, the queued one included
    expect(Object.values(a.status().locks).sort()).toEqual(['basis-1', 'basis-1', 'mm-1']);
    await w.drive(3_000, 60_000, 60_300); // basis enters
    expect(a.status().strategies[0]!.state).toBe('holding');

    const storeB = new PostgresStore({ url, nodeId: 'node-b', leaseMs: 60_000 });
    const log = capture();
    const b = createEngine({
      store: storeB,
      venues: { sim: w.client },
      clock: w.clock,
      logger: log,
      leaseCheckMs: 1_000,
    });
    const report = await w.settle(b.start());
    expect(report.recovered).toEqual(['mm-1']); // the queued one, started from its spec
    await w.drive(2_000, 60_000, 60_300);
    expect(b.status().strategies.find((s) => s.id === 'mm-1')!.openOrders.length).toBeGreaterThan(0);

    await a.stop(); // graceful: its lease on basis-1 is handed back at once
    await w.drive(2_000, 60_000, 60_300);
    const taken = b.status().strategies.find((s) => s.id === 'basis-1');
    expect(taken).toMatchObject({ state: 'holding' });
    expect(b.status().node).toMatchObject({ owned: 2, takenOver: 2, lost: 0 });
    expect(log.lines.some((l) => l.startsWith('strategies taken over'))).toBe(true);
    await w.drive(5_000, 60_000, 60_000.5); // B finishes the cycle A started
    expect(b.status().strategies.find((s) => s.id === 'basis-1')!.state).toBe('completed');
    expect(w.venue.positions().filter((p) => p.symbol === PERP)).toEqual([]);
    expect(w.venue.balances().BTC?.total ?? 0).toBeCloseTo(0, 12);
    expect(storeB.locks()).toEqual({ 'sim|ETH/USDT:USDT': 'mm-1' });
    await b.stop();
    storeA.close();
    storeB.close();
  });

  it('a node that cannot renew its leases for a whole lease stops its strategies without writing', async () => {
    const w = world();
    const url = freshSchemaUrl('norenew');
    const store = new PostgresStore({ url, nodeId: 'node-a', leaseMs: 10_000 });
    const log = capture();
    const e = createEngine({
      store,
      venues: { sim: w.client },
      clock: w.clock,
      logger: log,
      leaseCheckMs: 1_000,
    });
    await w.settle(e.start());
    await e.addStrategy({ kind: 'market-making', id: 'mm-1', params: maker });
    await w.drive(3_000, 60_000, 60_000);
    store.renew = () => {
      throw new Error('connection terminated');
    };
    await w.drive(5_000, 60_000, 60_000);
    expect(e.status().node).toMatchObject({ owned: 1, lost: 0 }); // not yet a whole lease
    await w.drive(6_000, 60_000, 60_000);
    expect(e.status().node).toMatchObject({ owned: 0, lost: 1 });
    expect(e.status().strategies).toEqual([]);
    expect(log.lines.find((l) => l.startsWith('strategy dropped'))).toMatch(/no lease renewal for 1\d{4} ms/);
    await e.stop();
    store.close();
  });
});
