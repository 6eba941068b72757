/** What the CLI prints, read as a new user reads it (issue 20's CLI findings). */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { stateLabel } from '../../src/cli/commands/status.ts';
import { runCli, writePaperConfig } from './cli-helpers.ts';

describe('statearb CLI wording', () => {
  it('the command list keeps a space between every command and its summary', async () => {
    const r = await runCli(['--help']);
    expect(r.code).toBe(0);
    for (const name of ['run', 'backtest', 'status', 'strategies', 'strategy', 'kill', 'cleanup', 'venue'])
      expect(r.stdout).toMatch(new RegExp(`^ {2}${name} +\\S`, 'm'));
  });

  it('a parameter without an upper bound shows none (not ≤ 9007199254740991)', async () => {
    const r = await runCli(['strategies', 'spot-futures']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/maxCycles +integer ≥ 0, default 0/);
    expect(r.stdout).not.toMatch(/9007199254740991/);
  });

  it('an ended strategy whose state names how it ended says it once', () => {
    expect(stateLabel('completed', 'completed')).toBe('completed');
    expect(stateLabel('stopped', 'stopped')).toBe('stopped');
    expect(stateLabel('needsAttention', 'failed')).toBe('needsAttention (failed)');
    expect(stateLabel('holding', 'active')).toBe('holding');
  });

  it('a data file that is missing is named without a line number', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'statearb-wording-'));
    const config = writePaperConfig(dir, { strategies: [] });
    const r = await runCli(['backtest', '--config', config, '--data', join(dir, 'nope.csv')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${join(dir, 'nope.csv')}: file not found or not readable`);
    expect(r.stderr).not.toMatch(/nope\.csv:0:/);
  });

  it('--live on a paper config exits 2 saying the config trades paper, before anything starts', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'statearb-wording-'));
    const config = writePaperConfig(dir, { strategies: [] });
    const r = await runCli(['run', '--config', config, '--live', '--duration-s', '1']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/mode: paper.*--live/);
  });

  it('a cross-field parameter error names the strategy and the field, in a backtest as in a run', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'statearb-wording-'));
    const config = writePaperConfig(dir, {
      marketData: { source: 'synthetic', seed: 3, stepMs: 100, durationHours: 0.01 },
      strategies: [
        {
          id: 'basis',
          kind: 'spot-futures',
          params: {
            spot: { venue: 'binance', symbol: 'BTC/USDT' },
            perp: { venue: 'binance', symbol: 'BTC/USDT:USDT' },
            amount: 0.01,
            minEntryBasisBps: 5,
            exitBasisBps: 10,
          },
        },
      ],
    });
    for (const command of [['backtest'], ['run', '--duration-s', '1']]) {
      const r = await runCli([...command, '--config', config]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(
        /strategies\[0\] \(basis\)\.params\.exitBasisBps: must be below minEntryBasisBps/,
      );
    }
  });
});
