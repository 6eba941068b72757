/** Streams that keep dropping are resubscribed less and less often. */
import { describe, expect, it } from 'vitest';
import { OrderUpdateHub } from '../../src/actors/order-hub.ts';
import { VirtualClock } from '../../src/clock/clock.ts';
import { NetworkError, OrderNotFound } from '../../src/domain/index.ts';
import type { ExchangeClient, StreamSink } from '../../src/exchange/port.ts';
import { backoff } from '../../src/util/backoff.ts';

describe('reconnect back-off', () => {
  it('doubles from the base and stops at the cap', () => {
    expect([0, 1, 2, 3, 10, 60].map((n) => backoff(1_000, n, 30_000))).toEqual([
      1_000, 2_000, 4_000, 8_000, 30_000, 30_000,
    ]);
  });

  it('the order hub resubscribes a refusing stream after 1, 2, 4, 8 s', async () => {
    const clock = new VirtualClock(0);
    const attempts: number[] = [];
    const client = {
      watchOrders(sink: StreamSink<never>) {
        attempts.push(clock.now());
        clock.setTimeout(() => sink.error?.(new NetworkError('refused')), 0);
        return { close() {} };
      },
      fetchOrder: async () => {
        throw new OrderNotFound('no');
      },
    } as unknown as ExchangeClient;
    const hub = new OrderUpdateHub(client, clock, {
      reconnectMs: 1_000,
      maxReconnectMs: 30_000,
      pollMs: 500,
    });
    hub.watch('C1', 'BTC/USDT', () => {});
    await clock.advanceBy(15_500);
    expect(attempts).toEqual([0, 1_000, 3_000, 7_000, 15_000]);
    hub.stop();
  });
});
