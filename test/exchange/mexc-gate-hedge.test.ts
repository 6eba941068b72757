/**
 * The pairing this project grew from, end to end over the live-trading path: a spot–futures
 * hedge buying MEXC spot against a Gate USDT-perpetual short — the engine and the spot–futures
 * machine, the ccxt adapter, ccxt's real `mexc` and `gate` classes, the local fakes with their
 * simulated wallets. Both entry legs lose their answers (placed, never acknowledged), on venues
 * that accept a reused client id and (MEXC, as the adapter reads it) forget a finished order's
 * client id; the engine is killed while the hedge holds and a new one recovers it and exits.
 * The books end equal to both wallets.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { feeInQuote } from '../../machines/accounting.ts';
import { WallClock } from '../../src/clock/clock.ts';
import { createEngine, type Engine } from '../../src/engine/engine.ts';
import type { CcxtExchangeClient } from '../../src/exchange/ccxt/client.ts';
import { createCcxtClient } from '../../src/exchange/ccxt/create.ts';
import { SqliteStore } from '../../src/store/sqlite.ts';
import { FakeGate, GATE_BTC_CONTRACT } from '../support/fake-exchange/fake-gate.ts';
import { FakeMexc } from '../support/fake-exchange/fake-mexc.ts';
import { describeHedge, oneCycleBasis } from './hedge-support.ts';
import { until } from './wait.ts';

const clock = new WallClock();
const mexc = new FakeMexc({
  clock,
  apiKey: 'mexc-key',
  secret: 'mexc-secret',
  balances: { USDT: 50_000, BTC: 0 },
  findsFinishedByClientId: false,
});
const gate = new FakeGate({
  clock,
  apiKey: 'gate-key',
  secret: 'gate-secret',
  uid: '30003',
  spotBalances: { USDT: 0 },
  futuresBalances: { USDT: 50_000 },
});
const px = { spot: 60_000, perp: 60_000 };
let quoting: ReturnType<typeof setInterval>;
const file = join(mkdtempSync(join(tmpdir(), 'statearb-mexc-gate-')), 'engine.db');

/** One engine process: its own ccxt clients, as a restarted process would make them. */
function engineProcess(): { engine: Engine; clients: CcxtExchangeClient[] } {
  const client = (
    name: string,
    apiKey: string,
    secret: string,
    rewriteUrl: (u: string) => string,
    uid?: string,
  ) => {
    const c = createCcxtClient({
      name,
      exchange: name,
      sandbox: false,
      demo: false,
      credentials: { apiKey, secret, ...(uid ? { uid } : {}) },
      rewriteUrl,
    });
    (c.exchange as { timeout: number }).timeout = 1_500;
    return c;
  };
  const clients = [
    client('mexc', 'mexc-key', 'mexc-secret', mexc.rewriteUrl),
    client('gate', 'gate-key', 'gate-secret', gate.rewriteUrl, '30003'),
  ];
  const engine = createEngine({
    store: new SqliteStore(file),
    venues: { mexc: clients[0]!, gate: clients[1]! },
    clock,
    quotePersistMs: 1_000,
  });
  return { engine, clients };
}

/** kill -9: the actors vanish without a last write; nothing of the process runs on. */
async function kill(p: { engine: Engine; clients: CcxtExchangeClient[] }): Promise<void> {
  const e = p.engine as unknown as {
    running: Map<string, { actor: { stop(): void } }>;
    ticker: { dispose(): void };
    exchange?: { dispose(): void };
  };
  for (const r of e.running.values()) r.actor.stop();
  e.ticker.dispose();
  e.exchange?.dispose();
  for (const c of p.clients) await c.close();
}

beforeAll(async () => {
  await mexc.start();
  await gate.start();
  quoting = setInterval(() => {
    mexc.quote('BTC/USDT', px.spot - 0.5, px.spot + 0.5, 2);
    gate.quote('BTC/USDT:USDT', px.perp - 0.1, px.perp + 0.1, 20_000); // 2 BTC in contracts
  }, 50);
});

afterAll(async () => {
  clearInterval(quoting);
  await mexc.close();
  await gate.close();
});

describe('MEXC spot against a Gate perpetual, through ccxt and the two fakes', () => {
  it('enters hedged through lost answers on both legs, survives a kill -9, exits, and its books equal both wallets', async () => {
    let p = engineProcess();
    await p.engine.start();
    await p.engine.addStrategy({
      kind: 'spot-futures',
      id: 'mexc-gate',
      params: oneCycleBasis('mexc', 'gate'),
    });
    const view = () => p.engine.status().strategies.find((s) => s.id === 'mexc-gate')!;
    const orders = () => [...mexc.spot.allOrders(), ...gate.futures.allOrders()];
    const describe = describeHedge(view, orders);
    await until(() => view().state === 'watching', describe, 45_000);
    mexc.faults.timeoutAfterPlace = 1; // the spot buy: placed, its answer lost
    gate.faults.timeoutAfterPlace = 1; // the perp short: placed, its answer lost
    px.perp = 60_900; // 150 bps rich: enter
    await until(() => view().state === 'holding', describe, 45_000);
    expect(mexc.faults.timeoutAfterPlace + gate.faults.timeoutAfterPlace).toBe(0); // both answers were lost
    expect(view().legs.map((l) => l.position)).toEqual([0.05, -0.05]);

    await kill(p); // while holding
    p = engineProcess();
    const report = await p.engine.start({ recover: true });
    expect(report).toMatchObject({ recovered: ['mexc-gate'], halted: [], quarantined: [] });
    expect(view().state).toBe('holding');
    px.perp = 60_000; // converged: exit
    await until(() => view().state === 'completed', describe, 45_000);

    const final = view();
    expect(final.legs.map((l) => l.position)).toEqual([0, 0]);
    // The books are the wallets: no BTC left at MEXC, no position at Gate.
    expect(mexc.spot.balances().BTC?.total ?? 0).toBeCloseTo(0, 12);
    expect(gate.futures.positions()).toEqual([]);
    // Every order once per client id (neither venue would have refused a second), all journalled.
    const all = orders();
    const ids = all.map((o) => o.clientOrderId.replace(/^t-/, ''));
    expect(new Set(ids).size).toBe(ids.length);
    const store = new SqliteStore(file);
    for (const id of ids) expect(store.hasIntent(id), id).toBe(true);
    expect(all.filter((o) => o.status === 'closed')).toHaveLength(4); // two legs in, two out
    expect(gate.futures.allOrders().every((o) => o.amount * GATE_BTC_CONTRACT === 0.05)).toBe(true);
    // Fees as the venues charged them; net PnL is the change of the two wallets.
    const venueFees = all.flatMap((o) => o.trades).reduce((s, t) => s + feeInQuote(t), 0);
    expect(final.fees).toBeCloseTo(venueFees, 9);
    const usdt = (mexc.spot.balances().USDT?.total ?? 0) + (gate.futures.balances().USDT?.total ?? 0);
    expect(final.netPnl).toBeCloseTo(usdt - 100_000, 6);
    store.close();
    await p.engine.stop();
    for (const c of p.clients) await c.close();
  }, 120_000);
});
