/**
 * A small spot–futures hedge on exchange testnets through ccxt: Binance spot testnet for the
 * spot leg and Binance USD-M demo trading for the perpetual. It refuses to run without --live
 * and without credentials in the environment:
 *
 *   ARB_BINANCE_API_KEY, ARB_BINANCE_SECRET           (spot testnet keys)
 *   ARB_BINANCEUSDM_API_KEY, ARB_BINANCEUSDM_SECRET   (futures demo-trading keys)
 *
 *   node --import tsx examples/live-testnet.ts --live
 *
 * It runs the same engine as `statearb run`, from the config below (sandbox/demo flags on).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { validateConfig } from '../src/config/load.ts';
import { credentialEnv } from '../src/runtime/venues.ts';

const config = {
  mode: 'live',
  dataDir: './data/live-testnet',
  venues: {
    binance: { type: 'ccxt', exchange: 'binance', sandbox: true },
    binanceusdm: { type: 'ccxt', exchange: 'binanceusdm', sandbox: false, demo: true },
  },
  risk: { maxPositionSizeUsd: 2_000, maxTotalExposureUsd: 5_000, maxDailyLossUsd: 100 },
  killSwitch: { flatten: true },
  strategies: [
    {
      id: 'testnet-basis-btc',
      kind: 'spot-futures',
      params: {
        spot: { venue: 'binance', symbol: 'BTC/USDT' },
        perp: { venue: 'binanceusdm', symbol: 'BTC/USDT:USDT' },
        amount: 0.002,
        minEntryBasisBps: 5,
        exitBasisBps: 0,
        maxHoldingHours: 1,
        maxCycles: 1,
      },
    },
  ],
};

const refuse = (why: string) => {
  process.stderr.write(`live-testnet: ${why}\n`);
  process.exit(2);
};
if (!process.argv.includes('--live'))
  refuse('this example places real orders on exchange testnets; run it with --live to mean it');
const cfg = validateConfig(config, 'examples/live-testnet.ts');
const missing = Object.entries(cfg.venues).flatMap(([name, v]) =>
  v.type === 'ccxt'
    ? Object.values(credentialEnv(name, v))
        .slice(0, 2)
        .filter((k) => !process.env[k])
    : [],
);
if (missing.length > 0) refuse(`credentials missing from the environment: ${missing.join(', ')}`);

const dir = mkdtempSync(join(tmpdir(), 'statearb-live-'));
const file = join(dir, 'live-testnet.json');
writeFileSync(file, JSON.stringify(config, null, 2));
const bin = fileURLToPath(new URL('../bin/statearb.mjs', import.meta.url));
const r = spawnSync(process.execPath, [bin, 'run', '--config', file, '--live'], { stdio: 'inherit' });
process.exit(r.status ?? 1);
