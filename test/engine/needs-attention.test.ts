import { describe, expect, it, vi } from 'vitest';
import { strategyCommand } from '../../src/cli/commands/strategy.ts';
import { SqliteStore } from '../../src/store/sqlite.ts';
import { PERP, params, SPOT, world } from './engine-world.ts';

vi.mock('../../machines/ids.ts', async (original) => {
  const real = (await original()) as typeof import('../../machines/ids.ts');
  // A tag that collides on purpose for ids that start with "clash-" (real tags are 52 bits).
  return {
    ...real,
    strategyTag: (id: string) => (id.startsWith('clash-') ? 'c1a5h00000' : real.strategyTag(id)),
  };
});

/** The engine world with a fast running check: every 2 s, a mismatch counts after 3 s. */
const attentionWorld = () => world({ positionCheckMs: 2_000, positionSettleMs: 3_000 });
const basis = () => params({ maxCycles: 0 });

/** A basis strategy entered and holding. */
async function holdingBasis(w: ReturnType<typeof world>) {
  const store = new SqliteStore(w.file);
  const e = w.engine(store);
  await w.settle(e.start());
  await e.addStrategy({ kind: 'spot-futures', id: 'basis', params: basis() });
  await w.drive(3_000, 60_000, 60_300);
  expect(e.status().strategies[0]!.state).toBe('holding');
  return { store, e };
}

/** A hedge that is held, then an order nobody booked doubles its perp at the venue. */
async function doubledPerp(w: ReturnType<typeof world>) {
  const { store, e } = await holdingBasis(w);
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
    const w = attentionWorld();
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
    const w = attentionWorld();
    const { e } = await holdingBasis(w);
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
    const w = attentionWorld();
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
    const w = attentionWorld();
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
    const w = attentionWorld();
    const e = w.engine();
    await w.settle(e.start());
    await e.addStrategy({ kind: 'spot-futures', id: 'clash-a', params: basis() });
    await expect(
      e.addStrategy({
        kind: 'spot-futures',
        id: 'clash-b',
        params: basis(),
      }),
    ).rejects.toThrow(/clash-b.*tag c1a5h00000.*clash-a/);
    await e.stop();
  });
});
