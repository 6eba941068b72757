/**
 * Portfolio risk limits that tighten every strategy's own parameters: a position-size cap and a
 * profit-margin floor. A parameter is only ever made safer, and every change is reported.
 */
import { STRATEGY_KINDS } from '../config/kinds.ts';
import type { Config, StrategyConfig } from '../config/schema.ts';

export interface ParamAdjustment {
  strategy: string;
  param: string;
  from: number;
  to: number;
  why: string;
}

export function effectiveStrategies(config: Config): {
  strategies: StrategyConfig[];
  adjustments: ParamAdjustment[];
} {
  const adjustments: ParamAdjustment[] = [];
  const strategies = (config.strategies as StrategyConfig[]).map((s) => {
    const params = { ...s.params };
    // The kind says which of its params are the position cap and the profit floor.
    const risk = STRATEGY_KINDS[s.kind]?.risk;
    const cap = config.risk.maxPositionSizeUsd;
    if (cap !== undefined) {
      for (const p of risk?.cap ?? []) {
        const v = params[p] as number;
        if (v > cap) {
          params[p] = cap;
          adjustments.push({ strategy: s.id, param: p, from: v, to: cap, why: 'risk.maxPositionSizeUsd' });
        }
      }
    }
    const margin = config.risk.minProfitMarginBps;
    const floor = risk?.floor;
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
