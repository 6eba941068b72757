/**
 * The config reference as Markdown, generated from the zod schema: the README embeds it between
 * markers and a test fails when the two drift apart (`npm run docs` rewrites it).
 */
import { z } from 'zod';
import { STRATEGY_KINDS } from './kinds.ts';
import { ENV_OVERRIDES } from './load.ts';
import { configSchema } from './schema.ts';

type JsonSchema = {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  additionalProperties?: JsonSchema | boolean;
  required?: string[];
  items?: JsonSchema;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  enum?: unknown[];
  const?: unknown;
  default?: unknown;
  description?: string;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  pattern?: string;
};

const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

function typeText(s: JsonSchema): string {
  if (s.const !== undefined) return JSON.stringify(s.const);
  if (s.enum) return s.enum.map((e) => JSON.stringify(e)).join(' | ');
  if (s.anyOf ?? s.oneOf) return (s.anyOf ?? s.oneOf)!.map(typeText).join(' or ');
  if (s.type === 'array') return `${s.items ? typeText(s.items) : 'any'}[]`;
  if (s.type === 'object' && s.additionalProperties && typeof s.additionalProperties === 'object')
    return `map of ${typeText(s.additionalProperties)}`;
  const t = Array.isArray(s.type) ? s.type.join(' or ') : (s.type ?? 'any');
  const b = [
    s.exclusiveMinimum !== undefined ? `> ${s.exclusiveMinimum}` : '',
    s.minimum !== undefined && s.minimum > Number.MIN_SAFE_INTEGER ? `≥ ${s.minimum}` : '',
    s.maximum !== undefined && s.maximum < Number.MAX_SAFE_INTEGER ? `≤ ${s.maximum}` : '',
  ].filter(Boolean);
  return b.length ? `${t} (${b.join(', ')})` : t;
}

function rows(s: JsonSchema, prefix: string, out: string[]): void {
  for (const [name, p] of Object.entries(s.properties ?? {})) {
    const path = prefix ? `${prefix}.${name}` : name;
    const variants = p.oneOf ?? p.anyOf;
    const objectLike = p.type === 'object' && p.properties;
    const def = p.default !== undefined && !objectLike ? `\`${JSON.stringify(p.default)}\`` : '';
    const required = (s.required ?? []).includes(name) && p.default === undefined ? 'yes' : '';
    if (variants?.every((v) => v.properties)) {
      out.push(
        `| \`${path}\` | one of the variants below | ${required} | ${def} | ${cell(p.description ?? '')} |`,
      );
      for (const v of variants) {
        const tag = Object.entries(v.properties ?? {}).find(([, x]) => x.const !== undefined);
        rows(v, `${path}{${tag ? `${tag[0]}=${String(tag[1].const)}` : '…'}}`, out);
      }
      continue;
    }
    const map =
      p.type === 'object' && p.additionalProperties && typeof p.additionalProperties === 'object'
        ? p.additionalProperties
        : undefined;
    const mapVariants = map?.oneOf ?? map?.anyOf;
    if (mapVariants?.every((v) => v.properties)) {
      out.push(
        `| \`${path}\` | map of name → one of the variants below | ${required} | | ${cell(p.description ?? '')} |`,
      );
      for (const v of mapVariants) {
        const tag = Object.entries(v.properties ?? {}).find(([, x]) => x.const !== undefined);
        rows(v, `${path}.<name>{${tag ? `${tag[0]}=${String(tag[1].const)}` : '…'}}`, out);
      }
      continue;
    }
    if (objectLike) {
      out.push(`| \`${path}\` | object | ${required} | | ${cell(p.description ?? '')} |`);
      rows(p, path, out);
      continue;
    }
    out.push(
      `| \`${path}\` | ${cell(typeText(p))} | ${required} | ${cell(def)} | ${cell(p.description ?? '')} |`,
    );
  }
}

export function configReference(): string {
  const root = z.toJSONSchema(configSchema, { io: 'input', unrepresentable: 'any' }) as JsonSchema;
  // The strategies list is documented per kind below the main table.
  const { strategies: _omit, ...props } = root.properties ?? {};
  const out = ['| field | type | required | default | meaning |', '|---|---|---|---|---|'];
  rows({ ...root, properties: props }, '', out);
  out.push(
    '| `strategies[]` | `{ id, kind, params }` | | `[]` | the strategies to run; `id` is stable across restarts, `params` per kind below |',
  );
  for (const { kind, summary, paramsSchema: schema } of Object.values(STRATEGY_KINDS)) {
    out.push('', `**${kind}** — ${summary}`, '');
    out.push('| param | type | required | default | meaning |', '|---|---|---|---|---|');
    const js = z.toJSONSchema(schema, { io: 'input' }) as JsonSchema;
    for (const [name, p] of Object.entries(js.properties ?? {})) {
      const required = (js.required ?? []).includes(name) && p.default === undefined ? 'yes' : '';
      const type = p.type === 'object' ? '`{ venue, symbol }`' : cell(typeText(p));
      out.push(
        `| \`${name}\` | ${type} | ${required} | ${p.default !== undefined ? `\`${JSON.stringify(p.default)}\`` : ''} | ${cell(p.description ?? '')} |`,
      );
    }
  }
  out.push('', '| environment variable | overrides |', '|---|---|');
  for (const o of ENV_OVERRIDES) out.push(`| \`${o.env}\` | \`${o.path.join('.')}\` |`);
  return out.join('\n');
}

export const REFERENCE_START = '<!-- config-reference:start (generated by npm run docs; do not edit) -->';
export const REFERENCE_END = '<!-- config-reference:end -->';

/** The README with its config reference block replaced by the current one. */
export function withReference(readme: string): string {
  const a = readme.indexOf(REFERENCE_START);
  const b = readme.indexOf(REFERENCE_END);
  if (a < 0 || b < a) throw new Error('README has no config-reference markers');
  return `${readme.slice(0, a + REFERENCE_START.length)}\n${configReference()}\n${readme.slice(b)}`;
}
