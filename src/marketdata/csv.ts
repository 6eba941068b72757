import { createReadStream } from 'node:fs';
import { access } from 'node:fs/promises';
import { parseSymbol } from '../domain/index.ts';
import { CsvFormatError } from './csv-error.ts';
import type { FundingEvent, MarketDataSource, MarketEvent, QuoteEvent } from './events.ts';
import { type ParsedQuote, streamQuoteLines } from './quote-lines.ts';

export { CsvFormatError };

export const QUOTES_HEADER = 'ts,venue,symbol,bid,bid_size,ask,ask_size';
export const FUNDING_HEADER = 'ts,venue,symbol,rate,next_funding_ts';

export type SkipReason =
  | 'wrong column count'
  | 'unparsable number'
  | 'invalid symbol'
  | 'non-positive price'
  | 'negative size'
  | 'crossed book'
  | 'out of order'
  | 'settlement before the row';

export interface ReplayStats {
  file: string;
  rowsRead: number;
  rowsEmitted: number;
  /** Rows before `from` or after `to`; not errors. */
  rowsOutsideRange: number;
  skipped: Partial<Record<SkipReason, number>>;
  /** The first few skipped rows, so a report can show where the file is bad. */
  examples: { line: number; reason: SkipReason; text: string }[];
}

export interface ReplayOptions {
  from?: number;
  to?: number;
  batchSize?: number;
  /** Bytes read per chunk (default 1 MiB); tests make it small to cut lines and characters apart. */
  chunkBytes?: number;
}

function newStats(file: string): ReplayStats {
  return { file, rowsRead: 0, rowsEmitted: 0, rowsOutsideRange: 0, skipped: {}, examples: [] };
}

function skip(stats: ReplayStats, reason: SkipReason, line: number, text: string): void {
  stats.skipped[reason] = (stats.skipped[reason] ?? 0) + 1;
  if (stats.examples.length < 10) stats.examples.push({ line, reason, text: text.slice(0, 200) });
}

/**
 * Stream a CSV file line by line in chunks (never the whole file in memory), checking the
 * header and handing each data line with its 1-based line number to `onRow`.
 */
async function* streamRows<T>(
  file: string,
  header: string,
  batchSize: number,
  chunkBytes: number | undefined,
  onRow: (fields: string[], line: number, text: string) => T | undefined,
): AsyncGenerator<T[]> {
  try {
    await access(file);
  } catch {
    throw new CsvFormatError(file, 0, 'file not found or not readable');
  }
  const stream = createReadStream(file, { encoding: 'utf8', highWaterMark: chunkBytes ?? 1 << 20 });
  let tail = '';
  let lineNo = 0;
  let batch: T[] = [];
  let sawHeader = false;
  const handle = (raw: string): void => {
    lineNo++;
    const text = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (!sawHeader) {
      const h = text.replace(/^\uFEFF/, '').trim();
      if (h !== header)
        throw new CsvFormatError(file, lineNo, `expected header "${header}", found "${h.slice(0, 120)}"`);
      sawHeader = true;
      return;
    }
    if (text.length === 0) return;
    const row = onRow(text.split(','), lineNo, text);
    if (row !== undefined) batch.push(row);
  };
  for await (const chunk of stream as AsyncIterable<string>) {
    const data = tail + chunk;
    let start = 0;
    for (;;) {
      const nl = data.indexOf('\n', start);
      if (nl < 0) break;
      handle(data.slice(start, nl));
      start = nl + 1;
      if (batch.length >= batchSize) {
        yield batch;
        batch = [];
      }
    }
    tail = data.slice(start);
  }
  if (tail.length > 0) handle(tail);
  if (!sawHeader) throw new CsvFormatError(file, 1, `empty file; expected header "${header}"`);
  if (batch.length > 0) yield batch;
}

const symbolOk = new Map<string, boolean>();
function validSymbol(s: string): boolean {
  let ok = symbolOk.get(s);
  if (ok === undefined) {
    try {
      parseSymbol(s);
      ok = true;
    } catch {
      ok = false;
    }
    if (symbolOk.size < 10_000) symbolOk.set(s, ok);
  }
  return ok;
}

/**
 * The checks every row type shares once its own fields passed: timestamps must not go
 * backwards (skipped and counted), rows outside [from, to] are counted but not errors.
 * Returns whether the row is emitted.
 */
function timeGate(
  stats: ReplayStats,
  opts: ReplayOptions,
): (ts: number, line: number, text: () => string) => boolean {
  let lastTs = Number.NEGATIVE_INFINITY;
  const from = opts.from ?? Number.NEGATIVE_INFINITY;
  const to = opts.to ?? Number.POSITIVE_INFINITY;
  return (ts, line, text) => {
    if (ts < lastTs) {
      skip(stats, 'out of order', line, text());
      return false;
    }
    lastTs = ts;
    if (ts < from || ts > to) {
      stats.rowsOutsideRange++;
      return false;
    }
    stats.rowsEmitted++;
    return true;
  };
}

/** The row rules, the same whichever parser produced the values. */
function quoteSkipReason(q: ParsedQuote): SkipReason | undefined {
  if (
    q.emptyRequired ||
    !Number.isFinite(q.ts) ||
    !Number.isFinite(q.bid) ||
    !Number.isFinite(q.bidSize) ||
    !Number.isFinite(q.ask) ||
    !Number.isFinite(q.askSize)
  )
    return 'unparsable number';
  if (q.venue === '' || !validSymbol(q.symbol)) return 'invalid symbol';
  if (q.bid <= 0 || q.ask <= 0) return 'non-positive price';
  if (q.bidSize < 0 || q.askSize < 0) return 'negative size';
  if (q.bid >= q.ask) return 'crossed book';
  return undefined;
}

/**
 * One quote row, parsed by either reader (undefined: not 7 fields), through the row rules and
 * the time gate into an event, or counted in `stats` and dropped.
 */
function quoteRowHandler(stats: ReplayStats, opts: ReplayOptions) {
  const admit = timeGate(stats, opts);
  return (q: ParsedQuote | undefined, line: number, text: () => string): QuoteEvent | undefined => {
    stats.rowsRead++;
    if (q === undefined) return void skip(stats, 'wrong column count', line, text());
    const reason = quoteSkipReason(q);
    if (reason) return void skip(stats, reason, line, text());
    if (!admit(q.ts, line, text)) return undefined;
    return {
      kind: 'quote',
      venue: q.venue,
      symbol: q.symbol,
      bid: q.bid,
      bidSize: q.bidSize,
      ask: q.ask,
      askSize: q.askSize,
      timestamp: q.ts,
    };
  };
}

/**
 * Replay recorded quotes (`ts,venue,symbol,bid,bid_size,ask,ask_size`). Bad rows are counted
 * by reason in `stats` and never emitted: unparsable, wrong column count, crossed or locked
 * book, non-positive prices, negative sizes, timestamps going backwards. Parsed from bytes
 * (see quote-lines.ts): CSV parsing was most of a backtest's cost without strategies.
 */
export function readQuotesCsv(
  file: string,
  opts: ReplayOptions = {},
): { stats: ReplayStats; batches(): AsyncGenerator<QuoteEvent[]> } {
  const stats = newStats(file);
  const row = quoteRowHandler(stats, opts);
  return {
    stats,
    batches: () => streamQuoteLines(file, QUOTES_HEADER, opts.batchSize ?? 4096, opts.chunkBytes, row),
  };
}

/**
 * The same reader on split strings and Number(): the specification the byte parser is checked
 * against (test/marketdata/csv-parser.property.test.ts).
 */
export function readQuotesCsvReference(
  file: string,
  opts: ReplayOptions = {},
): { stats: ReplayStats; batches(): AsyncGenerator<QuoteEvent[]> } {
  const stats = newStats(file);
  const row = quoteRowHandler(stats, opts);
  const parse = (f: string[]): ParsedQuote | undefined =>
    f.length !== 7
      ? undefined
      : {
          ts: Number(f[0]),
          venue: f[1]!,
          symbol: f[2]!,
          bid: Number(f[3]),
          bidSize: Number(f[4]),
          ask: Number(f[5]),
          askSize: Number(f[6]),
          emptyRequired: f[0] === '' || f[3] === '' || f[5] === '',
        };
  return {
    stats,
    batches: () =>
      streamRows(file, QUOTES_HEADER, opts.batchSize ?? 4096, opts.chunkBytes, (f, line, text) =>
        row(parse(f), line, () => text),
      ),
  };
}

/**
 * Replay recorded funding rates (`ts,venue,symbol,rate,next_funding_ts`): each row is the rate
 * that settles at `next_funding_ts`, as known at `ts`. Two kinds of file are therefore one:
 * - published rates (a venue's premium index / predicted rate feed): `ts` before
 *   `next_funding_ts`, the venue pays `rate` at `next_funding_ts`;
 * - settled rates (a venue's funding history, converted row by row): `next_funding_ts` equal to
 *   `ts`, the rate that settled at `ts` — made known 1 ms before it, so the settlement at `ts`
 *   pays it (not the one before).
 */
export function readFundingCsv(
  file: string,
  opts: ReplayOptions = {},
): { stats: ReplayStats; batches(): AsyncGenerator<FundingEvent[]> } {
  const stats = newStats(file);
  const admit = timeGate(stats, opts);
  return {
    stats,
    batches: () =>
      streamRows<FundingEvent>(
        file,
        FUNDING_HEADER,
        opts.batchSize ?? 4096,
        opts.chunkBytes,
        (f, line, text) => {
          stats.rowsRead++;
          if (f.length !== 5) return void skip(stats, 'wrong column count', line, text);
          const ts = Number(f[0]);
          const rate = Number(f[3]);
          const next = Number(f[4]);
          if (
            f[0] === '' ||
            f[3] === '' ||
            !Number.isFinite(ts) ||
            !Number.isFinite(rate) ||
            !Number.isFinite(next)
          )
            return void skip(stats, 'unparsable number', line, text);
          const venue = f[1]!;
          const symbol = f[2]!;
          if (venue === '' || !validSymbol(symbol)) return void skip(stats, 'invalid symbol', line, text);
          if (next < ts) return void skip(stats, 'settlement before the row', line, text);
          if (!admit(ts, line, () => text)) return undefined;
          return {
            kind: 'funding',
            venue,
            symbol,
            rate,
            nextFundingTimestamp: next,
            intervalMs: 0,
            // A settled row must be known before its settlement fires at `ts`.
            timestamp: next === ts ? ts - 1 : ts,
          };
        },
      ),
  };
}

/**
 * Merge two time-ordered batch streams into one (ties: the first stream first). Used to
 * interleave funding rows with quotes.
 */
export async function* mergeByTime<A extends MarketEvent, B extends MarketEvent>(
  a: AsyncIterable<A[]>,
  b: AsyncIterable<B[]>,
  batchSize = 4096,
): AsyncGenerator<MarketEvent[]> {
  const ia = a[Symbol.asyncIterator]();
  const ib = b[Symbol.asyncIterator]();
  let ba: A[] = [];
  let bb: B[] = [];
  let pa = 0;
  let pb = 0;
  let doneA = false;
  let doneB = false;
  let out: MarketEvent[] = [];
  for (;;) {
    if (pa >= ba.length && !doneA) {
      const r = await ia.next();
      if (r.done) doneA = true;
      else {
        ba = r.value;
        pa = 0;
      }
    }
    if (pb >= bb.length && !doneB) {
      const r = await ib.next();
      if (r.done) doneB = true;
      else {
        bb = r.value;
        pb = 0;
      }
    }
    const hasA = pa < ba.length;
    const hasB = pb < bb.length;
    if (!hasA && !hasB) break;
    // Take from whichever is earlier until one batch runs dry.
    while (pa < ba.length && pb < bb.length) {
      if (ba[pa]!.timestamp <= bb[pb]!.timestamp) out.push(ba[pa++]!);
      else out.push(bb[pb++]!);
    }
    if (doneB) while (pa < ba.length) out.push(ba[pa++]!);
    if (doneA) while (pb < bb.length) out.push(bb[pb++]!);
    if (out.length >= batchSize) {
      yield out;
      out = [];
    }
  }
  if (out.length > 0) yield out;
}

/** The recorded-quote replay as a MarketDataSource, optionally with a funding file. */
export function csvReplaySource(
  quotesFile: string,
  fundingFile?: string,
  opts: ReplayOptions = {},
): MarketDataSource & { stats: ReplayStats[] } {
  const q = readQuotesCsv(quotesFile, opts);
  const f = fundingFile ? readFundingCsv(fundingFile, opts) : undefined;
  return {
    stats: f ? [q.stats, f.stats] : [q.stats],
    batches: () => (f ? mergeByTime(q.batches(), f.batches(), opts.batchSize) : q.batches()),
  };
}
