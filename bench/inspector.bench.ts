import WebSocket from 'ws';
import { VirtualClock } from '../src/clock/clock.ts';
import { createEngine } from '../src/engine/engine.ts';
import { SimExchangeClient } from '../src/exchange/sim/client.ts';
import { simMarket } from '../src/exchange/sim/markets.ts';
import { SimVenue } from '../src/exchange/sim/venue.ts';
import { startInspector } from '../src/inspector/server.ts';
import { MemoryStore } from '../src/store/memory.ts';
import { type Figure, rate, ratio } from './lib.ts';

const QUOTES = 20_000;

/**
 * What the inspector costs the engine: quotes/s through one spot–futures strategy (quotes that do
 * not trade) with no inspector, with the inspector serving but nobody connected, and with one
 * browser-like client watching that strategy. The loop yields to the event loop every 500 quotes
 * in all three runs, so the inspector's timers and socket writes really happen.
 */
async function quotesPerSecond(mode: 'none' | 'idle' | 'client'): Promise<Figure> {
  const clock = new VirtualClock(Date.UTC(2026, 0, 1));
  const venue = new SimVenue({
    name: 'sim',
    clock,
    markets: [simMarket('sim', 'BTC/USDT'), simMarket('sim', 'BTC/USDT:USDT')],
    balances: { USDT: 1e7 },
  });
  const engine = createEngine({
    store: new MemoryStore(),
    venues: { sim: new SimExchangeClient(venue) },
    clock,
  });
  await engine.start();
  await engine.addStrategy({
    kind: 'spot-futures',
    id: 'basis',
    params: {
      spot: { venue: 'sim', symbol: 'BTC/USDT' },
      perp: { venue: 'sim', symbol: 'BTC/USDT:USDT' },
      amount: 0.1,
      direction: 'long-spot',
      minEntryBasisBps: 500,
      exitBasisBps: 0,
      maxEntryCostPct: 1,
      slippageBps: 0,
      maxHoldingHours: 24,
      maxAdverseFundingHours: 8,
      deltaToleranceBase: 0.001,
      staleAfterMs: 5_000,
      maxPositionNotional: 1e6,
      maxCycles: 0,
      cooldownMs: 1_000,
    },
  });
  const inspector = mode === 'none' ? undefined : await startInspector({ engine, port: 0 });
  let ws: WebSocket | undefined;
  if (mode === 'client') {
    ws = new WebSocket(`${inspector!.url.replace('http', 'ws')}ws`);
    await new Promise((r) => ws!.once('open', r));
    ws.send(JSON.stringify({ type: 'select', id: 'basis' }));
    ws.on('message', () => {});
  }
  let i = 0;
  const run = async () => {
    for (let n = 0; n < QUOTES; n++, i++) {
      const px = 60_000 + (i % 50);
      const sym = i % 2 ? 'BTC/USDT' : 'BTC/USDT:USDT';
      venue.onBookTicker({
        symbol: sym,
        bid: px,
        ask: px + 0.5,
        bidSize: 5,
        askSize: 5,
        timestamp: clock.now(),
      });
      await clock.advanceBy(1);
      if (n % 500 === 499) await new Promise((r) => setImmediate(r));
    }
  };
  const fig = await rate(
    `engine quotes/s, inspector ${mode === 'none' ? 'off' : mode === 'idle' ? 'on, no client' : 'on, one client watching'}`,
    QUOTES,
    run,
    { runs: 5, unit: 'quotes/s' },
  );
  ws?.close();
  await inspector?.close();
  await engine.stop();
  return fig;
}

export async function inspectorBench(): Promise<Figure[]> {
  await quotesPerSecond('none'); // JIT warm-up: the first world measured would pay for it
  const none = await quotesPerSecond('none');
  const idle = await quotesPerSecond('idle');
  const client = await quotesPerSecond('client');
  return [
    none,
    idle,
    client,
    ratio(
      'inspector overhead, no client (cost per quote vs off)',
      none,
      idle,
      'time per quote with the inspector idle ÷ without it',
    ),
    ratio(
      'inspector overhead, one client (cost per quote vs off)',
      none,
      client,
      'time per quote with one client watching ÷ without it',
    ),
  ];
}
