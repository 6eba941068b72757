/**
 * Operator commands (statearb strategy …, statearb kill, the inspector's buttons) applied to a
 * running strategy if its state takes them: 'applied', or the reason it was refused.
 */

import type { Clock } from '../clock/clock.ts';
import type { OperatorCommand, OperatorCommandName, SnapshotStore } from '../store/types.ts';
import type { EngineLogger, StrategyHost } from './strategy-host.ts';

export interface OperatorContext {
  /** A graceful shutdown has begun: nothing that could be cut off at its deadline is started. */
  shuttingDown: boolean;
  /** No portfolio limit holds (a resolved halt may trade again). */
  riskClear: boolean;
  log: EngineLogger;
}

/** Apply one operator command to a strategy; returns 'applied' or why not. */
export function operate(host: StrategyHost, command: OperatorCommandName, ctx: OperatorContext): string {
  if (host.done) return `refused: the strategy has ended (${host.state})`;
  const snap = host.actor.getSnapshot() as { can(e: unknown): boolean };
  const state = host.state;
  // Orders a shutdown could cut off at its deadline are not started once it has begun.
  if (ctx.shuttingDown && (command === 'flatten' || command === 'stop-flatten' || command === 'kill-flatten'))
    return 'refused: the engine is shutting down (flatten after the next start)';
  if (command === 'kill' || command === 'kill-flatten') {
    const flatten = command === 'kill-flatten';
    ctx.log.error({ strategy: host.id, flatten }, 'kill switch (operator)');
    host.kill('operator (statearb kill)', flatten);
    return 'applied';
  }
  if (command === 'pause') {
    host.shutdownPaused = false; // the operator's pause outlives a shutdown's
    host.send({ type: 'PAUSE' });
    return 'applied';
  }
  if (command === 'resume') {
    if (ctx.shuttingDown) return 'refused: the engine is shutting down';
    host.send({ type: 'RESUME' });
    return 'applied';
  }
  // A halt (recovery found what the snapshot did not know) is resolved by the operator;
  // a strategy that also needs attention takes the resolve as its own as well.
  if (command === 'resolve' && host.halted) {
    host.clearHalt(ctx.riskClear);
    if (state !== 'needsAttention') return 'applied';
  }
  if (command === 'stop' && state === 'needsAttention')
    return 'refused: it needs attention and holds exposure — stop with --flatten, or resolve after fixing it by hand';
  const event =
    command === 'flatten'
      ? { type: 'OPERATOR.FLATTEN' }
      : command === 'resolve'
        ? { type: 'OPERATOR.RESOLVE' }
        : { type: 'STOP', flatten: command === 'stop-flatten' };
  if (!snap.can(event)) return `refused: ${state} does not take ${command}`;
  host.send(event);
  return 'applied';
}

/**
 * The commands queued in the store: each applied once, to a strategy this engine runs; the
 * result is written back. One for a strategy not here (another node runs it, or it is not
 * restored yet) waits for whoever runs it.
 */
export function applyQueuedCommands(
  store: SnapshotStore,
  clock: Clock,
  host: (id: string) => StrategyHost | undefined,
  ctx: () => OperatorContext,
): void {
  const { log } = ctx();
  let pending: OperatorCommand[];
  try {
    pending = store.pendingCommands();
  } catch (e) {
    log.warn({ err: String(e) }, 'could not read operator commands');
    return;
  }
  for (const c of pending) {
    const h = host(c.strategyId);
    if (!h || h.dropped) continue;
    let result: string;
    try {
      result = operate(h, c.command, ctx());
    } catch (e) {
      result = `failed: ${(e as Error).message}`;
    }
    store.markCommand(c.seq, clock.now(), result);
    log.info({ strategy: h.id, command: c.command, result }, 'operator command');
  }
}
