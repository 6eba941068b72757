/** Top-level state name of a (possibly nested or parallel) XState state value. */
export function stateName(value: unknown): string {
  if (typeof value === 'string') return value;
  return Object.keys((value as object) ?? {})[0] ?? '';
}
