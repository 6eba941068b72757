/**
 * The built-in strategy kinds by id. A kind is one folder (`<kind>/`: params, machine, kind);
 * what the kinds share is the kit (`kit/`).
 */
import { crossArbitrageKind } from './cross-arbitrage/kind.ts';
import { futuresSpreadKind } from './futures-spread/kind.ts';
import type { AnyStrategyKind } from './kit/kind.ts';
import { marketMakingKind } from './market-making/kind.ts';
import { spotFuturesKind } from './spot-futures/kind.ts';

/** The kinds statearb ships; src/config/kinds.ts adds the users' own. */
export const BUILT_IN_KINDS: Readonly<Record<string, AnyStrategyKind>> = Object.fromEntries(
  [spotFuturesKind, futuresSpreadKind, marketMakingKind, crossArbitrageKind].map((k) => [k.kind, k]),
);

export { type AnyStrategyKind, defineStrategyKind, lockKeys, type StrategyKind } from './kit/kind.ts';
