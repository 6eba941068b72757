import { VirtualClock } from '../src/clock/clock.ts';
import type { BookTicker } from '../src/domain/index.ts';
import { SimExchangeClient } from '../src/exchange/sim/client.ts';
import { simMarket } from '../src/exchange/sim/markets.ts';
import { SimVenue } from '../src/exchange/sim/venue.ts';
import { type Figure, rate, ratio } from './lib.ts';

const SPOT = 'BTC/USDT';
const PERP = 'BTC/USDT:USDT';

function venue(): { v: SimVenue; clock: VirtualClock } {
  const clock = new VirtualClock(Date.UTC(2026, 0, 1));
  const v = new SimVenue({
    name: 'bench',
    clock,
    markets: [simMarket('bench', SPOT), simMarket('bench', PERP)],
    balances: { USDT: 1e12, BTC: 1e6 },
    defaultLeverage: 10,
  });
  return { v, clock };
}

function quotes(n: number): BookTicker[] {
  const out: BookTicker[] = [];
  let mid = 60_000;
  for (let i = 0; i < n; i++) {
    mid += ((i * 7919) % 11) - 5;
    out.push({
      symbol: i % 2 ? PERP : SPOT,
      bid: mid - 0.5,
      bidSize: 1,
      ask: mid + 0.5,
      askSize: 1,
      timestamp: i,
    });
  }
  return out;
}

export async function venueBench(): Promise<Figure[]> {
  const N = 500_000;
  const qs = quotes(N);
  const figures: Figure[] = [];

  // Baseline: the least any book update costs — a map lookup and four field writes.
  const bare = new Map([SPOT, PERP].map((s) => [s, { bid: 0, bidSize: 0, ask: 0, askSize: 0 }]));
  const baseline = await rate('baseline: map lookup + 4 field writes per quote', N, () => {
    for (const q of qs) {
      const b = bare.get(q.symbol)!;
      b.bid = q.bid;
      b.bidSize = q.bidSize;
      b.ask = q.ask;
      b.askSize = q.askSize;
    }
  });
  figures.push(baseline);

  const { v: idle } = venue();
  const idleRate = await rate('venue quotes/s, no open orders', N, () => {
    for (const q of qs) idle.onBookTicker(q);
  });
  figures.push(
    idleRate,
    ratio(
      'venue idle quote cost vs baseline',
      baseline,
      idleRate,
      'how many times slower than the bare update',
    ),
  );

  const { v: busy } = venue();
  busy.onBookTicker(qs[0]!);
  busy.onBookTicker(qs[1]!);
  for (let i = 0; i < 100; i++) {
    busy.placeOrder({
      symbol: SPOT,
      side: i % 2 ? 'buy' : 'sell',
      type: 'limit',
      price: i % 2 ? 40_000 + i : 80_000 + i,
      amount: 0.001,
      clientOrderId: `r${i}`,
    });
  }
  figures.push(
    await rate('venue quotes/s, 100 resting orders (none crossing)', N, () => {
      for (const q of qs) busy.onBookTicker(q);
    }),
  );

  let n = 0;
  const { v: taker } = venue();
  const M = 100_000;
  figures.push(
    await rate('venue market orders/s (fill + account update)', M, () => {
      for (let i = 0; i < M; i++) {
        if (i % 64 === 0) taker.onBookTicker(qs[i % 2]!);
        taker.placeOrder({
          symbol: i % 2 ? PERP : SPOT,
          side: i % 4 < 2 ? 'buy' : 'sell',
          type: 'market',
          amount: 0.001,
          clientOrderId: `m${n++}`,
        });
      }
    }),
  );

  const { v: maker } = venue();
  maker.onBookTicker(qs[0]!);
  figures.push(
    await rate('venue limit place + cancel pairs/s', M, () => {
      for (let i = 0; i < M; i++) {
        const o = maker.placeOrder({
          symbol: SPOT,
          side: 'buy',
          type: 'limit',
          price: 50_000,
          amount: 0.001,
          clientOrderId: `l${n++}`,
        });
        maker.cancelOrder({ id: o.id });
      }
    }),
  );

  const { v: cv } = venue();
  const client = new SimExchangeClient(cv);
  cv.onBookTicker(qs[0]!);
  const C = 50_000;
  figures.push(
    await rate('client createOrder/s through the port (no latency, awaited)', C, async () => {
      for (let i = 0; i < C; i++) {
        await client.createOrder({
          symbol: SPOT,
          side: i % 2 ? 'buy' : 'sell',
          type: 'limit',
          price: i % 2 ? 50_000 : 70_000,
          amount: 0.001,
          clientOrderId: `c${n++}`,
          timeInForce: 'IOC',
        });
      }
    }),
  );
  return figures;
}
