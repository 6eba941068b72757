/**
 * Reading a strategy's snapshot: the order machines it holds (by client id), and what of it a
 * write must cover — by reference for the per-quote hot path, as text without the per-quote keys.
 */

interface OrderSnapshot {
  status?: string;
  value?: unknown;
  context?: { request?: { clientOrderId?: string } };
  children?: Record<string, { snapshot?: unknown }>;
}

/** Client ids of the order machines under a persisted snapshot that `which` accepts, depth first. */
function orderIds(snapshot: unknown, which: (s: OrderSnapshot) => boolean, out: string[] = []): string[] {
  const s = snapshot as OrderSnapshot;
  if (s.context?.request?.clientOrderId && which(s)) out.push(s.context.request.clientOrderId);
  for (const c of Object.values(s.children ?? {})) if (c?.snapshot) orderIds(c.snapshot, which, out);
  return out;
}

/** The orders working at the venue (order machines in their `live` state). */
export function liveOrders(snapshot: unknown): string[] {
  return orderIds(snapshot, (s) => typeof s.value === 'object' && s.value !== null && 'live' in s.value);
}

/**
 * Every order machine still running under a snapshot — being placed, working, being cancelled,
 * being asked about — by client id: what a graceful shutdown waits for (a quote still on its way
 * to the venue would rest there with nothing running).
 */
export function ordersInFlight(snapshot: unknown): string[] {
  return orderIds(snapshot, (s) => s.status === 'active');
}

/** The strategy's own pause flag (every bundled kind has one; a kind without it is never paused). */
export function isPaused(snapshot: unknown): boolean {
  return (snapshot as { context?: { paused?: unknown } }).context?.paused === true;
}

/** The persisted snapshot as it would be had the shutdown's pause not happened. */
export function withPauseLifted<T>(snapshot: T): T {
  const s = snapshot as { context?: Record<string, unknown> };
  if (s.context?.paused !== true) return snapshot;
  return { ...s, context: { ...s.context, paused: false } } as T;
}

/**
 * Everything whose change must be persisted, by reference: the state value, each non-volatile
 * context value, and the snapshot of every descendant actor (order machines inside pairs).
 */
export function changeRefs(snapshot: unknown, volatile: string[]): unknown[] {
  const s = snapshot as { value?: unknown; context?: Record<string, unknown> };
  const out: unknown[] = [typeof s.value === 'string' ? s.value : JSON.stringify(s.value)];
  for (const [k, v] of Object.entries(s.context ?? {})) if (!volatile.includes(k)) out.push(v);
  pushDescendants(snapshot, out);
  return out;
}

/** Each descendant actor's snapshot object: it is replaced exactly when that actor changes. */
function pushDescendants(snapshot: unknown, out: unknown[]): void {
  const children =
    (snapshot as { children?: Record<string, { getSnapshot?: () => unknown }> }).children ?? {};
  for (const child of Object.values(children)) {
    const cs = child?.getSnapshot?.();
    out.push(cs);
    if (cs && typeof cs === 'object' && 'children' in cs) pushDescendants(cs, out);
  }
}

export function sameRefs(a: unknown[], b: unknown[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** The snapshot as text without the strategy's per-quote context keys: what a persist must cover. */
export function withoutVolatile(snapshot: unknown, volatile: string[]): string {
  const ctx = (snapshot as { context?: object }).context;
  return JSON.stringify(snapshot, function (key, v) {
    return this === ctx && volatile.includes(key) ? undefined : v;
  });
}
