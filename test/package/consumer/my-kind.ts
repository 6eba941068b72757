/**
 * A user's strategy kind as a module of their own project: the futures-spread machine under an
 * id of its own, from the public API only. The packed CLI loads it from a config (pack-check),
 * and public-api.test.ts property-tests it.
 */
import { BUILT_IN_KINDS, defineStrategyKind, type StrategyKind } from 'statearb';

const spread = BUILT_IN_KINDS['futures-spread'] as unknown as StrategyKind<unknown, unknown>;

export default defineStrategyKind({ ...spread, kind: 'consumer-spread', summary: 'a user’s futures spread' });
