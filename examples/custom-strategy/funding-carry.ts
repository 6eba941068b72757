/**
 * Perp–perp funding carry, a strategy kind written only against statearb's public API: long the
 * perpetual that pays less funding, short the one that pays more, and collect the difference at
 * every settlement; out when the funding spread falls under a threshold or turns, on the stop
 * loss or the time limit. The hedged cycle, needs attention, the control block and the books
 * are the kit's (perpPairCycleMachine); this file is the kind's own rules and params.
 *
 * Run it: a config names this file (`plugins: [./funding-carry.ts]`) — see ./config.yaml.
 */
import {
  defineStrategyKind,
  instrumentSchema,
  maxCount,
  nonneg,
  type PerpPairContext,
  type PerpPairRules,
  perpPairCycleMachine,
  perpPairKindBase,
  pos,
  z,
} from 'statearb';

export const fundingCarryParams = z.strictObject({
  legA: instrumentSchema.describe('the first perpetual'),
  legB: instrumentSchema.describe('the second perpetual, same base asset'),
  amount: pos().describe('base units per leg'),
  minFundingSpreadBps: pos().describe(
    'enter when one leg’s funding exceeds the other’s by this, bps per settlement',
  ),
  exitFundingSpreadBps: z
    .number()
    .default(0)
    .describe('exit when the spread in our favour falls below this, bps'),
  stopLossQuote: pos()
    .default(500)
    .describe('exit when the position’s PnL falls below −this, quote currency'),
  maxHoldingHours: pos().default(72).describe('exit after holding this long, hours'),
  deltaToleranceBase: nonneg().default(0.001).describe('net delta accepted, base units'),
  staleAfterMs: pos().default(5_000).describe('quotes older than this block entries, ms'),
  maxPositionNotional: pos().default(100_000).describe('largest notional per leg, quote currency'),
  maxCycles: maxCount('stop after this many cycles'),
  cooldownMs: nonneg().default(60_000).describe('pause between an exit and the next entry, ms'),
});
export type FundingCarryParams = z.output<typeof fundingCarryParams>;
export type FundingCarryContext = PerpPairContext<FundingCarryParams, Record<string, never>>;

/** What long A / short B earns per settlement, bps: B's rate over A's (undefined until both are known). */
export function fundingSpreadBps(c: FundingCarryContext): number | undefined {
  const { legA, legB } = c.fundingRates;
  return legA === undefined || legB === undefined ? undefined : (legB - legA) * 1e4;
}

const rules: PerpPairRules<FundingCarryParams, Record<string, never>> = {
  machineId: 'fundingCarry',
  kind: 'funding-carry',
  checkParams: (p, c) =>
    c.that(
      p.exitFundingSpreadBps < p.minFundingSpreadBps,
      'exitFundingSpreadBps',
      'must be below minFundingSpreadBps',
    ),
  own: () => ({}),
  ready: (c) => fundingSpreadBps(c) !== undefined,
  // B pays more: long A, short B (+1); A pays more: the reverse.
  entry: (c) => {
    const s = fundingSpreadBps(c) ?? 0;
    return s >= c.params.minFundingSpreadBps ? 1 : -s >= c.params.minFundingSpreadBps ? -1 : 0;
  },
  exit: (c) => {
    const s = fundingSpreadBps(c);
    if (s === undefined || c.positionSign * s >= c.params.exitFundingSpreadBps) return undefined;
    return `funding spread ${(c.positionSign * s).toFixed(2)} bps is under ${c.params.exitFundingSpreadBps}`;
  },
};

export const fundingCarryMachine = perpPairCycleMachine(rules);

export default defineStrategyKind<FundingCarryParams, FundingCarryContext>({
  ...perpPairKindBase(fundingCarryMachine, rules),
  kind: 'funding-carry',
  summary: 'long the perp paying less funding, short the one paying more, while the spread pays',
  version: 1,
  paramsSchema: fundingCarryParams,
  volatile: ['quotes', 'now', 'fundingRates'],
  risk: { cap: ['maxPositionNotional'], floor: { param: 'minFundingSpreadBps', perMarginBps: 1 } },
});
