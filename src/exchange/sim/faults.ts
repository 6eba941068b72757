import { Rng } from '../../util/random.ts';

/** What can go wrong with one request between a client and the venue. */
export type RequestFault =
  /** The request is lost on the way: the venue never sees it, the client times out. */
  | 'timeoutBeforePlace'
  /** The venue executes the request but the answer is lost: the client times out. */
  | 'timeoutAfterPlace'
  /** The venue refuses the order (InvalidOrder): outcome known, nothing placed. */
  | 'reject'
  /** The venue answers 503 (ExchangeNotAvailable): outcome known, nothing placed. */
  | 'unavailable'
  /** The venue answers 429 (RateLimitExceeded). */
  | 'rateLimit'
  /**
   * The request is slow on the way: the client times out, and the venue executes it later (three
   * timeouts after it was sent) — after the client may already have asked and heard "not found".
   */
  | 'lateArrival';

export type StreamKind = 'orders' | 'marketData' | 'all';

export type RequestMethod =
  | 'createOrder'
  | 'cancelOrder'
  | 'fetchOrder'
  | 'fetchOpenOrders'
  | 'fetchClosedOrders'
  | 'fetchBalance'
  | 'fetchPositions'
  | 'fetchFundingRate'
  | 'fetchFundingHistory'
  | 'fetchVenueCloses'
  | 'setLeverage'
  | 'loadMarkets';

export type ScriptedFault =
  /** The nth request (1-based) of `method` (default createOrder) suffers `fault`. */
  | { atRequest: number; method?: RequestMethod; fault: RequestFault }
  /** At venue time `atTime` the stream(s) drop; subscribers get an error and must resubscribe. */
  | { atTime: number; fault: 'disconnect'; stream: StreamKind }
  /** From `atTime` for `durationMs`, quotes for `symbols` (default all) are not delivered. */
  | { atTime: number; fault: 'gap'; durationMs: number; symbols?: string[] }
  /** From `atTime` for `durationMs`, quotes arrive `delayMs` late (a lagging feed). */
  | { atTime: number; fault: 'stale'; durationMs: number; delayMs: number; symbols?: string[] }
  /**
   * From `atTime` for `durationMs`, every request of `methods` suffers `as`: a venue whose order
   * queries time out while placement still works, or one that 503s or refuses orders for seconds.
   */
  | { atTime: number; fault: 'outage'; durationMs: number; methods: RequestMethod[]; as: RequestFault };

export interface FaultRates {
  /** Probability per order request (createOrder, cancelOrder). */
  timeoutBeforePlace?: number;
  timeoutAfterPlace?: number;
  reject?: number;
  unavailable?: number;
  /** Probability per order request of a late arrival: it lands three timeouts after the client gave up. */
  lateArrival?: number;
  /** Probability per query request (fetch*) of a timeout. */
  queryTimeout?: number;
  /** Probability per order query (fetchOrder, fetchOpenOrders) of a timeout, on top of queryTimeout. */
  orderQueryTimeout?: number;
}

export interface FaultConfig {
  seed?: number;
  rates?: FaultRates;
  /** Venue-style request weight limit: more than `maxRequests` within `windowMs` → 429. */
  rateLimit?: { maxRequests: number; windowMs: number };
  script?: ScriptedFault[];
}

interface Window {
  from: number;
  to: number;
  symbols: Set<string> | undefined;
  delayMs: number;
}

interface Outage {
  from: number;
  to: number;
  methods: Set<RequestMethod>;
  fault: RequestFault;
}

/** Request methods that ask about orders (an order-query outage leaves placement working). */
export const ORDER_QUERY_METHODS: RequestMethod[] = ['fetchOrder', 'fetchOpenOrders', 'fetchClosedOrders'];

const ORDER_METHODS = new Set<RequestMethod>(['createOrder', 'cancelOrder']);

/**
 * Seeded, scriptable fault injection for one client's link to a simulated venue. Random faults
 * come from a seeded stream, scripted ones fire on the nth request or at a venue time, so a
 * failing property-test case replays exactly.
 */
export class FaultInjector {
  private readonly rng: Rng;
  private readonly rates: FaultRates;
  private readonly requestCounts = new Map<RequestMethod, number>();
  private readonly byRequest = new Map<string, RequestFault>();
  private readonly recent: number[] = [];
  private gaps: Window[] = [];
  private stale: Window[] = [];
  private outages: Outage[] = [];
  /** Each fault that fired, for tests and logs. */
  readonly log: { ts: number; fault: string; method?: string; detail?: string }[] = [];

  constructor(private readonly config: FaultConfig = {}) {
    this.rng = new Rng(config.seed ?? 1);
    this.rates = config.rates ?? {};
    for (const f of config.script ?? []) {
      if ('atRequest' in f) this.byRequest.set(`${f.method ?? 'createOrder'}#${f.atRequest}`, f.fault);
    }
  }

  /** Time-based scripted faults, for the client to arm on its clock. */
  timedFaults(): Extract<ScriptedFault, { atTime: number }>[] {
    return (this.config.script ?? []).filter(
      (f): f is Extract<ScriptedFault, { atTime: number }> => 'atTime' in f,
    );
  }

  /** Decide the fate of one request at time `now`. */
  onRequest(method: RequestMethod, now: number): RequestFault | undefined {
    const n = (this.requestCounts.get(method) ?? 0) + 1;
    this.requestCounts.set(method, n);
    let fault = this.byRequest.get(`${method}#${n}`) ?? this.outageFault(method, now);
    if (!fault && this.config.rateLimit) {
      const { maxRequests, windowMs } = this.config.rateLimit;
      while (this.recent.length > 0 && this.recent[0]! <= now - windowMs) this.recent.shift();
      if (this.recent.length >= maxRequests) fault = 'rateLimit';
      else this.recent.push(now);
    }
    if (!fault) fault = this.randomFault(method);
    if (fault) this.log.push({ ts: now, fault, method });
    return fault;
  }

  /** ms until the rate-limit window frees a slot. */
  retryAfterMs(now: number): number {
    const w = this.config.rateLimit;
    if (!w || this.recent.length === 0) return 1000;
    return Math.max(1, this.recent[0]! + w.windowMs - now);
  }

  private randomFault(method: RequestMethod): RequestFault | undefined {
    const r = this.rates;
    if (ORDER_METHODS.has(method)) {
      if (this.rng.chance(r.timeoutBeforePlace ?? 0)) return 'timeoutBeforePlace';
      if (this.rng.chance(r.timeoutAfterPlace ?? 0)) return 'timeoutAfterPlace';
      if (method === 'createOrder' && this.rng.chance(r.reject ?? 0)) return 'reject';
      if (this.rng.chance(r.unavailable ?? 0)) return 'unavailable';
      // Drawn only when asked for: the seeded fault sequences of the other rates stay as they were.
      if (r.lateArrival && this.rng.chance(r.lateArrival)) return 'lateArrival';
      return undefined;
    }
    if (r.orderQueryTimeout && ORDER_QUERY_METHODS.includes(method) && this.rng.chance(r.orderQueryTimeout))
      return 'timeoutBeforePlace';
    return this.rng.chance(r.queryTimeout ?? 0) ? 'timeoutBeforePlace' : undefined;
  }

  /** From `from` for `durationMs`, every request of `methods` suffers `fault`. */
  addOutage(from: number, durationMs: number, methods: RequestMethod[], fault: RequestFault): void {
    this.outages.push({ from, to: from + durationMs, methods: new Set(methods), fault });
    this.log.push({ ts: from, fault: 'outage', detail: `${durationMs}ms ${methods.join(',')} → ${fault}` });
  }

  private outageFault(method: RequestMethod, now: number): RequestFault | undefined {
    if (this.outages.length === 0) return undefined;
    this.outages = this.outages.filter((o) => o.to > now);
    for (const o of this.outages) if (o.from <= now && o.methods.has(method)) return o.fault;
    return undefined;
  }

  addGap(from: number, durationMs: number, symbols?: string[]): void {
    this.gaps.push({
      from,
      to: from + durationMs,
      symbols: symbols ? new Set(symbols) : undefined,
      delayMs: 0,
    });
    this.log.push({ ts: from, fault: 'gap', detail: `${durationMs}ms ${symbols?.join(',') ?? 'all'}` });
  }

  addStale(from: number, durationMs: number, delayMs: number, symbols?: string[]): void {
    this.stale.push({
      from,
      to: from + durationMs,
      symbols: symbols ? new Set(symbols) : undefined,
      delayMs,
    });
    this.log.push({
      ts: from,
      fault: 'stale',
      detail: `${durationMs}ms +${delayMs}ms ${symbols?.join(',') ?? 'all'}`,
    });
  }

  /** True when a quote for `symbol` at `now` falls into a gap and is dropped. */
  dropsQuote(symbol: string, now: number): boolean {
    if (this.gaps.length === 0) return false;
    this.gaps = this.gaps.filter((g) => g.to > now);
    return this.gaps.some((g) => g.from <= now && (!g.symbols || g.symbols.has(symbol)));
  }

  /** Extra delivery delay for a quote for `symbol` at `now`. */
  quoteDelay(symbol: string, now: number): number {
    if (this.stale.length === 0) return 0;
    this.stale = this.stale.filter((g) => g.to > now);
    let d = 0;
    for (const g of this.stale)
      if (g.from <= now && (!g.symbols || g.symbols.has(symbol))) d = Math.max(d, g.delayMs);
    return d;
  }

  hasStreamFaults(): boolean {
    return this.gaps.length > 0 || this.stale.length > 0;
  }
}
