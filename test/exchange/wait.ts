/** Wall-clock waits for the tests that drive real ccxt classes over local sockets. */

/** Resolves once `ok()` holds; fails after `ms` naming what did not happen (`what` may describe the state then). */
export async function until(ok: () => boolean, what: string | (() => string), ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`not within ${ms} ms: ${typeof what === 'string' ? what : what()}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
