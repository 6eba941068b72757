/**
 * The funding file's semantics: each row is the rate that settles at `next_funding_ts`. A file
 * of published rates and one converted row by row from a venue's settlement history (a row at
 * 08:00 carrying the rate settled at 08:00) must pay the same money at the same settlements.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../src/clock/clock.ts';
import { simMarket } from '../../src/exchange/sim/markets.ts';
import { SimVenue } from '../../src/exchange/sim/venue.ts';
import { csvReplaySource, FUNDING_HEADER, QUOTES_HEADER } from '../../src/marketdata/csv.ts';
import { replay, VenueRouter } from '../../src/marketdata/feed.ts';

const PERP = 'BTC/USDT:USDT';
const H = 3_600_000;
const T0 = Date.UTC(2026, 0, 1, 0, 0);

/** Settled rates of the 00:00, 08:00 and 16:00 settlements: the sign flips at 08:00. */
const SETTLED = [
  [T0, 0.0003],
  [T0 + 8 * H, -0.0005],
  [T0 + 16 * H, 0.0002],
] as const;

async function paymentsFor(fundingRows: string[]): Promise<{ timestamp: number; rate: number }[]> {
  const dir = mkdtempSync(join(tmpdir(), 'funding-'));
  const quotes = [QUOTES_HEADER];
  for (let t = T0 - H; t <= T0 + 17 * H; t += H / 4) quotes.push(`${t},sim,${PERP},59999.9,5,60000.1,5`);
  writeFileSync(join(dir, 'q.csv'), `${quotes.join('\n')}\n`);
  writeFileSync(join(dir, 'f.csv'), `${[FUNDING_HEADER, ...fundingRows].join('\n')}\n`);
  const clock = new VirtualClock(T0 - H - 1);
  const sim = new SimVenue({
    name: 'sim',
    clock,
    markets: [simMarket('sim', PERP)],
    balances: { USDT: 100_000 },
  });
  const router = new VenueRouter([sim]);
  let opened = false;
  await replay(csvReplaySource(join(dir, 'q.csv'), join(dir, 'f.csv')), clock, (e) => {
    router.route(e);
    if (!opened && e.kind === 'quote') {
      opened = true;
      sim.placeOrder({ clientOrderId: 'long', symbol: PERP, side: 'buy', type: 'market', amount: 1 });
    }
  });
  return sim.fundingPayments(PERP).map((p) => ({ timestamp: p.timestamp, rate: p.rate }));
}

describe('funding files', () => {
  const expected = SETTLED.map(([ts, rate]) => ({ timestamp: ts, rate }));

  it('published rates: each row, seen before its settlement, is paid at next_funding_ts', async () => {
    // Published an hour before each settlement (the venue's predicted rate at that point).
    const rows = SETTLED.map(([ts, rate]) => `${ts - H},sim,${PERP},${rate},${ts}`);
    expect(await paymentsFor(rows)).toEqual(expected);
  });

  it('settled rates (next_funding_ts = ts): the rate settled at 08:00 is paid at 08:00, not at 16:00', async () => {
    const rows = SETTLED.map(([ts, rate]) => `${ts},sim,${PERP},${rate},${ts}`);
    expect(await paymentsFor(rows)).toEqual(expected);
  });

  it('a row whose settlement is before the row itself is refused, counted by reason', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'funding-'));
    writeFileSync(join(dir, 'q.csv'), `${QUOTES_HEADER}\n${T0},sim,${PERP},59999.9,5,60000.1,5\n`);
    writeFileSync(join(dir, 'f.csv'), `${FUNDING_HEADER}\n${T0},sim,${PERP},0.0001,${T0 - 8 * H}\n`);
    const src = csvReplaySource(join(dir, 'q.csv'), join(dir, 'f.csv'));
    await replay(src, new VirtualClock(T0 - 1), () => {});
    expect(src.stats[1]!.skipped).toEqual({ 'settlement before the row': 1 });
  });
});
