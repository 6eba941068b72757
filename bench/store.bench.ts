import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createActor } from 'xstate';
import { spotFuturesMachine } from '../machines/strategies/spot-futures.ts';
import { simMarket } from '../src/exchange/sim/markets.ts';
import { SqliteStore } from '../src/store/sqlite.ts';
import { type Figure, percentile } from './lib.ts';

/** Persist latency of a real strategy snapshot, and durable intent writes per second. */
export async function storeBench(): Promise<Figure[]> {
  const figures: Figure[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'statearb-store-bench-'));
  const actor = createActor(spotFuturesMachine, {
    input: {
      id: 'bench',
      params: {
        spot: { venue: 'sim', symbol: 'BTC/USDT' },
        perp: { venue: 'sim', symbol: 'BTC/USDT:USDT' },
        amount: 0.1,
        direction: 'long-spot',
        minEntryBasisBps: 10,
        exitBasisBps: 2,
        maxEntryCostPct: 1,
        slippageBps: 0,
        maxHoldingHours: 24,
        maxAdverseFundingHours: 8,
        deltaToleranceBase: 0.001,
        staleAfterMs: 5000,
        maxPositionNotional: 1e6,
        maxCycles: 0,
        cooldownMs: 0,
      },
      markets: { spot: simMarket('sim', 'BTC/USDT'), perp: simMarket('sim', 'BTC/USDT:USDT') },
    },
  });
  const snapshot = actor.getPersistedSnapshot();
  const bytes = JSON.stringify(snapshot).length;
  for (const sync of ['FULL', 'NORMAL'] as const) {
    const store = new SqliteStore(join(dir, `${sync}.db`), { synchronous: sync });
    store.createStrategy({
      id: 's',
      kind: 'spot-futures',
      machineVersion: 1,
      status: 'active',
      spec: {},
      snapshot,
      instruments: [],
      createdAt: 0,
      updatedAt: 0,
    });
    const lat: number[] = [];
    const N = 3_000;
    for (let i = 0; i < N; i++) {
      const t0 = process.hrtime.bigint();
      store.saveSnapshot('s', snapshot, 'active', i);
      lat.push(Number(process.hrtime.bigint() - t0) / 1e3);
    }
    figures.push(
      {
        name: `snapshot persist p50 (SQLite WAL, synchronous=${sync}, ${bytes} B)`,
        value: Number(percentile(lat, 50).toFixed(1)),
        unit: 'µs',
        runs: N,
        spread: 0,
      },
      {
        name: `snapshot persist p99 (synchronous=${sync})`,
        value: Number(percentile(lat, 99).toFixed(1)),
        unit: 'µs',
        runs: N,
        spread: 0,
      },
    );
    const M = 3_000;
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < M; i++) {
      store.appendIntent({
        strategyId: 's',
        venue: 'v',
        request: { symbol: 'A/B', side: 'buy', type: 'market', amount: 1, clientOrderId: `I${sync}${i}` },
        createdAt: i,
      });
    }
    const secs = Number(process.hrtime.bigint() - t0) / 1e9;
    figures.push({
      name: `durable intent writes/s (synchronous=${sync})`,
      value: Math.round(M / secs),
      unit: 'writes/s',
      runs: 1,
      spread: 0,
    });
    store.close();
  }
  return figures;
}
