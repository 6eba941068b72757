/** Bad command-line input: reported with the flag at fault, exit code 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export function intFlag(
  name: string,
  raw: string | undefined,
  def: number,
  min = 0,
  max = Number.MAX_SAFE_INTEGER,
): number {
  if (raw === undefined) return def;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max)
    throw new UsageError(`--${name}: expected an integer between ${min} and ${max}, got "${raw}"`);
  return n;
}

export function numFlag(
  name: string,
  raw: string | undefined,
  def: number,
  min = 0,
  max = Number.POSITIVE_INFINITY,
): number {
  if (raw === undefined) return def;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < min || n > max)
    throw new UsageError(`--${name}: expected a number between ${min} and ${max}, got "${raw}"`);
  return n;
}

export function listFlag(
  name: string,
  raw: string | undefined,
  def: string[],
  pattern = /^[a-z0-9_-]+$/i,
): string[] {
  if (raw === undefined) return def;
  const items = raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (items.length === 0) throw new UsageError(`--${name}: expected a comma-separated list, got "${raw}"`);
  for (const it of items)
    if (!pattern.test(it)) throw new UsageError(`--${name}: "${it}" is not a valid name`);
  return items;
}

/** `USDT=100000,BTC=2` → { USDT: 100000, BTC: 2 } */
export function balancesFlag(raw: string | undefined, def: Record<string, number>): Record<string, number> {
  if (raw === undefined) return def;
  const out: Record<string, number> = {};
  for (const part of raw.split(',')) {
    const [asset, amount] = part.split('=');
    const n = Number(amount);
    if (!asset || !/^[A-Z0-9]+$/.test(asset) || !Number.isFinite(n) || n < 0)
      throw new UsageError(
        `--balances: expected ASSET=AMOUNT[,ASSET=AMOUNT…] with amounts ≥ 0, got "${part}"`,
      );
    out[asset] = n;
  }
  return out;
}

/** `5/1000` → at most 5 requests per 1000 ms */
export function rateLimitFlag(
  raw: string | undefined,
): { maxRequests: number; windowMs: number } | undefined {
  if (raw === undefined) return undefined;
  const m = /^(\d+)\/(\d+)$/.exec(raw);
  if (!m || Number(m[1]) < 1 || Number(m[2]) < 1)
    throw new UsageError(`--rate-limit: expected REQUESTS/WINDOW_MS such as 20/1000, got "${raw}"`);
  return { maxRequests: Number(m[1]), windowMs: Number(m[2]) };
}
