/**
 * Forwarding to Stately's inspector (@statelyai/inspect, the XState v5 successor of
 * @xstate/inspect): every inspection event of every strategy actor goes over a WebSocket to a
 * relay at `url` that Stately's inspector UI reads.
 */
import { createWebSocketInspector } from '@statelyai/inspect';
import type { InspectionTap } from '../engine/inspection.ts';

export function statelyTap(url: string): InspectionTap & { stop(): void } {
  const inspector = createWebSocketInspector({ url });
  return {
    event(_strategy, ev) {
      inspector.inspect.next?.(ev);
    },
    stop() {
      inspector.stop();
    },
  };
}
