/**
 * Deterministic, portable client order ids: letters and digits only, at most 26 characters,
 * never starting with 't' (Gate reserves 't-'; OKX allows only alphanumerics). The same strategy,
 * cycle, phase, execution, leg and attempt always give the same id — which is what makes
 * placement idempotent across restarts — and two different tuples never give the same id.
 *
 * Layout (fixed widths, so the encoding is injective):
 *
 *   S · tag (10) · cycle (6) · phase (1) · execution (2) · leg (1) · attempt (2)   = 23 characters
 *
 * `cycle` is the strategy's own counter (entries for hedgers, quote sequence for a maker slot);
 * `execution` numbers the executions of one phase within a cycle (the first exit, the second
 * exit, …); `attempt` numbers the orders one execution sends on one leg. Strategies restored from
 * snapshots of older versions keep their 7-character tag: their ids are 20 characters long and
 * cannot meet an id of this layout with a 10-character tag, nor one of the older layout (whose
 * cycle and attempt fields were variable-width and much shorter).
 */

/** Short stable tag of a strategy id: 64-bit FNV-1a, 10 base-36 characters (≈ 51.7 bits). */
export function strategyTag(strategyId: string): string {
  let h = 0xcbf29ce484222325n;
  for (let i = 0; i < strategyId.length; i++) {
    h ^= BigInt(strategyId.charCodeAt(i));
    h = (h * 0x100000001b3n) & 0xffffffffffffffffn;
  }
  return (h % 36n ** 10n).toString(36).padStart(10, '0');
}

/** e entry · x exit · r rebalance · q quote · f flatten (stop, kill switch or operator) */
export type Phase = 'e' | 'x' | 'r' | 'q' | 'f';

const PHASES = new Set<string>(['e', 'x', 'r', 'q', 'f']);

function field(name: string, value: number, width: number): string {
  if (!Number.isInteger(value) || value < 0 || value >= 36 ** width)
    throw new RangeError(`client order id: ${name} ${value} does not fit ${width} base-36 digits`);
  return value.toString(36).padStart(width, '0');
}

export interface OrderIdParts {
  tag: string;
  cycle: number;
  phase: Phase;
  /** Which execution of this phase within the cycle (0 for the first). */
  execution: number;
  leg: 'a' | 'b';
  /** Which order of this execution on this leg (0 for the first). */
  attempt: number;
}

export function clientOrderId(p: OrderIdParts): string {
  if (!PHASES.has(p.phase)) throw new RangeError(`client order id: unknown phase ${p.phase}`);
  if (!/^[0-9a-z]+$/.test(p.tag)) throw new RangeError(`client order id: tag ${p.tag} is not base 36`);
  return `S${p.tag}${field('cycle', p.cycle, 6)}${p.phase}${field('execution', p.execution, 2)}${p.leg}${field('attempt', p.attempt, 2)}`;
}

/**
 * The strategy that sent `clientOrderId`, from a map of tags to strategy ids: the tag is the 10
 * characters after the leading `S` (7 for strategies first started by older versions).
 */
export function strategyOfOrder<T>(clientOrderId: string, byTag: Map<string, T>): T | undefined {
  return byTag.get(clientOrderId.slice(1, 11)) ?? byTag.get(clientOrderId.slice(1, 8));
}
