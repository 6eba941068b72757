/** Parameter validation for machine inputs: every problem reported with its field path and reason. */
export interface ParamIssue {
  path: string;
  reason: string;
}

export class InvalidParamsError extends Error {
  constructor(
    readonly kind: string,
    readonly issues: ParamIssue[],
  ) {
    super(`invalid ${kind} params: ${issues.map((i) => `${i.path}: ${i.reason}`).join('; ')}`);
    this.name = 'InvalidParamsError';
  }
}

export class ParamChecker {
  readonly issues: ParamIssue[] = [];

  positive(path: string, v: unknown): void {
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0)
      this.issues.push({ path, reason: `must be a positive number, got ${String(v)}` });
  }

  nonNegative(path: string, v: unknown): void {
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0)
      this.issues.push({ path, reason: `must be a number ≥ 0, got ${String(v)}` });
  }

  finite(path: string, v: unknown): void {
    if (typeof v !== 'number' || !Number.isFinite(v))
      this.issues.push({ path, reason: `must be a number, got ${String(v)}` });
  }

  integer(path: string, v: unknown, min = 0): void {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min)
      this.issues.push({ path, reason: `must be an integer ≥ ${min}, got ${String(v)}` });
  }

  oneOf(path: string, v: unknown, allowed: readonly string[]): void {
    if (typeof v !== 'string' || !allowed.includes(v))
      this.issues.push({ path, reason: `must be one of ${allowed.join(', ')}, got ${String(v)}` });
  }

  that(ok: boolean, path: string, reason: string): void {
    if (!ok) this.issues.push({ path, reason });
  }

  throwIfAny(kind: string): void {
    if (this.issues.length > 0) throw new InvalidParamsError(kind, this.issues);
  }
}
