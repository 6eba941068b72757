/**
 * Plumbing shared by the strategy examples: simulated venues fed by the seeded synthetic market,
 * an engine on them, and a clock — virtual (hours of market in seconds, the default) or the wall
 * clock (--realtime: watch it trade live). The examples themselves show the engine API.
 */
import { parseArgs } from 'node:util';
import { type Clock, VirtualClock, WallClock } from '../../src/clock/clock.ts';
import { validateConfig } from '../../src/config/load.ts';
import { createEngine, type Engine, type TransitionRecord } from '../../src/engine/engine.ts';
import { createLogger } from '../../src/logging/logger.ts';
import { VenueRouter } from '../../src/marketdata/feed.ts';
import { startRealtimeFeed } from '../../src/marketdata/realtime.ts';
import { createPaperVenues } from '../../src/paper/venues.ts';
import { syntheticMarketFor } from '../../src/runtime/market.ts';
import { paperVenueSpec } from '../../src/runtime/venues.ts';
import { MemoryStore } from '../../src/store/memory.ts';

export interface ExampleArgs {
  /** Simulated time to run (virtual clock), hours. */
  hours: number;
  /** Run on the wall clock for this many seconds instead. */
  realtimeSeconds: number | undefined;
  quiet: boolean;
}

export function exampleArgs(defaultHours: number): ExampleArgs {
  const { values } = parseArgs({
    options: { hours: { type: 'string' }, realtime: { type: 'string' }, quiet: { type: 'boolean' } },
    strict: true,
  });
  const hours = values.hours === undefined ? defaultHours : Number(values.hours);
  if (!(hours > 0)) throw new Error(`--hours: expected a positive number, got "${values.hours}"`);
  const realtimeSeconds = values.realtime === undefined ? undefined : Number(values.realtime);
  if (realtimeSeconds !== undefined && !(realtimeSeconds > 0))
    throw new Error(`--realtime: expected seconds > 0, got "${values.realtime}"`);
  return { hours, realtimeSeconds, quiet: Boolean(values.quiet) };
}

export interface PaperWorld {
  engine: Engine;
  clock: Clock;
  /** Drive the market until the time is up; resolves when done. */
  run(): Promise<void>;
  /** Transitions as they happen, on the world's clock. */
  transitions: TransitionRecord[];
  /** Stop the engine and the venues (their funding and expiry timers). */
  close(): Promise<void>;
}

/**
 * `config` is the same shape as a statearb config file (venues, assets, marketData, risk), so
 * what an example does can be moved into a YAML file unchanged.
 */
export async function paperWorld(config: unknown, args: ExampleArgs): Promise<PaperWorld> {
  const cfg = validateConfig(config, 'example config');
  const realtime = args.realtimeSeconds !== undefined;
  const start = realtime ? Date.now() : Date.UTC(2026, 0, 1);
  const clock = realtime ? new WallClock() : new VirtualClock(start);
  const paper = createPaperVenues({
    venues: Object.entries(cfg.venues).map(([name, v]) => paperVenueSpec(name, v as never)),
    bases: cfg.assets,
    datedFutures: cfg.datedFutures,
    clock,
  });
  const end = start + (realtime ? args.realtimeSeconds! * 1000 : args.hours * 3_600_000);
  const market = syntheticMarketFor(cfg, {
    venues: paper.venues.map((v) => v.name),
    markets: paper.venues.flatMap((v) => v.listMarkets()),
    startTs: start,
    endTs: end,
  });
  const transitions: TransitionRecord[] = [];
  const engine = createEngine({
    store: new MemoryStore(),
    venues: Object.fromEntries(paper.venues.map((v, i) => [v.name, paper.clients[i]!])),
    clock,
    // Nothing restores these runs: skip snapshot writes (statearb run keeps them, see the recovery demo).
    persistSnapshots: false,
    logger: createLogger({ level: args.quiet ? 'silent' : 'warn' }),
    onTransition: (t) => {
      transitions.push(t);
      if (!args.quiet) printTransition(t);
    },
  });
  const router = new VenueRouter(paper.venues);
  if (clock instanceof VirtualClock) {
    // On a virtual clock, time has to move for the venues' answers (latency) to arrive.
    let started = false;
    const p = engine.start().finally(() => {
      started = true;
    });
    while (!started) await clock.advanceBy(1);
    await p;
  } else await engine.start();

  const run = async () => {
    if (clock instanceof VirtualClock) {
      for await (const batch of market.batches()) {
        for (const e of batch) {
          if (e.timestamp > clock.now()) await clock.advanceTo(e.timestamp);
          router.route(e);
        }
      }
    } else {
      const feed = startRealtimeFeed(market, (e) => router.route(e));
      await new Promise((r) => setTimeout(r, args.realtimeSeconds! * 1000));
      feed.stop();
    }
  };
  const close = async () => {
    await engine.stop();
    for (const v of paper.venues) v.dispose();
  };
  return { engine, clock, run, transitions, close };
}

/** One line per transition, stamped with the world's time. */
export function printTransition(t: TransitionRecord): void {
  process.stdout.write(
    `${new Date(t.at).toISOString().slice(11, 23)}  ${t.strategy.padEnd(12)} ${t.from} → ${t.to}  (${t.event})\n`,
  );
}

export function printSummary(engine: Engine): void {
  for (const s of engine.status().strategies) {
    const legs = s.legs.map((l) => `${l.symbol}@${l.venue} ${+l.position.toFixed(6)}`).join(', ');
    process.stdout.write(
      `\n${s.id} (${s.kind}) ended in ${s.state}: ${s.cycles ?? 0} cycles, net PnL ${s.netPnl.toFixed(2)} USDT ` +
        `(realized ${s.realizedPnl.toFixed(2)}, unrealized ${s.unrealizedPnl.toFixed(2)}, fees ${s.fees.toFixed(2)}, funding ${s.funding.toFixed(2)})\n  positions: ${legs}\n`,
    );
  }
}
