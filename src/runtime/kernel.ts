/**
 * The engine a config describes, built one way for `statearb run` and `statearb backtest`: the
 * same engine settings and portfolio limits, the same strategies with their params tightened by
 * those limits, added the same way — every one checked against the venues' markets before any
 * starts. What differs by mode is only what a replay has no use for (persisted snapshots, the
 * running position check, the operator's command queue).
 */
import { InvalidParamsError } from '../../machines/params.ts';
import type { Clock } from '../clock/clock.ts';
import type { Config, StrategyConfig } from '../config/schema.ts';
import {
  createEngine,
  type Engine,
  type EngineLogger,
  silentLogger,
  type TransitionRecord,
} from '../engine/engine.ts';
import type { ExchangeClient } from '../exchange/port.ts';
import { type SnapshotStore, StrategyExistsError } from '../store/types.ts';
import { effectiveStrategies, type ParamAdjustment } from './strategies.ts';

/** run: paper or live, persisted and recovered · backtest: a replay on a virtual clock, never restored. */
export type KernelMode = 'run' | 'backtest';

export interface KernelParts {
  store: SnapshotStore;
  venues: Record<string, ExchangeClient>;
  clock: Clock;
  logger?: EngineLogger;
  onTransition?: (t: TransitionRecord) => void;
  /** Filter quotes before the machines (default true; a backtest may compare without). */
  quoteGating?: boolean;
}

export interface Kernel {
  engine: Engine;
  /** The config's strategies as they run: params tightened by the portfolio limits. */
  strategies: StrategyConfig[];
  adjustments: ParamAdjustment[];
}

/** Strategies of a config that cannot start (params, instruments, locks): exit code 2, each named. */
export class StrategySetupError extends Error {
  constructor(readonly problems: string[]) {
    super(`the config's strategies cannot start as configured:\n  ${problems.join('\n  ')}`);
    this.name = 'StrategySetupError';
  }
}

export function buildKernel(config: Config, mode: KernelMode, parts: KernelParts): Kernel {
  const { risk, engine: e } = config;
  const engine = createEngine({
    store: parts.store,
    venues: parts.venues,
    clock: parts.clock,
    ...(parts.logger ? { logger: parts.logger } : {}),
    ...(parts.onTransition ? { onTransition: parts.onTransition } : {}),
    quoteGating: parts.quoteGating ?? true,
    risk: {
      ...(risk.maxTotalExposureUsd !== undefined ? { maxTotalExposure: risk.maxTotalExposureUsd } : {}),
      ...(risk.maxDailyLossUsd !== undefined ? { maxDailyLoss: risk.maxDailyLossUsd } : {}),
      flattenOnDailyLoss: risk.flattenOnDailyLoss,
      ...(risk.enableCircuitBreakers ? { circuitBreaker: risk.circuitBreaker } : {}),
    },
    ...(mode === 'run'
      ? {
          quotePersistMs: e.quotePersistMs,
          positionCheckMs: e.positionCheckMs,
          positionSettleMs: e.positionSettleMs,
          onShutdown: e.onShutdown,
          ...(e.capacity !== undefined ? { capacity: e.capacity } : {}),
        }
      : {
          // Nothing restores a replay: only the order-intent journal is kept (placement reads it).
          persistSnapshots: false,
          // Nobody operates a replay, and its venues are the simulator's own books.
          positionCheckMs: 0,
          commandPollMs: 0,
        }),
  });
  return { engine, ...effectiveStrategies(config) };
}

/**
 * Add the config's strategies the store does not know yet, after checking every one of them
 * (instruments the venues list, params the markets take, locks another strategy holds): one
 * that does not fit stops them all, naming `strategies[i] (id).params.field` and the reason.
 * A stored one resumes as stored (a warning says when the config now differs).
 */
export async function addConfiguredStrategies(
  kernel: Kernel,
  log: EngineLogger = silentLogger,
): Promise<void> {
  const { engine, strategies } = kernel;
  const fresh: StrategyConfig[] = [];
  const problems: string[] = [];
  const locks = engine.status().locks;
  for (const [i, s] of strategies.entries()) {
    const stored = engine.stored(s.id);
    if (stored) {
      if (stored.status !== 'active')
        log.warn(
          { strategy: s.id, status: stored.status },
          'strategy already ended in this store; give it a new id to run it again',
        );
      else if (JSON.stringify(stored.params) !== JSON.stringify(s.params))
        log.warn(
          { strategy: s.id },
          'config params differ from the stored strategy; it resumes with the stored params (stop it to change them)',
        );
      continue;
    }
    try {
      engine.validateStrategy({ kind: s.kind, id: s.id, params: s.params });
      for (const key of engine.instrumentsOf({ kind: s.kind, params: s.params }))
        if (locks[key] !== undefined)
          problems.push(
            `strategy ${s.id}: ${key} is locked by strategy ${locks[key]} (stop it first, or trade another instrument)`,
          );
      fresh.push(s);
    } catch (err) {
      if (!(err instanceof InvalidParamsError)) throw err;
      for (const issue of err.issues)
        problems.push(`strategies[${i}] (${s.id}).params.${issue.path}: ${issue.reason}`);
    }
  }
  if (problems.length > 0) throw new StrategySetupError(problems);
  for (const s of fresh) {
    try {
      await engine.addStrategy({ kind: s.kind, id: s.id, params: s.params });
    } catch (err) {
      // Another engine process sharing the store added it first: it is stored, that is enough.
      if (!(err instanceof StrategyExistsError)) throw err;
      log.info({ strategy: s.id }, 'strategy added meanwhile by another engine process');
    }
  }
}
