import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type SpotFuturesContext, spotFuturesMachine } from '../../machines/strategies/spot-futures.ts';
import { StrategyWorld } from './strategy-world.ts';

const RUNS = Number(process.env.PROPERTY_RUNS ?? 1000);
const SPOT = 'BTC/USDT';
const PERP = 'BTC/USDT:USDT';
const INITIAL = { USDT: 500_000, BTC: 0 };
const STABLE = ['starting', 'watching', 'holding', 'cooldown', 'completed', 'stopped', 'failed'];
/** Longest a hedge may stay in flight (entering, exiting, rebalancing) before it must settle, ms. */
const UNWIND_BOUND_MS = 120_000;

type Step =
  | { k: 'move'; which: 0 | 1; bps: number; ms: number; crashAfterMs: number | null }
  | { k: 'thin'; size: number; ms: number }
  | { k: 'disconnect'; stream: 'orders' | 'marketData' }
  | { k: 'crash'; afterMs: number }
  | { k: 'stop'; flatten: boolean };

const stepArb: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 8,
    arbitrary: fc.record({
      k: fc.constant('move' as const),
      which: fc.constantFrom(0 as const, 1 as const),
      bps: fc.integer({ min: -40, max: 60 }),
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
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      k: fc.constant('disconnect' as const),
      stream: fc.constantFrom('orders' as const, 'marketData' as const),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({ k: fc.constant('crash' as const), afterMs: fc.integer({ min: 0, max: 40 }) }),
  },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('stop' as const), flatten: fc.boolean() }) },
);

const faultsArb = fc.record({
  seed: fc.integer({ min: 1, max: 1_000_000 }),
  rates: fc.record({
    timeoutBeforePlace: fc.constantFrom(0, 0.05, 0.15),
    timeoutAfterPlace: fc.constantFrom(0, 0.05, 0.15),
    reject: fc.constantFrom(0, 0.05, 0.15),
    unavailable: fc.constantFrom(0, 0.05),
  }),
});

/** What the runs went through, so a green run is known to have exercised something. */
const seen = { holding: 0, cyclesCompleted: 0, crashesInFlight: 0, failed: 0, runs: 0 };

describe('spot–futures strategy under random markets, faults and crashes', () => {
  it(`keeps the hedge, the books and the venue in agreement (${RUNS} runs)`, async () => {
    await fc.assert(
      fc.asyncProperty(
        faultsArb,
        fc.array(stepArb, { minLength: 3, maxLength: 14 }),
        async (faults, steps) => {
          const w = new StrategyWorld({
            instruments: [
              { venue: 'sim', symbol: SPOT, mid: 60_000, halfSpread: 0.5, size: 2 },
              { venue: 'sim', symbol: PERP, mid: 60_000, halfSpread: 0.05, size: 2 },
            ],
            balances: INITIAL,
            faults,
          });
          w.start(spotFuturesMachine, {
            id: 'prop-sf',
            params: {
              spot: { venue: 'sim', symbol: SPOT },
              perp: { venue: 'sim', symbol: PERP },
              amount: 0.5,
              direction: 'long-spot',
              minEntryBasisBps: 5,
              exitBasisBps: 2,
              maxEntryCostPct: 1,
              slippageBps: 0,
              maxHoldingHours: 1,
              maxAdverseFundingHours: 8,
              deltaToleranceBase: 0.001,
              staleAfterMs: 5_000,
              maxPositionNotional: 100_000,
              maxCycles: 0,
              cooldownMs: 1_000,
            },
            markets: { spot: w.market('sim', SPOT), perp: w.market('sim', PERP) },
          });
          let inFlightSince: number | undefined;
          for (const step of steps) {
            if (step.k === 'move') {
              w.mids[step.which] = w.mids[step.which]! * (1 + step.bps / 1e4);
              if (step.crashAfterMs !== null) {
                // The move may start an entry or exit: die while its orders are in flight.
                w.feed();
                await w.clock.advanceBy(step.crashAfterMs);
                if (!STABLE.includes(String(w.actor!.getSnapshot().value))) seen.crashesInFlight++;
                w.crashAndRestore();
              }
              await w.run(step.ms);
            } else if (step.k === 'thin') {
              const sizes = w.opts.instruments.map((i) => i.size);
              for (const i of w.opts.instruments) i.size = step.size;
              await w.run(step.ms);
              w.opts.instruments.forEach((i, n) => {
                i.size = sizes[n]!;
              });
            } else if (step.k === 'disconnect') {
              w.clients.sim!.disconnect(step.stream);
              await w.run(500);
            } else if (step.k === 'crash') {
              await w.clock.advanceBy(step.afterMs);
              if (!STABLE.includes(String(w.actor!.getSnapshot().value))) seen.crashesInFlight++;
              w.crashAndRestore();
              await w.run(500);
            } else {
              w.actor!.send({ type: 'STOP', flatten: step.flatten });
              await w.run(2_000);
            }

            // ---- invariants after every step
            const snap = w.actor!.getSnapshot();
            const c = snap.context as SpotFuturesContext;
            const state = String(snap.value);
            expect(w.errors).toEqual([]);
            expect(w.doubleSubmissions()).toEqual([]);
            expect(w.limitRejects).toEqual([]);
            const stable = STABLE.includes(state);
            if (state === 'holding') seen.holding++;
            if (stable) {
              inFlightSince = undefined;
              // Positions equal the venue's.
              const venue = w.sims.sim!;
              expect(c.legs.spot.position).toBeCloseTo((venue.balances().BTC?.total ?? 0) - INITIAL.BTC, 9);
              expect(c.legs.perp.position).toBeCloseTo(venue.positions([PERP])[0]?.size ?? 0, 9);
              // Hedged within tolerance whenever at rest, or failed saying why.
              const net = c.legs.spot.position + c.legs.perp.position;
              if (state === 'failed') expect(c.lastError).toBeDefined();
              else expect(Math.abs(net)).toBeLessThanOrEqual(c.params.deltaToleranceBase + 1e-9);
            } else {
              inFlightSince ??= w.clock.now();
              expect(w.clock.now() - inFlightSince).toBeLessThanOrEqual(UNWIND_BOUND_MS);
            }
          }
          const end = w.actor!.getSnapshot();
          seen.runs++;
          seen.cyclesCompleted += (end.context as SpotFuturesContext).completedCycles;
          if (end.value === 'failed') seen.failed++;
          w.actor!.stop();
        },
      ),
      { numRuns: RUNS },
    );
    // The generators must reach the interesting places, or the property proves little.
    expect(seen.holding).toBeGreaterThan(RUNS / 10);
    expect(seen.crashesInFlight).toBeGreaterThan(RUNS / 20);
    expect(seen.cyclesCompleted).toBeGreaterThan(0);
    console.log(JSON.stringify(seen));
  });
});
