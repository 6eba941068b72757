/**
 * Reading a config file: JSON or YAML, no secrets inside, ARB_* environment overrides, then the
 * schema. Every problem is reported by path with the reason, all at once, before anything runs.
 */
import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { parseDocument } from 'yaml';
import type { z } from 'zod';
import { STRATEGY_KINDS } from './kinds.ts';
import { type Config, configSchemaFor, crossFieldIssues } from './schema.ts';

export interface ConfigIssue {
  path: string;
  reason: string;
}

/** Bad config: the file, and every field at fault with the reason. Exit code 2. */
export class ConfigError extends Error {
  constructor(
    readonly file: string,
    readonly issues: ConfigIssue[],
  ) {
    super(`${file}: invalid config\n${issues.map((i) => `  ${i.path || '(root)'}: ${i.reason}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

type EnvKind = 'number' | 'boolean' | 'string';

/** Environment variables that override config fields (documented in the README). */
export const ENV_OVERRIDES: { env: string; path: string[]; type: EnvKind }[] = [
  { env: 'ARB_MAX_POSITION_SIZE_USD', path: ['risk', 'maxPositionSizeUsd'], type: 'number' },
  { env: 'ARB_MAX_TOTAL_EXPOSURE_USD', path: ['risk', 'maxTotalExposureUsd'], type: 'number' },
  { env: 'ARB_MIN_PROFIT_MARGIN_BPS', path: ['risk', 'minProfitMarginBps'], type: 'number' },
  { env: 'ARB_MAX_DAILY_LOSS_USD', path: ['risk', 'maxDailyLossUsd'], type: 'number' },
  { env: 'ARB_ENABLE_CIRCUIT_BREAKERS', path: ['risk', 'enableCircuitBreakers'], type: 'boolean' },
  { env: 'ARB_FLATTEN_ON_KILL', path: ['killSwitch', 'flatten'], type: 'boolean' },
  { env: 'ARB_STORE', path: ['store'], type: 'string' },
  { env: 'ARB_DATA_DIR', path: ['dataDir'], type: 'string' },
  { env: 'ARB_LOG_LEVEL', path: ['logging', 'level'], type: 'string' },
  { env: 'ARB_INSPECTOR_PORT', path: ['inspector', 'port'], type: 'number' },
  { env: 'ARB_NODE_ID', path: ['engine', 'nodeId'], type: 'string' },
  { env: 'ARB_CAPACITY', path: ['engine', 'capacity'], type: 'number' },
];

/** Key names that hold credentials: refused in a config file, wherever they appear. */
const SECRET_KEY =
  /^(api[-_]?key|apikey|secret|secret[-_]?key|password|passphrase|token|private[-_]?key|uid)$/i;

function findSecrets(value: unknown, path: string, out: ConfigIssue[]): void {
  if (value === null || typeof value !== 'object') return;
  for (const [k, v] of Object.entries(value)) {
    const p = Array.isArray(value) ? `${path}[${k}]` : path ? `${path}.${k}` : k;
    if (SECRET_KEY.test(k) && v !== undefined && v !== null && v !== '')
      out.push({
        path: p,
        reason:
          'credentials are not accepted in a config file; put them in the environment (ARB_<VENUE>_API_KEY, ARB_<VENUE>_SECRET, ARB_<VENUE>_PASSWORD)',
      });
    else findSecrets(v, p, out);
  }
}

function parseEnvValue(o: (typeof ENV_OVERRIDES)[number], raw: string): unknown {
  if (o.type === 'number') {
    const n = Number(raw);
    if (raw.trim() === '' || !Number.isFinite(n)) throw new Error(`expected a number, got "${raw}"`);
    return n;
  }
  if (o.type === 'boolean') {
    if (/^(1|true|yes|on)$/i.test(raw)) return true;
    if (/^(0|false|no|off)$/i.test(raw)) return false;
    throw new Error(`expected true/false (or 1/0), got "${raw}"`);
  }
  return raw;
}

export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const seg of path) out += typeof seg === 'number' ? `[${seg}]` : out ? `.${String(seg)}` : String(seg);
  return out;
}

function describeIssue(i: z.core.$ZodIssue): string {
  if (i.code === 'unrecognized_keys')
    return `unknown field${i.keys.length > 1 ? 's' : ''} ${i.keys.map((k) => `"${k}"`).join(', ')}`;
  if (i.code === 'invalid_union' && 'discriminator' in i && i.discriminator) return i.message;
  if (i.code === 'invalid_type' && i.message.includes('received undefined'))
    return `required (${i.expected})`;
  return i.message;
}

/**
 * Validate a parsed config object (after env overrides). `file` names the source in errors;
 * `fromEnv` marks paths whose value came from an environment variable.
 */
export function validateConfig(raw: unknown, file: string, env: NodeJS.ProcessEnv = {}): Config {
  const issues: ConfigIssue[] = [];
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw))
    throw new ConfigError(file, [{ path: '', reason: 'the config must be an object (a mapping of fields)' }]);
  findSecrets(raw, '', issues);
  const store = (raw as { store?: unknown }).store;
  if (typeof store === 'string' && /\/\/[^/@]*:[^/@]*@/.test(store))
    issues.push({
      path: 'store',
      reason:
        'a password is not accepted in a config file; leave it out and set PGPASSWORD, or give the whole URL in ARB_STORE',
    });
  const obj = structuredClone(raw) as Record<string, unknown>;
  const fromEnv = new Map<string, string>();
  for (const o of ENV_OVERRIDES) {
    const v = env[o.env];
    if (v === undefined) continue;
    try {
      const parsed = parseEnvValue(o, v);
      let at = obj;
      for (const seg of o.path.slice(0, -1)) {
        if (at[seg] === undefined || at[seg] === null) at[seg] = {};
        at = at[seg] as Record<string, unknown>;
      }
      at[o.path.at(-1)!] = parsed;
      fromEnv.set(o.path.join('.'), o.env);
    } catch (e) {
      issues.push({ path: o.env, reason: (e as Error).message });
    }
  }
  // Every kind known now: the built-ins and the modules loaded for this config (plugins.ts).
  const result = configSchemaFor(Object.values(STRATEGY_KINDS)).safeParse(obj);
  if (!result.success) {
    for (const i of result.error.issues) {
      const path = formatPath(i.path);
      const env = fromEnv.get(i.path.join('.'));
      issues.push({ path: env ? `${path} (from ${env})` : path, reason: describeIssue(i) });
    }
  }
  for (const i of crossFieldIssues(obj)) issues.push({ path: formatPath(i.path), reason: i.message });
  if (issues.length > 0) throw new ConfigError(file, issues);
  return result.data!;
}

/** Parse JSON or YAML text (by file extension; YAML is a superset, so unknown extensions use it). */
export function parseConfigText(text: string, file: string): unknown {
  if (extname(file).toLowerCase() === '.json') {
    try {
      return JSON.parse(text);
    } catch (e) {
      throw new ConfigError(file, [{ path: '', reason: `not valid JSON: ${(e as Error).message}` }]);
    }
  }
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0)
    throw new ConfigError(
      file,
      doc.errors.map((e) => ({ path: '', reason: `not valid YAML: ${e.message.split('\n')[0]}` })),
    );
  return doc.toJS();
}

/** A config file read and parsed (JSON or YAML), not yet validated. */
export function readConfigFile(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new ConfigError(file, [
      { path: '', reason: code === 'ENOENT' ? 'no such file' : `cannot read: ${(e as Error).message}` },
    ]);
  }
  return parseConfigText(text, file);
}

/**
 * Read, parse and validate a config file. `prepare` runs on the parsed object first (the CLI
 * loads the strategy modules it names there, so their kinds' params validate).
 */
export function loadConfigFile(file: string, env?: NodeJS.ProcessEnv): Config;
export function loadConfigFile(
  file: string,
  env: NodeJS.ProcessEnv,
  prepare: (raw: unknown, file: string) => Promise<unknown>,
): Promise<Config>;
export function loadConfigFile(
  file: string,
  env: NodeJS.ProcessEnv = process.env,
  prepare?: (raw: unknown, file: string) => Promise<unknown>,
): Config | Promise<Config> {
  const raw = readConfigFile(file);
  if (!prepare) return validateConfig(raw, file, env);
  return prepare(raw, file).then((ready) => validateConfig(ready, file, env));
}
