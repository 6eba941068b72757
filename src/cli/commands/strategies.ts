import { parseArgs } from 'node:util';
import { z } from 'zod';
import type { AnyStrategyKind } from '../../../machines/strategies/index.ts';
import { STRATEGY_KINDS } from '../../config/kinds.ts';
import { readConfigFile } from '../../config/load.ts';
import { loadStrategyPlugins } from '../../config/plugins.ts';
import { UsageError } from '../args.ts';

export const strategiesHelp = `statearb strategies — the strategy kinds and their parameters

Usage: statearb strategies [KIND] [--json] [--config FILE]

  KIND                    one kind only (${Object.keys(STRATEGY_KINDS).join(', ')}, or your own)
  --json                  JSON Schema (draft 2020-12) of each kind's params
  --config FILE           also the kinds of the strategy modules this config names`;

interface FieldDoc {
  name: string;
  type: string;
  required: boolean;
  default?: unknown;
  description: string;
}

function typeOf(p: Record<string, unknown>): string {
  if (Array.isArray(p.enum)) return p.enum.map((e) => JSON.stringify(e)).join(' | ');
  if (p.type === 'object') return 'object';
  const t = String(p.type ?? 'any');
  const bounds = [
    p.exclusiveMinimum !== undefined ? `> ${p.exclusiveMinimum}` : undefined,
    p.minimum !== undefined ? `≥ ${p.minimum}` : undefined,
    // zod writes an integer without an upper bound as ≤ MAX_SAFE_INTEGER: no bound to show.
    p.maximum !== undefined && (p.maximum as number) < Number.MAX_SAFE_INTEGER ? `≤ ${p.maximum}` : undefined,
  ].filter(Boolean);
  return bounds.length ? `${t} ${bounds.join(', ')}` : t;
}

export function paramsJsonSchema(kind: AnyStrategyKind): Record<string, unknown> {
  return z.toJSONSchema(kind.paramsSchema, { io: 'input' }) as Record<string, unknown>;
}

export function paramFields(kind: AnyStrategyKind): FieldDoc[] {
  const schema = paramsJsonSchema(kind) as {
    properties: Record<string, Record<string, unknown>>;
    required?: string[];
  };
  return Object.entries(schema.properties).map(([name, p]) => ({
    name,
    type: p.type === 'object' ? '{ venue, symbol }' : typeOf(p),
    required: (schema.required ?? []).includes(name) && p.default === undefined,
    ...(p.default !== undefined ? { default: p.default } : {}),
    description: String(p.description ?? ''),
  }));
}

export async function strategiesCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: { json: { type: 'boolean' }, config: { type: 'string' } },
    allowPositionals: true,
    strict: true,
  });
  if (values.config) await loadStrategyPlugins(readConfigFile(values.config), values.config);
  const kinds = Object.keys(STRATEGY_KINDS);
  const chosen = (positionals.length > 0 ? positionals : kinds).map((k) => {
    const kind = STRATEGY_KINDS[k];
    if (!kind) throw new UsageError(`unknown strategy kind "${k}"; known: ${kinds.join(', ')}`);
    return kind;
  });
  if (values.json) {
    const out = Object.fromEntries(
      chosen.map((k) => [
        k.kind,
        {
          summary: k.summary,
          machineVersion: k.version,
          states: Object.keys(k.machine.root.states),
          params: paramsJsonSchema(k),
        },
      ]),
    );
    process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
    return 0;
  }
  const blocks = chosen.map((k) => {
    const fields = paramFields(k);
    const w = Math.max(...fields.map((f) => f.name.length));
    const lines = fields.map(
      (f) =>
        `  ${f.name.padEnd(w)}  ${f.required ? '(required) ' : ''}${f.type}${f.default !== undefined ? `, default ${JSON.stringify(f.default)}` : ''}\n  ${' '.repeat(w)}  ${f.description}`,
    );
    return `${k.kind} — ${k.summary}\n  states: ${Object.keys(k.machine.root.states).join(', ')}\n${lines.join('\n')}`;
  });
  process.stdout.write(`${blocks.join('\n\n')}\n`);
  return 0;
}
