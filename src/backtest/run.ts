/**
 * A backtest: recorded quotes (or the synthetic market) replayed through the configured
 * strategies and simulated venues on a virtual clock, as fast as the machines go. Everything
 * that reaches the report is a function of the config and the data: same input, same bytes.
 */
import { feeInQuote } from '../../machines/accounting.ts';
import { strategyOfOrder, strategyTag } from '../../machines/ids.ts';
import { flushMicrotasks, VirtualClock } from '../clock/clock.ts';
import { STRATEGY_KINDS } from '../config/kinds.ts';
import type { Config } from '../config/schema.ts';
import type { Order } from '../domain/index.ts';
import type { EngineStatus, TransitionRecord } from '../engine/engine.ts';
import { strategyFigures } from '../engine/figures.ts';
import { csvReplaySource, type ReplayStats } from '../marketdata/csv.ts';
import type { MarketDataSource, MarketEvent } from '../marketdata/events.ts';
import { createPaperVenues } from '../paper/venues.ts';
import { addConfiguredStrategies, buildKernel } from '../runtime/kernel.ts';
import { syntheticMarketFor } from '../runtime/market.ts';
import type { ParamAdjustment } from '../runtime/strategies.ts';
import { paperVenueSpec } from '../runtime/venues.ts';
import { MemoryStore } from '../store/memory.ts';
import { type Reconciliation, reconcile, type VenueFills } from './reconcile.ts';

export interface BacktestOptions {
  /** Recorded quotes (overrides marketData of the config). */
  quotes?: string;
  funding?: string;
  from?: number;
  to?: number;
  /** Equity and price samples, virtual ms (default 60 s). */
  sampleMs?: number;
  onProgress?: (p: { events: number; ts: number }) => void;
  /** Quote gating in the engine (default on; off replays every quote into the machines). */
  quoteGating?: boolean;
}

export interface TradeRecord {
  ts: number;
  strategy: string;
  venue: string;
  symbol: string;
  side: 'buy' | 'sell';
  price: number;
  amount: number;
  fee: number;
  /** Entry: the strategy's position on that leg grew; exit: it shrank. */
  effect: 'entry' | 'exit';
}

export interface Sample {
  ts: number;
  /** Σ net PnL of every strategy (realized + unrealized − fees + funding). */
  equity: number;
  /** Per strategy: net PnL, the first leg's mid, and its signal in bps (basis, spread, premium). */
  strategies: Record<string, { pnl: number; price: number; signalBps: number | null }>;
}

export interface BacktestRun {
  firstTs: number;
  lastTs: number;
  events: number;
  /** Rows read, emitted, skipped by reason (CSV), or events generated (synthetic). */
  input: {
    source: 'csv' | 'synthetic';
    files: ReplayStats[];
    /** Events for venues or symbols the config does not list, by venue|symbol. */
    unknownInstruments: Record<string, number>;
  };
  adjustments: ParamAdjustment[];
  final: EngineStatus;
  trades: TradeRecord[];
  samples: Sample[];
  /** The venues' figures next to the strategies' own, per strategy and in total. */
  reconciliation: Reconciliation;
  transitions: TransitionRecord[];
  kinds: Record<string, string>;
}

/** A backtest needs the simulated venues in-process; remote and ccxt venues cannot be replayed. */
export class BacktestSetupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BacktestSetupError';
  }
}

const DEFAULT_START = Date.UTC(2026, 0, 1);

export async function runBacktest(config: Config, opts: BacktestOptions = {}): Promise<BacktestRun> {
  for (const [name, v] of Object.entries(config.venues))
    if (v.type !== 'simulated')
      throw new BacktestSetupError(
        `venues.${name}: a backtest runs on simulated venues only (this one is ${v.type})`,
      );
  const csv = opts.quotes ?? (config.marketData.source === 'csv' ? config.marketData.quotes : undefined);
  const fundingFile =
    opts.funding ?? (config.marketData.source === 'csv' ? config.marketData.funding : undefined);
  const range = {
    ...(opts.from !== undefined ? { from: opts.from } : {}),
    ...(opts.to !== undefined ? { to: opts.to } : {}),
  };

  const clock = new VirtualClock(0);
  const paper = createPaperVenues({
    venues: Object.entries(config.venues).map(([name, v]) => paperVenueSpec(name, v as never)),
    bases: config.assets,
    datedFutures: config.datedFutures,
    clock,
  });

  let source: MarketDataSource;
  let files: ReplayStats[] = [];
  if (csv) {
    const s = csvReplaySource(csv, fundingFile, range);
    source = s;
    files = s.stats;
  } else {
    const md = config.marketData.source === 'synthetic' ? config.marketData : undefined;
    const startTs = opts.from ?? md?.startTs ?? DEFAULT_START;
    const endTs = opts.to ?? startTs + (md?.durationHours ?? 24) * 3_600_000;
    source = syntheticMarketFor(config, {
      venues: paper.venues.map((v) => v.name),
      markets: paper.venues.flatMap((v) => v.listMarkets()),
      startTs,
      endTs,
    });
  }

  // The first event sets the clock, so the engine starts where the data starts.
  const iterator = source.batches()[Symbol.asyncIterator]();
  let first = await iterator.next();
  while (!first.done && first.value.length === 0) first = await iterator.next();
  const firstTs = first.done ? (opts.from ?? DEFAULT_START) : first.value[0]!.timestamp;
  clock.jumpTo(firstTs);

  const transitions: TransitionRecord[] = [];
  const kernel = buildKernel(config, 'backtest', {
    store: new MemoryStore(),
    venues: Object.fromEntries(paper.clients.map((c, i) => [paper.venues[i]!.name, c])),
    clock,
    quoteGating: opts.quoteGating ?? true,
    onTransition: (t) => transitions.push(t),
  });
  const { engine, strategies, adjustments } = kernel;
  const settle = async <T>(p: Promise<T>): Promise<T> => {
    let done = false;
    const out = p.finally(() => {
      done = true;
    });
    out.catch(() => {});
    while (!done) await clock.advanceBy(1);
    return out;
  };
  await settle(engine.start());
  await addConfiguredStrategies(kernel);
  const kinds = Object.fromEntries(strategies.map((s) => [s.id, s.kind]));

  // Fills, attributed to strategies by the tag in their deterministic client order ids.
  const byTag = new Map(strategies.map((s) => [strategyTag(s.id), s.id]));
  const seenTrades = new Set<string>();
  const legPosition = new Map<string, number>();
  const trades: TradeRecord[] = [];
  const venueFills: VenueFills = new Map();
  const startBalances = new Map(
    paper.venues.map((v) => [
      v.name,
      Object.fromEntries(Object.entries(v.balances()).map(([a, b]) => [a, b.total])),
    ]),
  );
  for (const venue of paper.venues) {
    venue.subscribeOrders((o: Order) => {
      const strategy = strategyOfOrder(o.clientOrderId, byTag);
      if (!strategy) return;
      for (const t of o.trades) {
        const key = `${venue.name}|${t.id}`;
        if (seenTrades.has(key)) continue;
        seenTrades.add(key);
        const mine = venueFills.get(strategy) ?? [];
        venueFills.set(strategy, mine);
        mine.push({ venue: venue.name, fill: { ...t, fee: { ...t.fee } } });
        const leg = `${strategy}|${venue.name}|${o.symbol}`;
        const before = legPosition.get(leg) ?? 0;
        const after = before + (o.side === 'buy' ? t.amount : -t.amount);
        legPosition.set(leg, after);
        trades.push({
          ts: t.timestamp,
          strategy,
          venue: venue.name,
          symbol: o.symbol,
          side: o.side,
          price: t.price,
          amount: t.amount,
          fee: feeInQuote(t),
          effect: Math.abs(after) > Math.abs(before) + 1e-12 ? 'entry' : 'exit',
        });
      }
    });
  }

  const sampleMs = opts.sampleMs ?? 60_000;
  const samples: Sample[] = [];
  const venueMid = (venue: string, symbol: string) => {
    const t = paper.venues.find((x) => x.name === venue)?.ticker(symbol);
    return t ? (t.bid + t.ask) / 2 : 0;
  };
  // Marked at the venues' current mids, not at the quotes a strategy last saw: a report must not
  // depend on which quotes a strategy needed to look at.
  const atVenueMarks = (st: EngineStatus): EngineStatus => ({
    ...st,
    strategies: st.strategies.map((s) => {
      const info = engine.inspectStrategy(s.id);
      const kind = STRATEGY_KINDS[s.kind];
      if (!info || !kind) return s;
      const ctx = (info.snapshot as { context: unknown }).context;
      const marks = s.legs.map((l) => venueMid(l.venue, l.symbol));
      const f = strategyFigures(kind, ctx, marks);
      return { ...s, unrealizedPnl: f.unrealizedPnl, netPnl: f.netPnl };
    }),
  });
  const sample = () => {
    const st = atVenueMarks(engine.status());
    const row: Sample = { ts: clock.now(), equity: 0, strategies: {} };
    for (const s of st.strategies) {
      row.equity += s.netPnl;
      const mids = s.legs.map((l) => venueMid(l.venue, l.symbol));
      row.strategies[s.id] = {
        pnl: s.netPnl,
        price: mids[0] ?? 0,
        signalBps: STRATEGY_KINDS[s.kind]?.signal?.bps(mids) ?? null,
      };
    }
    samples.push(row);
  };
  const tick = () => {
    sample();
    clock.setTimeout(tick, sampleMs);
  };
  clock.setTimeout(tick, sampleMs);

  const unknownInstruments: Record<string, number> = {};
  const byName = new Map(paper.venues.map((v) => [v.name, v]));
  // venue → symbol → venue object: two map lookups per event, no string building on the hot path.
  const routes = new Map(paper.venues.map((v) => [v.name, new Set(v.listMarkets().map((m) => m.symbol))]));
  const route = (e: MarketEvent) => {
    const v = byName.get(e.venue);
    if (!v || !routes.get(e.venue)!.has(e.symbol)) {
      const key = `${e.venue}|${e.symbol}`;
      unknownInstruments[key] = (unknownInstruments[key] ?? 0) + 1;
      return;
    }
    if (e.kind === 'quote') v.onBookTicker(e);
    else v.onFundingRate(e);
  };

  const settleSends = async () => {
    for (let hops = 0; engine.pendingSends() > 0; hops++) {
      if (hops >= 100)
        throw new Error('backtest: an order placement did not reach its venue after 100 turns');
      await flushMicrotasks();
    }
  };
  let events = 0;
  let lastTs = firstTs;
  const consume = async (batch: MarketEvent[]) => {
    for (const e of batch) {
      const ts = e.timestamp;
      if (ts > clock.now()) {
        if (clock.nextTimerAt() <= ts) await clock.advanceTo(ts);
        else clock.jumpTo(ts);
      }
      route(e);
      // A decision this quote caused leaves now, at this quote's time, not at the next timer.
      if (engine.pendingSends() > 0) await settleSends();
      lastTs = ts;
      events++;
    }
    opts.onProgress?.({ events, ts: lastTs });
  };
  if (!first.done) await consume(first.value);
  for (;;) {
    const next = await iterator.next();
    if (next.done) break;
    await consume(next.value);
  }
  // Let in-flight requests answer (latency, timeouts) before the books are closed.
  await clock.advanceTo(clock.now() + 10_000);
  sample();
  const final = atVenueMarks(engine.status());
  const reconciliation = reconcile(
    paper.venues,
    startBalances,
    final.strategies.flatMap((s) => {
      const info = engine.inspectStrategy(s.id);
      const kind = STRATEGY_KINDS[s.kind];
      return info && kind
        ? [{ id: s.id, kind, context: (info.snapshot as { context: unknown }).context, netPnl: s.netPnl }]
        : [];
    }),
    venueFills,
  );
  await engine.stop();
  for (const v of paper.venues) v.dispose();
  return {
    firstTs,
    lastTs,
    events,
    input: { source: csv ? 'csv' : 'synthetic', files, unknownInstruments },
    adjustments,
    final,
    trades,
    samples,
    transitions,
    kinds,
    reconciliation,
  };
}
