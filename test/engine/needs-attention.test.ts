/**
 * Needs attention at the engine: the running position check sees a leg the venue doubled (an
 * order nobody booked), the strategy keeps its locks and says why in status, survives a restart,
 * blocks entries, and is resolved or flattened by an operator command queued in the store — by
 * `statearb strategy …` against a running engine, or against a stopped store applied at the next
 * start. A strategy id whose client-order tag another strategy has is refused.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import type { SpotFuturesParams } from '../../machines/strategies/spot-futures.ts';
import { strategyCommand } from '../../src/cli/commands/strategy.ts';
import { VirtualClock } from '../../src/clock/clock.ts';
import { createEngine } from '../../src/engine/engine.ts';
import { SimExchangeClient } from '../../src/exchange/sim/client.ts';
import { simMarket } from '../../src/exchange/sim/markets.ts';
import { SimVenue } from '../../src/exchange/sim/venue.ts';
import { SqliteStore } from '../../src/store/sqlite.ts';

vi.mock('../../machines/ids.ts', async (original) => {
  const real = (await original()) as typeof import('../../machines/ids.ts');
  // A tag that collides on purpose for ids that start with "clash-" (real tags are 52 bits).
  return {
    ...real,
    strategyTag: (id: string) => (id.startsWith('clash-') ? 'c1a5h00000' : real.strategyTag(id)),
  };
});

const SPOT = 'BTC/USDT';
const PERP = 'BTC/USDT:USDT';
const dir = mkdtempSync(join(tmpdir(), 'statearb-attention-'));
let files = 0;

function world() {
  const clock = new VirtualClock(Date.UTC(2026, 0, 1, 7));
  const venue = new SimVenue({
    name: 'sim',
    clock,
    markets: [simMarket('sim', SPOT, { taker: 0.0005 }), simMarket('sim', PERP, { taker: 0.0004 })],
    balances: { USDT: 1_000_000 },
  });
  const client = new SimExchangeClient(venue, {
    latency: { requestMs: 5, streamMs: 1 },
    requestTimeoutMs: 1_000,
  });
  const file = join(dir, `a${files++}.db`);
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
      await clock.advanceBy(250);
    }
  };
  const engine = (store = new SqliteStore(file)) =>
    createEngine({ store, venues: { sim: client }, clock, positionCheckMs: 2_000, positionSettleMs: 3_000 });
  const settle = async <T>(p: Promise<T>): Promise<T> => {
    let done = false;
    const out = p.finally(() => {
      done = true;
    });
    out.catch(() => {});
    while (!done) await clock.advanceBy(5);
    return out;
  };
  return { clock, venue, client, file, drive, engine, settle };
}

const params = (over: Partial<SpotFuturesParams> = {}): SpotFuturesParams => ({
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
  maxCycles: 0,
  cooldownMs: 1_000,
  ...over,
});

/** A hedge that is held, then an order nobody booked doubles its perp at the venue. */
async function doubledPerp(w: ReturnType<typeof world>) {
  const store = new SqliteStore(w.file);
  const e = w.engine(store);
  await w.settle(e.start());
  await e.addStrategy({ kind: 'spot-futures', id: 'basis', params: params() });
  await w.drive(3_000, 60_000, 60_300);
  expect(e.status().strategies[0]!.state).toBe('holding');
  w.venue.placeOrder({
    symbol: PERP,
    side: 'sell',
    type: 'market',
    amount: 0.5,
    clientOrderId: 'Soutsider01',
  });
  await w.drive(10_000, 60_000, 60_300);
  return { store, e };
}

describe('needs attention at the engine', () => {
  it('the running position check moves a strategy whose venue position differs from its books to needs attention, naming both, locks kept', async () => {
    const w = world();
    const { store, e } = await doubledPerp(w);
    const s = e.status().strategies[0]!;
    expect(s.state).toBe('needsAttention');
    expect(s.attention?.reason).toMatch(/the venue holds -1, the books -0\.5/);
    expect(s.attention?.legs).toEqual([{ venue: 'sim', symbol: PERP, position: -1 }]);
    // It keeps its locks and its positions; no entry while it waits.
    expect(Object.values(store.locks())).toEqual(['basis', 'basis']);
    expect(s.legs.map((l) => l.position)).toEqual([0.5, -0.5]);
    await e.stop();
    // It survives a restart: restored in needs attention, still holding its locks.
    const e2 = w.engine(new SqliteStore(w.file));
    await w.settle(e2.start({ recover: true }));
    await w.drive(3_000, 60_000, 60_300);
    expect(e2.status().strategies[0]!.state).toBe('needsAttention');
    expect(e2.status().strategies[0]!.attention?.reason).toMatch(/position check/);
    await e2.stop();
  });

  it('the running check also sees spot the account no longer holds (sold behind the books)', async () => {
    const w = world();
    const store = new SqliteStore(w.file);
    const e = w.engine(store);
    await w.settle(e.start());
    await e.addStrategy({ kind: 'spot-futures', id: 'basis', params: params() });
    await w.drive(3_000, 60_000, 60_300);
    expect(e.status().strategies[0]!.state).toBe('holding');
    // Somebody sells 0.2 of the strategy's 0.5 BTC at the venue.
    w.venue.placeOrder({
      symbol: SPOT,
      side: 'sell',
      type: 'market',
      amount: 0.2,
      clientOrderId: 'Soutsider02',
    });
    await w.drive(10_000, 60_000, 60_300);
    const s = e.status().strategies[0]!;
    expect(s.state).toBe('needsAttention');
    expect(s.attention?.reason).toMatch(/sim holds 0\.3 BTC, less than the 0\.5 the strategies' books hold/);
    await e.stop();
  });

  it('statearb strategy resolve against a running engine: applied within a second, the strategy stops and releases its locks', async () => {
    const w = world();
    const { store, e } = await doubledPerp(w);
    const out: string[] = [];
    const write = vi.spyOn(process.stdout, 'write').mockImplementation((s) => {
      out.push(String(s));
      return true;
    });
    // A stop without flatten is refused: it would drop the exposure quietly.
    const refused = strategyCommand(['stop', 'basis', '--store', `sqlite:${w.file}`, '--wait-s', '0']);
    expect(await refused).toBe(0);
    await w.drive(1_500, 60_000, 60_300);
    expect(store.command(1)?.result).toMatch(/refused: it needs attention/);
    expect(
      await strategyCommand(['resolve', 'basis', '--store', `sqlite:${w.file}`, '--wait-s', '0', '--json']),
    ).toBe(0);
    await w.drive(1_500, 60_000, 60_300);
    write.mockRestore();
    expect(JSON.parse(out.at(-1)!)).toMatchObject({ strategy: 'basis', command: 'resolve', seq: 2 });
    expect(store.command(2)?.result).toBe('applied');
    const s = e.status().strategies[0]!;
    expect(s.state).toBe('stopped');
    expect(s.lastError).toMatchObject({ name: 'ResolvedByOperator' });
    expect(store.locks()).toEqual({});
    await e.stop();
  });

  it('a flatten queued while no engine runs is applied when the strategy is restored', async () => {
    const w = world();
    const { store, e } = await doubledPerp(w);
    await e.stop();
    const seq = store.enqueueCommand('basis', 'flatten', w.clock.now());
    const e2 = w.engine(new SqliteStore(w.file));
    await w.settle(e2.start({ recover: true }));
    await w.drive(10_000, 60_000, 60_000);
    expect(store.command(seq)?.result).toBe('applied');
    // Its books are flat (the outsider's extra short is the operator's to close).
    const s = e2.status().strategies[0]!;
    expect(s.legs.map((l) => l.position)).toEqual([0, 0]);
    expect(w.venue.balances().BTC?.total ?? 0).toBeCloseTo(0, 9);
    await e2.stop();
  });

  it('refuses a strategy whose client-order tag another stored strategy has', async () => {
    const w = world();
    const e = w.engine();
    await w.settle(e.start());
    await e.addStrategy({ kind: 'spot-futures', id: 'clash-a', params: params() });
    await expect(
      e.addStrategy({
        kind: 'spot-futures',
        id: 'clash-b',
        params: params({ spot: { venue: 'sim', symbol: SPOT }, perp: { venue: 'sim', symbol: PERP } }),
      }),
    ).rejects.toThrow(/clash-b.*tag c1a5h00000.*clash-a/);
    await e.stop();
  });
});
