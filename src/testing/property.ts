/**
 * The shared property for every strategy: random market moves, thin books on one leg or all
 * (partial fills on entries and exits alike), request faults (lost requests, lost answers,
 * rejects, 503s), outages (order queries timing out for tens of seconds while placement works;
 * one venue 503-ing or refusing orders for seconds), stream disconnects, crashes at random points
 * with restore from the persisted snapshot, and stop events. After every step: no client id
 * produced two orders or was sent with two different requests, no order was refused for its
 * size, the strategy's books equal the venue's positions whenever it is at rest, and at rest it
 * is hedged within the shared tolerance — or it is in `needsAttention` naming the reason and the
 * residual per leg. `failed` may only hold nothing; no hedge stays in flight past the bound.
 */
import fc from 'fast-check';
import { expect } from 'vitest';
import type { AnyStateMachine } from 'xstate';
import type { AnyStrategyKind } from '../../machines/strategies/kit/kind.ts';
import { STRATEGY_KINDS } from '../config/kinds.ts';
import { type FeeCurrency, isPortableClientOrderId, minTradableAmount } from '../domain/index.ts';
import { strategyFigures } from '../engine/figures.ts';
import { type FaultConfig, ORDER_QUERY_METHODS } from '../exchange/sim/faults.ts';
import type { SimClientIdRules } from '../exchange/sim/venue.ts';
import { type InstrumentSpec, StrategyWorld } from './world.ts';

const kindOf = (spec: { kind: string | AnyStrategyKind }): AnyStrategyKind => {
  if (typeof spec.kind !== 'string') return spec.kind;
  const k = STRATEGY_KINDS[spec.kind];
  if (!k) throw new Error(`no strategy kind "${spec.kind}" is registered`);
  return k;
};

export type Step =
  | { k: 'move'; which: number; bps: number; ms: number; crashAfterMs: number | null }
  | { k: 'thin'; size: number; ms: number; which: number | null }
  | {
      k: 'outage';
      venue: number;
      what: 'queries' | 'orders503' | 'ordersRefused';
      ms: number;
      which: number;
      bps: number;
    }
  | { k: 'disconnect'; stream: 'orders' | 'marketData'; venue: number }
  | { k: 'crash'; afterMs: number }
  /** Every price jumps together by `pct` %: at a thin account's leverage, a liquidation. */
  | { k: 'shock'; pct: number; ms: number }
  /** The venue deleverages `fraction` of a derivative position (when there is one). */
  | { k: 'adl'; which: number; fraction: number }
  | { k: 'stop'; flatten: boolean };

export interface StrategyPropertySpec<C> {
  /** The machine to run (default: the kind's). */
  machine?: AnyStateMachine;
  /**
   * The kind (a descriptor, or the id of a registered one): its one PnL (`strategyFigures`) must
   * equal the accounts' equity change.
   */
  kind: string | AnyStrategyKind;
  /** The world's instruments; a function gets the run's market variant (0 … variants − 1). */
  instruments: InstrumentSpec[] | ((variant: number) => InstrumentSpec[]);
  /** How many market variants `instruments` has (e.g. a minimum order above the tolerance). */
  variants?: number;
  balances: Record<string, number>;
  /**
   * A variant's account, when it differs: e.g. a thin settle wallet at 20× with only that wallet
   * as collateral, so that a shock step liquidates the perp.
   */
  account?: (
    variant: number,
  ) => { balances?: Record<string, number>; leverage?: number; collateralHaircuts?: false } | undefined;
  input: (w: StrategyWorld) => unknown;
  /** States in which nothing is in flight and the books must match the venue. */
  stable: string[];
  /** Strategy books vs the venue, at rest. */
  checkPositions: (w: StrategyWorld, c: C) => void;
  /** Whether every fill the venue made has reached the books (a maker's resting orders fill any time). */
  booksSettled?: (c: C) => boolean;
  /** Net exposure the strategy should keep within `tolerance` at rest (undefined: not a hedger). */
  netDelta?: (c: C) => number;
  /** Each leg's signed position in base units, with its market (what `failed` must not hold). */
  legPositions?: (c: C) => { venue: string; symbol: string; position: number }[];
  /** The net delta accepted at rest (the shared rule: see `sharedTolerance`). */
  tolerance: (c: C, w: StrategyWorld) => number;
  /** Reached-state counters the run must show, so a green run has exercised the strategy. */
  interesting: (value: string, c: C) => string | undefined;
  moveBps: { min: number; max: number };
  unwindBoundMs?: number;
  /** Each `interesting` tag (and crashesInFlight) must be seen at least runs × fraction times. */
  minimums: Record<string, number>;
}

/** Spot fees as the venues charge them: in the quote, in the asset received, or in BNB. */
const feeCurrencyArb: fc.Arbitrary<FeeCurrency> = fc.constantFrom<FeeCurrency>('quote', 'received', {
  asset: 'BNB',
});

/**
 * Funding still on its way to a leg: the payments of the last 50 ms (the stream's latency) — or,
 * when the account stream dropped (a disconnect step), of the last 61 s (the poll that stands in
 * for it) — that the leg has not booked yet. Anything else the leg has not booked is a defect.
 */
function fundingInFlight(
  w: StrategyWorld,
  legs: { venue: string; symbol: string; funding: number }[],
  accountDropAt: number,
): number {
  const now = w.clock.now();
  const window = now - accountDropAt <= 125_000 ? 61_000 : 50;
  let amount = 0;
  for (const l of legs) {
    if (!l.symbol.includes(':')) continue;
    const payments = w.sims[l.venue]!.fundingPayments(l.symbol);
    const missing = payments.reduce((x, p) => x + p.amount, 0) - l.funding;
    const young = payments.filter((p) => p.timestamp > now - window).reduce((x, p) => x + p.amount, 0);
    if (Math.abs(missing) > 1e-9 && Math.abs(missing - young) <= 1e-9) amount += missing;
  }
  return amount;
}

/**
 * A position the venue closed while the account push was down (a disconnect step), not booked
 * yet: the poll that stands in for the push (61 s) delivers it. Until then books and venue differ
 * by it; anything else unbooked is a defect.
 */
function venueCloseInFlight<C>(
  spec: StrategyPropertySpec<C>,
  w: StrategyWorld,
  c: C,
  accountDropAt: number,
): boolean {
  const now = w.clock.now();
  if (now - accountDropAt > 125_000) return false;
  return kindOf(spec)
    .legs(c as never)
    .some(
      (l) =>
        l.symbol.includes(':') &&
        w.sims[l.venue]!.venueCloses(l.symbol).some(
          (e) => e.timestamp > now - 61_000 && !l.seenFills.includes(e.fill.id),
        ),
    );
}

/**
 * The strategy's one PnL at the venues' marks against what the accounts gained at the same
 * valuation: equal, fees in every currency and funding included.
 */
function checkMoney<C>(
  spec: StrategyPropertySpec<C>,
  w: StrategyWorld,
  c: C,
  ended: boolean,
  accountDropAt: number,
): void {
  if (spec.booksSettled && !spec.booksSettled(c)) return;
  const kind = kindOf(spec);
  const legs = kind.legs(c as never);
  // A strategy that ended (stopped without flattening) leaves what it held to the account: the
  // funding a perpetual pays after that is nobody's strategy's any more.
  if (ended && legs.some((l) => l.symbol.includes(':') && l.position !== 0)) return;
  const own = legs.map((l) => w.sims[l.venue]!.mark(l.symbol));
  const valued = kind.valuation ? kind.valuation(own) : own;
  const pnl = strategyFigures(kind, c, own).netPnl;
  const equity = w.equityChange((venue, symbol) => {
    const i = legs.findIndex((l) => l.venue === venue && l.symbol === symbol);
    if (i >= 0) return valued[i]!;
    const sim = w.sims[venue]!;
    return symbol.includes(':') ? sim.mark(symbol) : sim.assetPrice(symbol.split('/')[0]!, 'USDT');
  });
  const scale = legs.reduce((x, l) => x + l.volume, 0);
  const tolerance = 1e-6 + 1e-9 * scale;
  // Booked, or (only within its delivery window) still on its way.
  const inFlight = fundingInFlight(w, legs, accountDropAt);
  expect(
    Math.abs(pnl - (equity - inFlight)),
    `net PnL ${pnl} vs equity change ${equity} (funding in flight ${inFlight})`,
  ).toBeLessThanOrEqual(tolerance);
}

const faultsArb: fc.Arbitrary<FaultConfig> = fc.record({
  seed: fc.integer({ min: 1, max: 1_000_000 }),
  rates: fc.record({
    timeoutBeforePlace: fc.constantFrom(0, 0.05, 0.15),
    timeoutAfterPlace: fc.constantFrom(0, 0.05, 0.15),
    reject: fc.constantFrom(0, 0.05, 0.15),
    unavailable: fc.constantFrom(0, 0.05),
    lateArrival: fc.constantFrom(0, 0, 0.05),
  }),
});

/**
 * How the venues treat client ids: the kind simulator's rules, Binance's (a reused id refused
 * only while the first order rests), Gate spot's (found only while resting, reuse accepted).
 */
const clientIdRulesArb: fc.Arbitrary<SimClientIdRules> = fc.constantFrom<SimClientIdRules>(
  {},
  { refusesReused: 'while-open' },
  { findsFinished: false, refusesReused: 'never' },
);

function stepArb(
  instruments: number,
  venues: number,
  move: { min: number; max: number },
): fc.Arbitrary<Step> {
  return fc.oneof(
    {
      weight: 8,
      arbitrary: fc.record({
        k: fc.constant('move' as const),
        which: fc.integer({ min: 0, max: instruments - 1 }),
        bps: fc.integer(move),
        ms: fc.integer({ min: 250, max: 8_000 }),
        crashAfterMs: fc.option(fc.integer({ min: 1, max: 80 }), { freq: 3 }),
      }),
    },
    {
      weight: 1,
      arbitrary: fc.record({
        k: fc.constant('thin' as const),
        size: fc.constantFrom(0.05, 0.2, 0.4),
        ms: fc.integer({ min: 250, max: 3_000 }),
        // One leg thin (legs of different depth) or every leg.
        which: fc.option(fc.integer({ min: 0, max: instruments - 1 }), { freq: 2 }),
      }),
    },
    {
      weight: 1,
      arbitrary: fc.record({
        k: fc.constant('outage' as const),
        venue: fc.integer({ min: 0, max: venues - 1 }),
        what: fc.constantFrom('queries' as const, 'orders503' as const, 'ordersRefused' as const),
        ms: fc.integer({ min: 1_000, max: 40_000 }),
        // A move during the outage, so that entries and exits happen while the venue misbehaves.
        which: fc.integer({ min: 0, max: instruments - 1 }),
        bps: fc.integer(move),
      }),
    },
    {
      weight: 1,
      arbitrary: fc.record({
        k: fc.constant('disconnect' as const),
        stream: fc.constantFrom('orders' as const, 'marketData' as const),
        venue: fc.integer({ min: 0, max: venues - 1 }),
      }),
    },
    {
      weight: 2,
      arbitrary: fc.record({ k: fc.constant('crash' as const), afterMs: fc.integer({ min: 0, max: 40 }) }),
    },
    { weight: 1, arbitrary: fc.record({ k: fc.constant('stop' as const), flatten: fc.boolean() }) },
    {
      weight: 2,
      arbitrary: fc.record({
        k: fc.constant('shock' as const),
        pct: fc.oneof(fc.integer({ min: -25, max: -8 }), fc.integer({ min: 8, max: 25 })),
        ms: fc.integer({ min: 500, max: 5_000 }),
      }),
    },
    {
      weight: 2,
      arbitrary: fc.record({
        k: fc.constant('adl' as const),
        which: fc.integer({ min: 0, max: instruments - 1 }),
        fraction: fc.constantFrom(0.3, 1),
      }),
    },
  );
}

/**
 * The one rule for "hedged", computed here from the world's markets (not from the machine, so a
 * wrong rule in the machine is caught): net delta within max(delta tolerance, the smallest
 * tradable size of the legs at the current marks). A residual below it cannot be traded away.
 * A strategy that ended is judged at the marks it ended on: a later move that makes its residual
 * tradable cannot be acted on by a strategy that no longer runs.
 */
export function sharedTolerance(
  w: StrategyWorld,
  legs: { venue: string; symbol: string }[],
  deltaTolerance: number,
): number {
  const at = (marks: (venue: string, symbol: string) => number) =>
    Math.min(
      ...legs.map((l) => {
        const m = w.market(l.venue, l.symbol);
        return minTradableAmount(m, marks(l.venue, l.symbol)) * m.contractSize;
      }),
    );
  const ended = w.marksBeforeEnd();
  const smallest = ended?.length
    ? Math.max(...ended.map(at))
    : at((venue, symbol) => w.sims[venue]!.mark(symbol));
  return Math.max(deltaTolerance, smallest);
}

export async function checkStrategyProperty<C>(
  spec: StrategyPropertySpec<C>,
  runs: number,
): Promise<Record<string, number>> {
  const seen: Record<string, number> = { runs: 0, crashesInFlight: 0 };
  const instrumentsOf = (variant: number) =>
    typeof spec.instruments === 'function' ? spec.instruments(variant) : spec.instruments;
  const first = instrumentsOf(0);
  const venues = new Set(first.map((i) => i.venue)).size;
  const bound = spec.unwindBoundMs ?? 120_000;
  await fc.assert(
    fc.asyncProperty(
      faultsArb,
      fc.array(stepArb(first.length, venues, spec.moveBps), { minLength: 3, maxLength: 14 }),
      fc.integer({ min: 0, max: (spec.variants ?? 1) - 1 }),
      feeCurrencyArb,
      clientIdRulesArb,
      async (faults, steps, variant, spotFeeCurrency, clientIds) => {
        const account = spec.account?.(variant);
        const w = new StrategyWorld({
          instruments: instrumentsOf(variant).map((i) => ({ ...i })),
          // A little BNB, so that the third-asset mode also runs out and falls back mid-run.
          balances: { ...(account?.balances ?? spec.balances), BNB: 0.05 },
          faults,
          spotFeeCurrency,
          clientIds,
          ...(account?.leverage ? { leverage: account.leverage } : {}),
          ...(account?.collateralHaircuts === false ? { collateralHaircuts: false as const } : {}),
        });
        w.start(spec.machine ?? kindOf(spec).machine, spec.input(w));
        const venueNames = Object.keys(w.sims);
        const crash = () => {
          if (!spec.stable.includes(String(w.actor!.getSnapshot().value))) seen.crashesInFlight!++;
          w.crashAndRestore();
        };
        let inFlightSince: number | undefined;
        let accountDropAt = Number.NEGATIVE_INFINITY;
        let closesAtEnd: number | undefined;
        for (const step of steps) {
          if (step.k === 'move') {
            w.mids[step.which] = w.mids[step.which]! * (1 + step.bps / 1e4);
            if (step.crashAfterMs !== null) {
              w.feed();
              await w.clock.advanceBy(step.crashAfterMs);
              crash();
            }
            await w.run(step.ms);
          } else if (step.k === 'thin') {
            const sizes = w.opts.instruments.map((i) => i.size);
            w.opts.instruments.forEach((i, n) => {
              if (step.which === null || step.which === n) i.size = step.size;
            });
            await w.run(step.ms);
            w.opts.instruments.forEach((i, n) => {
              i.size = sizes[n]!;
            });
          } else if (step.k === 'outage') {
            const faults = w.clients[venueNames[step.venue]!]!.faults;
            if (step.what === 'queries')
              faults.addOutage(w.clock.now(), step.ms, ORDER_QUERY_METHODS, 'timeoutBeforePlace');
            else
              faults.addOutage(
                w.clock.now(),
                Math.min(step.ms, 8_000),
                ['createOrder'],
                step.what === 'orders503' ? 'unavailable' : 'reject',
              );
            w.mids[step.which] = w.mids[step.which]! * (1 + step.bps / 1e4);
            await w.run(step.ms);
          } else if (step.k === 'disconnect') {
            w.clients[venueNames[step.venue]!]!.disconnect(step.stream);
            if (step.stream === 'orders') accountDropAt = w.clock.now();
            await w.run(500);
          } else if (step.k === 'shock') {
            for (let i = 0; i < w.mids.length; i++) w.mids[i] = w.mids[i]! * (1 + step.pct / 100);
            w.jumpedAt = w.clock.now();
            await w.run(step.ms);
          } else if (step.k === 'adl') {
            const ins = w.opts.instruments[step.which]!;
            // A strategy that ended (stopped without flattening) left what it held to the account:
            // not its books' any more.
            const live = w.actor!.getSnapshot().status === 'active';
            if (live && ins.symbol.includes(':')) {
              if (w.sims[ins.venue]!.autoDeleverage(ins.symbol, step.fraction) !== 0)
                seen.deleveraged = (seen.deleveraged ?? 0) + 1;
            }
            await w.run(1_000);
          } else if (step.k === 'crash') {
            await w.clock.advanceBy(step.afterMs);
            crash();
            await w.run(500);
          } else {
            // A strategy that already ended has nothing to stop (and XState would warn).
            if (w.actor!.getSnapshot().status === 'active')
              w.actor!.send({ type: 'STOP', flatten: step.flatten });
            await w.run(2_000);
          }

          const snap = w.actor!.getSnapshot();
          const c = snap.context as C & { lastError?: unknown };
          const value = typeof snap.value === 'string' ? snap.value : Object.keys(snap.value as object)[0]!;
          const tag = spec.interesting(value, c);
          if (tag) seen[tag] = (seen[tag] ?? 0) + 1;
          expect(w.errors).toEqual([]);
          expect(w.doubleSubmissions()).toEqual([]);
          expect(w.reusedIds).toEqual([]);
          expect(w.limitRejects).toEqual([]);
          for (const sim of Object.values(w.sims)) {
            for (const o of sim.allOrders()) {
              expect(isPortableClientOrderId(o.clientOrderId), o.clientOrderId).toBe(true);
              const m = sim.market(o.symbol);
              // A market order that filled nothing is valued at today's mark: only if it was
              // placed after the last price jump (before it, the venue valued it at the old price).
              const price =
                o.price ?? o.average ?? (o.timestamp > w.jumpedAt ? sim.mark(o.symbol) : undefined);
              if (price !== undefined)
                expect(o.amount * price * m.contractSize).toBeGreaterThanOrEqual(m.limits.cost.min - 1e-9);
            }
          }
          if (value === 'needsAttention') {
            // Exposure it could not close: kept, named, with the residual per leg.
            inFlightSince = undefined;
            const a = (c as { attention?: { reason: string; legs: unknown[] } }).attention;
            expect(a?.reason, 'needsAttention names its reason').toBeTruthy();
            expect(a!.legs.length).toBeGreaterThan(0);
            // Waiting for the operator nothing is in flight; flattening or asking the venue, an
            // order may have filled that its execution has not reported yet.
            if (
              JSON.stringify(snap.value).includes('waitingForOperator') &&
              !venueCloseInFlight(spec, w, c, accountDropAt)
            ) {
              // The books still say what the venue did (a liquidation's close is booked too).
              spec.checkPositions(w, c);
              checkMoney(spec, w, c, false, accountDropAt);
            }
            seen.attention = (seen.attention ?? 0) + 1;
            if (process.env.PROPERTY_STATS) {
              const why = `why: ${a!.reason.replace(/[0-9.e-]+/g, '#').slice(0, 70)}`;
              seen[why] = (seen[why] ?? 0) + 1;
            }
          } else if (spec.stable.includes(value)) {
            inFlightSince = undefined;
            // What a strategy that ended left to the account, the venue may close later: its
            // books (frozen at the end) then rightly differ from the venue.
            if (snap.status === 'done') closesAtEnd ??= w.venueCloses.length;
            const settled =
              (closesAtEnd === undefined || w.venueCloses.length === closesAtEnd) &&
              !venueCloseInFlight(spec, w, c, accountDropAt);
            if (settled) {
              spec.checkPositions(w, c);
              checkMoney(spec, w, c, snap.status === 'done', accountDropAt);
            }
            if (value === 'failed') {
              expect(c.lastError).toBeDefined();
              // `failed` is for strategies that hold nothing: exposure goes to needsAttention.
              for (const l of spec.legPositions?.(c) ?? []) {
                const m = w.market(l.venue, l.symbol);
                const dust = minTradableAmount(m, w.sims[l.venue]!.mark(l.symbol)) * m.contractSize;
                expect(Math.abs(l.position), `failed while holding ${l.venue} ${l.symbol}`).toBeLessThan(
                  dust,
                );
              }
            } else if (spec.netDelta)
              expect(Math.abs(spec.netDelta(c)), `net delta in ${value}`).toBeLessThanOrEqual(
                spec.tolerance(c, w) + 1e-9,
              );
          } else {
            inFlightSince ??= w.clock.now();
            expect(w.clock.now() - inFlightSince).toBeLessThanOrEqual(bound);
          }
        }
        seen.runs!++;
        if (w.venueCloses.some((e) => e.includes('liquidation')))
          seen.liquidated = (seen.liquidated ?? 0) + 1;
        // Runs in which the strategy booked a funding settlement (the world starts a minute before 08:00).
        const booked = kindOf(spec).legs(w.actor!.getSnapshot().context as never);
        if (booked.some((l) => l.funding !== 0)) seen.funded = (seen.funded ?? 0) + 1;
        w.actor!.stop();
      },
    ),
    {
      numRuns: runs,
      // Replay a reported failure: PROPERTY_SEED=<seed> PROPERTY_PATH=<path> npx vitest run …
      ...(process.env.PROPERTY_SEED
        ? { seed: Number(process.env.PROPERTY_SEED), path: process.env.PROPERTY_PATH }
        : {}),
    },
  );
  if (process.env.PROPERTY_STATS) console.log(JSON.stringify(seen));
  // A green run must have exercised the strategy: each tag seen in at least its share of runs.
  if (!process.env.PROPERTY_SEED)
    for (const [tag, share] of Object.entries(spec.minimums))
      expect(seen[tag] ?? 0, `runs that reached ${tag}`).toBeGreaterThanOrEqual(Math.floor(runs * share));
  return seen;
}
