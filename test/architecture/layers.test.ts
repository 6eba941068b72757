/**
 * The house rules, executable: which layer may import which, read from the import lines of every
 * source file under machines/ and src/, and no import cycle among them. A rule broken names the
 * importing file and what it imports.
 *
 *   machines/        imports only machines/ and src/domain/ (and packages): pure machines
 *   src/actors/      never src/engine/ (the engine wires actors, not the reverse)
 *   src/store/       never src/actors/ (a store is a port adapter, below the actors)
 *   src/exchange/    never machines/ (venues know nothing of strategies)
 *   src/cli/         imported by nothing but itself (and bin/)
 *   a strategy kind  imports the kit, never another kind (machines/strategies/<kind>/)
 *   src/testing/     imported by nothing in src/ (it loads vitest): statearb/testing is its own entry
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');

function sources(dir: string): string[] {
  return readdirSync(join(ROOT, dir)).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(join(ROOT, p)).isDirectory()) return sources(p);
    return /\.(ts|mjs)$/.test(name) ? [p] : [];
  });
}

/** Relative imports of a file (static, dynamic and re-exports), as repository paths. */
function importsOf(file: string): string[] {
  const text = readFileSync(join(ROOT, file), 'utf8');
  const out: string[] = [];
  for (const m of text.matchAll(/(?:from|import)\s*\(?\s*['"](\.{1,2}\/[^'"]+)['"]/g))
    out.push(relative(ROOT, resolve(ROOT, dirname(file), m[1]!)));
  return out;
}

const files = [...sources('machines'), ...sources('src')];
const graph = new Map(files.map((f) => [f, importsOf(f)]));

const RULES: { from: string; may: (target: string) => boolean; rule: string }[] = [
  {
    from: 'machines/',
    may: (t) => t.startsWith('machines/') || t.startsWith('src/domain/'),
    rule: 'machines import only machines/ and src/domain/',
  },
  { from: 'src/actors/', may: (t) => !t.startsWith('src/engine/'), rule: 'actors never import the engine' },
  { from: 'src/store/', may: (t) => !t.startsWith('src/actors/'), rule: 'stores never import actors' },
  { from: 'src/exchange/', may: (t) => !t.startsWith('machines/'), rule: 'venues never import machines' },
  { from: 'src/', may: (t) => !t.startsWith('src/cli/'), rule: 'nothing outside the CLI imports it' },
  {
    from: 'src/',
    may: (t) => !t.startsWith('src/testing/'),
    rule: 'src/ never imports the test harness (statearb/testing)',
  },
];

/** machines/strategies/<kind>/…: the kind's folder, or undefined (the kit, the index). */
const kindOf = (f: string) =>
  /^machines\/strategies\/([^/]+)\//.exec(f)?.[1]?.replace(/^kit$/, '') || undefined;

describe('the layering of machines/ and src/', () => {
  it('every import keeps the house rules', () => {
    const broken: string[] = [];
    for (const [file, targets] of graph)
      for (const r of RULES) {
        if (!file.startsWith(r.from)) continue;
        if (r.rule.startsWith('nothing outside the CLI') && file.startsWith('src/cli/')) continue;
        if (r.rule.startsWith('src/ never imports the test') && file.startsWith('src/testing/')) continue;
        for (const t of targets) if (!r.may(t)) broken.push(`${file} → ${t}: ${r.rule}`);
      }
    for (const [file, targets] of graph) {
      const own = kindOf(file);
      for (const t of targets)
        if (own && kindOf(t) && kindOf(t) !== own)
          broken.push(`${file} → ${t}: a strategy kind imports the kit, never another kind`);
    }
    expect(broken).toEqual([]);
  });

  it('no file imports itself back through others (no cycles)', () => {
    const cycles: string[] = [];
    const state = new Map<string, 'open' | 'done'>();
    const path: string[] = [];
    const visit = (f: string) => {
      if (state.get(f) === 'done') return;
      if (state.get(f) === 'open') {
        cycles.push([...path.slice(path.indexOf(f)), f].join(' → '));
        return;
      }
      state.set(f, 'open');
      path.push(f);
      for (const t of graph.get(f) ?? []) if (graph.has(t)) visit(t);
      path.pop();
      state.set(f, 'done');
    };
    for (const f of graph.keys()) visit(f);
    expect(cycles).toEqual([]);
  });

  it('reads the imports it judges (a rule over no files proves nothing)', () => {
    expect(files.length).toBeGreaterThan(100);
    expect(graph.get('src/engine/engine.ts')).toContain('machines/strategies/index.ts');
  });
});
