/** Delay before the next attempt after `failures` failures in a row: `baseMs` doubling, capped at `maxMs`. */
export function backoff(baseMs: number, failures: number, maxMs: number): number {
  return Math.min(maxMs, baseMs * 2 ** Math.min(failures, 20));
}
