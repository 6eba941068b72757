/**
 * The operator's commands through the store, as `statearb strategy …` and `statearb kill` queue
 * them, against a running engine: pause and resume one strategy (the pause survives a restart),
 * and the kill switch for every strategy, flattening or holding.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { killCommand } from '../../src/cli/commands/kill.ts';
import { strategyCommand } from '../../src/cli/commands/strategy.ts';
import { SqliteStore } from '../../src/store/sqlite.ts';
import { ETH_PERP, makerParams, PERP, params, world } from './engine-world.ts';

// The commands print what came of them; the tests read the store instead.
beforeEach(() => {
  vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
});
afterEach(() => {
  vi.restoreAllMocks();
});

/** Quotes for both strategies for `ms`, the clock moving on. */
async function drive(w: ReturnType<typeof world>, ms: number, spot: number, perp: number) {
  const end = w.clock.now() + ms;
  while (w.clock.now() < end) {
    w.feed(spot, perp);
    w.feedEth();
    await w.clock.advanceBy(250);
  }
}

/** Run a CLI command while the virtual clock moves (the engine applies it on its poll). */
async function cli(w: ReturnType<typeof world>, p: Promise<number>, spot = 60_000, perp = 60_300) {
  let code: number | undefined;
  let failed: unknown;
  p.then(
    (c) => {
      code = c;
    },
    (e) => {
      failed = e ?? new Error('rejected');
    },
  );
  while (code === undefined) {
    if (failed) throw failed;
    await drive(w, 250, spot, perp); // a basis that holds: only the command ends a position
    await new Promise((r) => setTimeout(r, 5)); // the command's own real-time wait
  }
  return code;
}

/** An engine on a fresh store running a basis strategy that never exits on its own. */
async function engineWithBasis() {
  const w = world();
  const store = new SqliteStore(w.file);
  const e = w.engine(store);
  await w.settle(e.start());
  await e.addStrategy({ kind: 'spot-futures', id: 'basis', params: params({ maxCycles: 0 }) });
  return { w, store, e };
}

describe('operator commands through the store', () => {
  it('strategy pause / resume: a paused strategy does not enter, stays paused across a restart, trades again when resumed', async () => {
    const { w, store, e: e1 } = await engineWithBasis();
    await drive(w, 1_000, 60_000, 60_000);
    const url = `sqlite:${w.file}`;
    const pause = strategyCommand(['pause', 'basis', '--store', url, '--wait-s', '5']);
    expect(await cli(w, pause, 60_000, 60_000)).toBe(0);
    await drive(w, 2_000, 60_000, 60_300); // wide enough to enter
    expect(e1.status().strategies[0]!.state).toBe('watching');
    expect(w.venue.allOrders()).toEqual([]);
    await w.settle(e1.shutdown({ timeoutMs: 2_000 }));

    const e2 = w.engine(store);
    await w.settle(e2.start({ recover: true }));
    await drive(w, 2_000, 60_000, 60_300);
    expect(e2.status().strategies[0]!.state).toBe('watching');
    expect(await cli(w, strategyCommand(['resume', 'basis', '--store', url, '--wait-s', '5']))).toBe(0);
    await drive(w, 2_000, 60_000, 60_300);
    expect(e2.status().strategies[0]!.state).toBe('holding');
    await e2.stop();
  });

  it('kill --flatten stops every strategy with its positions closed and its quotes cancelled', async () => {
    const { w, store, e } = await engineWithBasis();
    await e.addStrategy({ kind: 'market-making', id: 'maker', params: makerParams({ spreadBps: 50 }) });
    await drive(w, 2_000, 60_000, 60_300);
    expect(e.status().strategies.map((s) => s.state)).toEqual(['holding', 'quoting']);
    expect(w.venue.fetchOpenOrders(ETH_PERP)).toHaveLength(2);
    const code = await cli(w, killCommand(['--flatten', '--store', `sqlite:${w.file}`, '--wait-s', '5']));
    expect(code).toBe(0);
    await drive(w, 5_000, 60_000, 60_300);
    expect(e.status().strategies.map((s) => s.state)).toEqual(['stopped', 'stopped']);
    expect(w.venue.positions([PERP]).filter((p) => p.size !== 0)).toEqual([]);
    expect(w.venue.fetchOpenOrders(ETH_PERP)).toEqual([]);
    expect(store.locks()).toEqual({});
    await e.stop();
  });

  it('kill without --flatten stops them holding what they hold, and says so', async () => {
    const { w, e } = await engineWithBasis();
    await drive(w, 2_000, 60_000, 60_300);
    expect(e.status().strategies[0]!.state).toBe('holding');
    expect(await cli(w, killCommand(['--store', `sqlite:${w.file}`, '--wait-s', '5']))).toBe(0);
    await drive(w, 2_000, 60_000, 60_300);
    const s = e.status().strategies[0]!;
    expect(s.state).toBe('stopped');
    expect((s.lastError as { name?: string } | undefined)?.name).toBe('StoppedWithPosition');
    expect(w.venue.positions([PERP])[0]?.size).toBeCloseTo(-0.5, 9);
    await e.stop();
  });
});
