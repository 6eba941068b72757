import { type ChildProcess, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const BIN = join(import.meta.dirname, '../../bin/statearb.mjs');
export const ROOT = join(import.meta.dirname, '../..');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Environment without the ARB_* variables of whoever runs the tests. */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('ARB_')) env[k] = v;
  return { ...env, ...extra };
}

export function startCli(
  args: string[],
  opts: { cwd?: string; env?: Record<string, string> } = {},
): ChildProcess {
  return spawn(process.execPath, [BIN, ...args], {
    cwd: opts.cwd ?? ROOT,
    env: cleanEnv(opts.env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

export function collect(c: ChildProcess): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  c.stdout!.on('data', (d) => {
    stdout += String(d);
  });
  c.stderr!.on('data', (d) => {
    stderr += String(d);
  });
  return new Promise((resolve) => c.once('close', (code) => resolve({ code, stdout, stderr })));
}

export function runCli(
  args: string[],
  opts: { cwd?: string; env?: Record<string, string> } = {},
): Promise<CliResult> {
  return collect(startCli(args, opts));
}

/** JSON lines of a stream (non-JSON lines are dropped). */
export function jsonLines(text: string): Record<string, unknown>[] {
  return text
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

/**
 * A paper config in `dir` (config.json): one simulated venue (binance, 2 ms), the seeded
 * synthetic market, its data under `dir/data`, warn-level JSON logs; `fields` add or replace.
 */
export function writePaperConfig(dir: string, fields: Record<string, unknown>): string {
  const file = join(dir, 'config.json');
  writeFileSync(
    file,
    JSON.stringify({
      dataDir: join(dir, 'data'),
      venues: { binance: { type: 'simulated', latencyMs: 2 } },
      marketData: { source: 'synthetic', seed: 3, stepMs: 100 },
      logging: { level: 'warn', pretty: false },
      ...fields,
    }),
  );
  return file;
}
