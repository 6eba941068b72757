/**
 * What an operator scrapes and probes: Prometheus metrics (prom-client) and a health report.
 *
 * - per strategy: state, halted, needs attention, position per leg, net PnL, fees, orders in flight
 * - per venue: request latency by method (histogram), rate-limit refusals, request errors, stream
 *   failures (each one a reconnect), age of the last quote per symbol and of each stream's last message
 * - engine: last snapshot write latency, failed writes, recovery time, Node's event-loop lag and
 *   process figures (prom-client's default metrics)
 *
 * Strategy figures are read from the engine at scrape time (status()), never on the order path.
 */
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { EngineStatus } from '../engine/status.ts';
import type { StreamMeter, VenueMeter } from './metered-client.ts';

export interface OpsSource {
  /** The engine's status (undefined before it exists). */
  status(): EngineStatus | undefined;
  /** Throws when the store cannot be read. */
  checkStore(): void;
  /** The venues the engine trades on. */
  venues: string[];
}

export interface HealthReport {
  status: 'ok' | 'degraded' | 'down';
  engine: { status: 'ok' | 'down'; strategies: number; halted: string[]; needsAttention: string[] };
  store: { status: 'ok' | 'down'; error?: string; failedWrites: number; lastWriteMs: number };
  venues: Record<
    string,
    { status: 'ok' | 'stale' | 'no data'; lastMessageAgeMs: number | null; streamErrors: number }
  >;
}

export interface OpsMetricsOptions {
  /** A venue with no stream message for this long is stale in /healthz, ms. Default 30 000. */
  staleAfterMs?: number;
  now?: () => number;
}

export class OpsMetrics implements VenueMeter {
  readonly registry = new Registry();
  private readonly now: () => number;
  private readonly staleAfterMs: number;
  private source: OpsSource | undefined;
  /** The engine's status, read once per scrape for every collector. */
  private scraped: EngineStatus | undefined;
  /** Per venue: its streams' last message and failures (mutated in place by every message). */
  private readonly venueStreams = new Map<string, { lastAt: number | undefined; errors: number }>();
  /** Per venue and symbol: the exchange timestamp of the last quote delivered. */
  private readonly lastQuote = new Map<
    string,
    { venue: string; symbol: string; exchangeTs: number | undefined }
  >();
  private readonly requestSeconds: Histogram<'venue' | 'method'>;
  private readonly rateLimited: Counter<'venue' | 'method'>;
  private readonly requestErrors: Counter<'venue' | 'method' | 'error'>;
  private readonly reconnects: Counter<'venue' | 'stream'>;
  private readonly recoverySeconds: Gauge;

  constructor(opts: OpsMetricsOptions = {}) {
    this.now = opts.now ?? Date.now;
    this.staleAfterMs = opts.staleAfterMs ?? 30_000;
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    this.requestSeconds = new Histogram({
      name: 'statearb_venue_request_duration_seconds',
      help: 'Venue request latency by method',
      labelNames: ['venue', 'method'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    this.rateLimited = new Counter({
      name: 'statearb_venue_rate_limited_total',
      help: 'Requests the venue refused for its rate limit (429)',
      labelNames: ['venue', 'method'],
      registers,
    });
    this.requestErrors = new Counter({
      name: 'statearb_venue_request_errors_total',
      help: 'Venue requests that failed, by error kind',
      labelNames: ['venue', 'method', 'error'],
      registers,
    });
    this.reconnects = new Counter({
      name: 'statearb_venue_stream_reconnects_total',
      help: 'Stream failures (each is followed by a reconnect)',
      labelNames: ['venue', 'stream'],
      registers,
    });
    this.recoverySeconds = new Gauge({
      name: 'statearb_recovery_seconds',
      help: 'Start of the process to every strategy restored and reconciled, at the last start',
      registers,
    });
    const self = this;
    new Gauge({
      name: 'statearb_quote_age_seconds',
      help: 'Age of the last quote delivered per symbol (now − exchange timestamp)',
      labelNames: ['venue', 'symbol'],
      registers,
      collect() {
        this.reset();
        const now = self.now();
        for (const q of self.lastQuote.values())
          if (q.exchangeTs !== undefined)
            this.set({ venue: q.venue, symbol: q.symbol }, Math.max(0, (now - q.exchangeTs) / 1000));
      },
    });
    new Gauge({
      name: 'statearb_venue_stream_last_message_age_seconds',
      help: 'Time since the last message of any stream of the venue',
      labelNames: ['venue'],
      registers,
      collect() {
        this.reset();
        for (const venue of self.source?.venues ?? []) {
          const age = self.messageAgeMs(venue);
          if (age !== null) this.set({ venue }, age / 1000);
        }
      },
    });
    this.strategyGauges(registers);
  }

  /** The engine to read at scrape time (set once it exists). */
  attach(source: OpsSource): void {
    this.source = source;
  }

  recovered(seconds: number): void {
    this.recoverySeconds.set(seconds);
  }

  request(venue: string, method: string, seconds: number, error: Error | undefined): void {
    this.requestSeconds.observe({ venue, method }, seconds);
    if (!error) return;
    if (error.name === 'RateLimitExceeded') this.rateLimited.inc({ venue, method });
    this.requestErrors.inc({ venue, method, error: error.name || 'Error' });
  }

  stream(venue: string, stream: string, symbol: string): StreamMeter {
    const streams = getOrAdd(this.venueStreams, venue, () => ({ lastAt: undefined, errors: 0 }));
    const quote =
      stream === 'watchBookTicker'
        ? getOrAdd(this.lastQuote, `${venue}|${symbol}`, () => ({ venue, symbol, exchangeTs: undefined }))
        : undefined;
    const reconnects = this.reconnects;
    return {
      data(at, exchangeTs) {
        streams.lastAt = at;
        if (quote && exchangeTs !== undefined) quote.exchangeTs = exchangeTs;
      },
      error() {
        reconnects.inc({ venue, stream });
        streams.errors++;
      },
    };
  }

  async render(): Promise<{ contentType: string; body: string }> {
    this.scraped = this.source?.status();
    try {
      return { contentType: this.registry.contentType, body: await this.registry.metrics() };
    } finally {
      this.scraped = undefined;
    }
  }

  health(): HealthReport {
    const status = this.source?.status();
    let store: HealthReport['store'];
    try {
      this.source?.checkStore();
      store = {
        status: 'ok',
        failedWrites: status?.persistence.failedWrites ?? 0,
        lastWriteMs: (status?.persistence.lastWriteMicros ?? 0) / 1000,
      };
    } catch (e) {
      store = { status: 'down', error: (e as Error).message, failedWrites: 0, lastWriteMs: 0 };
    }
    const strategies = status?.strategies ?? [];
    const engine: HealthReport['engine'] = {
      status: status ? 'ok' : 'down',
      strategies: strategies.length,
      halted: strategies.filter((s) => s.halted).map((s) => s.id),
      needsAttention: strategies.filter((s) => s.attention).map((s) => s.id),
    };
    const venues: HealthReport['venues'] = {};
    for (const venue of this.source?.venues ?? []) {
      const age = this.messageAgeMs(venue);
      venues[venue] = {
        status: age === null ? 'no data' : age > this.staleAfterMs ? 'stale' : 'ok',
        lastMessageAgeMs: age,
        streamErrors: this.venueStreams.get(venue)?.errors ?? 0,
      };
    }
    const venueDown = Object.values(venues).some((v) => v.status !== 'ok');
    const overall =
      engine.status === 'down' || store.status === 'down'
        ? 'down'
        : venueDown || engine.halted.length > 0 || engine.needsAttention.length > 0
          ? 'degraded'
          : 'ok';
    return { status: overall, engine, store, venues };
  }

  private messageAgeMs(venue: string): number | null {
    const at = this.venueStreams.get(venue)?.lastAt;
    return at === undefined ? null : Math.max(0, this.now() - at);
  }

  private strategyGauges(registers: Registry[]): void {
    const self = this;
    const perStrategy = (
      name: string,
      help: string,
      labelNames: string[],
      fill: (g: Gauge, s: EngineStatus['strategies'][number]) => void,
    ) =>
      new Gauge({
        name,
        help,
        labelNames,
        registers,
        collect() {
          this.reset();
          for (const s of self.scraped?.strategies ?? []) fill(this, s);
        },
      });
    perStrategy(
      'statearb_strategy_state',
      'Current state (1 for the state it is in)',
      ['strategy', 'kind', 'state'],
      (g, s) => g.set({ strategy: s.id, kind: s.kind, state: s.state }, 1),
    );
    perStrategy(
      'statearb_strategy_halted',
      '1 while halted (no new entries until resolved)',
      ['strategy'],
      (g, s) => g.set({ strategy: s.id }, s.halted ? 1 : 0),
    );
    perStrategy('statearb_strategy_needs_attention', '1 while it needs an operator', ['strategy'], (g, s) =>
      g.set({ strategy: s.id }, s.attention ? 1 : 0),
    );
    perStrategy(
      'statearb_strategy_position',
      'Position per leg, base units',
      ['strategy', 'venue', 'symbol'],
      (g, s) => {
        for (const l of s.legs) g.set({ strategy: s.id, venue: l.venue, symbol: l.symbol }, l.position);
      },
    );
    perStrategy(
      'statearb_strategy_net_pnl',
      'Net PnL (realized + unrealized − fees + funding), quote currency',
      ['strategy'],
      (g, s) => g.set({ strategy: s.id }, s.netPnl),
    );
    perStrategy('statearb_strategy_fees', 'Fees paid, quote currency', ['strategy'], (g, s) =>
      g.set({ strategy: s.id }, s.fees),
    );
    perStrategy('statearb_strategy_orders_in_flight', 'Orders working at the venue', ['strategy'], (g, s) =>
      g.set({ strategy: s.id }, s.openOrders.length),
    );
    new Gauge({
      name: 'statearb_persist_last_write_seconds',
      help: 'Latency of the last snapshot write',
      registers,
      collect() {
        this.set((self.scraped?.persistence.lastWriteMicros ?? 0) / 1e6);
      },
    });
    new Gauge({
      name: 'statearb_persist_failed_writes',
      help: 'Snapshot writes that failed since the start',
      registers,
      collect() {
        this.set(self.scraped?.persistence.failedWrites ?? 0);
      },
    });
  }
}

function getOrAdd<K, V>(map: Map<K, V>, key: K, make: () => V): V {
  const found = map.get(key);
  if (found !== undefined) return found;
  const made = make();
  map.set(key, made);
  return made;
}
