import { type Clock, sleep } from '../../clock/clock.ts';
import {
  type AccountEvent,
  type Balances,
  type BookTicker,
  ExchangeNotAvailable,
  type FundingPayment,
  type FundingRate,
  InvalidOrder,
  type Market,
  NetworkError,
  type Order,
  type OrderBook,
  OrderNotFound,
  type OrderRef,
  type OrderRequest,
  type Position,
  RateLimitExceeded,
  RequestTimeout,
} from '../../domain/index.ts';
import type { ExchangeClient, StreamSink, Subscription, VenueCapabilities } from '../port.ts';
import { FaultInjector, type RequestMethod, type StreamKind } from './faults.ts';
import type { SimVenue, VenueCloseRecord } from './venue.ts';

export interface LatencyConfig {
  /** One-way latency of a REST request, ms (the venue sees it after this, the answer takes as long). */
  requestMs?: number;
  /** Uniform extra jitter, ms, drawn per request. */
  jitterMs?: number;
  /** Delay between a venue event (quote, order update) and its delivery on a stream, ms. */
  streamMs?: number;
}

export interface SimClientOptions {
  latency?: LatencyConfig;
  faults?: FaultInjector;
  /** How long a request waits for an answer before RequestTimeout. */
  requestTimeoutMs?: number;
}

/** A late request reaches the venue this many request timeouts after it left. */
const LATE_ARRIVAL_TIMEOUTS = 3;

interface StreamEntry {
  kind: 'orders' | 'marketData';
  unsubscribe: () => void;
  sink: StreamSink<never>;
  closed: boolean;
}

/**
 * ExchangeClient over an in-process SimVenue, with the network in between: request and stream
 * latency on the venue's clock, and seeded fault injection (lost requests, lost answers after
 * the order was placed, rejects, 503s, rate limits, stream gaps, lagging quotes, disconnects).
 */
export class SimExchangeClient implements ExchangeClient {
  readonly venue: string;
  readonly faults: FaultInjector;
  private readonly clock: Clock;
  private readonly reqMs: number;
  private readonly jitterMs: number;
  private readonly streamMs: number;
  private readonly timeoutMs: number;
  private readonly streams = new Set<StreamEntry>();
  private jitterSeed = 7;
  private closed = false;

  constructor(
    private readonly sim: SimVenue,
    opts: SimClientOptions = {},
  ) {
    this.venue = sim.name;
    this.clock = sim.clock;
    this.reqMs = opts.latency?.requestMs ?? 0;
    this.jitterMs = opts.latency?.jitterMs ?? 0;
    this.streamMs = opts.latency?.streamMs ?? 0;
    this.timeoutMs = opts.requestTimeoutMs ?? 10_000;
    this.faults = opts.faults ?? new FaultInjector();
    for (const f of this.faults.timedFaults()) {
      const delay = Math.max(0, f.atTime - this.clock.now());
      this.clock.setTimeout(() => {
        if (f.fault === 'disconnect') this.disconnect(f.stream);
        else if (f.fault === 'gap') this.faults.addGap(f.atTime, f.durationMs, f.symbols);
        else if (f.fault === 'outage') this.faults.addOutage(f.atTime, f.durationMs, f.methods, f.as);
        else this.faults.addStale(f.atTime, f.durationMs, f.delayMs, f.symbols);
      }, delay);
    }
  }

  /** The simulated venue behind this client (tests, paper-mode persistence). */
  get simulator(): SimVenue {
    return this.sim;
  }

  private oneWay(): number {
    if (this.jitterMs <= 0) return this.reqMs;
    // xorshift: cheap, seeded, independent of the fault stream
    let x = this.jitterSeed;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.jitterSeed = x >>> 0;
    return this.reqMs + (this.jitterSeed / 4294967296) * this.jitterMs;
  }

  /**
   * One request's round trip. The venue runs `op` at arrival time; faults decide whether the
   * request arrives and whether its answer comes back.
   */
  private async request<T>(method: RequestMethod, op: () => T): Promise<T> {
    if (this.closed) throw new NetworkError(`${this.venue}: client is closed`);
    const fault = this.faults.onRequest(method, this.clock.now());
    const there = this.oneWay();
    if (there > 0) await sleep(this.clock, there);
    switch (fault) {
      case 'rateLimit':
        await this.back();
        throw new RateLimitExceeded(
          `${this.venue}: too many requests`,
          this.faults.retryAfterMs(this.clock.now()),
        );
      case 'unavailable':
        await this.back();
        throw new ExchangeNotAvailable(`${this.venue}: service unavailable (503)`);
      case 'reject':
        await this.back();
        throw new InvalidOrder(`${this.venue}: order rejected by the venue (simulated)`);
      case 'timeoutBeforePlace':
        await sleep(this.clock, Math.max(0, this.timeoutMs - there));
        throw new RequestTimeout(`${this.venue}: ${method} timed out after ${this.timeoutMs} ms`);
      case 'lateArrival': {
        // It reaches the venue long after the client gave up on it.
        this.clock.setTimeout(() => {
          try {
            op();
          } catch {
            // refused on arrival: the client never learns, as with a lost answer
          }
        }, LATE_ARRIVAL_TIMEOUTS * this.timeoutMs);
        await sleep(this.clock, Math.max(0, this.timeoutMs - there));
        throw new RequestTimeout(`${this.venue}: ${method} timed out after ${this.timeoutMs} ms`);
      }
      case 'timeoutAfterPlace': {
        try {
          op();
        } catch {
          // the venue refused it; the caller never learns, exactly as with a lost answer
        }
        await sleep(this.clock, Math.max(0, this.timeoutMs - there));
        throw new RequestTimeout(`${this.venue}: ${method} timed out after ${this.timeoutMs} ms`);
      }
      default:
        break;
    }
    let result: T;
    try {
      result = op();
    } catch (e) {
      await this.back();
      throw e;
    }
    await this.back();
    return result;
  }

  private back(): Promise<void> | undefined {
    const ms = this.oneWay();
    return ms > 0 ? sleep(this.clock, ms) : undefined;
  }

  async loadMarkets(): Promise<Record<string, Market>> {
    return this.request('loadMarkets', () =>
      Object.fromEntries(this.sim.listMarkets().map((m) => [m.symbol, m])),
    );
  }

  market(symbol: string): Market {
    return this.sim.market(symbol);
  }

  createOrder(req: OrderRequest): Promise<Order> {
    return this.request('createOrder', () => this.sim.placeOrder(req));
  }

  cancelOrder(ref: OrderRef, _symbol: string): Promise<Order> {
    return this.request('cancelOrder', () => this.sim.cancelOrder(ref));
  }

  /** The venue's client-id rules; a request lands at the latest a late arrival after it left. */
  get capabilities(): VenueCapabilities {
    return {
      refusesReusedClientId: this.sim.clientIds.refusesReused,
      landingWindowMs: LATE_ARRIVAL_TIMEOUTS * this.timeoutMs + 2 * this.reqMs + this.jitterMs,
    };
  }

  async fetchOrder(ref: OrderRef, symbol: string): Promise<Order> {
    try {
      return await this.request('fetchOrder', () => this.sim.fetchOrder(ref));
    } catch (e) {
      // A venue that finds orders by client id only while they rest: its history has the rest.
      if (!(e instanceof OrderNotFound) || 'id' in ref || this.sim.clientIds.findsFinished) throw e;
      const found = await this.request('fetchClosedOrders', () =>
        this.sim.closedOrders(symbol).find((o) => o.clientOrderId === ref.clientOrderId),
      );
      if (!found) throw e;
      return found;
    }
  }

  fetchOpenOrders(symbol?: string): Promise<Order[]> {
    return this.request('fetchOpenOrders', () => this.sim.fetchOpenOrders(symbol));
  }

  fetchBalance(): Promise<Balances> {
    return this.request('fetchBalance', () => this.sim.balances());
  }

  fetchPositions(symbols?: string[]): Promise<Position[]> {
    return this.request('fetchPositions', () => this.sim.positions(symbols));
  }

  fetchFundingRate(symbol: string): Promise<FundingRate> {
    return this.request('fetchFundingRate', () => this.sim.fundingRate(symbol));
  }

  fetchVenueCloses(symbol: string, since?: number): Promise<VenueCloseRecord[]> {
    return this.request('fetchVenueCloses', () => this.sim.venueCloses(symbol, since));
  }

  fetchFundingHistory(symbol: string, since?: number): Promise<FundingPayment[]> {
    return this.request('fetchFundingHistory', () => this.sim.fundingPayments(symbol, since));
  }

  setLeverage(symbol: string, leverage: number): Promise<void> {
    return this.request('setLeverage', () => this.sim.setLeverage(symbol, leverage));
  }

  watchBookTicker(symbol: string, sink: StreamSink<BookTicker>): Subscription {
    return this.openStream('marketData', sink, (deliver) =>
      this.sim.subscribeBook(symbol, (t) => {
        const now = this.clock.now();
        if (this.faults.hasStreamFaults() && this.faults.dropsQuote(symbol, now)) return;
        const delay =
          this.streamMs + (this.faults.hasStreamFaults() ? this.faults.quoteDelay(symbol, now) : 0);
        deliver(t, delay);
      }),
    );
  }

  watchOrderBook(symbol: string, sink: StreamSink<OrderBook>): Subscription {
    return this.openStream('marketData', sink, (deliver) =>
      this.sim.subscribeDepth(symbol, (b) => {
        const now = this.clock.now();
        if (this.faults.hasStreamFaults() && this.faults.dropsQuote(symbol, now)) return;
        deliver(b, this.streamMs + this.faults.quoteDelay(symbol, now));
      }),
    );
  }

  watchOrders(sink: StreamSink<Order>): Subscription {
    return this.openStream('orders', sink, (deliver) =>
      this.sim.subscribeOrders((o) => deliver(o, this.streamMs)),
    );
  }

  /** The account's pushes ride the private (orders) stream: they drop with it and come back with it. */
  watchAccountEvents(sink: StreamSink<AccountEvent>): Subscription {
    return this.openStream('orders', sink, (deliver) =>
      this.sim.subscribeEvents((e) => {
        if (e.type === 'funding')
          deliver(
            {
              type: 'funding',
              payment: {
                id: e.id,
                symbol: e.symbol,
                amount: e.received,
                rate: e.rate,
                timestamp: e.timestamp,
              },
            },
            this.streamMs,
          );
        else if (e.type === 'liquidation' || e.type === 'adl')
          deliver(
            {
              type: e.type,
              symbol: e.symbol,
              size: e.size,
              price: e.price,
              fill: e.fill,
              timestamp: e.timestamp,
            },
            this.streamMs,
          );
      }),
    );
  }

  private openStream<T>(
    kind: 'orders' | 'marketData',
    sink: StreamSink<T>,
    attach: (deliver: (v: T, delayMs: number) => void) => () => void,
  ): Subscription {
    const entry: StreamEntry = {
      kind,
      unsubscribe: () => {},
      sink: sink as StreamSink<never>,
      closed: false,
    };
    const deliver = (v: T, delayMs: number): void => {
      if (delayMs <= 0) {
        sink.data(v);
        return;
      }
      this.clock.setTimeout(() => {
        if (!entry.closed) sink.data(v);
      }, delayMs);
    };
    entry.unsubscribe = attach(deliver);
    this.streams.add(entry);
    return {
      close: () => {
        if (entry.closed) return;
        entry.closed = true;
        entry.unsubscribe();
        this.streams.delete(entry);
      },
    };
  }

  /**
   * Drop the stream connection(s): every subscription of that kind ends with a NetworkError.
   * Updates published while disconnected are lost; consumers resubscribe and reconcile.
   */
  disconnect(kind: StreamKind): void {
    for (const e of [...this.streams]) {
      if (kind !== 'all' && e.kind !== kind) continue;
      e.closed = true;
      e.unsubscribe();
      this.streams.delete(e);
      e.sink.error?.(new NetworkError(`${this.venue}: ${e.kind} stream disconnected`));
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const e of [...this.streams]) {
      e.closed = true;
      e.unsubscribe();
    }
    this.streams.clear();
  }
}
