/**
 * The Dockerfile and compose.yaml, checked against the code they run: every command and flag is
 * one the CLI takes, the cluster config loads with the engine's own loader, Prometheus scrapes the
 * ports the engines serve, and no secret is written in the files. Where a Docker daemon answers,
 * the image is built too (this machine's CI has the client only).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadConfigFile } from '../../src/config/load.ts';
import { BIN, cleanEnv, ROOT } from '../cli/cli-helpers.ts';

interface Service {
  image?: string;
  build?: string;
  command?: string[];
  environment?: Record<string, string>;
  volumes?: string[];
}

const compose = parse(readFileSync(join(ROOT, 'compose.yaml'), 'utf8'), { merge: true }) as {
  services: Record<string, Service>;
};
const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');

const helpOf = (command: string) =>
  execFileSync(process.execPath, [BIN, command, '--help'], { encoding: 'utf8', env: cleanEnv() });

/** Every --flag of a command line is in that command's help. */
function expectFlagsKnown(args: string[]): void {
  const [command, ...rest] = args;
  const help = helpOf(command!);
  for (const a of rest.filter((x) => x.startsWith('--')))
    expect(help, `${command} ${a}`).toContain(a.split('=')[0]);
}

const dockerAvailable = spawnSync('docker', ['info'], { stdio: 'ignore' }).status === 0;

describe('Dockerfile and compose.yaml', () => {
  it('compose runs a venue, PostgreSQL, two engines on one store and Prometheus scraping them', {
    timeout: 60_000,
  }, () => {
    const s = compose.services;
    expect(Object.keys(s).sort()).toEqual(['engine-a', 'engine-b', 'postgres', 'prometheus', 'venue']);
    for (const name of ['venue', 'engine-a', 'engine-b']) {
      expect(s[name]!.build, name).toBe('.');
      expectFlagsKnown(s[name]!.command!);
    }
    expect(s['engine-a']!.command![0]).toBe('run');
    expect(s.venue!.command![0]).toBe('venue');
    // Both engines share one PostgreSQL store under their own node ids.
    const a = s['engine-a']!.environment!;
    const b = s['engine-b']!.environment!;
    expect(a.ARB_STORE).toMatch(/^postgres:\/\/postgres@postgres:5432\//);
    expect(b.ARB_STORE).toBe(a.ARB_STORE);
    expect([a.ARB_NODE_ID, b.ARB_NODE_ID]).toEqual(['engine-a', 'engine-b']);
    // Secrets only from the environment: references, never values.
    for (const [name, svc] of Object.entries(s))
      for (const [k, v] of Object.entries(svc.environment ?? {}))
        if (/PASSWORD|TOKEN|SECRET|KEY/.test(k)) expect(v, `${name} ${k}`).toMatch(/^\$\{[A-Z_]+:\?[^}]+\}$/);
    // The config the engines run loads with the engine's loader, and trades on the compose venue.
    const cfgArg = s['engine-a']!.command![s['engine-a']!.command!.indexOf('--config') + 1]!;
    const config = loadConfigFile(join(ROOT, cfgArg), {});
    for (const v of Object.values(config.venues))
      expect(v).toMatchObject({ type: 'remote', url: 'http://venue:8700' });
    expect(s.venue!.command).toEqual(expect.arrayContaining(['--port', '8700', '--host', '0.0.0.0']));
    // Prometheus scrapes each engine where it serves /metrics.
    const port = s['engine-a']!.command![s['engine-a']!.command!.indexOf('--metrics-port') + 1];
    const prom = parse(readFileSync(join(ROOT, 'deploy/prometheus.yml'), 'utf8')) as {
      scrape_configs: { static_configs: { targets: string[] }[] }[];
    };
    expect(prom.scrape_configs[0]!.static_configs[0]!.targets).toEqual([
      `engine-a:${port}`,
      `engine-b:${port}`,
    ]);
    expect(s.prometheus!.volumes![0]).toMatch(/^\.\/deploy\/prometheus\.yml:/);
  });

  it('the image runs the CLI on Node 20 with everything it imports, state in a volume', {
    timeout: 60_000,
  }, () => {
    expect(dockerfile).toMatch(/^FROM node:20-/m);
    expect(dockerfile).toMatch(/npm ci --omit=dev/);
    expect(dockerfile).toMatch(/ENTRYPOINT \["node", "bin\/statearb\.mjs"\]/);
    for (const dir of ['bin', 'src', 'machines', 'config', 'deploy']) {
      expect(existsSync(join(ROOT, dir)), dir).toBe(true);
      expect(dockerfile, `COPY ${dir}`).toMatch(new RegExp(`^COPY ${dir} \\./${dir}$`, 'm'));
    }
    // What the CLI needs at run time is a dependency, not a devDependency (npm ci --omit=dev).
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
      dependencies: Record<string, string>;
    };
    for (const dep of [
      'tsx',
      'xstate',
      'better-sqlite3',
      'pg',
      'prom-client',
      'ccxt',
      'pino',
      'ws',
      'yaml',
      'zod',
    ])
      expect(pkg.dependencies, dep).toHaveProperty(dep);
    const cmd = JSON.parse(/^CMD (\[.*\])$/m.exec(dockerfile)![1]!) as string[];
    expectFlagsKnown(cmd);
    expect(dockerfile).toMatch(/^USER node$/m);
    expect(dockerfile).toMatch(/^VOLUME \["\/data"\]$/m);
  });

  it.runIf(dockerAvailable)('the image builds and its CLI answers', { timeout: 900_000 }, () => {
    execFileSync('docker', ['build', '-t', 'statearb:test', ROOT], { stdio: 'inherit' });
    const out = execFileSync('docker', ['run', '--rm', 'statearb:test', '--help'], { encoding: 'utf8' });
    expect(out).toMatch(/statearb/);
  });
});
