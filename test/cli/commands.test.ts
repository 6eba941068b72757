import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { jsonLines, runCli, writePaperConfig } from './cli-helpers.ts';

const tmp = () => mkdtempSync(join(tmpdir(), 'statearb-cli-'));

const maker = {
  id: 'maker-eth',
  kind: 'market-making',
  params: {
    market: { venue: 'binance', symbol: 'ETH/USDT:USDT' },
    orderAmount: 0.05,
    levels: 1,
    spreadBps: 1,
    maxInventoryBase: 0.5,
    minOrderAgeMs: 100,
  },
};
const basis = {
  id: 'basis-btc',
  kind: 'spot-futures',
  params: {
    spot: { venue: 'binance', symbol: 'BTC/USDT' },
    perp: { venue: 'binance', symbol: 'BTC/USDT:USDT' },
    amount: 0.01,
    minEntryBasisBps: -500,
    exitBasisBps: -600,
    maxEntryCostPct: 5,
    maxHoldingHours: 0.0005,
    cooldownMs: 200,
  },
};

const writeConfig = (dir: string, over: Record<string, unknown> = {}) =>
  writePaperConfig(dir, { logging: { level: 'info', pretty: false }, strategies: [basis, maker], ...over });

describe('statearb CLI', () => {
  it('--help everywhere, exit 0; unknown commands and flags exit 2', async () => {
    const main = await runCli(['--help']);
    expect(main.code).toBe(0);
    for (const cmd of ['run', 'backtest', 'status', 'strategies', 'cleanup', 'venue']) {
      expect(main.stdout).toContain(cmd);
      const r = await runCli([cmd, '--help']);
      expect(r.code, cmd).toBe(0);
      expect(r.stdout).toMatch(new RegExp(`Usage: statearb ${cmd}`));
    }
    const unknown = await runCli(['frobnicate']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/unknown command "frobnicate"/);
    const badFlag = await runCli(['status', '--bogus']);
    expect(badFlag.code).toBe(2);
    expect(badFlag.stderr).toMatch(/bogus/);
  }, 120_000); // ~20 child processes, one after another: a budget for a loaded CI machine

  it('a bad config exits 2 listing every field at fault, before anything starts or is written', async () => {
    const dir = tmp();
    const file = writeConfig(dir, {
      venues: { binance: { type: 'simulated', latencyMs: 'fast' } },
      strategies: [{ ...maker, params: { ...maker.params, orderAmount: 0, color: 'red' } }],
    });
    const r = await runCli(['run', '--config', file]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${file}: invalid config`);
    expect(r.stderr).toMatch(/venues\.binance\.latencyMs: .*expected number/);
    expect(r.stderr).toMatch(/strategies\[0\]\.params\.orderAmount: Too small/);
    expect(r.stderr).toMatch(/strategies\[0\]\.params: unknown field "color"/);
    expect(existsSync(join(dir, 'data'))).toBe(false);
  });

  it('params that do not fit the markets exit 2 naming the strategy and field; no strategy is stored', async () => {
    const dir = tmp();
    // 0.0001 ETH is below the market's minimum amount and notional.
    const file = writeConfig(dir, {
      strategies: [basis, { ...maker, params: { ...maker.params, orderAmount: 0.0001 } }],
    });
    const r = await runCli(['run', '--config', file, '--duration-s', '5']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/strategies\[1\] \(maker-eth\)\.params\.orderAmount: /);
    const st = await runCli(['status', '--config', file, '--json', '--all']);
    expect(st.code).toBe(0);
    expect(JSON.parse(st.stdout).strategies).toEqual([]);
  });

  it('run trades, persists, stops by itself; status reads the store; a restart resumes the same strategies', async () => {
    const dir = tmp();
    const file = writeConfig(dir);
    const first = await runCli([
      'run',
      '--config',
      file,
      '--json',
      '--status-every-ms',
      '500',
      '--duration-s',
      '4',
    ]);
    expect(first.code, first.stderr).toBe(0);
    const statuses = jsonLines(first.stdout);
    expect(statuses.length).toBeGreaterThanOrEqual(3);
    const last = statuses.at(-1) as { strategies: { id: string; state: string; openOrders: string[] }[] };
    expect(last.strategies.map((s) => s.id)).toEqual(['basis-btc', 'maker-eth']);
    const logs = jsonLines(first.stderr);
    expect(logs.find((l) => l.msg === 'engine started')).toMatchObject({ recovered: 0, paperResumed: false });
    const transitions = logs.filter((l) => l.msg === 'transition');
    expect(transitions.some((t) => t.strategy === 'basis-btc' && t.to === 'holding')).toBe(true);
    for (const t of transitions)
      expect(Object.keys(t)).toEqual(expect.arrayContaining(['strategy', 'from', 'to', 'event']));

    const status = await runCli(['status', '--config', file, '--json']);
    expect(status.code).toBe(0);
    const stored = JSON.parse(status.stdout) as {
      strategies: { id: string; status: string; legs: unknown[] }[];
      locks: Record<string, string>;
    };
    expect(stored.strategies.map((s) => [s.id, s.status])).toEqual([
      ['basis-btc', 'active'],
      ['maker-eth', 'active'],
    ]);
    expect(stored.locks).toEqual({
      'binance|BTC/USDT': 'basis-btc',
      'binance|BTC/USDT:USDT': 'basis-btc',
      'binance|ETH/USDT:USDT': 'maker-eth',
    });
    const table = await runCli(['status', '--config', file]);
    expect(table.stdout).toMatch(/strategy\s+kind\s+state\s+position\s+PnL/);

    const second = await runCli([
      'run',
      '--config',
      file,
      '--json',
      '--status-every-ms',
      '500',
      '--duration-s',
      '2',
    ]);
    expect(second.code, second.stderr).toBe(0);
    const started = jsonLines(second.stderr).find((l) => l.msg === 'engine started');
    expect(started).toMatchObject({ recovered: 2, paperResumed: true, quarantined: [], halted: [] });
    expect(jsonLines(second.stderr).filter((l) => l.msg === 'strategy added')).toEqual([]);
    expect(jsonLines(second.stderr).some((l) => l.msg === 'transition' && l.from === '(restored)')).toBe(
      true,
    );

    const cleanup = await runCli(['cleanup', '--config', file, '--json', '--max-age-hours', '0']);
    expect(cleanup.code).toBe(0);
    expect(JSON.parse(cleanup.stdout).deleted).toEqual([]);
  });

  it('ccxt venues need mode live, --live and credentials from the environment', async () => {
    const dir = tmp();
    const ccxt = { binance: { type: 'ccxt', exchange: 'binance', sandbox: true } };
    const paper = writeConfig(dir, { venues: ccxt, strategies: [] });
    // --live on a paper config is refused as such (before: it named the ccxt venue).
    const r1 = await runCli(['run', '--config', paper, '--live']);
    expect(r1.code).toBe(2);
    expect(r1.stderr).toMatch(/mode: paper; --live trades only a config with mode: live/);
    const r1b = await runCli(['run', '--config', paper]);
    expect(r1b.code).toBe(2);
    expect(r1b.stderr).toMatch(/venues\.binance: .*mode: live.*--live/);
    const live = writeConfig(dir, { mode: 'live', venues: ccxt, strategies: [] });
    const r2 = await runCli(['run', '--config', live]);
    expect(r2.code).toBe(2);
    const r3 = await runCli(['run', '--config', live, '--live']);
    expect(r3.code).toBe(2);
    expect(r3.stderr).toMatch(
      /credentials missing from the environment: ARB_BINANCE_API_KEY, ARB_BINANCE_SECRET/,
    );
    // Gate's perpetual order stream needs the account's user id besides the keys.
    const gate = writeConfig(dir, {
      mode: 'live',
      venues: { gate: { type: 'ccxt', exchange: 'gate', sandbox: true } },
      strategies: [],
    });
    const r5 = await runCli(['run', '--config', gate, '--live'], {
      env: { ARB_GATE_API_KEY: 'k', ARB_GATE_SECRET: 's' },
    });
    expect(r5.code).toBe(2);
    expect(r5.stderr).toMatch(
      /venues\.gate: credentials missing from the environment: ARB_GATE_UID \(gate: its perpetual order stream subscribes by user id\)/,
    );
    // OKX signs every request with the API key's passphrase as well.
    const okx = writeConfig(dir, {
      mode: 'live',
      venues: { okx: { type: 'ccxt', exchange: 'okx', sandbox: true } },
      strategies: [],
    });
    const r6 = await runCli(['run', '--config', okx, '--live'], {
      env: { ARB_OKX_API_KEY: 'k', ARB_OKX_SECRET: 's' },
    });
    expect(r6.code).toBe(2);
    expect(r6.stderr).toMatch(
      /venues\.okx: credentials missing from the environment: ARB_OKX_PASSWORD \(okx: every request is signed with the API key's passphrase too\)/,
    );
    const withSecret = join(dir, 'secret.yaml');
    writeFileSync(withSecret, 'venues:\n  binance: { type: ccxt, exchange: binance, secret: hunter2 }\n');
    const r4 = await runCli(['run', '--config', withSecret]);
    expect(r4.code).toBe(2);
    expect(r4.stderr).toMatch(/venues\.binance\.secret: credentials are not accepted in a config file/);
    expect(r4.stderr).not.toContain('hunter2');
  });

  it('strategies lists the kinds with JSON Schemas; status needs an existing store', async () => {
    const r = await runCli(['strategies', '--json']);
    expect(r.code).toBe(0);
    const kinds = JSON.parse(r.stdout);
    expect(Object.keys(kinds)).toEqual([
      'spot-futures',
      'futures-spread',
      'market-making',
      'cross-arbitrage',
    ]);
    expect(kinds['spot-futures'].params.required).toEqual(expect.arrayContaining(['spot', 'perp', 'amount']));
    expect(kinds['market-making'].states).toContain('quoting');
    const one = await runCli(['strategies', 'cross-arbitrage']);
    expect(one.stdout).toMatch(/minProfitBps/);
    expect((await runCli(['strategies', 'nope'])).code).toBe(2);
    const missing = await runCli(['status', '--store', `sqlite:${join(tmp(), 'none.db')}`]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/no store at .*none\.db/);
  });
});
