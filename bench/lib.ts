/** Tiny benchmark helpers: repeat, take the median, print JSON. Timing lives here, never in tests. */
export interface Figure {
  name: string;
  value: number;
  unit: string;
  /** Median of `runs` repetitions; `spread` is (max − min) / median across them. */
  runs: number;
  spread: number;
  note?: string;
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
}

/** Run `fn` (which performs `ops` operations) `runs` times; report the median rate in ops/s. */
export async function rate(
  name: string,
  ops: number,
  fn: () => void | Promise<void>,
  opts: { runs?: number; unit?: string; note?: string; warmup?: number } = {},
): Promise<Figure> {
  const runs = opts.runs ?? 5;
  for (let i = 0; i < (opts.warmup ?? 1); i++) await fn();
  const rates: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = process.hrtime.bigint();
    await fn();
    const dt = Number(process.hrtime.bigint() - t0) / 1e9;
    rates.push(ops / dt);
  }
  const med = median(rates);
  return {
    name,
    value: Math.round(med),
    unit: opts.unit ?? 'ops/s',
    runs,
    spread: Number(((Math.max(...rates) - Math.min(...rates)) / med).toFixed(3)),
    ...(opts.note ? { note: opts.note } : {}),
  };
}

export function ratio(name: string, a: Figure, b: Figure, note: string): Figure {
  return {
    name,
    value: Number((a.value / b.value).toFixed(3)),
    unit: 'ratio',
    runs: a.runs,
    spread: 0,
    note,
  };
}
