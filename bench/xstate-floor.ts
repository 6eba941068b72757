/**
 * What XState itself costs to bring actors to life, measured in the same run as the engine's
 * figures: the floor under tick-to-order. An entry decision creates a hedged-pair machine, which
 * creates two order machines, each of which invokes its placement promise; the first order
 * request can leave only after that tree exists (XState builds a child's initial state, its
 * children included, before it starts any of them). Stub actors: no venue, no journal, no engine.
 */
import { assign, createActor, fromCallback, fromPromise, setup } from 'xstate';
import { type HedgedPairInput, hedgedPairMachine, type LegSpec } from '../machines/hedged-pair.ts';
import { orderMachine } from '../machines/order.ts';
import { type Figure, median } from './lib.ts';

const never = () => new Promise<never>(() => {});
const stubs = {
  placeOrder: fromPromise(never),
  watchOrder: fromCallback(() => () => {}),
  wait: fromPromise(never),
};
const order = orderMachine.provide({ actors: stubs as never });
const pair = hedgedPairMachine.provide({ actors: { ...stubs, order } as never });
const leg = (derivative: boolean, targetBase: number): LegSpec => ({
  venue: 'sim',
  symbol: derivative ? 'BTC/USDT:USDT' : 'BTC/USDT',
  contractSize: derivative ? 0.001 : 1,
  amountStep: 0.001,
  minAmount: 0.001,
  minNotional: 5,
  derivative,
  startBase: 0,
  targetBase,
  bid: 60_000,
  ask: 60_001,
  bidSize: 5,
  askSize: 5,
});
const pairInput: HedgedPairInput = {
  tag: 'floor00001',
  cycle: 1,
  phase: 'e',
  execution: 0,
  mode: 'open',
  legs: [leg(false, 0.1), leg(true, -0.1)],
  toleranceBase: 0.001,
};
const bare = setup({}).createMachine({
  context: { n: 0 },
  on: { x: { actions: assign({ n: ({ context }) => context.n + 1 }) } },
});

/** Median µs per call of `make` over `rounds` rounds of `n` (actors kept alive, like real ones). */
function perActor(make: () => unknown, n: number, rounds = 7): { us: number; spread: number } {
  const keep: unknown[] = [];
  for (let i = 0; i < n; i++) keep.push(make()); // warm-up
  const out: number[] = [];
  for (let r = 0; r < rounds; r++) {
    keep.length = 0;
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < n; i++) keep.push(make());
    out.push(Number(process.hrtime.bigint() - t0) / 1e3 / n);
  }
  const m = median(out);
  return { us: m, spread: (Math.max(...out) - Math.min(...out)) / m };
}

export interface XStateFloor {
  figures: Figure[];
  /** µs to create and start an entry's actor tree. */
  entryTreeUs: number;
}

export function xstateFloor(): XStateFloor {
  const fig = (name: string, r: { us: number; spread: number }, note?: string): Figure => ({
    name,
    value: Number(r.us.toFixed(1)),
    unit: 'µs',
    runs: 7,
    spread: Number(r.spread.toFixed(3)),
    ...(note ? { note } : {}),
  });
  const machineActor = perActor(() => createActor(bare).start(), 5_000);
  const promiseActor = perActor(() => createActor(fromPromise(never)).start(), 5_000);
  const orderActor = perActor(
    () =>
      createActor(order, {
        input: {
          venue: 'sim',
          request: { symbol: 'BTC/USDT', side: 'buy', type: 'market', amount: 0.1, clientOrderId: 'x' },
        },
      }).start(),
    2_000,
  );
  const tree = perActor(() => createActor(pair, { input: pairInput }).start(), 1_000);
  return {
    entryTreeUs: tree.us,
    figures: [
      fig('XState floor: create + start a one-state machine actor', machineActor),
      fig('XState floor: create + start a promise actor', promiseActor),
      fig('XState floor: create + start an order machine (with its placement promise)', orderActor),
      fig(
        "XState floor: create + start an entry's actor tree (hedged pair, 2 orders, 2 placements)",
        tree,
        'the first order request leaves only after this tree exists',
      ),
    ],
  };
}
