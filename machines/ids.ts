/**
 * Deterministic, portable client order ids: 1–26 letters and digits, never starting with 't'
 * (Gate reserves 't-'; OKX allows only alphanumerics). The same strategy, cycle, phase, leg and
 * attempt always give the same id, which is what makes placement idempotent across restarts.
 */

/** Short stable tag of a strategy id: FNV-1a 32-bit in base 36, 7 chars. */
export function strategyTag(strategyId: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < strategyId.length; i++) {
    h ^= strategyId.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(36).padStart(7, '0');
}

export type Phase = 'e' | 'x' | 'r' | 'u' | 'q' | 'f';
/** e entry, x exit, r rebalance, u unwind, q quote, f flatten */

export function clientOrderId(
  tag: string,
  cycle: number,
  phase: Phase,
  leg: 'a' | 'b',
  attempt: number,
): string {
  const id = `S${tag}${cycle.toString(36)}${phase}${leg}${attempt.toString(36)}`;
  if (id.length > 26) throw new RangeError(`client order id ${id} is longer than 26 characters`);
  return id;
}
