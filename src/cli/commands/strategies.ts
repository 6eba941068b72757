import { parseArgs } from 'node:util';
import { z } from 'zod';
import { KIND_SUMMARIES, PARAMS_SCHEMAS, type StrategyKindName } from '../../config/strategy-params.ts';
import { STRATEGY_KINDS } from '../../engine/registry.ts';
import { UsageError } from '../args.ts';

export const strategiesHelp = `statearb strategies — the strategy kinds and their parameters

Usage: statearb strategies [KIND] [--json]

  KIND                    one kind only (spot-futures, futures-spread, market-making, cross-arbitrage)
  --json                  JSON Schema (draft 2020-12) of each kind's params`;

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
    p.maximum !== undefined ? `≤ ${p.maximum}` : undefined,
  ].filter(Boolean);
  return bounds.length ? `${t} ${bounds.join(', ')}` : t;
}

export function paramsJsonSchema(kind: StrategyKindName): Record<string, unknown> {
  return z.toJSONSchema(PARAMS_SCHEMAS[kind], { io: 'input' }) as Record<string, unknown>;
}

export function paramFields(kind: StrategyKindName): FieldDoc[] {
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
    options: { json: { type: 'boolean' } },
    allowPositionals: true,
    strict: true,
  });
  const kinds = Object.keys(PARAMS_SCHEMAS) as StrategyKindName[];
  const chosen = positionals.length > 0 ? positionals : kinds;
  for (const k of chosen)
    if (!kinds.includes(k as StrategyKindName))
      throw new UsageError(`unknown strategy kind "${k}"; known: ${kinds.join(', ')}`);
  if (values.json) {
    const out = Object.fromEntries(
      chosen.map((k) => [
        k,
        {
          summary: KIND_SUMMARIES[k as StrategyKindName],
          machineVersion: STRATEGY_KINDS[k]!.version,
          states: Object.keys(STRATEGY_KINDS[k]!.machine.root.states),
          params: paramsJsonSchema(k as StrategyKindName),
        },
      ]),
    );
    process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
    return 0;
  }
  const blocks = chosen.map((k) => {
    const fields = paramFields(k as StrategyKindName);
    const w = Math.max(...fields.map((f) => f.name.length));
    const lines = fields.map(
      (f) =>
        `  ${f.name.padEnd(w)}  ${f.required ? '(required) ' : ''}${f.type}${f.default !== undefined ? `, default ${JSON.stringify(f.default)}` : ''}\n  ${' '.repeat(w)}  ${f.description}`,
    );
    return `${k} — ${KIND_SUMMARIES[k as StrategyKindName]}\n  states: ${Object.keys(STRATEGY_KINDS[k]!.machine.root.states).join(', ')}\n${lines.join('\n')}`;
  });
  process.stdout.write(`${blocks.join('\n\n')}\n`);
  return 0;
}
