import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CsvFormatError, csvReplaySource, readQuotesCsv } from '../../src/marketdata/csv.ts';
import type { MarketEvent } from '../../src/marketdata/events.ts';

const dir = mkdtempSync(join(tmpdir(), 'statearb-csv-'));
function file(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

async function collect(it: AsyncIterable<MarketEvent[]>): Promise<MarketEvent[]> {
  const out: MarketEvent[] = [];
  for await (const b of it) out.push(...b);
  return out;
}

describe('recorded-quote CSV replay', () => {
  it('emits good rows and counts every bad row by reason', async () => {
    const p = file(
      'q.csv',
      [
        'ts,venue,symbol,bid,bid_size,ask,ask_size',
        '1000,binance,BTC/USDT,100,1,101,2',
        '1001,binance,BTC/USDT,abc,1,101,2', // unparsable
        '1002,binance,BTC/USDT,101,1,101,2', // locked
        '1003,binance,BTC/USDT,102,1,101,2', // crossed
        '1004,binance,BTCUSDT,100,1,101,2', // symbol
        '1005,binance,BTC/USDT,100,1', // columns
        '999,binance,BTC/USDT,100,1,101,2', // out of order
        '1006,binance,BTC/USDT,-1,1,101,2', // price
        '1007,binance,BTC/USDT,100,-1,101,2', // size
        '1008,bybit,BTC/USDT:USDT,100.5,3,100.6,4\r',
        '',
      ].join('\n'),
    );
    const r = readQuotesCsv(p);
    const events = await collect(r.batches());
    expect(events.map((e) => e.timestamp)).toEqual([1000, 1008]);
    expect(events[1]).toEqual({
      kind: 'quote',
      venue: 'bybit',
      symbol: 'BTC/USDT:USDT',
      bid: 100.5,
      bidSize: 3,
      ask: 100.6,
      askSize: 4,
      timestamp: 1008,
    });
    expect(r.stats.rowsRead).toBe(10);
    expect(r.stats.rowsEmitted).toBe(2);
    expect(r.stats.skipped).toEqual({
      'unparsable number': 1,
      'crossed book': 2,
      'invalid symbol': 1,
      'wrong column count': 1,
      'out of order': 1,
      'non-positive price': 1,
      'negative size': 1,
    });
    expect(r.stats.examples[0]).toMatchObject({ line: 3, reason: 'unparsable number' });
  });

  it('names the file and the reason for a wrong header or a missing file', async () => {
    const p = file('bad.csv', 'time,venue,symbol\n1,a,b\n');
    await expect(collect(readQuotesCsv(p).batches())).rejects.toThrow(CsvFormatError);
    await expect(collect(readQuotesCsv(p).batches())).rejects.toThrow(/bad\.csv:1: expected header/);
    await expect(collect(readQuotesCsv(join(dir, 'nope.csv')).batches())).rejects.toThrow(
      /nope\.csv.*not found/,
    );
  });

  it('streams a large file in batches and filters by time range', async () => {
    const lines = ['ts,venue,symbol,bid,bid_size,ask,ask_size'];
    for (let i = 0; i < 50_000; i++) lines.push(`${i},sim,ETH/USDT,${1000 + (i % 7)},1,${1001 + (i % 7)},1`);
    const p = file('big.csv', lines.join('\n'));
    const r = readQuotesCsv(p, { from: 10_000, to: 19_999, batchSize: 1000 });
    let batches = 0;
    let n = 0;
    for await (const b of r.batches()) {
      batches++;
      n += b.length;
    }
    expect(n).toBe(10_000);
    expect(batches).toBeGreaterThan(5);
    expect(r.stats.rowsOutsideRange).toBe(40_000);
  });

  it('merges funding rows into the quote stream in time order', async () => {
    const q = file(
      'm.csv',
      'ts,venue,symbol,bid,bid_size,ask,ask_size\n1,b,BTC/USDT:USDT,1,1,2,1\n5,b,BTC/USDT:USDT,1,1,2,1\n9,b,BTC/USDT:USDT,1,1,2,1\n',
    );
    const f = file(
      'f.csv',
      'ts,venue,symbol,rate,next_funding_ts\n5,b,BTC/USDT:USDT,0.0001,28800000\n7,b,BTC/USDT:USDT,0.0002,28800000\n',
    );
    const src = csvReplaySource(q, f);
    const events = await collect(src.batches());
    expect(events.map((e) => `${e.kind}@${e.timestamp}`)).toEqual([
      'quote@1',
      'quote@5',
      'funding@5',
      'funding@7',
      'quote@9',
    ]);
    expect(src.stats.map((s) => s.rowsEmitted)).toEqual([3, 2]);
  });
});
