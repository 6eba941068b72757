import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { WallClock } from '../../src/clock/clock.ts';
import { ConfigError, ENV_OVERRIDES, loadConfigFile, validateConfig } from '../../src/config/load.ts';
import {
  configReference,
  REFERENCE_END,
  REFERENCE_START,
  withReference,
} from '../../src/config/reference.ts';
import { effectiveStrategies } from '../../src/runtime/strategies.ts';
import { buildVenues, paperVenueSpec } from '../../src/runtime/venues.ts';

const dir = mkdtempSync(join(tmpdir(), 'statearb-config-'));
const ROOT = join(import.meta.dirname, '../..');

const basis = {
  id: 'basis',
  kind: 'spot-futures',
  params: {
    spot: { venue: 'binance', symbol: 'BTC/USDT' },
    perp: { venue: 'binance', symbol: 'BTC/USDT:USDT' },
    amount: 0.05,
    minEntryBasisBps: 2,
  },
};
const minimal = { venues: { binance: { type: 'simulated' } }, strategies: [basis] };

function issues(raw: unknown, env: NodeJS.ProcessEnv = {}): { path: string; reason: string }[] {
  try {
    validateConfig(raw, 'test.yaml', env);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as ConfigError).issues;
  }
  throw new Error('expected the config to be refused');
}

describe('config', () => {
  it('fills defaults: a minimal config is a complete one', () => {
    const c = validateConfig(minimal, 'test.yaml');
    expect(c.mode).toBe('paper');
    expect(c.venues.binance).toMatchObject({ type: 'simulated', balances: { USDT: 100_000 }, latencyMs: 0 });
    expect(c.marketData).toMatchObject({ source: 'synthetic', seed: 1, stepMs: 250 });
    expect(c.risk.enableCircuitBreakers).toBe(true);
    expect(c.strategies[0]!.params).toMatchObject({ direction: 'long-spot', cooldownMs: 5_000 });
  });

  it('reports every bad field at once, by path, with the reason', () => {
    const found = issues({
      venues: { binance: { type: 'simulated', latencyMs: -1 }, Bad: { type: 'simulated' } },
      marketData: { source: 'csv' },
      store: 'redis://x',
      strategies: [
        basis,
        {
          id: 'mm',
          kind: 'market-making',
          params: {
            market: { venue: 'kraken', symbol: 'BTCUSDT' },
            orderAmount: -1,
            spreadBps: 2,
            maxInventoryBase: 1,
            typo: 3,
          },
        },
        { ...basis, kind: 'nope' },
        { ...basis, id: 'basis2' },
      ],
      extra: true,
    });
    const paths = found.map((i) => i.path);
    expect(paths).toEqual(
      expect.arrayContaining([
        'venues.binance.latencyMs',
        'venues.Bad',
        'marketData.quotes',
        'store',
        'strategies[1].params.market.symbol',
        'strategies[1].params.orderAmount',
        'strategies[1].params',
        'strategies[1].params.market.venue',
        'strategies[2].kind',
        'strategies[2].id',
        'strategies[3].params.spot',
        '',
      ]),
    );
    const reason = (p: string) => found.find((i) => i.path === p)!.reason;
    expect(reason('strategies[1].params')).toBe('unknown field "typo"');
    expect(reason('strategies[1].params.market.venue')).toMatch(
      /unknown venue "kraken"; configured: binance, Bad/,
    );
    expect(reason('strategies[2].id')).toBe('duplicate strategy id "basis"');
    expect(reason('strategies[3].params.spot')).toMatch(/already traded by strategy "basis"/);
    expect(reason('marketData.quotes')).toMatch(/required/);
    expect(reason('store')).toMatch(/memory, sqlite:PATH or postgres/);
  });

  it('takes what margins a simulated venue’s derivatives, and refuses a haircut outside 0…1 by path', async () => {
    const settleOnly = validateConfig(
      {
        ...minimal,
        venues: { binance: { type: 'simulated' }, bybit: { type: 'simulated', collateral: 'settle-only' } },
      },
      't.yaml',
    );
    expect(paperVenueSpec('bybit', settleOnly.venues.bybit as never).collateralHaircuts).toBe(false);
    const unified = validateConfig(
      { ...minimal, venues: { binance: { type: 'simulated', collateral: { BTC: 0.1, default: 0.2 } } } },
      't.yaml',
    );
    expect(paperVenueSpec('binance', unified.venues.binance as never).collateralHaircuts).toEqual({
      BTC: 0.1,
      default: 0.2,
    });
    // Not given: the venue's preset (createPaperVenues asks venueCollateralHaircuts).
    expect(
      paperVenueSpec('binance', validateConfig(minimal, 't.yaml').venues.binance as never),
    ).not.toHaveProperty('collateralHaircuts');
    expect(
      issues({ ...minimal, venues: { binance: { type: 'simulated', collateral: { BTC: 1.5 } } } }).map(
        (i) => i.path,
      ),
    ).toEqual(['venues.binance.collateral.BTC']);
  });

  it('refuses a ccxt venue it cannot honour, naming the field: an old exchange id, a testnet the venue does not have', () => {
    const venue = (v: Record<string, unknown>) => ({
      ...minimal,
      venues: { binance: { type: 'simulated' }, ex: { type: 'ccxt', ...v } },
    });
    expect(issues(venue({ exchange: 'gateio' }))).toEqual([
      { path: 'venues.ex.exchange', reason: 'ccxt has no exchange "gateio": it is "gate"' },
    ]);
    // MEXC has no testnet, and sandbox defaults to true: ccxt would empty its URLs.
    expect(issues(venue({ exchange: 'mexc' }))).toEqual([
      {
        path: 'venues.ex.sandbox',
        reason: 'mexc has no testnet (sandbox defaults to true): set sandbox: false to trade the live venue',
      },
    ]);
    expect(validateConfig(venue({ exchange: 'mexc', sandbox: false }), 't.yaml').venues.ex).toMatchObject({
      exchange: 'mexc',
      sandbox: false,
    });
    expect(validateConfig(venue({ exchange: 'gate' }), 't.yaml').venues.ex).toMatchObject({ sandbox: true });
  });

  it('a live venue not proven against a fake is named in a warning at start; proven ones are not', async () => {
    const warned: string[] = [];
    const config = validateConfig(
      {
        mode: 'live',
        venues: {
          ku: { type: 'ccxt', exchange: 'kucoin', sandbox: false },
          by: { type: 'ccxt', exchange: 'bybit', sandbox: true },
          gate: { type: 'ccxt', exchange: 'gate', sandbox: true },
        },
        strategies: [],
      },
      't.yaml',
    );
    const venues = buildVenues(config, {
      clock: new WallClock(),
      live: true,
      env: {
        ARB_KU_API_KEY: 'k',
        ARB_KU_SECRET: 's',
        ARB_BY_API_KEY: 'k',
        ARB_BY_SECRET: 's',
        ARB_GATE_API_KEY: 'k',
        ARB_GATE_SECRET: 's',
        ARB_GATE_UID: '1',
      },
      logger: { warn: (o: object) => warned.push((o as { venue: string }).venue) },
    });
    expect(warned).toEqual(['ku']);
    await venues.close();
  });

  it('the MEXC spot + Gate perpetual example validates as written', () => {
    const c = loadConfigFile(join(ROOT, 'config/mexc-gate.yaml'), {});
    expect(c.venues.mexc).toMatchObject({ type: 'ccxt', exchange: 'mexc', sandbox: false });
    expect(c.venues.gate).toMatchObject({ type: 'ccxt', exchange: 'gate' });
    expect(c.strategies.map((s) => s.kind)).toEqual(['spot-futures']);
  });

  it('refuses credentials anywhere in the file, naming the field', () => {
    const found = issues({
      ...minimal,
      venues: { binance: { type: 'ccxt', exchange: 'binance', apiKey: 'abc', secret: 'def' } },
      logging: { token: 'x' },
    });
    expect(found.map((i) => i.path)).toEqual(
      expect.arrayContaining(['venues.binance.apiKey', 'venues.binance.secret', 'logging.token']),
    );
    expect(found[0]!.reason).toMatch(/environment/);
  });

  it('refuses a database password in the file, but takes one from ARB_STORE', () => {
    const found = issues({ ...minimal, store: 'postgres://statearb:hunter2@db:5432/trading' });
    expect(found).toEqual([
      {
        path: 'store',
        reason:
          'a password is not accepted in a config file; leave it out and set PGPASSWORD, or give the whole URL in ARB_STORE',
      },
    ]);
    expect(
      validateConfig({ ...minimal, store: 'postgres://statearb@db/trading?schema=desk1' }, 't.yaml').store,
    ).toBe('postgres://statearb@db/trading?schema=desk1');
    const fromEnv = validateConfig(minimal, 't.yaml', { ARB_STORE: 'postgres://u:p@db/x' });
    expect(fromEnv.store).toBe('postgres://u:p@db/x');
  });

  it('names the engine process and its capacity for a shared store, from the file or ARB_NODE_ID / ARB_CAPACITY', () => {
    const c = validateConfig(minimal, 't.yaml', { ARB_NODE_ID: 'node-7', ARB_CAPACITY: '40' });
    expect(c.engine).toMatchObject({ nodeId: 'node-7', capacity: 40, leaseMs: 15_000 });
    expect(issues(minimal, { ARB_CAPACITY: '0', ARB_NODE_ID: 'has space' })).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ path: 'engine.capacity (from ARB_CAPACITY)' }),
        expect.objectContaining({ path: 'engine.nodeId (from ARB_NODE_ID)' }),
      ]),
    );
    expect(issues({ ...minimal, engine: { leaseMs: 10 } })).toEqual([
      expect.objectContaining({ path: 'engine.leaseMs' }),
    ]);
  });

  it('applies ARB_* overrides, and reports bad ones by variable name', () => {
    const env = {
      ARB_MAX_POSITION_SIZE_USD: '1000',
      ARB_MAX_TOTAL_EXPOSURE_USD: '5000',
      ARB_MIN_PROFIT_MARGIN_BPS: '7',
      ARB_MAX_DAILY_LOSS_USD: '250',
      ARB_ENABLE_CIRCUIT_BREAKERS: 'false',
      ARB_STORE: 'memory',
    };
    const c = validateConfig(minimal, 'test.yaml', env);
    expect(c.risk).toMatchObject({
      maxPositionSizeUsd: 1000,
      maxTotalExposureUsd: 5000,
      minProfitMarginBps: 7,
      maxDailyLossUsd: 250,
      enableCircuitBreakers: false,
    });
    expect(c.store).toBe('memory');
    const bad = issues(minimal, {
      ARB_MAX_DAILY_LOSS_USD: 'lots',
      ARB_ENABLE_CIRCUIT_BREAKERS: 'maybe',
      ARB_MAX_TOTAL_EXPOSURE_USD: '-1',
    });
    expect(bad).toEqual(
      expect.arrayContaining([
        { path: 'ARB_MAX_DAILY_LOSS_USD', reason: 'expected a number, got "lots"' },
        { path: 'ARB_ENABLE_CIRCUIT_BREAKERS', reason: 'expected true/false (or 1/0), got "maybe"' },
        expect.objectContaining({ path: 'risk.maxTotalExposureUsd (from ARB_MAX_TOTAL_EXPOSURE_USD)' }),
      ]),
    );
  });

  it('portfolio limits only ever tighten strategy params, and say so', () => {
    const c = validateConfig(
      {
        ...minimal,
        venues: { binance: { type: 'simulated' }, bybit: { type: 'simulated' } },
        strategies: [
          basis,
          {
            id: 'arb',
            kind: 'cross-arbitrage',
            params: {
              venueA: { venue: 'binance', symbol: 'ETH/USDT' },
              venueB: { venue: 'bybit', symbol: 'ETH/USDT' },
              minProfitBps: 10,
              maxNotional: 500,
            },
          },
        ],
      },
      'test.yaml',
      { ARB_MAX_POSITION_SIZE_USD: '1000', ARB_MIN_PROFIT_MARGIN_BPS: '5' },
    );
    const { strategies, adjustments } = effectiveStrategies(c);
    expect(strategies[0]!.params).toMatchObject({ maxPositionNotional: 1000, minEntryBasisBps: 5 });
    // Already tighter than the limits: untouched.
    expect(strategies[1]!.params).toMatchObject({ maxNotional: 500, minProfitBps: 10 });
    expect(adjustments).toEqual([
      {
        strategy: 'basis',
        param: 'maxPositionNotional',
        from: 100_000,
        to: 1000,
        why: 'risk.maxPositionSizeUsd',
      },
      { strategy: 'basis', param: 'minEntryBasisBps', from: 2, to: 5, why: 'risk.minProfitMarginBps' },
    ]);
  });

  it('reads YAML and JSON files; a missing or malformed file names the file and the reason', () => {
    const yaml = join(dir, 'c.yaml');
    writeFileSync(yaml, 'venues:\n  binance: { type: simulated }\n');
    expect(loadConfigFile(yaml, {}).venues.binance!.type).toBe('simulated');
    const json = join(dir, 'c.json');
    writeFileSync(json, JSON.stringify(minimal));
    expect(loadConfigFile(json, {}).strategies).toHaveLength(1);
    const broken = join(dir, 'broken.yaml');
    writeFileSync(broken, 'venues:\n  binance: { type: simulated\n');
    expect(() => loadConfigFile(broken, {})).toThrow(
      /broken\.yaml: invalid config\n {2}\(root\): not valid YAML/,
    );
    const dup = join(dir, 'dup.yaml');
    writeFileSync(dup, 'venues: {}\nvenues: {}\n');
    expect(() => loadConfigFile(dup, {})).toThrow(/not valid YAML: Map keys must be unique at line 2/);
    const badJson = join(dir, 'bad.json');
    writeFileSync(badJson, '{"venues": ');
    expect(() => loadConfigFile(badJson, {})).toThrow(
      /bad\.json: invalid config\n {2}\(root\): not valid JSON/,
    );
    expect(() => loadConfigFile(join(dir, 'nope.yaml'), {})).toThrow(
      /nope\.yaml: invalid config\n {2}\(root\): no such file/,
    );
    expect(() => validateConfig([1, 2], 'list.yaml')).toThrow(/must be an object/);
  });

  it('the bundled paper config is valid and runs all four kinds', () => {
    const c = loadConfigFile(join(ROOT, 'config/paper.yaml'), {});
    expect(c.strategies.map((s) => s.kind).sort()).toEqual([
      'cross-arbitrage',
      'futures-spread',
      'market-making',
      'spot-futures',
    ]);
  });

  it('the README config reference is the one the schema generates (npm run docs)', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    expect(readme).toContain(REFERENCE_START);
    expect(readme).toContain(REFERENCE_END);
    expect(withReference(readme)).toBe(readme);
    // Every field of the schema and every override variable is documented.
    const ref = configReference();
    for (const o of ENV_OVERRIDES) expect(ref).toContain(`\`${o.env}\``);
    for (const field of [
      'risk.maxDailyLossUsd',
      'venues.<name>{type=simulated}.faults.timeoutRate',
      'minEntryBasisBps',
    ])
      expect(ref).toContain(field);
  });
});
