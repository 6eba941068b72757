import type { Clock } from '../clock/clock.ts';
import type { Order } from '../domain/index.ts';
import type { ExchangeClient, Subscription } from '../exchange/port.ts';
import { backoff } from '../util/backoff.ts';

type Listener = (o: Order) => void;

/** One of the venue's order streams (one per market type where the venue has several). */
interface OrderStream {
  sub: Subscription | undefined;
  /** Down, resubscribing when this timer fires. */
  retry: unknown;
  poller: unknown;
  /** Drops since the stream last delivered: the resubscription delay doubles with each. */
  drops: number;
}

/**
 * One order-update stream per venue account (per market type where the venue streams them
 * apart: a perpetual stream that fails leaves the spot one running), fanned out by client order
 * id. While a stream is down every order it carries is polled over REST, and after it comes back
 * each is fetched once, because updates published during the gap are lost.
 *
 * Polls asked for together (a restored strategy's resting quotes, every watched order after a
 * stream gap) are one open-orders read per symbol: an order listed open with nothing filled is
 * answered from the list, and only what the list cannot settle — an order no longer open, or one
 * with fills whose trades the list does not carry — is fetched by its id.
 */
export class OrderUpdateHub {
  private readonly listeners = new Map<string, { symbol: string; stream: string; fn: Listener }>();
  private readonly streams = new Map<string, OrderStream>();
  private disposed = false;
  /** Polls asked for in this turn of the event loop, read together once it ends. */
  private pending: Set<string> | undefined;

  constructor(
    private readonly client: ExchangeClient,
    private readonly clock: Clock,
    private readonly opts: { reconnectMs: number; pollMs: number; maxReconnectMs?: number },
  ) {}

  watch(clientOrderId: string, symbol: string, fn: Listener): () => void {
    const stream = this.client.orderStreamOf?.(symbol) ?? '';
    this.listeners.set(clientOrderId, { symbol, stream, fn });
    this.ensureStream(stream);
    // Whatever happened before we subscribed (between ack and watch, or while the process was down).
    this.requestPoll(clientOrderId);
    return () => {
      if (this.listeners.get(clientOrderId)?.fn === fn) this.listeners.delete(clientOrderId);
      if (![...this.listeners.values()].some((l) => l.stream === stream)) this.stopStream(stream);
    };
  }

  /** The client ids `stream` carries. */
  private carried(stream: string): string[] {
    return [...this.listeners].filter(([, l]) => l.stream === stream).map(([id]) => id);
  }

  private ensureStream(key: string): void {
    let s = this.streams.get(key);
    if (!s) {
      s = { sub: undefined, retry: undefined, poller: undefined, drops: 0 };
      this.streams.set(key, s);
    }
    if (s.sub || s.retry || this.disposed) return;
    const stream = s;
    stream.sub = this.client.watchOrders(
      {
        data: (o) => {
          stream.drops = 0;
          this.listeners.get(o.clientOrderId)?.fn(o);
        },
        error: () => {
          stream.sub = undefined;
          // A drop reported after dispose must not arm timers that outlive the engine.
          if (this.disposed) return;
          this.startPolling(key, stream);
          const delay = backoff(this.opts.reconnectMs, stream.drops++, this.opts.maxReconnectMs ?? 30_000);
          stream.retry = this.clock.setTimeout(() => this.reconnect(key, stream), delay);
        },
      },
      key || undefined,
    );
  }

  private reconnect(key: string, s: OrderStream): void {
    s.retry = undefined;
    this.stopPolling(s);
    const ids = this.carried(key);
    if (ids.length === 0) return;
    this.ensureStream(key);
    for (const id of ids) this.requestPoll(id);
  }

  private startPolling(key: string, s: OrderStream): void {
    if (s.poller) return;
    const tick = () => {
      for (const id of this.carried(key)) this.requestPoll(id);
      s.poller = this.clock.setTimeout(tick, this.opts.pollMs);
    };
    s.poller = this.clock.setTimeout(tick, this.opts.pollMs);
  }

  private stopPolling(s: OrderStream): void {
    if (s.poller) this.clock.clearTimeout(s.poller);
    s.poller = undefined;
  }

  private requestPoll(clientOrderId: string): void {
    if (this.pending) {
      this.pending.add(clientOrderId);
      return;
    }
    this.pending = new Set([clientOrderId]);
    queueMicrotask(() => {
      const ids = this.pending!;
      this.pending = undefined;
      const bySymbol = new Map<string, string[]>();
      for (const id of ids) {
        const l = this.listeners.get(id);
        if (!l) continue;
        const group = bySymbol.get(l.symbol);
        if (group) group.push(id);
        else bySymbol.set(l.symbol, [id]);
      }
      for (const [symbol, group] of bySymbol) {
        if (group.length === 1) void this.poll(group[0]!);
        else void this.pollTogether(symbol, group);
      }
    });
  }

  private async pollTogether(symbol: string, ids: string[]): Promise<void> {
    let open: Order[];
    try {
      open = await this.client.fetchOpenOrders(symbol);
    } catch {
      for (const id of ids) void this.poll(id);
      return;
    }
    const listed = new Map<string, Order>();
    for (const o of open) listed.set(o.clientOrderId, o);
    for (const id of ids) {
      const o = listed.get(id);
      if (o && o.status === 'open' && o.filled === 0) this.listeners.get(id)?.fn(o);
      else void this.poll(id);
    }
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
    for (const key of [...this.streams.keys()]) this.stopStream(key);
  }

  private stopStream(key: string): void {
    const s = this.streams.get(key);
    if (!s) return;
    s.sub?.close();
    this.stopPolling(s);
    if (s.retry) this.clock.clearTimeout(s.retry);
    this.streams.delete(key);
  }
}
