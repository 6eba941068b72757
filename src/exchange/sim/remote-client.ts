import { WebSocket } from 'ws';
import {
  type Balances,
  type BookTicker,
  deserializeError,
  ExchangeError,
  ExchangeNotAvailable,
  type FundingPayment,
  type FundingRate,
  InvalidOrder,
  type Market,
  NetworkError,
  type Order,
  type OrderRef,
  type OrderRequest,
  type Position,
  RequestTimeout,
  type SerializedError,
} from '../../domain/index.ts';
import type { ExchangeClient, StreamSink, Subscription, VenueCapabilities } from '../port.ts';

export interface RemoteClientOptions {
  /** Base URL of a `statearb venue` server, e.g. http://127.0.0.1:8700 */
  url: string;
  venue: string;
  token?: string;
  requestTimeoutMs?: number;
}

interface Sub {
  channel: 'ticker' | 'orders';
  symbol?: string;
  sink: StreamSink<never>;
}

/**
 * ExchangeClient for a simulated venue served by another process (`statearb venue`). Errors
 * come back typed; a request that gets no answer is a RequestTimeout (outcome unknown), a
 * refused connection is ExchangeNotAvailable (nothing reached the venue).
 */
export class RemoteExchangeClient implements ExchangeClient {
  readonly venue: string;
  private readonly base: string;
  private readonly timeoutMs: number;
  private venueCaps: VenueCapabilities | undefined;
  private markets: Record<string, Market> | undefined;
  private ws: WebSocket | undefined;
  private readonly subs = new Map<number, Sub>();
  private nextId = 1;
  private closed = false;

  constructor(private readonly opts: RemoteClientOptions) {
    this.venue = opts.venue;
    this.base = opts.url.replace(/\/$/, '');
    this.timeoutMs = opts.requestTimeoutMs ?? 10_000;
  }

  private async call<T>(method: string, args: unknown[]): Promise<T> {
    if (this.closed) throw new NetworkError(`${this.venue}: client is closed`);
    let res: Response;
    try {
      res = await fetch(`${this.base}/v1/${this.venue}/${method}`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(this.opts.token ? { authorization: `Bearer ${this.opts.token}` } : {}),
        },
        body: JSON.stringify({ args }),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (e) {
      throw transportError(this.venue, method, e, this.timeoutMs);
    }
    let body: { result?: T; error?: SerializedError };
    try {
      body = (await res.json()) as typeof body;
    } catch (e) {
      throw transportError(this.venue, method, e, this.timeoutMs);
    }
    if (body.error) throw deserializeError(body.error);
    if (!res.ok) throw new ExchangeError(`${this.venue} ${method}: HTTP ${res.status}`);
    return body.result as T;
  }

  async loadMarkets(reload = false): Promise<Record<string, Market>> {
    if (!this.markets || reload) {
      this.markets = await this.call<Record<string, Market>>('loadMarkets', []);
      const caps = await this.call<VenueCapabilities>('capabilities', []);
      // A request may also spend this client's whole timeout on its way there.
      this.venueCaps = { ...caps, landingWindowMs: caps.landingWindowMs + this.timeoutMs };
    }
    return this.markets;
  }

  /** The venue's rules, learnt with the markets (before that: the port's cautious default). */
  get capabilities(): VenueCapabilities | undefined {
    return this.venueCaps;
  }

  market(symbol: string): Market {
    if (!this.markets) throw new Error(`${this.venue}: call loadMarkets() before market()`);
    const m = this.markets[symbol];
    if (!m) throw new InvalidOrder(`${this.venue} has no market ${symbol}`, 'symbol');
    return m;
  }

  createOrder(req: OrderRequest): Promise<Order> {
    return this.call('createOrder', [req]);
  }
  cancelOrder(ref: OrderRef, symbol: string): Promise<Order> {
    return this.call('cancelOrder', [ref, symbol]);
  }
  fetchOrder(ref: OrderRef, symbol: string): Promise<Order> {
    return this.call('fetchOrder', [ref, symbol]);
  }
  fetchOpenOrders(symbol?: string): Promise<Order[]> {
    return this.call('fetchOpenOrders', [symbol]);
  }
  fetchBalance(): Promise<Balances> {
    return this.call('fetchBalance', []);
  }
  fetchPositions(symbols?: string[]): Promise<Position[]> {
    return this.call('fetchPositions', [symbols]);
  }
  fetchFundingRate(symbol: string): Promise<FundingRate> {
    return this.call('fetchFundingRate', [symbol]);
  }

  fetchFundingHistory(symbol: string, since?: number): Promise<FundingPayment[]> {
    return this.call('fetchFundingHistory', [symbol, since]);
  }

  async setLeverage(symbol: string, leverage: number): Promise<void> {
    await this.call('setLeverage', [symbol, leverage]);
  }

  watchBookTicker(symbol: string, sink: StreamSink<BookTicker>): Subscription {
    return this.subscribe({ channel: 'ticker', symbol, sink: sink as StreamSink<never> });
  }

  watchOrders(sink: StreamSink<Order>): Subscription {
    return this.subscribe({ channel: 'orders', sink: sink as StreamSink<never> });
  }

  private subscribe(sub: Sub): Subscription {
    // A closed client opens no socket again (one would keep the process alive after shutdown).
    if (this.closed) {
      queueMicrotask(() => sub.sink.error?.(new NetworkError(`${this.venue}: client is closed`)));
      return { close() {} };
    }
    const id = this.nextId++;
    this.subs.set(id, sub);
    const ws = this.socket();
    const msg = JSON.stringify({
      op: 'subscribe',
      id,
      venue: this.venue,
      channel: sub.channel,
      symbol: sub.symbol,
    });
    if (ws.readyState === WebSocket.OPEN) ws.send(msg);
    else ws.once('open', () => ws.send(msg));
    return {
      close: () => {
        if (!this.subs.delete(id)) return;
        if (this.ws?.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify({ op: 'unsubscribe', id }));
      },
    };
  }

  private socket(): WebSocket {
    if (this.ws && (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING))
      return this.ws;
    const u = new URL(`${this.base.replace(/^http/, 'ws')}/v1/stream`);
    if (this.opts.token) u.searchParams.set('token', this.opts.token);
    const ws = new WebSocket(u);
    this.ws = ws;
    ws.on('message', (raw) => {
      let m: { id?: number; data?: unknown; error?: SerializedError };
      try {
        m = JSON.parse(String(raw));
      } catch {
        return;
      }
      const sub = m.id === undefined ? undefined : this.subs.get(m.id);
      if (!sub) return;
      if (m.error) {
        this.subs.delete(m.id!);
        sub.sink.error?.(deserializeError(m.error));
      } else if (m.data !== undefined) sub.sink.data(m.data as never);
    });
    // A dropped socket ends every subscription on it; consumers resubscribe and reconcile.
    const drop = (reason: string) => {
      if (this.ws !== ws) return;
      this.ws = undefined;
      const subs = [...this.subs.values()];
      this.subs.clear();
      for (const s of subs) s.sink.error?.(new NetworkError(`${this.venue}: stream ${reason}`));
    };
    ws.on('close', () => drop('closed'));
    ws.on('error', (e) => drop(`error: ${e.message}`));
    return ws;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.subs.clear();
    const ws = this.ws;
    this.ws = undefined;
    ws?.terminate();
  }
}

function transportError(venue: string, method: string, e: unknown, timeoutMs: number): ExchangeError {
  const err = e as { name?: string; cause?: { code?: string }; message?: string };
  if (err.name === 'TimeoutError' || err.name === 'AbortError')
    return new RequestTimeout(`${venue} ${method}: no answer within ${timeoutMs} ms`);
  const code = err.cause?.code;
  if (code === 'ECONNREFUSED') return new ExchangeNotAvailable(`${venue} ${method}: connection refused`);
  return new NetworkError(`${venue} ${method}: ${code ?? err.message ?? String(e)}`);
}
