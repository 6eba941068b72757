/**
 * Users' own strategy kinds: a config names a module (`plugins: [./strategies/carry.ts]`, or a
 * strategy's `kind: ./strategies/carry.ts`), statearb imports it (TypeScript through tsx), checks
 * that its default export is a kind descriptor (`defineStrategyKind`), and registers it — from
 * then on it is run, persisted, recovered, inspected and backtested as the built-ins are.
 */
import { existsSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { AnyStrategyKind } from '../../machines/strategies/index.ts';
import { registerStrategyKind } from './kinds.ts';
import { ConfigError } from './load.ts';

/** A kind named by a path (./x.ts, ../x.ts, /x.ts, x.ts): a module to load, not a built-in id. */
export function isModuleKind(kind: string): boolean {
  return /^\.{0,2}\//.test(kind) || /\.(ts|mts|js|mjs)$/.test(kind);
}

/** What of a kind descriptor is wrong, or undefined: checked field by field, as the engine uses it. */
export function descriptorProblem(k: unknown): string | undefined {
  if (!k || typeof k !== 'object')
    return 'its default export is not a strategy kind (use defineStrategyKind)';
  const d = k as Record<string, unknown>;
  if (typeof d.kind !== 'string' || !/^[a-z][a-z0-9-]{0,63}$/.test(d.kind))
    return `kind: ${JSON.stringify(d.kind)} is not an id of lower-case letters, digits and -`;
  if (typeof d.summary !== 'string') return 'summary: a one-line description is required';
  const machine = d.machine as { root?: unknown; provide?: unknown } | undefined;
  if (!machine || typeof machine.provide !== 'function' || !machine.root)
    return 'machine: not an XState machine (setup(...).createMachine(...))';
  if (!Number.isInteger(d.version) || (d.version as number) < 1)
    return 'version: a positive integer is required';
  const schema = d.paramsSchema as { safeParse?: unknown } | undefined;
  if (typeof schema?.safeParse !== 'function') return 'paramsSchema: not a zod schema';
  for (const f of ['instruments', 'input', 'legs', 'marks', 'cycles'])
    if (typeof d[f] !== 'function') return `${f}: a function is required`;
  for (const f of ['rest', 'volatile', 'terminal'])
    if (!Array.isArray(d[f]) || !(d[f] as unknown[]).every((s) => typeof s === 'string'))
      return `${f}: a list of state (or context key) names is required`;
  const states = Object.keys((machine.root as { states?: object }).states ?? {});
  for (const s of [...(d.rest as string[]), ...(d.terminal as string[])])
    if (!states.includes(s)) return `rest/terminal: '${s}' is not a top-level state of the machine`;
  const risk = d.risk as { cap?: unknown } | undefined;
  if (!risk || !Array.isArray(risk.cap)) return 'risk: { cap: [...] } is required (it may be empty)';
  return undefined;
}

/**
 * Load the modules a config names (relative to the config's folder), register each kind, and
 * give back the config with every module kind replaced by its id. Exit-2 errors name the file.
 */
export async function loadStrategyPlugins(raw: unknown, file: string): Promise<unknown> {
  if (!raw || typeof raw !== 'object') return raw;
  const cfg = raw as { plugins?: unknown; strategies?: unknown };
  const base = dirname(resolve(file));
  const paths: { path: string; at: string }[] = [];
  if (cfg.plugins !== undefined) {
    if (!Array.isArray(cfg.plugins) || !cfg.plugins.every((p) => typeof p === 'string'))
      throw new ConfigError(file, [{ path: 'plugins', reason: 'a list of module paths is expected' }]);
    cfg.plugins.forEach((p, i) => {
      paths.push({ path: p, at: `plugins[${i}]` });
    });
  }
  const strategies = Array.isArray(cfg.strategies) ? (cfg.strategies as { kind?: unknown }[]) : [];
  strategies.forEach((s, i) => {
    if (typeof s?.kind === 'string' && isModuleKind(s.kind))
      paths.push({ path: s.kind, at: `strategies[${i}].kind` });
  });
  const idOf = new Map<string, string>();
  for (const { path, at } of paths) {
    if (idOf.has(path)) continue;
    const abs = isAbsolute(path) ? path : resolve(base, path);
    const fail = (reason: string) => new ConfigError(file, [{ path: at, reason: `${abs}: ${reason}` }]);
    if (!existsSync(abs)) throw fail('no such file');
    let mod: { default?: unknown };
    try {
      mod = (await import(pathToFileURL(abs).href)) as { default?: unknown };
    } catch (e) {
      // Up to three lines: a TypeScript syntax error says where on the second.
      const why = String(e instanceof Error ? e.message : e)
        .split('\n')
        .slice(0, 3)
        .join(' ');
      throw fail(`failed to load: ${why}`);
    }
    const problem = descriptorProblem(mod.default);
    if (problem) throw fail(problem);
    const kind = mod.default as AnyStrategyKind;
    try {
      registerStrategyKind(kind);
    } catch (e) {
      throw fail((e as Error).message);
    }
    idOf.set(path, kind.kind);
  }
  if (idOf.size === 0) return raw;
  return {
    ...(cfg as Record<string, unknown>),
    ...(Array.isArray(cfg.strategies)
      ? {
          strategies: strategies.map((s) =>
            typeof s?.kind === 'string' && idOf.has(s.kind) ? { ...s, kind: idOf.get(s.kind) } : s,
          ),
        }
      : {}),
  };
}
