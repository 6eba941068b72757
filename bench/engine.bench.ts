import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createActor } from 'xstate';
import { spotFuturesMachine } from '../machines/strategies/spot-futures/machine.ts';
import { bindActors } from '../src/actors/bind.ts';
import { createExchangeActors } from '../src/actors/exchange-actors.ts';
import { VirtualClock } from '../src/clock/clock.ts';
import { createEngine } from '../src/engine/engine.ts';
import { SimExchangeClient } from '../src/exchange/sim/client.ts';
import { simMarket } from '../src/exchange/sim/markets.ts';
import { SimVenue } from '../src/exchange/sim/venue.ts';
import { SqliteStore } from '../src/store/sqlite.ts';
import type { Figure } from './lib.ts';

/** Rehydrate and reconcile N strategies from SQLite after a restart; restore cost per snapshot. */
export async function engineBench(n = 1_000): Promise<Figure[]> {
  const clock = new VirtualClock(Date.UTC(2026, 0, 1));
  const bases = Array.from({ length: n }, (_, i) => `A${i}`);
  const venue = new SimVenue({
    name: 'sim',
    clock,
    markets: bases.flatMap((b) => [simMarket('sim', `${b}/USDT`), simMarket('sim', `${b}/USDT:USDT`)]),
    balances: { USDT: 1e9 },
  });
  const client = new SimExchangeClient(venue);
  const file = join(mkdtempSync(join(tmpdir(), 'statearb-engine-bench-')), 'e.db');
  const params = (b: string) => ({
    spot: { venue: 'sim', symbol: `${b}/USDT` },
    perp: { venue: 'sim', symbol: `${b}/USDT:USDT` },
    amount: 1,
    direction: 'long-spot',
    minEntryBasisBps: 50,
    exitBasisBps: 2,
    maxEntryCostPct: 1,
    slippageBps: 0,
    maxHoldingHours: 24,
    maxAdverseFundingHours: 8,
    deltaToleranceBase: 0.01,
    staleAfterMs: 5_000,
    maxPositionNotional: 1e6,
    maxCycles: 0,
    cooldownMs: 1_000,
  });
  const feed = () => {
    const t = clock.now();
    for (const b of bases) {
      venue.onBookTicker({
        symbol: `${b}/USDT`,
        bid: 99.99,
        ask: 100.01,
        bidSize: 10,
        askSize: 10,
        timestamp: t,
      });
      venue.onBookTicker({
        symbol: `${b}/USDT:USDT`,
        bid: 100.01,
        ask: 100.03,
        bidSize: 10,
        askSize: 10,
        timestamp: t,
      });
    }
  };
  const e1 = createEngine({
    store: new SqliteStore(file, { synchronous: 'NORMAL' }),
    venues: { sim: client },
    clock,
  });
  await e1.start();
  for (const b of bases) await e1.addStrategy({ kind: 'spot-futures', id: `s-${b}`, params: params(b) });
  feed();
  await clock.advanceBy(1_100);
  await e1.stop();

  const store = new SqliteStore(file);
  const e2 = createEngine({ store, venues: { sim: client }, clock });
  const t0 = process.hrtime.bigint();
  const report = await e2.start({ recover: true });
  const recoverMs = Number(process.hrtime.bigint() - t0) / 1e6;
  if (report.recovered.length !== n) throw new Error(`recovered ${report.recovered.length} of ${n}`);
  await e2.stop();

  // Restore alone: createActor from a persisted snapshot and start it.
  const { records } = store.loadActive();
  const exchange = createExchangeActors({ venues: { sim: client }, clock });
  const machine = spotFuturesMachine.provide({ actors: bindActors(exchange.actors) });
  const t1 = process.hrtime.bigint();
  const actors = records.map((r) =>
    createActor(machine, { snapshot: r.snapshot, input: undefined } as never).start(),
  );
  const restoreUs = Number(process.hrtime.bigint() - t1) / 1e3 / records.length;
  for (const a of actors) a.stop();
  exchange.dispose();
  store.close();
  return [
    {
      name: `rehydrate + reconcile ${n} strategies (SQLite, engine.start({ recover }))`,
      value: Math.round(recoverMs),
      unit: 'ms',
      runs: 1,
      spread: 0,
    },
    {
      name: 'restore one strategy actor from its persisted snapshot',
      value: Number(restoreUs.toFixed(1)),
      unit: 'µs',
      runs: records.length,
      spread: 0,
    },
  ];
}
