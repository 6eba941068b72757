/** Futures–futures spread hedging as the engine knows it. */
import { defineStrategyKind, legSpreadBps, restOnlyMigration } from '../kit/kind.ts';
import { perpPairKindBase } from '../kit/perp-pair-cycle.ts';
import { type FuturesSpreadContext, futuresSpreadMachine, futuresSpreadRules } from './machine.ts';
import { type FuturesSpreadParams, futuresSpreadParamsSchema } from './params.ts';

/**
 * Version 3: the machine is the kit's perp-pair cycle. The kind's own state moved under `own`
 * (stats, entrySpreadBps); the cycle's context gained fundingRates and exitReason. States,
 * invoke ids and every other key are as before, so any snapshot carries over.
 */
function toPerpPairContext(snapshot: unknown): unknown {
  const s = snapshot as { context: Record<string, unknown> };
  const { stats, entrySpreadBps, ...rest } = s.context;
  return {
    ...s,
    context: {
      ...rest,
      own: { stats, entrySpreadBps },
      fundingRates: { legA: undefined, legB: undefined },
      exitReason: undefined,
    },
  };
}

export const futuresSpreadKind = defineStrategyKind<FuturesSpreadParams, FuturesSpreadContext>({
  ...perpPairKindBase(futuresSpreadMachine, futuresSpreadRules),
  kind: 'futures-spread',
  summary: 'two futures (two venues’ perps, or perp vs dated) when their spread strays from its mean',
  version: 3,
  migrations: {
    // Version 2: executions converge on target positions (see spot-futures).
    1: restOnlyMigration('futures-spread', 1, ['entering', 'exiting']),
    2: toPerpPairContext,
  },
  paramsSchema: futuresSpreadParamsSchema,
  volatile: ['quotes', 'now', 'own'],
  risk: { cap: ['maxPositionNotional'], floor: { param: 'minProfitBps', perMarginBps: 1 } },
  // Leg B over leg A.
  signal: { name: 'spread bps', bps: legSpreadBps },
});
