/**
 * Portfolio risk limits that tighten every strategy's own parameters: a position-size cap and a
 * profit-margin floor. A parameter is only ever made safer, and every change is reported.
 */
import type { Config, StrategyConfig } from '../config/schema.ts';

export interface ParamAdjustment {
  strategy: string;
  param: string;
  from: number;
  to: number;
  why: string;
}

/** Which parameter of each kind is the position cap and which the profit floor (with its scale). */
const CAP_PARAMS: Record<string, string[]> = {
  'spot-futures': ['maxPositionNotional'],
  'futures-spread': ['maxPositionNotional'],
  'market-making': ['maxPositionNotional'],
  'cross-arbitrage': ['maxNotional'],
};
/** A maker earns its half-spread on each side, so a round trip's margin is 2 × spreadBps. */
const FLOOR_PARAMS: Record<string, { param: string; perMarginBps: number }> = {
  'spot-futures': { param: 'minEntryBasisBps', perMarginBps: 1 },
  'futures-spread': { param: 'minProfitBps', perMarginBps: 1 },
  'cross-arbitrage': { param: 'minProfitBps', perMarginBps: 1 },
  'market-making': { param: 'spreadBps', perMarginBps: 0.5 },
};

export function effectiveStrategies(config: Config): {
  strategies: StrategyConfig[];
  adjustments: ParamAdjustment[];
} {
  const adjustments: ParamAdjustment[] = [];
  const strategies = (config.strategies as StrategyConfig[]).map((s) => {
    const params = { ...s.params };
    const cap = config.risk.maxPositionSizeUsd;
    if (cap !== undefined) {
      for (const p of CAP_PARAMS[s.kind] ?? []) {
        const v = params[p] as number;
        if (v > cap) {
          params[p] = cap;
          adjustments.push({ strategy: s.id, param: p, from: v, to: cap, why: 'risk.maxPositionSizeUsd' });
        }
      }
    }
    const margin = config.risk.minProfitMarginBps;
    const floor = FLOOR_PARAMS[s.kind];
    if (margin !== undefined && floor) {
      const v = params[floor.param] as number;
      const min = margin * floor.perMarginBps;
      if (v < min) {
        params[floor.param] = min;
        adjustments.push({
          strategy: s.id,
          param: floor.param,
          from: v,
          to: min,
          why: 'risk.minProfitMarginBps',
        });
      }
    }
    return { ...s, params };
  });
  return { strategies, adjustments };
}
