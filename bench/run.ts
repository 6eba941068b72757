import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { clusterBench } from './cluster.bench.ts';
import { engineBench } from './engine.bench.ts';
import { inspectorBench } from './inspector.bench.ts';
import type { Figure } from './lib.ts';
import { machinesBench } from './machines.bench.ts';
import { marketDataBench } from './marketdata.bench.ts';
import { recoveryBench } from './recovery.bench.ts';
import { orderPathBench, scaleBench } from './scale.bench.ts';
import { storeBench } from './store.bench.ts';
import { venueBench } from './venue.bench.ts';

/**
 * `npm run bench [-- name…]`: run the suites, print a table to stderr and the JSON report to
 * stdout, and keep it in bench/results/latest.json.
 */
const suites: Record<string, () => Promise<Figure[]>> = {
  venue: venueBench,
  marketdata: marketDataBench,
  machines: machinesBench,
  store: storeBench,
  engine: () => engineBench(1_000),
  inspector: inspectorBench,
  scale: scaleBench,
  // The decision-to-wire path alone (a subset of scale): XState's floor and tick-to-order, 1 and 100.
  'order-path': orderPathBench,
  cluster: clusterBench,
  recovery: recoveryBench,
};

const wanted = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const report: Record<string, unknown> = {
  date: new Date().toISOString(),
  node: process.version,
  cpus: cpus().length,
  cpuModel: cpus()[0]?.model,
  suites: {} as Record<string, Figure[]>,
};
for (const [name, fn] of Object.entries(suites)) {
  if (wanted.length > 0 && !wanted.includes(name)) continue;
  const figures = await fn();
  (report.suites as Record<string, Figure[]>)[name] = figures;
  for (const f of figures)
    process.stderr.write(
      `${name.padEnd(11)} ${f.name.padEnd(66)} ${String(f.value).padStart(12)} ${f.unit}\n`,
    );
}
const dir = join(import.meta.dirname, 'results');
mkdirSync(dir, { recursive: true });
const json = JSON.stringify(report, null, 2);
writeFileSync(join(dir, 'latest.json'), json);
process.stdout.write(`${json}\n`);
