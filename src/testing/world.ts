/**
 * A seeded world for property tests: simulated venues with faults, a strategy actor on a virtual
 * clock, quote paths driven by the test, and crash-and-restore of the actor from its persisted
 * snapshot. Records what reached each venue so the properties can be checked from outside.
 */
import { type AnyActorRef, type AnyStateMachine, createActor } from 'xstate';
import { bindActors } from '../actors/bind.ts';
import { createExchangeActors, InMemoryIntentJournal } from '../actors/exchange-actors.ts';
import { VirtualClock } from '../clock/clock.ts';
import {
  ExchangeError,
  type FeeCurrency,
  InvalidOrder,
  isDerivativeMarket,
  type Market,
  type OrderRequest,
  roundToStep,
} from '../domain/index.ts';
import { SimExchangeClient } from '../exchange/sim/client.ts';
import { type FaultConfig, FaultInjector } from '../exchange/sim/faults.ts';
import { simMarket } from '../exchange/sim/markets.ts';
import { type SimClientIdRules, SimVenue } from '../exchange/sim/venue.ts';
import { Rng } from '../util/random.ts';

export interface InstrumentSpec {
  venue: string;
  symbol: string;
  mid: number;
  halfSpread: number;
  size: number;
  /** Market overrides (e.g. a minimum order far above the strategy's delta tolerance). */
  market?: Partial<Market>;
  /** The funding rate the venue announces for this perpetual (default: the venue's). */
  fundingRate?: number;
}

export interface WorldOptions {
  instruments: InstrumentSpec[];
  balances: Record<string, number>;
  faults: FaultConfig;
  /** What every spot market charges its fees in (default: the quote). */
  spotFeeCurrency?: FeeCurrency;
  /** Derivatives' leverage (default 5). */
  leverage?: number;
  /** How every venue treats client order ids (default: the simulator's kindest). */
  clientIds?: SimClientIdRules;
  /** Unified-account collateral (default: the venue's); `false`: only the settle wallet counts. */
  collateralHaircuts?: false;
}

/** The price of BNB, the third fee asset of the `{ asset: 'BNB' }` fee mode (no market for it). */
export const BNB_PRICE = 600;

/** How long a quote takes to reach the strategy at most (stream latency 2 ms, with margin). */
const QUOTE_DELIVERY_MS = 20;

export class StrategyWorld {
  /** Twenty seconds before the 08:00 settlement: funding is paid inside most runs, at the edge or just before the end of others. */
  readonly clock = new VirtualClock(Date.UTC(2026, 0, 1, 7, 59, 40));
  readonly sims: Record<string, SimVenue> = {};
  readonly clients: Record<string, SimExchangeClient> = {};
  readonly mids: number[];
  /** Per venue: create attempts per client order id, and limit violations the venue refused. */
  readonly attempts = new Map<string, number>();
  readonly limitRejects: string[] = [];
  private readonly firstSentAt = new Map<string, number>();
  /** When every price last jumped at once (a shock step). */
  jumpedAt = Number.NEGATIVE_INFINITY;
  /** The request each client order id was first sent with (any venue), and ids sent with another. */
  private readonly requestOf = new Map<string, string>();
  readonly reusedIds: string[] = [];
  readonly errors: unknown[] = [];
  /** Positions the venues closed themselves (liquidations, auto-deleveraging). */
  readonly venueCloses: string[] = [];
  actor: AnyActorRef | undefined;
  /** When the strategy reached a final state (its books froze there). */
  endedAt: number | undefined;
  /** The books of the second before the strategy ended (see `marksBeforeEnd`). */
  private booksAtEnd: { at: number; marks: Map<string, number> }[] | undefined;
  /** The marks of the books published lately, by `venue|symbol`. */
  private readonly published: { at: number; marks: Map<string, number> }[] = [];
  private machine: AnyStateMachine | undefined;
  private dispose: (() => void) | undefined;
  crashes = 0;
  /** Stands in for the durable journal: it outlives the crashed actor. */
  private readonly journal = new InMemoryIntentJournal(() => this.clock.now());

  constructor(readonly opts: WorldOptions) {
    this.sizeRng = new Rng(opts.faults.seed ?? 1);
    this.mids = opts.instruments.map((i) => i.mid);
    const venues = [...new Set(opts.instruments.map((i) => i.venue))];
    venues.forEach((name, vi) => {
      const markets = opts.instruments
        .filter((i) => i.venue === name)
        .map((i) => {
          const spot = !i.symbol.includes(':');
          const feeCurrency = spot ? { feeCurrency: opts.spotFeeCurrency ?? 'quote' } : {};
          return simMarket(name, i.symbol, { maker: 0.0002, taker: 0.0005, ...feeCurrency, ...i.market });
        });
      const sim = new SimVenue({
        name,
        clock: this.clock,
        markets,
        balances: opts.balances,
        defaultLeverage: opts.leverage ?? 5,
        assetPrices: { BNB: BNB_PRICE },
        ...(opts.clientIds ? { clientIds: opts.clientIds } : {}),
        ...(opts.collateralHaircuts === false ? { collateralHaircuts: false } : {}),
      });
      const place = sim.placeOrder.bind(sim);
      sim.placeOrder = (req: OrderRequest) => {
        // A client id names one request for ever: a resend is the same request, anything else a reuse.
        const what = `${name} ${req.symbol} ${req.side} ${req.type} ${req.amount} ${req.price ?? ''} ${req.reduceOnly ?? false}`;
        const first = this.requestOf.get(req.clientOrderId);
        if (first === undefined) this.requestOf.set(req.clientOrderId, what);
        else if (first !== what) this.reusedIds.push(`${req.clientOrderId}: ${first} then ${what}`);
        this.attempts.set(
          `${name}|${req.clientOrderId}`,
          (this.attempts.get(`${name}|${req.clientOrderId}`) ?? 0) + 1,
        );
        try {
          return place(req);
        } catch (e) {
          // Sized below a limit — unless a price jump (a shock step) landed between the quote it
          // was sized on and its arrival: first sent before the jump's quotes could reach the
          // strategy (stream latency), a resend being the same request. That reject is the
          // venue's to make, not a sizing defect.
          const firstSent = this.firstSentAt.get(req.clientOrderId) ?? Number.POSITIVE_INFINITY;
          const sizedOnOldPrice = firstSent < this.jumpedAt + QUOTE_DELIVERY_MS;
          if (
            e instanceof InvalidOrder &&
            (e.field === 'amount' || e.field === 'notional') &&
            !sizedOnOldPrice
          )
            this.limitRejects.push(`${req.clientOrderId}: ${e.message}`);
          throw e;
        }
      };
      sim.subscribeEvents((e) => {
        if (e.type === 'liquidation' || e.type === 'adl')
          this.venueCloses.push(`${name} ${e.type} ${e.symbol}`);
      });
      this.sims[name] = sim;
      this.clients[name] = new SimExchangeClient(sim, {
        latency: { requestMs: 5, jitterMs: 5, streamMs: 2 },
        faults: new FaultInjector({ ...opts.faults, seed: (opts.faults.seed ?? 1) + vi }),
        requestTimeoutMs: 1_000,
      });
      // When each request first left (a request lost on its way never reaches the venue).
      const client = this.clients[name];
      const create = client.createOrder.bind(client);
      client.createOrder = (req: OrderRequest) => {
        if (!this.firstSentAt.has(req.clientOrderId))
          this.firstSentAt.set(req.clientOrderId, this.clock.now());
        return create(req);
      };
    });
    for (const ins of opts.instruments)
      if (ins.fundingRate !== undefined)
        this.sims[ins.venue]!.onFundingRate({
          symbol: ins.symbol,
          rate: ins.fundingRate,
          nextFundingTimestamp: 0,
          intervalMs: 8 * 3_600_000,
          timestamp: this.clock.now(),
        });
    this.feed();
  }

  market(venue: string, symbol: string): Market {
    return this.sims[venue]!.market(symbol);
  }

  start(machine: AnyStateMachine, input: unknown): void {
    this.launch(machine, { input });
  }

  /** The process dies and comes back: stop everything, restore from the JSON of the persisted snapshot. */
  crashAndRestore(): void {
    const snap = JSON.parse(JSON.stringify(this.actor!.getPersistedSnapshot()));
    this.actor!.stop();
    this.dispose?.();
    this.crashes++;
    this.launch(this.machine!, { snapshot: snap, input: undefined });
  }

  /** The machine with fresh exchange actors (a new process's), its actor created, watched, started. */
  private launch(machine: AnyStateMachine, options: { input: unknown; snapshot?: unknown }): void {
    const exchange = createExchangeActors({
      venues: this.clients,
      clock: this.clock,
      journal: this.journal,
      orderPollMs: 500,
      reconnectMs: 500,
      fundingPollMs: 60_000,
    });
    this.dispose = exchange.dispose;
    this.machine = machine.provide({ actors: bindActors(exchange.actors) });
    this.actor = createActor(this.machine, options as never);
    this.watch(this.actor);
    this.actor.start();
  }

  private watch(actor: AnyActorRef): void {
    actor.subscribe({
      next: (snap) => {
        if (snap.status === 'done' && this.endedAt === undefined) {
          this.endedAt = this.clock.now();
          this.booksAtEnd = this.booksBefore(this.endedAt);
        }
      },
      error: (e) => this.errors.push(e),
    });
  }

  /**
   * The marks of every book published in the second before the strategy ended: the books it may
   * have judged its last residual on (quotes reach it a few ms late, and a hedged pair's rounds
   * read the touch of the book before). Undefined while it runs.
   */
  marksBeforeEnd(): ((venue: string, symbol: string) => number)[] | undefined {
    return this.booksAtEnd?.map((p) => (venue, symbol) => p.marks.get(`${venue}|${symbol}`)!);
  }

  /**
   * Taken when the strategy ends, not when asked: the books published since would push the ones
   * it ended on out of the recent window (an 11 s outage publishes more than it keeps).
   */
  private booksBefore(ended: number): { at: number; marks: Map<string, number> }[] {
    const before = this.published.filter((p) => p.at <= ended);
    const lastSecond = before.filter((p) => p.at >= ended - 1_000);
    return lastSecond.length > 0 ? lastSecond : before.slice(-1);
  }

  /**
   * A live book's displayed size moves with every update (others post and cancel): each side
   * shows its size ±10 %, so what our takers consumed (it stays consumed on the venue until the
   * level changes) comes back the way it does on a recorded book — in pieces, not all at once.
   */
  private readonly sizeRng: Rng;

  feed(): void {
    const t = this.clock.now();
    const marks = new Map<string, number>();
    this.opts.instruments.forEach((ins, i) => {
      const m = this.sims[ins.venue]!.market(ins.symbol);
      // On the amount step, as a venue's book shows it.
      const shown = (size: number) =>
        Math.max(
          m.precision.amount,
          roundToStep(size * this.sizeRng.uniform(0.9, 1.1), m.precision.amount, 'nearest'),
        );
      const tick = m.precision.price;
      const bid = Math.round((this.mids[i]! - ins.halfSpread) / tick) * tick;
      const ask = Math.max(bid + tick, Math.round((this.mids[i]! + ins.halfSpread) / tick) * tick);
      this.sims[ins.venue]!.onBookTicker({
        symbol: ins.symbol,
        bid: Number(bid.toFixed(8)),
        ask: Number(ask.toFixed(8)),
        bidSize: shown(ins.size),
        askSize: shown(ins.size),
        timestamp: t,
      });
      marks.set(`${ins.venue}|${ins.symbol}`, this.sims[ins.venue]!.mark(ins.symbol));
    });
    this.published.push({ at: t, marks });
    if (this.published.length > 32) this.published.shift();
  }

  /** Let `ms` of market time pass with quotes every 250 ms. */
  async run(ms: number): Promise<void> {
    const end = this.clock.now() + ms;
    while (this.clock.now() < end) {
      this.feed();
      await this.clock.advanceBy(Math.min(250, end - this.clock.now()));
    }
  }

  /**
   * What every account gained since the start, each holding of X valued at `priceOf(venue,
   * 'X/USDT')` and each derivative position at `priceOf(venue, its symbol)`: the figure the
   * strategy's PnL must equal (fees and funding are in the balances already).
   */
  equityChange(priceOf: (venue: string, symbol: string) => number): number {
    let change = 0;
    for (const [name, sim] of Object.entries(this.sims)) {
      const balances = sim.balances();
      const assets = new Set([...Object.keys(balances), ...Object.keys(this.opts.balances)]);
      for (const asset of assets) {
        const d = (balances[asset]?.total ?? 0) - (this.opts.balances[asset] ?? 0);
        if (d !== 0) change += d * (asset === 'USDT' ? 1 : priceOf(name, `${asset}/USDT`));
      }
      for (const p of sim.positions()) {
        const m = sim.market(p.symbol);
        if (!isDerivativeMarket(m) || p.size === 0) continue;
        change += p.size * m.contractSize * (priceOf(name, p.symbol) - p.entryPrice);
      }
    }
    return change;
  }

  doubleSubmissions(): string[] {
    // An id the venue saw twice is only acceptable when the venue refused the second as a duplicate
    // (a restored placement racing its own in-flight request); two orders for one id never.
    const out: string[] = [];
    for (const [name, sim] of Object.entries(this.sims)) {
      const ids = sim.allOrders().map((o) => o.clientOrderId);
      if (new Set(ids).size !== ids.length) out.push(`${name}: duplicate orders`);
    }
    return out;
  }

  isExchangeError(e: unknown): boolean {
    return e instanceof ExchangeError;
  }
}
