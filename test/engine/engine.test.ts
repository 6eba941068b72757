import Database from 'better-sqlite3';
import { describe, expect, it, vi } from 'vitest';
import { statusCommand } from '../../src/cli/commands/status.ts';
import { strategyCommand } from '../../src/cli/commands/strategy.ts';
import { RateLimitExceeded } from '../../src/domain/errors.ts';
import { createEngine, type Engine } from '../../src/engine/engine.ts';
import { SimExchangeClient } from '../../src/exchange/sim/client.ts';
import { FaultInjector } from '../../src/exchange/sim/faults.ts';
import { MemoryStore } from '../../src/store/memory.ts';
import { SqliteStore } from '../../src/store/sqlite.ts';
import { SymbolLockedError } from '../../src/store/types.ts';

import {
  crash,
  ETH_PERP,
  makerParams,
  PERP,
  params,
  SPOT,
  sentBeforeDying,
  stoppedBasis,
  storedTag,
  world,
} from './engine-world.ts';

describe('engine', () => {
  it('takes symbol locks: a second strategy on a held instrument fails naming the holder; racing adds have one winner', async () => {
    const w = world();
    const e = w.engine();
    await w.settle(e.start());
    await e.addStrategy({ kind: 'spot-futures', id: 'basis-1', params: params() });
    const err = await e
      .addStrategy({ kind: 'spot-futures', id: 'basis-2', params: params() })
      .catch((x) => x);
    expect(err).toBeInstanceOf(SymbolLockedError);
    expect(err.message).toBe('sim|BTC/USDT is locked by strategy basis-1');
    const mm = makerParams();
    const results = await Promise.allSettled([
      e.addStrategy({ kind: 'market-making', id: 'mm-a', params: mm }),
      e.addStrategy({ kind: 'market-making', id: 'mm-b', params: mm }),
    ]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect(e.status().locks['sim|ETH/USDT:USDT']).toMatch(/^mm-[ab]$/);
    await e.stop();
  });

  it('rejects bad params naming the field, writing nothing', async () => {
    const w = world();
    const e = w.engine();
    await w.settle(e.start());
    await expect(
      e.addStrategy({ kind: 'spot-futures', id: 'bad', params: params({ amount: -1 }) }),
    ).rejects.toThrow(/amount: must be a positive number/);
    await expect(e.addStrategy({ kind: 'nope', params: {} })).rejects.toThrow(/unknown strategy kind "nope"/);
    expect(e.status().strategies).toEqual([]);
    expect(e.status().locks).toEqual({});
    await e.stop();
  });

  it('persists on transitions, restarts from the store and finishes the cycle with books equal to the venue', async () => {
    const w = world();
    let e: Engine = w.engine();
    await w.settle(e.start());
    await e.addStrategy({ kind: 'spot-futures', id: 'basis-1', params: params() });
    await w.drive(3_000, 60_000, 60_000);
    await w.drive(3_000, 60_000, 60_300); // enter
    expect(e.status().strategies[0]!.state).toBe('holding');
    await e.stop();
    e = w.engine();
    const report = await w.settle(e.start({ recover: true }));
    expect(report).toMatchObject({ recovered: ['basis-1'], quarantined: [], halted: [] });
    expect(e.status().strategies[0]).toMatchObject({
      state: 'holding',
      instruments: ['sim|BTC/USDT', 'sim|BTC/USDT:USDT'],
    });
    expect(e.status().locks).toEqual({ 'sim|BTC/USDT': 'basis-1', 'sim|BTC/USDT:USDT': 'basis-1' });
    await w.drive(5_000, 60_000, 60_000.5); // converge: exit
    const st = e.status();
    expect(st.strategies[0]!.state).toBe('completed');
    expect(st.locks).toEqual({}); // released at the end
    expect(w.venue.positions()).toEqual([]);
    expect(w.venue.balances().BTC?.total ?? 0).toBeCloseTo(0, 12);
    await e.stop();
  });

  it('a crash with orders in flight: the restored strategy adopts its orders, nothing is sent twice', async () => {
    const w = world();
    const store = new SqliteStore(w.file);
    const e1 = w.engine(store);
    await w.settle(e1.start());
    await e1.addStrategy({ kind: 'spot-futures', id: 'basis-1', params: params() });
    await w.drive(2_000, 60_000, 60_000);
    w.feed(60_000, 60_300);
    await w.clock.advanceBy(3); // the entry's orders are on the wire
    // kill -9: the actors vanish without a final write
    crash(e1);
    const e2 = w.engine(store);
    await w.settle(e2.start({ recover: true }));
    await w.drive(3_000, 60_000, 60_300);
    const s = e2.status().strategies[0]!;
    expect(s.state).toBe('holding');
    const ids = w.venue.allOrders().map((o) => o.clientOrderId);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).toHaveLength(2);
    expect(s.legs[0]!.position).toBeCloseTo(w.venue.balances().BTC!.total, 12);
    expect(s.legs[1]!.position).toBeCloseTo(w.venue.positions([PERP])[0]!.size, 12);
    await e2.stop();
  });

  it('a crash after the venue filled the entry but before the answer came back: no false halt, books converge', async () => {
    const w = world();
    const store = new SqliteStore(w.file);
    const e1 = w.engine(store);
    await w.settle(e1.start());
    await e1.addStrategy({ kind: 'spot-futures', id: 'basis-1', params: params() });
    await w.drive(2_000, 60_000, 60_000);
    w.feed(60_000, 60_300);
    await w.clock.advanceBy(7); // filled at the venue (5 ms out), the answers are still on the wire
    expect(w.venue.positions([PERP])[0]?.size).toBeCloseTo(-0.5, 12);
    crash(e1);
    const e2 = w.engine(store);
    // The restored snapshot books nothing yet while the venue holds the position: until the
    // re-run placements have asked the venue, that is not a mismatch.
    const report = await w.settle(e2.start({ recover: true }));
    expect(report.halted).toEqual([]);
    expect(report.checked.positions).toBe(1);
    const s = e2.status().strategies[0]!;
    expect(s.state).toBe('holding');
    expect(s.legs[1]!.position).toBeCloseTo(w.venue.positions([PERP])[0]!.size, 12);
    expect(w.venue.allOrders()).toHaveLength(2);
    await e2.stop();
  });

  it('every order is in the persisted snapshot before its request leaves, also the rounds an execution takes on its own', async () => {
    // A thin perp (0.2 shown against an entry of 0.5): the pair goes round after round on its own
    // retry timer, with no event at the strategy between them.
    const w = world({}, { liquidity: 'refresh' });
    const store = new SqliteStore(w.file);
    const e = w.engine(store);
    await w.settle(e.start());
    await e.addStrategy({ kind: 'spot-futures', id: 'basis-1', params: params() });
    const feed = (perp: number) => {
      const t = w.clock.now();
      w.venue.onBookTicker({
        symbol: SPOT,
        bid: 59_999.5,
        ask: 60_000.5,
        bidSize: 5,
        askSize: 5,
        timestamp: t,
      });
      w.venue.onBookTicker({
        symbol: PERP,
        bid: perp - 0.05,
        ask: perp + 0.05,
        bidSize: 0.2,
        askSize: 0.2,
        timestamp: t,
      });
    };
    const unknownAtSend: string[] = [];
    const place = w.venue.placeOrder.bind(w.venue);
    w.venue.placeOrder = (req) => {
      const snapshot = JSON.stringify(store.get('basis-1')?.snapshot ?? null);
      if (!snapshot.includes(`"${req.clientOrderId}"`)) unknownAtSend.push(req.clientOrderId);
      return place(req);
    };
    for (let i = 0; i < 8; i++) {
      feed(60_000);
      await w.clock.advanceBy(250);
    }
    // Quotes every second from here: the pair's 250 ms rounds fall between them.
    for (let i = 0; i < 20 && e.status().strategies[0]!.state !== 'holding'; i++) {
      feed(60_300);
      await w.clock.advanceBy(1_000);
    }
    expect(e.status().strategies[0]!.state).toBe('holding');
    expect(w.venue.allOrders().length).toBeGreaterThan(2); // it did take rounds
    // A crash right after any of these sends restores a strategy that knows the order: no false halt.
    expect(unknownAtSend).toEqual([]);
    await e.stop();
  });

  it('entries the venue refuses back off (1 s, doubling) instead of retrying as fast as it answers', async () => {
    const w = world();
    const store = new MemoryStore();
    const e = w.engine(store as never);
    await w.settle(e.start());
    // short-spot needs BTC to sell: the venue has none, every entry leaves nothing.
    const transitions: string[] = [];
    await e.addStrategy({
      kind: 'spot-futures',
      id: 'refused',
      params: params({ direction: 'short-spot', cooldownMs: 0, maxCycles: 0 }),
    });
    for (let i = 0; i < 60; i++) {
      w.feed(60_300, 60_000); // spot rich: a short-spot entry every time it may
      await w.clock.advanceBy(250);
      transitions.push(e.status().strategies[0]!.state);
    }
    // Every placement is journalled before it is sent: the spot legs are the entry attempts.
    const entries = store.intentsFor('refused').filter((i) => i.request.symbol === SPOT).length;
    // 15 s of chances: entries at 0, 1, 3, 7 and 15 s (each with its bounded top-up attempts);
    // without the back-off it is ~60, as fast as quotes arrive.
    expect(entries).toBeGreaterThanOrEqual(3);
    expect(entries).toBeLessThanOrEqual(15);
    expect(transitions).toContain('cooldown');
    await e.stop();
  });

  it('quarantines corrupt and wrong-version snapshots with the reason and recovers the rest', async () => {
    const w = world();
    const e1 = w.engine();
    await w.settle(e1.start());
    await e1.addStrategy({ kind: 'spot-futures', id: 'good', params: params() });
    const mm = makerParams();
    await e1.addStrategy({ kind: 'market-making', id: 'torn', params: mm });
    await w.drive(1_000, 60_000, 60_000);
    await e1.stop();
    const db = new Database(w.file);
    db.prepare('UPDATE strategies SET snapshot = substr(snapshot, 1, 40) WHERE id = ?').run('torn');
    const copy = (id: string, version: string, snapshot: string) =>
      db
        .prepare(
          `INSERT INTO strategies (id, kind, machine_version, status, spec, snapshot, snapshot_sum, instruments, created_at, updated_at)
           SELECT ?, kind, ${version}, status, spec, ${snapshot}, snapshot_sum, '[]', created_at, updated_at FROM strategies WHERE id = ?`,
        )
        .run(id, 'good');
    copy('future', '99', 'snapshot');
    // A changed digit still parses as JSON: only the checksum catches it.
    copy('flipped', 'machine_version', `replace(snapshot, '"cycle":0', '"cycle":1')`);
    db.close();
    const e2 = w.engine();
    const report = await w.settle(e2.start({ recover: true }));
    expect(report.recovered).toEqual(['good']);
    expect(report.quarantined.map((q) => q.id).sort()).toEqual(['flipped', 'future', 'torn']);
    expect(report.quarantined.find((q) => q.id === 'flipped')!.reason).toMatch(/checksum mismatch/);
    expect(report.quarantined.find((q) => q.id === 'future')!.reason).toMatch(/version 99.*version 2/);
    expect(report.quarantined.find((q) => q.id === 'torn')!.reason).toMatch(/unreadable/);
    expect(e2.status().locks).toEqual({ 'sim|BTC/USDT': 'good', 'sim|BTC/USDT:USDT': 'good' });
    await e2.stop();
  });

  it('migrates an older snapshot with a registered function before restoring it', async () => {
    const w = world();
    const e1 = w.engine();
    await w.settle(e1.start());
    await e1.addStrategy({ kind: 'spot-futures', id: 'old', params: params() });
    await w.drive(500, 60_000, 60_000);
    await e1.stop();
    const db = new Database(w.file);
    db.prepare('UPDATE strategies SET machine_version = 0').run();
    db.close();
    const seen: number[] = [];
    const e2 = createEngine({
      store: new SqliteStore(w.file),
      venues: { sim: w.client },
      clock: w.clock,
      migrations: {
        'spot-futures': {
          0: (snap) => {
            seen.push(0);
            return snap;
          },
        },
      },
    });
    const report = await w.settle(e2.start({ recover: true }));
    // The registered step (0 → 1), then the kind's own (1 → 2: a snapshot at rest carries over).
    expect(seen).toEqual([0]);
    expect(report.recovered).toEqual(['old']);
    expect(new SqliteStore(w.file).get('old')!.machineVersion).toBe(2);
    await e2.stop();
  });

  it('halts a strategy whose journalled order filled while it was down without its snapshot knowing', async () => {
    // The halt alone (the running position check would add needs attention on top).
    const w = world({ positionCheckMs: 0 });
    const store = await stoppedBasis(w);
    // An order this strategy sent just before dying (intent journalled, snapshot not yet written).
    sentBeforeDying(w, store, 'basis-1', { symbol: PERP, side: 'sell', type: 'market', amount: 0.5 });
    const e2 = w.engine(store);
    const report = await w.settle(e2.start({ recover: true }));
    expect(report.halted).toHaveLength(1);
    expect(report.halted[0]!.reason).toMatch(/filled 0.5 BTC\/USDT:USDT while the engine was down/);
    expect(e2.status().strategies[0]!.halted).toBeDefined();
    await w.drive(3_000, 60_000, 60_300); // even a wide basis does not make a halted strategy enter
    expect(e2.status().strategies[0]!.state).toBe('watching');
    await w.drive(120_000, 60_000, 60_000); // long past the window recovery looks at again
    await e2.stop();

    // The halt is the strategy's until an operator clears it: it survives the restart, and the
    // store's status shows it with its reason.
    const e3 = w.engine(store);
    const again = await w.settle(e3.start({ recover: true }));
    expect(again.halted.map((h) => h.reason)).toEqual([]); // not found again: remembered
    expect(e3.status().strategies[0]!.halted).toMatch(/while the engine was down/);
    const out: string[] = [];
    const write = vi.spyOn(process.stdout, 'write').mockImplementation((t) => {
      out.push(String(t));
      return true;
    });
    expect(await statusCommand(['--store', `sqlite:${w.file}`, '--json'])).toBe(0);
    const stored = JSON.parse(out.join('')).strategies[0];
    expect(stored.halted).toMatch(/while the engine was down/);
    out.length = 0;
    expect(await statusCommand(['--store', `sqlite:${w.file}`])).toBe(0);
    expect(out.join('')).toMatch(/basis-1\s+spot-futures\s+HALTED/);
    // resolve: the operator has dealt with it (here: bought the stray perp short back).
    w.venue.placeOrder({ symbol: PERP, side: 'buy', type: 'market', amount: 0.5, clientOrderId: 'manual-1' });
    let resolved: number | undefined;
    strategyCommand(['resolve', 'basis-1', '--store', `sqlite:${w.file}`, '--wait-s', '5']).then((c) => {
      resolved = c;
    });
    while (resolved === undefined) {
      await w.drive(250, 60_000, 60_000);
      await new Promise((r) => setTimeout(r, 5));
    }
    write.mockRestore();
    expect(resolved).toBe(0);
    expect(e3.status().strategies[0]!.halted).toBeUndefined();
    await w.drive(2_000, 60_000, 60_300);
    expect(e3.status().strategies[0]!.state).toBe('holding'); // trades again
    await e3.stop();
  });

  it('an order still on its way when the engine died is not taken as never sent: recovery asks again, in the background, once it can no longer land', async () => {
    const w = world({ positionCheckMs: 0 });
    const store = await stoppedBasis(w);
    // Journalled and sent just before the kill; the request is slow and reaches the venue 2 s
    // later — after the restarted engine first asked and heard "not found".
    const req = { symbol: PERP, side: 'sell' as const, type: 'market' as const, amount: 0.5 };
    const id = `S${storedTag(store, 'basis-1')}9ea0`;
    store.appendIntent({
      strategyId: 'basis-1',
      venue: 'sim',
      request: { ...req, clientOrderId: id },
      createdAt: w.clock.now(),
    });
    w.clock.setTimeout(() => w.venue.placeOrder({ ...req, clientOrderId: id }), 2_000);
    const e2 = w.engine(store);
    const report = await w.settle(e2.start({ recover: true }));
    // The start does not wait for it (other strategies recover at once); it is asked again once
    // it can no longer land, and then halts the strategy as a fill it did not know of.
    expect(report.recovered).toEqual(['basis-1']);
    expect(report.halted).toEqual([]);
    await w.clock.advanceBy(5_000);
    expect(e2.status().strategies[0]!.halted).toMatch(/filled 0.5 BTC\/USDT:USDT while the engine was down/);
    await e2.stop();
  });

  it('recovery asks the venue about what can still be live only: its calls do not grow with the journal', async () => {
    const callsAtRecovery = async (journalled: number) => {
      const w = world({ positionCheckMs: 0 });
      const store = new SqliteStore(w.file);
      const e1 = w.engine(store);
      await w.settle(e1.start());
      await e1.addStrategy({ kind: 'spot-futures', id: 'basis-1', params: params({ maxCycles: 0 }) });
      await w.drive(2_000, 60_000, 60_300); // holding
      // A busy history: finished orders journalled over the last hour, a tenth in the last minute,
      // all before the last snapshot (which no longer names them).
      const tag = storedTag(store, 'basis-1');
      const now = w.clock.now();
      for (let i = 0; i < journalled; i++)
        store.appendIntent({
          strategyId: 'basis-1',
          venue: 'sim',
          request: { symbol: PERP, side: 'sell', type: 'market', amount: 0.5, clientOrderId: `S${tag}h${i}` },
          createdAt: now - (i % 10 === 0 ? 30_000 : 7_200_000) + i,
        });
      await w.drive(1_000, 60_000, 60_300);
      // The hour-old ones leave the hot journal (the engine does this every 10 minutes).
      expect(e1.archiveJournal()).toBe(journalled - journalled / 10);
      crash(e1); // kill -9
      let calls = 0;
      for (const m of ['fetchOrder', 'fetchOpenOrders', 'fetchPositions', 'cancelOrder'] as const) {
        const f = (w.client[m] as (...a: unknown[]) => Promise<unknown>).bind(w.client);
        (w.client as unknown as Record<string, unknown>)[m] = (...a: unknown[]) => {
          calls++;
          return f(...a);
        };
      }
      const e2 = w.engine(store);
      const report = await w.settle(e2.start({ recover: true }));
      expect(report.halted).toEqual([]);
      expect(e2.status().strategies[0]!.state).toBe('holding');
      await e2.stop();
      return { calls, checked: report.checked.orders };
    };
    const empty = await callsAtRecovery(0);
    const busy = await callsAtRecovery(2_000);
    expect(busy).toEqual(empty);
  });

  it('a crash window a restart could not settle is looked at again by the next start, however long that restart ran', async () => {
    const w = world({ positionCheckMs: 0 });
    const store = await stoppedBasis(w);
    // Sent just before dying, resting at the venue; the snapshot does not know it.
    const req = sentBeforeDying(w, store, 'basis-1', {
      symbol: PERP,
      side: 'sell',
      type: 'limit',
      price: 70_000,
      amount: 0.5,
    });
    // The next start cannot cancel it (the venue refuses), runs two minutes, writing snapshots, and dies.
    const cancel = w.client.cancelOrder.bind(w.client);
    w.client.cancelOrder = async () => {
      throw new Error('sim: cancel refused');
    };
    const e2 = w.engine(store);
    expect((await w.settle(e2.start({ recover: true }))).orphansCancelled).toEqual([]);
    await w.drive(120_000, 60_000, 60_000);
    crash(e2);
    (e2 as unknown as { ticker: { dispose(): void } }).ticker.dispose();
    w.client.cancelOrder = cancel;
    const e3 = w.engine(store);
    const report = await w.settle(e3.start({ recover: true }));
    expect(report.orphansCancelled).toEqual([req.clientOrderId]);
    expect(w.venue.fetchOpenOrders(PERP)).toEqual([]);
    await e3.stop();
  });

  it('recovery that meets rate limits waits for the budget and reconciles, never halting on a 429', async () => {
    const w = world();
    const store = await stoppedBasis(w);
    // Sent just before dying and never filled: the snapshot does not know it, the venue does.
    const req = sentBeforeDying(w, store, 'basis-1', {
      symbol: PERP,
      side: 'sell',
      type: 'limit',
      price: 70_000,
      amount: 0.5,
    });
    // The account's budget is spent: the first five lookups are answered 429.
    const fetchOrder = w.client.fetchOrder.bind(w.client);
    let refused = 0;
    w.client.fetchOrder = async (...args) => {
      if (refused < 5) {
        refused++;
        throw new RateLimitExceeded('sim: too many requests', 200);
      }
      return fetchOrder(...args);
    };
    const fetchPositions = w.client.fetchPositions.bind(w.client);
    let positionsRefused = 0;
    w.client.fetchPositions = async (...args) => {
      if (positionsRefused < 3) {
        positionsRefused++;
        throw new RateLimitExceeded('sim: too many requests', 200);
      }
      return fetchPositions(...args);
    };
    const e2 = w.engine(store);
    const report = await w.settle(e2.start({ recover: true }));
    w.client.fetchOrder = fetchOrder;
    w.client.fetchPositions = fetchPositions;
    expect(refused).toBe(5);
    expect(positionsRefused).toBe(3);
    expect(report.halted).toEqual([]);
    expect(report.orphansCancelled).toEqual([req.clientOrderId]);
    expect(w.venue.fetchOpenOrders(PERP)).toEqual([]);
    expect(e2.status().strategies[0]!.halted).toBeUndefined();
    await e2.stop();
  });

  it('a daily loss beyond the limit pulls the kill switch: everything flattened, visible in status', async () => {
    const w = world();
    const e = createEngine({
      store: new SqliteStore(w.file),
      venues: { sim: w.client },
      clock: w.clock,
      risk: { maxDailyLoss: 50, flattenOnDailyLoss: true },
    });
    await w.settle(e.start());
    await e.addStrategy({ kind: 'spot-futures', id: 'basis-1', params: params({ maxCycles: 0 }) });
    await w.drive(2_000, 60_000, 60_000);
    await w.drive(2_000, 60_000, 60_300); // enter at a 50 bps basis
    expect(e.status().strategies[0]!.state).toBe('holding');
    await w.drive(3_000, 60_000, 60_500); // the perp runs away: the short perp loses 100 on 0.5 BTC
    const st = e.status();
    expect(Object.keys(st.risk.breaches)).toEqual(['dailyLoss']);
    expect(st.strategies[0]!.state).toBe('stopped');
    expect(w.venue.positions()).toEqual([]);
    await e.stop();
  });

  it('a loss limit breached while the engine shuts down flattens nothing: nothing new is sent once the shutdown starts', async () => {
    const w = world();
    const t0 = w.clock.now();
    // The venue stops answering cancels just as the shutdown starts: the maker's cancels keep it
    // open for seconds, long enough for the risk check to see the perp run away.
    const faults = new FaultInjector({
      script: [
        {
          atTime: t0 + 4_000,
          fault: 'outage',
          durationMs: 3_000,
          methods: ['cancelOrder'],
          as: 'timeoutBeforePlace',
        },
      ],
    });
    const client = new SimExchangeClient(w.venue, {
      latency: { requestMs: 5, streamMs: 1 },
      requestTimeoutMs: 1_000,
      faults,
    });
    const store = new SqliteStore(w.file);
    const e1 = createEngine({
      store,
      venues: { sim: client },
      clock: w.clock,
      risk: { maxDailyLoss: 50, flattenOnDailyLoss: true },
    });
    await w.settle(e1.start());
    await e1.addStrategy({ kind: 'spot-futures', id: 'basis-1', params: params({ maxCycles: 0 }) });
    await e1.addStrategy({ kind: 'market-making', id: 'mm-1', params: makerParams({ spreadBps: 50 }) });
    while (w.clock.now() < t0 + 4_000) {
      w.feed(60_000, w.clock.now() < t0 + 2_000 ? 60_000 : 60_300); // enter at a 50 bps basis
      w.feedEth();
      await w.clock.advanceBy(250);
    }
    expect(e1.status().strategies.find((s) => s.id === 'basis-1')!.state).toBe('holding');
    const sent = w.venue.allOrders().length;
    let stopped = false;
    const shutdown = e1.shutdown({ timeoutMs: 5_000 }).finally(() => {
      stopped = true;
    });
    while (!stopped) {
      w.feed(60_000, 60_600); // the short perp loses 150 on 0.5 BTC
      w.feedEth();
      await w.clock.advanceBy(50);
    }
    await shutdown;
    expect(Object.keys(e1.status().risk.breaches)).toEqual(['dailyLoss']); // seen, and left to the next start
    await w.clock.advanceBy(5_000);
    expect(w.venue.allOrders()).toHaveLength(sent); // no flatten, no re-quote on the way out
    expect(w.venue.positions()).toHaveLength(1); // the hedge as it was: the perp short, the spot held
    expect(store.get('basis-1')!.status).toBe('active');

    // The next start sees the same day's loss and acts on it.
    const e2 = createEngine({
      store: new SqliteStore(w.file),
      venues: { sim: w.client },
      clock: w.clock,
      risk: { maxDailyLoss: 50, flattenOnDailyLoss: true },
    });
    await w.settle(e2.start({ recover: true }));
    await w.drive(3_000, 60_000, 60_600);
    expect(e2.status().strategies.find((s) => s.id === 'basis-1')!.state).toBe('stopped');
    expect(w.venue.positions()).toEqual([]);
    await e2.stop();
  });

  it('after a restart, a stopped strategy that still holds positions counts toward the exposure limit', async () => {
    const w = world();
    const store = new SqliteStore(w.file);
    const e1 = w.engine(store);
    await w.settle(e1.start());
    await e1.addStrategy({ kind: 'spot-futures', id: 'basis-1', params: params({ maxCycles: 0 }) });
    await w.drive(2_000, 60_000, 60_000);
    await w.drive(2_000, 60_000, 60_300);
    expect(e1.status().strategies[0]!.state).toBe('holding');
    // Stopped without flattening: 0.5 BTC spot and 0.5 BTC short perp stay with it (≈ 60,000).
    await w.settle(e1.stopStrategy('basis-1', { flatten: false }));
    expect(e1.status().strategies[0]!.state).toBe('stopped');
    await e1.stop();

    const e2 = createEngine({
      store: new SqliteStore(w.file),
      venues: { sim: w.client },
      clock: w.clock,
      risk: { maxTotalExposure: 10_000 },
    });
    await w.settle(e2.start({ recover: true }));
    await w.drive(2_000, 60_000, 60_300);
    expect(e2.status().risk.breaches).toHaveProperty('exposure');
    expect(e2.status().risk.breaches.exposure).toMatch(/total exposure 6\d{4}/);
    await e2.stop();
  });

  it('graceful shutdown lets an entry in flight settle, persists, and the next start resumes it', async () => {
    const w = world();
    const store = new SqliteStore(w.file);
    const e1 = w.engine(store);
    await w.settle(e1.start());
    await e1.addStrategy({ kind: 'spot-futures', id: 'basis-1', params: params() });
    await w.drive(2_000, 60_000, 60_000);
    w.feed(60_000, 60_300);
    await w.clock.advanceBy(2); // entry on the wire
    const done = await w.settle(e1.shutdown({ timeoutMs: 5_000 }));
    expect(done.settled).toBe(true);
    expect(store.get('basis-1')!.status).toBe('active');
    const e2 = w.engine(store);
    await w.settle(e2.start({ recover: true }));
    expect(e2.status().strategies[0]!.state).toBe('holding');
    await w.drive(3_000, 60_000, 60_000.5);
    expect(e2.status().strategies[0]!.state).toBe('completed');
    await e2.stop();
  });

  it('graceful shutdown sends nothing new: an operator-paused strategy does not enter on the way out and stays paused after the restart', async () => {
    const w = world();
    const store = new SqliteStore(w.file);
    const e1 = w.engine(store);
    await w.settle(e1.start());
    await e1.addStrategy({ kind: 'spot-futures', id: 'basis-1', params: params() });
    await w.drive(2_000, 60_000, 60_000);
    e1.pause('basis-1');
    await w.drive(2_000, 60_000, 60_300); // wide enough to enter, but paused
    expect(e1.status().strategies[0]!.state).toBe('watching');
    await w.settle(e1.shutdown({ timeoutMs: 5_000 }));
    await w.clock.advanceBy(1_000); // anything sent on the way out would reach the venue now
    expect(w.venue.allOrders()).toEqual([]);

    const e2 = w.engine(store);
    await w.settle(e2.start({ recover: true }));
    await w.drive(2_000, 60_000, 60_300);
    expect(e2.status().strategies[0]!.state).toBe('watching'); // the operator's pause survived
    expect(w.venue.allOrders()).toEqual([]);
    e2.resume('basis-1');
    await w.drive(2_000, 60_000, 60_300);
    expect(e2.status().strategies[0]!.state).toBe('holding');
    await e2.stop();
  });

  it("graceful shutdown cancels the maker's resting quotes, sends nothing after, and the next start quotes again", async () => {
    const w = world();
    const store = new SqliteStore(w.file);
    const e1 = w.engine(store);
    await w.settle(e1.start());
    await e1.addStrategy({ kind: 'market-making', id: 'mm-1', params: makerParams({ spreadBps: 50 }) });
    for (let i = 0; i < 8; i++) {
      w.feedEth();
      await w.clock.advanceBy(250);
    }
    expect(w.venue.fetchOpenOrders('ETH/USDT:USDT')).toHaveLength(2);
    const shutdown = e1.shutdown({ timeoutMs: 5_000 });
    let stopped = false;
    // Stopped means cancelled at the venue, not cancels still on the wire when the process exits.
    let restingWhenStopped: string[] = [];
    let reportedWhenStopped: string[] = [];
    shutdown.then(() => {
      stopped = true;
      restingWhenStopped = w.venue.fetchOpenOrders('ETH/USDT:USDT').map((o) => o.clientOrderId);
      reportedWhenStopped = e1.status().strategies[0]!.openOrders;
    });
    while (!stopped) {
      w.feedEth(); // the market moves on while the engine stops
      await w.clock.advanceBy(1);
    }
    expect(restingWhenStopped).toEqual([]);
    expect(reportedWhenStopped).toEqual([]);
    const sentBeforeStop = w.venue.allOrders().length;
    await w.clock.advanceBy(1_000);
    expect(w.venue.fetchOpenOrders('ETH/USDT:USDT')).toEqual([]);
    expect(w.venue.allOrders()).toHaveLength(sentBeforeStop);
    expect(w.venue.allOrders()).toHaveLength(2); // the two quotes, no re-quote on the way out
    // Its pause was the shutdown's: stored as not paused (also if the process had died meanwhile).
    expect((store.get('mm-1')!.snapshot as { context: { paused: boolean } }).context.paused).toBe(false);

    const e2 = w.engine(store);
    await w.settle(e2.start({ recover: true }));
    expect(e2.status().strategies[0]!.halted).toBeUndefined();
    for (let i = 0; i < 8; i++) {
      w.feedEth();
      await w.clock.advanceBy(250);
    }
    expect(w.venue.fetchOpenOrders('ETH/USDT:USDT')).toHaveLength(2);
    await e2.stop();
  });

  it('graceful shutdown while the maker is still placing its quotes waits for them and cancels them', async () => {
    const w = world();
    const store = new SqliteStore(w.file);
    const e1 = w.engine(store);
    await w.settle(e1.start());
    await e1.addStrategy({ kind: 'market-making', id: 'mm-1', params: makerParams({ spreadBps: 50 }) });
    w.feedEth();
    await w.clock.advanceBy(2); // the quotes' requests are on the wire (5 ms out)
    let restingWhenStopped: string[] | undefined;
    const shutdown = e1.shutdown({ timeoutMs: 5_000 }).then((r) => {
      restingWhenStopped = w.venue.fetchOpenOrders('ETH/USDT:USDT').map((o) => o.clientOrderId);
      return r;
    });
    while (restingWhenStopped === undefined) await w.clock.advanceBy(1);
    expect((await shutdown).settled).toBe(true);
    expect(restingWhenStopped).toEqual([]);
    await w.clock.advanceBy(1_000);
    expect(w.venue.fetchOpenOrders('ETH/USDT:USDT')).toEqual([]);
  });

  it("engine.onShutdown 'leave-quotes': the maker's quotes stay resting and the next start adopts them", async () => {
    const w = world({ onShutdown: 'leave-quotes' });
    const store = new SqliteStore(w.file);
    const e1 = w.engine(store);
    await w.settle(e1.start());
    await e1.addStrategy({ kind: 'market-making', id: 'mm-1', params: makerParams({ spreadBps: 50 }) });
    for (let i = 0; i < 8; i++) {
      w.feedEth();
      await w.clock.advanceBy(250);
    }
    const quotes = w.venue.fetchOpenOrders('ETH/USDT:USDT').map((o) => o.clientOrderId);
    expect(quotes).toHaveLength(2);
    await w.settle(e1.shutdown({ timeoutMs: 5_000 }));
    expect(w.venue.fetchOpenOrders('ETH/USDT:USDT').map((o) => o.clientOrderId)).toEqual(quotes);
    expect(e1.status().strategies[0]!.openOrders.sort()).toEqual([...quotes].sort());

    const e2 = w.engine(store);
    const report = await w.settle(e2.start({ recover: true }));
    expect(report).toMatchObject({ halted: [], orphansCancelled: [] });
    w.feedEth();
    await w.clock.advanceBy(250);
    expect(w.venue.fetchOpenOrders('ETH/USDT:USDT').map((o) => o.clientOrderId)).toEqual(quotes);
    await e2.stop();
  });

  it("engine.onShutdown 'leave-quotes': the maker stops at once and re-quotes nothing while a hedge settles", async () => {
    const w = world({ onShutdown: 'leave-quotes' });
    const store = new SqliteStore(w.file);
    const e1 = w.engine(store);
    await w.settle(e1.start());
    await e1.addStrategy({ kind: 'market-making', id: 'mm-1', params: makerParams({ spreadBps: 50 }) });
    await e1.addStrategy({ kind: 'spot-futures', id: 'basis-1', params: params() });
    for (let i = 0; i < 8; i++) {
      w.feed(60_000, 60_000);
      w.feedEth();
      await w.clock.advanceBy(250);
    }
    const quotes = w.venue.fetchOpenOrders(ETH_PERP).map((o) => o.clientOrderId);
    expect(quotes).toHaveLength(2);
    w.feed(60_000, 60_300);
    await w.clock.advanceBy(2); // the hedge's entry on the wire: the shutdown waits for its legs
    let stopped = false;
    const shutdown = e1.shutdown({ timeoutMs: 5_000 }).finally(() => {
      stopped = true;
    });
    let steps = 0;
    while (!stopped) {
      // The market swings by 4 (13 bps, past the refresh tolerance, inside the quotes) while
      // the hedge settles.
      const mid = 3_000 + (steps++ % 2 === 0 ? 4 : -4);
      w.venue.onBookTicker({
        symbol: ETH_PERP,
        bid: mid - 0.01,
        ask: mid + 0.01,
        bidSize: 5,
        askSize: 5,
        timestamp: w.clock.now(),
      });
      await w.clock.advanceBy(1);
    }
    expect((await shutdown).settled).toBe(true);
    await w.clock.advanceBy(1_000);
    const ethOrders = w.venue.allOrders().filter((o) => o.symbol === ETH_PERP);
    expect(ethOrders.map((o) => o.clientOrderId).sort()).toEqual([...quotes].sort());
    expect(
      w.venue
        .fetchOpenOrders(ETH_PERP)
        .map((o) => o.clientOrderId)
        .sort(),
    ).toEqual([...quotes].sort());
    await e1.stop();
  });

  it('status shows states, positions, unrealized PnL, live orders, locks and persistence counts', async () => {
    const w = world();
    const e = w.engine();
    await w.settle(e.start());
    await e.addStrategy({ kind: 'spot-futures', id: 'basis-1', params: params({ maxCycles: 0 }) });
    const mm = makerParams({ spreadBps: 50, refreshToleranceBps: 10 });
    await e.addStrategy({ kind: 'market-making', id: 'mm-1', params: mm });
    for (let i = 0; i < 8; i++) {
      w.feed(60_000, 60_300);
      w.feedEth();
      await w.clock.advanceBy(250);
    }
    const st = e.status();
    const basis = st.strategies.find((s) => s.id === 'basis-1')!;
    expect(basis.state).toBe('holding');
    expect(basis.legs.map((l) => l.position)).toEqual([0.5, -0.5]);
    expect(basis.unrealizedPnl).toBeCloseTo(0.5 * (60_000 - 60_000.5) + -0.5 * (60_300 - 60_299.95), 6);
    expect(basis.openOrders).toEqual([]);
    const maker = st.strategies.find((s) => s.id === 'mm-1')!;
    expect(maker.openOrders).toHaveLength(2);
    expect(
      w.venue
        .fetchOpenOrders('ETH/USDT:USDT')
        .map((o) => o.clientOrderId)
        .sort(),
    ).toEqual([...maker.openOrders].sort());
    expect(st.locks).toEqual({
      'sim|BTC/USDT': 'basis-1',
      'sim|BTC/USDT:USDT': 'basis-1',
      'sim|ETH/USDT:USDT': 'mm-1',
    });
    expect(st.persistence).toMatchObject({
      active: 2,
      completed: 0,
      stopped: 0,
      failed: 0,
      quarantined: 0,
      failedWrites: 0,
    });
    expect(st.persistence.writes).toBeGreaterThan(4);
    await e.stop();
  });

  it('cleanupPersistence removes only terminal strategies older than the age', async () => {
    const w = world();
    const e = w.engine();
    await w.settle(e.start());
    await e.addStrategy({ kind: 'spot-futures', id: 'done-1', params: params() });
    await w.drive(500, 60_000, 60_000);
    await e.stopStrategy('done-1', { flatten: true });
    expect(e.status().strategies[0]!.state).toBe('stopped');
    expect(e.cleanupPersistence({ maxAgeHours: 1 })).toEqual([]);
    await w.clock.advanceBy(2 * 3_600_000);
    expect(e.cleanupPersistence({ maxAgeHours: 1 })).toEqual(['done-1']);
    await e.stop();
  });
});
