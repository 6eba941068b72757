/**
 * An engine process for the crash-torture test: strategies on the standalone simulated venue,
 * SQLite store, recover on start. It writes its status to a file every 100 ms. With FINAL=1 it
 * pulls the kill switch (flatten) after a while, waits for every strategy to end, and exits 0.
 * Usage: node --import tsx engine-child.ts <venueUrl> <dbFile> <statusFile>
 */
import { WallClock } from '../../src/clock/clock.ts';
import { createEngine, installSignalHandlers } from '../../src/engine/engine.ts';
import { RemoteExchangeClient } from '../../src/exchange/sim/remote-client.ts';
import { SqliteStore } from '../../src/store/sqlite.ts';
import { writeFileAtomic } from '../../src/util/atomic-file.ts';

const [url, dbFile, statusFile] = process.argv.slice(2) as [string, string, string];
const clock = new WallClock();
const venues = {
  binance: new RemoteExchangeClient({ url, venue: 'binance', requestTimeoutMs: 1_500 }),
  bybit: new RemoteExchangeClient({ url, venue: 'bybit', requestTimeoutMs: 1_500 }),
};
const store = new SqliteStore(dbFile);
const engine = createEngine({ store, venues, clock, quotePersistMs: 1_000 });

const basis = (venue: string) => ({
  spot: { venue, symbol: 'BTC/USDT' },
  perp: { venue, symbol: 'BTC/USDT:USDT' },
  amount: 0.05,
  direction: 'long-spot',
  // Enter whenever the books are fresh, leave after ~1.5 s: a cycle every couple of seconds.
  minEntryBasisBps: -500,
  exitBasisBps: -600,
  maxEntryCostPct: 5,
  slippageBps: 0,
  maxHoldingHours: 1.5 / 3600,
  maxAdverseFundingHours: 8,
  deltaToleranceBase: 0.001,
  staleAfterMs: 3_000,
  maxPositionNotional: 1e6,
  maxCycles: 0,
  cooldownMs: 300,
});

const maker = {
  market: { venue: 'binance', symbol: 'ETH/USDT' },
  orderAmount: 0.01,
  levels: 2,
  spreadBps: 1,
  levelSpacingBps: 1,
  reference: 'mid',
  inventorySkewBpsPerUnit: 10,
  maxInventoryBase: 0.05,
  refreshToleranceBps: 0.5,
  minOrderAgeMs: 200,
  staleAfterMs: 3_000,
  rejectBackoffMs: 200,
  maxPositionNotional: 10_000,
};

const report = await engine.start({ recover: true });
process.stdout.write(`${JSON.stringify({ event: 'started', report })}\n`);
for (const [id, kind, params] of [
  ['basis-binance', 'spot-futures', basis('binance')],
  ['basis-bybit', 'spot-futures', basis('bybit')],
  ['maker-eth', 'market-making', maker],
] as const) {
  if (!store.get(id) && !report.quarantined.some((q) => q.id === id))
    await engine.addStrategy({ kind, id, params });
}

const writeStatus = () => writeFileAtomic(statusFile, JSON.stringify(engine.status()));
const statusTimer = setInterval(writeStatus, 100);
installSignalHandlers(engine, {
  timeoutMs: 5_000,
  exit: (code) => {
    clearInterval(statusTimer);
    writeStatus();
    store.close();
    process.exit(code);
  },
});

if (process.env.FINAL === '1') {
  await new Promise((r) => setTimeout(r, 3_000));
  engine.killSwitch('crash test finished', { flatten: true });
  const t0 = Date.now();
  while (engine.status().persistence.active > 0 && Date.now() - t0 < 30_000)
    await new Promise((r) => setTimeout(r, 100));
  writeStatus();
  await engine.stop();
  for (const v of Object.values(venues)) await v.close();
  store.close();
  process.exit(0);
}
