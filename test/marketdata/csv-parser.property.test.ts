/**
 * The byte-level quotes parser against the string reader it replaces (split + Number()), on
 * random files mixing good rows with every kind of damage: the same events, bit for bit, and the
 * same statistics and examples, with files cut into small chunks at random byte positions.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { QUOTES_HEADER, readQuotesCsv, readQuotesCsvReference } from '../../src/marketdata/csv.ts';

const dir = mkdtempSync(join(tmpdir(), 'statearb-csvprop-'));
const RUNS = Number(process.env.PROPERTY_RUNS ?? 300);
let files = 0;

/** Numbers as recorders write them, and as they should not. */
const decimal = fc.oneof(
  {
    weight: 6,
    arbitrary: fc
      .tuple(fc.double({ min: 1e-9, max: 1e7, noNaN: true }), fc.integer({ min: 0, max: 12 }))
      .map(([x, k]) => x.toFixed(k)),
  },
  { weight: 2, arbitrary: fc.double({ noNaN: false }).map(String) },
  { weight: 2, arbitrary: fc.bigInt({ min: 0n, max: 10n ** 20n }).map(String) },
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      '',
      '-',
      '.',
      '1.',
      '.5',
      '-.5',
      '-0',
      '0',
      '00012.50',
      '+5',
      ' 5',
      '5 ',
      '1e5',
      '1E-3',
      '0x10',
      'Infinity',
      '-Infinity',
      'NaN',
      '1.2.3',
      '1,5',
      '\u00a05',
      '５',
      '12345678901234567',
      '0.000000000000000000123',
      '9007199254740993',
      '1_000',
    ),
  },
);
const timestamp = fc.oneof(
  fc.integer({ min: 1_700_000_000_000, max: 1_800_000_000_000 }).map(String),
  decimal,
);
const venue = fc.constantFrom('binance', 'bybit', '', 'okx', 'ünï', 'b i');
const symbol = fc.constantFrom(
  'BTC/USDT',
  'ETH/USDT:USDT',
  'BTC/USDT:USDT-261225',
  'btc/usdt',
  'BTC-USDT',
  '',
  'ÉTH/USDT',
);
const row = fc.oneof(
  {
    weight: 8,
    arbitrary: fc.tuple(timestamp, venue, symbol, decimal, decimal, decimal, decimal).map((f) => f.join(',')),
  },
  { weight: 1, arbitrary: fc.array(decimal, { minLength: 0, maxLength: 9 }).map((f) => f.join(',')) },
  {
    weight: 1,
    arbitrary: fc.constantFrom('', '\r', ',,,,,,', 'garbage', '1,binance,BTC/USDT,1,1,2,1,extra'),
  },
);
const file = fc.record({
  bom: fc.boolean(),
  crlf: fc.boolean(),
  rows: fc.array(row, { maxLength: 60 }),
  finalNewline: fc.boolean(),
  chunkBytes: fc.integer({ min: 1, max: 300 }),
});

async function collect(r: ReturnType<typeof readQuotesCsv>) {
  const events = [];
  for await (const b of r.batches()) events.push(...b.map((e) => ({ ...e })));
  return { events, stats: r.stats };
}

describe('byte-level quotes parser', () => {
  it(`equals the string reader on random good and damaged files (${RUNS} runs)`, async () => {
    await fc.assert(
      fc.asyncProperty(file, async (f) => {
        const eol = f.crlf ? '\r\n' : '\n';
        const text = `${f.bom ? '\uFEFF' : ''}${QUOTES_HEADER}${eol}${f.rows.join(eol)}${f.finalNewline ? eol : ''}`;
        const path = join(dir, `f${files++}.csv`);
        writeFileSync(path, text);
        const fast = await collect(readQuotesCsv(path, { chunkBytes: f.chunkBytes, batchSize: 7 }));
        const ref = await collect(readQuotesCsvReference(path, { chunkBytes: f.chunkBytes, batchSize: 7 }));
        expect(fast.stats).toEqual(ref.stats);
        expect(fast.events.length).toBe(ref.events.length);
        fast.events.forEach((e, i) => {
          const r = ref.events[i]!;
          expect(e).toEqual(r);
          // bit for bit, -0 included
          for (const k of ['bid', 'bidSize', 'ask', 'askSize', 'timestamp'] as const)
            expect(Object.is(e[k], r[k])).toBe(true);
        });
      }),
      { numRuns: RUNS },
    );
  }, 120_000);
});
