/**
 * Users' own strategy kinds loaded from the modules a config names: registered, their params
 * validated by their own schema, listed by `statearb strategies`, run by `statearb run` like a
 * built-in; a module that is missing, throws, or exports no valid descriptor is refused with
 * exit 2 naming the file and the reason.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative as relativePath } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { STRATEGY_KINDS, unregisterStrategyKinds } from '../../src/config/kinds.ts';
import { ConfigError, loadConfigFile } from '../../src/config/load.ts';
import { loadStrategyPlugins } from '../../src/config/plugins.ts';
import { ROOT, runCli } from '../cli/cli-helpers.ts';

const FIXTURES = join(ROOT, 'test/fixtures/plugins');
const spread = (kind: string) => ({
  id: 'mine',
  kind,
  params: {
    legA: { venue: 'binance', symbol: 'ETH/USDT:USDT' },
    legB: { venue: 'bybit', symbol: 'ETH/USDT:USDT' },
    amount: 0.5,
  },
});
const venues = {
  binance: { type: 'simulated', balances: { USDT: 100_000, ETH: 10 } },
  bybit: { type: 'simulated', balances: { USDT: 100_000, ETH: 10 } },
};

/** A config in a new folder; its data directory (not there yet) inside it. */
function configFile(body: object): string {
  const dir = mkdtempSync(join(tmpdir(), 'statearb-plugins-'));
  const file = join(dir, 'config.json');
  writeFileSync(file, JSON.stringify({ assets: ['ETH'], venues, dataDir: join(dir, 'data'), ...body }));
  return file;
}

const load = (file: string) => loadConfigFile(file, {}, loadStrategyPlugins);

afterEach(() => unregisterStrategyKinds());

describe('strategy kinds from users’ modules', () => {
  it('a strategy naming a module as its kind runs that kind, its params checked by its own schema', async () => {
    const c = await load(configFile({ strategies: [spread(join(FIXTURES, 'user-spread.ts'))] }));
    expect(c.strategies[0]).toMatchObject({ id: 'mine', kind: 'user-spread' });
    // Defaults from the kind's schema: filled in as for a built-in.
    expect((c.strategies[0]!.params as { signal: string }).signal).toBe('zscore');
    expect(STRATEGY_KINDS['user-spread']?.summary).toMatch(/user’s copy/);
  });

  it('plugins: loads modules by path, relative to the config; strategies then name the kind by id', async () => {
    const probe = configFile({});
    const relative = relativePath(dirname(probe), join(FIXTURES, 'user-spread.ts'));
    expect(relative.startsWith('..')).toBe(true);
    const file = configFile({ plugins: [relative], strategies: [spread('user-spread')] });
    const c = await load(file);
    expect(c.plugins).toEqual([relative]);
    expect(c.strategies[0]!.kind).toBe('user-spread');
    // Its params are checked by its own schema, as a built-in's.
    const bad = configFile({
      plugins: [join(FIXTURES, 'user-spread.ts')],
      strategies: [{ ...spread('user-spread'), params: { ...spread('x').params, amount: -1 } }],
    });
    await expect(load(bad)).rejects.toThrow(/strategies\[0\]\.params\.amount/);
    // Without its module, a kind is unknown.
    unregisterStrategyKinds();
    await expect(load(configFile({ strategies: [spread('user-spread')] }))).rejects.toThrow(
      /strategies\[0\]\.kind/,
    );
  });

  it.each([
    ['missing.ts', /no such file/],
    ['throws.ts', /failed to load: boom while loading/],
    ['not-a-kind.ts', /kind: "Not An Id" is not an id/],
    ['clash.ts', /"spot-futures" is already registered \(a built-in\)/],
  ])('a module %s is refused naming the file and why', async (name, why) => {
    const file = configFile({ strategies: [spread(join(FIXTURES, name))] });
    const err = await load(file).catch((e) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toContain(join(FIXTURES, name));
    expect((err as Error).message).toMatch(why);
    expect((err as Error).message).toMatch(/strategies\[0\]\.kind/);
  });

  it('the CLI lists a module’s kind and its params, runs it like a built-in, and exits 2 on a bad module', async () => {
    const file = configFile({
      plugins: [join(FIXTURES, 'user-spread.ts')],
      strategies: [spread('user-spread')],
      marketData: { source: 'synthetic', seed: 3, stepMs: 250 },
      inspector: { enabled: false },
    });
    const list = await runCli(['strategies', 'user-spread', '--config', file]);
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/^user-spread — a user’s copy of futures-spread/);
    expect(list.stdout).toMatch(/entryThreshold/);
    const run = await runCli(['run', '--config', file, '--duration-s', '2', '--store', 'memory']);
    expect(run.stderr).not.toMatch(/unknown strategy kind/);
    expect(run.code).toBe(0);
    expect(run.stdout + run.stderr).toMatch(/mine/);
    const bad = configFile({ strategies: [spread(join(FIXTURES, 'throws.ts'))] });
    const refused = await runCli(['run', '--config', bad, '--duration-s', '2']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain(join(FIXTURES, 'throws.ts'));
    expect(refused.stderr).toMatch(/failed to load: boom while loading/);
  }, 60_000);

  it('a stored strategy of a kind the config no longer loads stops the engine from starting, changing nothing', async () => {
    const withPlugin = configFile({
      plugins: [join(FIXTURES, 'user-spread.ts')],
      strategies: [spread('user-spread')],
      marketData: { source: 'synthetic', seed: 3, stepMs: 250 },
      inspector: { enabled: false },
    });
    const first = await runCli(['run', '--config', withPlugin, '--duration-s', '2']);
    expect(first.code).toBe(0);
    // The same store, the module left out: the stored strategy is not quarantined or dropped.
    const cfg = JSON.parse(readFileSync(withPlugin, 'utf8')) as Record<string, unknown>;
    writeFileSync(withPlugin, JSON.stringify({ ...cfg, plugins: [], strategies: [] }));
    const again = await runCli(['run', '--config', withPlugin, '--duration-s', '2']);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(
      /stored strategies of kinds this process has not loaded: mine \(user-spread\)/,
    );
    const status = await runCli(['status', '--config', withPlugin, '--json']);
    const st = JSON.parse(status.stdout) as {
      strategies: { id: string; kindNotLoaded?: boolean }[];
      quarantined: unknown[];
    };
    expect(st.strategies.map((s) => [s.id, s.kindNotLoaded])).toEqual([['mine', true]]);
    expect(st.quarantined).toEqual([]);
    // A broken module in the config stands in no operator command's way: they never run it.
    writeFileSync(
      withPlugin,
      JSON.stringify({ ...cfg, plugins: [join(FIXTURES, 'throws.ts')], strategies: [] }),
    );
    const stop = await runCli(['strategy', 'stop', 'mine', '--config', withPlugin, '--wait-s', '0']);
    expect(stop.stderr).not.toMatch(/boom/);
    expect(stop.code).toBe(0);
    const shown = await runCli(['status', '--config', withPlugin]);
    expect(shown.code).toBe(0);
    expect(shown.stderr).toMatch(
      /failed to load: boom while loading — strategies of that kind are shown without figures/,
    );
  }, 60_000);
});
