import type { Clock } from '../clock/clock.ts';
import type { Order } from '../domain/index.ts';
import type { ExchangeClient, Subscription } from '../exchange/port.ts';
import { backoff } from '../util/backoff.ts';

type Listener = (o: Order) => void;

/**
 * One order-update stream per venue account, fanned out by client order id. While the stream
 * is down every watched order is polled over REST, and after it comes back each is fetched once,
 * because updates published during the gap are lost.
 */
export class OrderUpdateHub {
  private readonly listeners = new Map<string, { symbol: string; fn: Listener }>();
  private sub: Subscription | undefined;
  private down = false;
  private retry: unknown;
  private poller: unknown;
  /** Drops since the stream last delivered: the resubscription delay doubles with each. */
  private drops = 0;
  private disposed = false;

  constructor(
    private readonly client: ExchangeClient,
    private readonly clock: Clock,
    private readonly opts: { reconnectMs: number; pollMs: number; maxReconnectMs?: number },
  ) {}

  watch(clientOrderId: string, symbol: string, fn: Listener): () => void {
    this.listeners.set(clientOrderId, { symbol, fn });
    this.ensureStream();
    // Whatever happened before we subscribed (between ack and watch, or while the process was down).
    void this.poll(clientOrderId);
    return () => {
      if (this.listeners.get(clientOrderId)?.fn === fn) this.listeners.delete(clientOrderId);
      if (this.listeners.size === 0) this.stop();
    };
  }

  private ensureStream(): void {
    if (this.sub || this.down || this.disposed) return;
    this.sub = this.client.watchOrders({
      data: (o) => {
        this.drops = 0;
        this.listeners.get(o.clientOrderId)?.fn(o);
      },
      error: () => {
        this.sub = undefined;
        // A drop reported after dispose must not arm timers that outlive the engine.
        if (this.disposed) return;
        this.down = true;
        this.startPolling();
        const delay = backoff(this.opts.reconnectMs, this.drops++, this.opts.maxReconnectMs ?? 30_000);
        this.retry = this.clock.setTimeout(() => this.reconnect(), delay);
      },
    });
  }

  private reconnect(): void {
    this.down = false;
    this.stopPolling();
    if (this.listeners.size === 0) return;
    this.ensureStream();
    for (const id of this.listeners.keys()) void this.poll(id);
  }

  private startPolling(): void {
    if (this.poller) return;
    const tick = () => {
      for (const id of this.listeners.keys()) void this.poll(id);
      this.poller = this.clock.setTimeout(tick, this.opts.pollMs);
    };
    this.poller = this.clock.setTimeout(tick, this.opts.pollMs);
  }

  private stopPolling(): void {
    if (this.poller) this.clock.clearTimeout(this.poller);
    this.poller = undefined;
  }

  private async poll(clientOrderId: string): Promise<void> {
    const l = this.listeners.get(clientOrderId);
    if (!l) return;
    try {
      const o = await this.client.fetchOrder({ clientOrderId }, l.symbol);
      this.listeners.get(clientOrderId)?.fn(o);
    } catch {
      // Not found yet, or the venue is unreachable: the stream or the next poll will tell.
    }
  }

  /** For good (the engine shut down): nothing is subscribed or re-armed after this. */
  dispose(): void {
    this.disposed = true;
    this.stop();
  }

  stop(): void {
    this.sub?.close();
    this.sub = undefined;
    this.stopPolling();
    if (this.retry) this.clock.clearTimeout(this.retry);
    this.retry = undefined;
    this.down = false;
  }
}
