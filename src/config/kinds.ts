/**
 * The catalogue of strategy kinds a process can run: the built-ins (machines/strategies) and
 * the users' own, registered from the modules a config names (plugins.ts). Everything that asks
 * a kind by id — config validation, the engine, status, backtests, the CLI — asks here.
 */
import { type AnyStrategyKind, BUILT_IN_KINDS } from '../../machines/strategies/index.ts';

/** Every kind by id. Registering adds to it; nothing else changes it. */
export const STRATEGY_KINDS: Readonly<Record<string, AnyStrategyKind>> = { ...BUILT_IN_KINDS };

/**
 * Add a kind (a user's module). Its id must be new: a module cannot replace a built-in or
 * another module's kind (the same descriptor twice is fine: a config naming it twice).
 */
export function registerStrategyKind(kind: AnyStrategyKind): void {
  const known = STRATEGY_KINDS[kind.kind];
  if (known === kind) return;
  if (known)
    throw new Error(
      `a strategy kind "${kind.kind}" is already registered${kind.kind in BUILT_IN_KINDS ? ' (a built-in)' : ''}: give yours another id`,
    );
  (STRATEGY_KINDS as Record<string, AnyStrategyKind>)[kind.kind] = kind;
}

/** Tests: forget the kinds registered (the built-ins stay). */
export function unregisterStrategyKinds(): void {
  for (const id of Object.keys(STRATEGY_KINDS))
    if (!(id in BUILT_IN_KINDS)) delete (STRATEGY_KINDS as Record<string, AnyStrategyKind>)[id];
}
