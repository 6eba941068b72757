/**
 * The control block every strategy kind shares: the events the engine and the operator send
 * (stop, pause, resume, risk breach and clear, attention, operator commands), the context they
 * set, and the actions and `on:` handlers that set it — written once, so no kind drifts (one
 * ignored a breach's flatten when each wrote its own).
 */
import { type AnyEventObject, assign, type EventObject } from 'xstate';

export type StrategyControlEvent =
  | { type: 'STOP'; flatten: boolean }
  | { type: 'PAUSE' }
  | { type: 'RESUME' }
  | { type: 'RISK.BREACH'; reason: string; flatten?: boolean }
  | { type: 'RISK.CLEAR' }
  | { type: 'ORDER.PROGRESS' }
  /** The engine's position check: the venue does not hold what the books say. */
  | { type: 'ATTENTION'; reason: string; legs: { venue: string; symbol: string; position: number }[] }
  | { type: 'OPERATOR.FLATTEN' }
  | { type: 'OPERATOR.RESOLVE' };

/** What the control events set in a strategy's context. */
export interface ControlState {
  paused: boolean;
  stopRequested: { flatten: boolean } | undefined;
  riskBlocked: string | undefined;
}

/** RISK.BREACH: no new entries; a breach that asks to flatten is also a stop with flatten. */
export function riskBreachUpdate(
  c: Pick<ControlState, 'stopRequested'>,
  e: { reason: string; flatten?: boolean },
): Pick<ControlState, 'riskBlocked' | 'stopRequested'> {
  return { riskBlocked: e.reason, stopRequested: e.flatten ? { flatten: true } : c.stopRequested };
}

/** The control actions, typed for a machine's context and events: spread into `setup({ actions })`. */
export function controlActions<TContext extends ControlState, TEvent extends EventObject>() {
  const set = (update: (c: TContext, e: AnyEventObject) => Partial<ControlState>) =>
    assign<TContext, TEvent, undefined, TEvent, never>(
      ({ context, event }) => update(context, event as AnyEventObject) as Partial<TContext>,
    );
  return {
    requestStop: set((_, e) => ({ stopRequested: { flatten: Boolean(e.flatten) } })),
    pause: set(() => ({ paused: true })),
    resume: set(() => ({ paused: false })),
    blockForRisk: set((c, e) => riskBreachUpdate(c, e as unknown as { reason: string; flatten?: boolean })),
    clearRisk: set(() => ({ riskBlocked: undefined })),
  };
}

/** The `on:` handlers of the control events, by the action names of `controlActions`. */
export const controlHandlers = {
  STOP: { actions: 'requestStop' },
  PAUSE: { actions: 'pause' },
  RESUME: { actions: 'resume' },
  'RISK.BREACH': { actions: 'blockForRisk' },
  'RISK.CLEAR': { actions: 'clearRisk' },
} as const;
