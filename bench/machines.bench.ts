import { assign, createActor, fromCallback, fromPromise, setup } from 'xstate';
import { actorContracts } from '../machines/contract-actors.ts';
import type {
  ClockTickInput,
  MarketEvent,
  WaitInput,
  WatchFundingInput,
  WatchQuotesInput,
} from '../machines/contracts.ts';
import { type SpotFuturesParams, spotFuturesMachine } from '../machines/strategies/spot-futures/machine.ts';
import { bindActors } from '../src/actors/bind.ts';
import { createExchangeActors } from '../src/actors/exchange-actors.ts';
import { VirtualClock } from '../src/clock/clock.ts';
import type { OrderRequest } from '../src/domain/index.ts';
import { createEngine } from '../src/engine/engine.ts';
import { SimExchangeClient } from '../src/exchange/sim/client.ts';
import { simMarket } from '../src/exchange/sim/markets.ts';
import { SimVenue } from '../src/exchange/sim/venue.ts';
import { MemoryStore } from '../src/store/memory.ts';
import { type Figure, percentile, rate, ratio } from './lib.ts';

const SPOT = 'BTC/USDT';
const PERP = 'BTC/USDT:USDT';

const params: SpotFuturesParams = {
  spot: { venue: 'sim', symbol: SPOT },
  perp: { venue: 'sim', symbol: PERP },
  amount: 0.1,
  direction: 'long-spot',
  minEntryBasisBps: 10,
  exitBasisBps: 2,
  maxEntryCostPct: 1,
  slippageBps: 0,
  maxHoldingHours: 24,
  maxAdverseFundingHours: 8,
  deltaToleranceBase: 0.001,
  staleAfterMs: 1e12,
  maxPositionNotional: 1e9,
  maxCycles: 0,
  cooldownMs: 0,
};

/** Actors that do nothing: isolate the machine's own cost per event. */
const idleActors = {
  ...actorContracts,
  watchQuotes: fromCallback<{ type: 'noop' }, WatchQuotesInput, MarketEvent>(() => () => {}),
  watchFunding: fromCallback<{ type: 'noop' }, WatchFundingInput, MarketEvent>(() => () => {}),
  clockTick: fromCallback<{ type: 'noop' }, ClockTickInput, MarketEvent>(() => () => {}),
  wait: fromPromise<void, WaitInput>(async () => {}),
};

const quoteEvent = (symbol: string, mid: number, t: number) => ({
  type: 'QUOTE' as const,
  venue: 'sim',
  symbol,
  bid: mid - 0.5,
  ask: mid + 0.5,
  bidSize: 1,
  askSize: 1,
  timestamp: t,
  receivedAt: t,
});

export async function machinesBench(): Promise<Figure[]> {
  const figures: Figure[] = [];
  const N = 200_000;
  // Non-trading quotes: the basis wobbles between 0 and 4 bps, never near the 10 bps entry.
  const events = Array.from({ length: N }, (_, i) =>
    quoteEvent(i % 2 ? PERP : SPOT, 60_000 + (i % 2 ? (i % 5) * 5 : 0), 1_000 + i),
  );

  // 1. A bare XState actor: one guarded assign per event.
  const bare = setup({
    types: {
      context: {} as { bid: number; ask: number; n: number },
      events: {} as { type: 'QUOTE'; bid: number; ask: number },
    },
  }).createMachine({
    context: { bid: 0, ask: 0, n: 0 },
    on: {
      QUOTE: {
        guard: ({ event }) => event.bid > 0,
        actions: assign({
          bid: ({ event }) => event.bid,
          ask: ({ event }) => event.ask,
          n: ({ context }) => context.n + 1,
        }),
      },
    },
  });
  const bareActor = createActor(bare).start();
  const bareFig = await rate('bare XState actor: guarded assign per event', N, () => {
    for (const e of events) bareActor.send(e);
  });
  figures.push(bareFig);

  // 2. A hand-written function doing the same decision.
  const state = { spot: 0, perp: 0, entries: 0 };
  const fnFig = await rate('hand-written function: record quote + entry check', N, () => {
    for (const e of events) {
      if (e.symbol === SPOT) state.spot = e.ask;
      else state.perp = e.bid;
      if (state.spot > 0 && ((state.perp - state.spot) / state.spot) * 1e4 - 30 >= 10) state.entries++;
    }
  });
  figures.push(fnFig);

  // 3. The spot–futures strategy actor on the same non-trading quotes.
  const strategy = createActor(spotFuturesMachine.provide({ actors: idleActors }), {
    input: { id: 'bench', params, markets: { spot: simMarket('sim', SPOT), perp: simMarket('sim', PERP) } },
  }).start();
  const stratFig = await rate('spot–futures strategy actor: non-trading quote', N, () => {
    for (const e of events) strategy.send(e);
  });
  if (String(strategy.getSnapshot().value) !== 'watching') throw new Error('bench quotes must not trade');
  figures.push(stratFig);
  figures.push(
    ratio(
      'strategy cost per event vs bare XState actor',
      bareFig,
      stratFig,
      'how many times the bare actor’s per-event cost',
    ),
  );
  figures.push(
    ratio(
      'strategy cost per event vs hand-written function',
      fnFig,
      stratFig,
      'how many times the function’s per-event cost',
    ),
  );

  // 3b. The same quotes through the whole engine: venue book → quote stream → (gate) → machine,
  // snapshot persistence included. This is the figure the ≤ 1.5× goal is about.
  for (const gating of [false, true]) {
    const clock = new VirtualClock(Date.UTC(2026, 0, 1));
    const venue = new SimVenue({
      name: 'sim',
      clock,
      markets: [simMarket('sim', SPOT), simMarket('sim', PERP)],
      balances: { USDT: 1e9 },
    });
    const engine = createEngine({
      store: new MemoryStore(),
      venues: { sim: new SimExchangeClient(venue) },
      clock,
      quoteGating: gating,
    });
    await engine.start();
    await engine.addStrategy({
      kind: 'spot-futures',
      id: 'bench',
      params: { ...params, staleAfterMs: 60_000 },
    });
    await clock.advanceBy(1);
    const t = clock.now();
    const books = events.map((e) => ({
      symbol: e.symbol,
      bid: e.bid,
      ask: e.ask,
      bidSize: 1,
      askSize: 1,
      timestamp: t,
    }));
    const fig = await rate(
      `engine, per non-trading quote (venue → stream → ${gating ? 'quote gate → ' : ''}machine)`,
      N,
      () => {
        for (const b of books) venue.onBookTicker(b);
      },
    );
    const state = engine.status().strategies[0]!.state;
    if (state !== 'watching') throw new Error(`bench quotes must not trade (${state})`);
    await engine.stop();
    venue.dispose();
    figures.push(fig);
    figures.push(
      ratio(
        `engine${gating ? ' (quote gate)' : ' (no gate)'} cost per quote vs bare XState actor`,
        bareFig,
        fig,
        'how many times the bare actor’s per-event cost (goal ≤ 1.5)',
      ),
    );
  }

  // 4. Tick-to-order: a quote enters the venue → the strategy's first order request reaches the port.
  const clock = new VirtualClock(Date.UTC(2026, 0, 1));
  const venue = new SimVenue({
    name: 'sim',
    clock,
    markets: [simMarket('sim', SPOT), simMarket('sim', PERP)],
    balances: { USDT: 1e9 },
    defaultLeverage: 10,
  });
  const client = new SimExchangeClient(venue);
  const samples: number[] = [];
  let quoteAt = 0n;
  let waiting = false;
  const create = client.createOrder.bind(client);
  client.createOrder = (req: OrderRequest) => {
    if (waiting) {
      samples.push(Number(process.hrtime.bigint() - quoteAt) / 1e3);
      waiting = false;
    }
    return create(req);
  };
  const exchange = createExchangeActors({ venues: { sim: client }, clock, fundingPollMs: 3_600_000 });
  const live = createActor(spotFuturesMachine.provide({ actors: bindActors(exchange.actors) }), {
    input: { id: 'tick', params, markets: { spot: venue.market(SPOT), perp: venue.market(PERP) } },
  }).start();
  const feed = (spot: number, perp: number) => {
    const t = clock.now();
    venue.onBookTicker({
      symbol: SPOT,
      bid: spot - 0.5,
      ask: spot + 0.5,
      bidSize: 5,
      askSize: 5,
      timestamp: t,
    });
    venue.onBookTicker({
      symbol: PERP,
      bid: perp - 0.05,
      ask: perp + 0.05,
      bidSize: 5,
      askSize: 5,
      timestamp: t,
    });
  };
  feed(60_000, 60_000);
  await clock.advanceBy(10);
  for (let i = 0; i < 2_000; i++) {
    const t = clock.now();
    venue.onBookTicker({ symbol: SPOT, bid: 59_999.5, ask: 60_000.5, bidSize: 5, askSize: 5, timestamp: t });
    waiting = true;
    quoteAt = process.hrtime.bigint();
    venue.onBookTicker({
      symbol: PERP,
      bid: 60_299.95,
      ask: 60_300.05,
      bidSize: 5,
      askSize: 5,
      timestamp: t,
    });
    await clock.advanceBy(20); // entry completes
    feed(60_000, 60_000.5); // converge: exit
    await clock.advanceBy(20);
  }
  live.stop();
  exchange.dispose();
  figures.push(
    {
      name: 'tick-to-order p50 (quote in → first order request at the port)',
      value: Number(percentile(samples, 50).toFixed(1)),
      unit: 'µs',
      runs: samples.length,
      spread: 0,
    },
    {
      name: 'tick-to-order p99',
      value: Number(percentile(samples, 99).toFixed(1)),
      unit: 'µs',
      runs: samples.length,
      spread: 0,
    },
  );
  return figures;
}
