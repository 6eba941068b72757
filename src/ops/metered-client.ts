/**
 * An exchange client measured for the operator: each request's latency by method, rate-limit
 * refusals, errors by kind, and for every stream the time of its last message, its failures
 * (each one a reconnect) and, for book tickers, the age of the quote it delivered last.
 * The engine is handed this wrapper instead of the client; nothing else changes.
 */
import type { BookTicker } from '../domain/index.ts';
import type { ExchangeClient, StreamSink } from '../exchange/port.ts';

/** What one stream subscription reports: made once per subscription, so a quote allocates nothing. */
export interface StreamMeter {
  /** A message at `at`; a book ticker also gives the exchange's timestamp of its quote. */
  data(at: number, exchangeTs?: number): void;
  error(): void;
}

/** Where a metered client reports; implemented by OpsMetrics. */
export interface VenueMeter {
  request(venue: string, method: string, seconds: number, error: Error | undefined): void;
  /** `symbol` is '' for the account streams; only book tickers carry a quote age. */
  stream(venue: string, stream: string, symbol: string): StreamMeter;
}

const REQUESTS = new Set([
  'loadMarkets',
  'createOrder',
  'cancelOrder',
  'fetchOrder',
  'fetchOpenOrders',
  'fetchBalance',
  'fetchPositions',
  'fetchFundingRate',
  'fetchFundingHistory',
  'fetchVenueCloses',
  'setLeverage',
]);

/** Streams with (symbol, sink) and those with only (sink). */
const SYMBOL_STREAMS = new Set(['watchBookTicker', 'watchOrderBook']);
const ACCOUNT_STREAMS = new Set(['watchOrders', 'watchAccountEvents']);

export function meteredClient(
  venue: string,
  client: ExchangeClient,
  meter: VenueMeter,
  now: () => number = Date.now,
): ExchangeClient {
  const wrapped = new Map<PropertyKey, unknown>();
  const sinkFor = <T>(stream: string, symbol: string, sink: StreamSink<T>): StreamSink<T> => {
    const m = meter.stream(venue, stream, symbol);
    const quotes = stream === 'watchBookTicker';
    return {
      data(value: T) {
        m.data(now(), quotes ? (value as BookTicker).timestamp : undefined);
        sink.data(value);
      },
      error(e) {
        m.error();
        sink.error?.(e);
      },
    };
  };
  return new Proxy(client, {
    get(target, prop) {
      const value = Reflect.get(target, prop, target);
      if (typeof value !== 'function' || typeof prop !== 'string') return value;
      const cached = wrapped.get(prop);
      if (cached) return cached;
      let fn: unknown;
      if (REQUESTS.has(prop)) {
        fn = async (...args: unknown[]) => {
          const t0 = process.hrtime.bigint();
          try {
            const out = await (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
            meter.request(venue, prop, Number(process.hrtime.bigint() - t0) / 1e9, undefined);
            return out;
          } catch (e) {
            meter.request(venue, prop, Number(process.hrtime.bigint() - t0) / 1e9, e as Error);
            throw e;
          }
        };
      } else if (SYMBOL_STREAMS.has(prop)) {
        fn = (symbol: string, sink: StreamSink<unknown>, ...rest: unknown[]) =>
          (value as (...a: unknown[]) => unknown).call(target, symbol, sinkFor(prop, symbol, sink), ...rest);
      } else if (ACCOUNT_STREAMS.has(prop)) {
        fn = (sink: StreamSink<unknown>, ...rest: unknown[]) =>
          (value as (...a: unknown[]) => unknown).call(target, sinkFor(prop, '', sink), ...rest);
      } else {
        fn = (value as (...a: unknown[]) => unknown).bind(target);
      }
      wrapped.set(prop, fn);
      return fn;
    },
  });
}
