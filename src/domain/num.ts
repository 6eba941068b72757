/**
 * Float-only arithmetic helpers. Quantities and prices are JS doubles; they are snapped to the
 * market's tick or step at the exchange boundary. The epsilon absorbs representation error
 * (0.1 + 0.2) so that a value already on the grid never moves to the neighbouring tick.
 */
const EPS = 1e-9;

export type RoundingMode = 'floor' | 'ceil' | 'nearest';

const decimalsCache = new Map<number, number>();

/** Number of decimals needed to print `step` exactly (0.001 → 3, 5 → 0, 1e-8 → 8). */
export function decimalsOf(step: number): number {
  const cached = decimalsCache.get(step);
  if (cached !== undefined) return cached;
  if (!Number.isFinite(step) || step <= 0)
    throw new RangeError(`step must be a positive number, got ${step}`);
  const s = step.toExponential();
  const [mantissa = '', expPart = '0'] = s.split('e');
  const exp = Number(expPart);
  const mantDecimals = (mantissa.split('.')[1] ?? '').length;
  const d = Math.max(0, mantDecimals - exp);
  if (decimalsCache.size < 1000) decimalsCache.set(step, d);
  return d;
}

/**
 * Snap `value` to a multiple of `step`. The result is (whole units × integer step) / 10^d: an
 * exact integer divided by a power of ten, which IEEE division rounds to the double nearest
 * the decimal — the same number `Number(x.toFixed(d))` gives, at a fraction of the cost.
 */
export function roundToStep(
  value: number,
  step: number,
  mode: RoundingMode,
  decimals = decimalsOf(step),
): number {
  const units = value / step;
  // The division's own error grows with |units| (a few ulps); absorb it so on-grid values stay put.
  const eps = Math.max(EPS, Math.abs(units) * 4e-16);
  let n: number;
  if (mode === 'floor') n = Math.floor(units + eps);
  else if (mode === 'ceil') n = Math.ceil(units - eps);
  else n = Math.round(units);
  const scale = POW10[decimals] ?? 10 ** decimals;
  return (n * Math.round(step * scale)) / scale;
}

const POW10 = Array.from({ length: 19 }, (_, i) => 10 ** i);

/** True when `value` is a whole multiple of `step` (within float tolerance). */
export function isOnStep(value: number, step: number): boolean {
  const units = value / step;
  // Division error grows with the magnitude of `units` (≈ 4e-16 relative); half a unit off is a real miss.
  return Math.abs(units - Math.round(units)) <= Math.max(1e-9, Math.abs(units) * 1e-12);
}
