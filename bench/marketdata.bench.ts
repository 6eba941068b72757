import { createWriteStream, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VirtualClock } from '../src/clock/clock.ts';
import { simMarket, standardSymbols } from '../src/exchange/sim/markets.ts';
import { SimVenue } from '../src/exchange/sim/venue.ts';
import { readQuotesCsv } from '../src/marketdata/csv.ts';
import { replay, VenueRouter } from '../src/marketdata/feed.ts';
import { SyntheticMarket } from '../src/marketdata/synthetic.ts';
import { type Figure, rate } from './lib.ts';

/** Write a synthetic recorded-quote CSV of `rows` rows (the benchmark's 1M-row input). */
/**
 * `rows` quotes of the synthetic market as CSV. `stepMs` sets the density: at the default 250 ms
 * the 8 instruments quote ~22 times a second in all (1M rows ≈ 12 h); 25 ms is ten times that.
 */
export async function writeSyntheticCsv(file: string, rows: number, seed = 1, stepMs = 250): Promise<void> {
  const m = new SyntheticMarket({ seed, stepMs });
  const out = createWriteStream(file);
  out.write('ts,venue,symbol,bid,bid_size,ask,ask_size\n');
  let n = 0;
  let buf = '';
  while (n < rows) {
    const e = m.next()!;
    if (e.kind !== 'quote') continue;
    buf += `${e.timestamp},${e.venue},${e.symbol},${e.bid},${e.bidSize},${e.ask},${e.askSize}\n`;
    n++;
    if (buf.length > 1 << 20) {
      if (!out.write(buf)) await new Promise<void>((r) => out.once('drain', () => r()));
      buf = '';
    }
  }
  out.write(buf);
  await new Promise<void>((r) => out.end(r));
}

/** The quotes file through a virtual clock into the synthetic market's venues, no strategy. */
export async function replayThroughVenues(file: string): Promise<void> {
  const clock = new VirtualClock(0);
  const router = new VenueRouter(
    ['binance', 'bybit'].map(
      (name) =>
        new SimVenue({
          name,
          clock,
          markets: standardSymbols(['BTC', 'ETH']).map((s) => simMarket(name, s)),
          balances: { USDT: 1e6 },
        }),
    ),
  );
  await replay(readQuotesCsv(file, { batchSize: 8192 }), clock, (e) => router.route(e));
}

export async function marketDataBench(): Promise<Figure[]> {
  const figures: Figure[] = [];
  const N = 1_000_000;
  figures.push(
    await rate(
      'synthetic market events/s (2 venues × 2 assets × spot+perp)',
      N,
      () => {
        const m = new SyntheticMarket({ seed: 1 });
        for (let i = 0; i < N; i++) m.next();
      },
      { runs: 3 },
    ),
  );

  const dir = mkdtempSync(join(tmpdir(), 'statearb-bench-'));
  const file = join(dir, 'quotes-1m.csv');
  await writeSyntheticCsv(file, N);
  figures.push(
    await rate(
      'CSV replay parse + validate rows/s (1M rows)',
      N,
      async () => {
        const r = readQuotesCsv(file, { batchSize: 8192 });
        for await (const _ of r.batches()) {
          /* parse only */
        }
      },
      { runs: 3 },
    ),
  );

  figures.push(
    await rate(
      'CSV → virtual clock → simulated venues, quotes/s (1M rows)',
      N,
      () => replayThroughVenues(file),
      { runs: 3 },
    ),
  );

  const shared = join(
    import.meta.dirname,
    '../../shared/data/bybit_spot_perp_2026-08-09/bybit_spot_perp_2026-08-09.quotes.csv',
  );
  if (existsSync(shared)) {
    const r = readQuotesCsv(shared);
    let rows = 0;
    for await (const b of r.batches()) rows += b.length;
    figures.push({
      name: 'recorded Bybit sample (shared/data): rows replayable / read',
      value: rows,
      unit: 'rows',
      runs: 1,
      spread: 0,
      note: `${r.stats.rowsRead} read, skipped ${JSON.stringify(r.stats.skipped)}`,
    });
  }
  rmSync(dir, { recursive: true, force: true }); // a 60 MB file
  return figures;
}
