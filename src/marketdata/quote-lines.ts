/**
 * The quotes CSV parsed from bytes: no line strings, no split arrays, no number substrings.
 * Canonical decimals (`-?digits[.digits]`, at most 15 significant digits) are read digit by
 * digit as an integer m and divided by 10^k — both exact in a double, and IEEE division rounds
 * correctly, so the result is bit-for-bit what Number() gives for the same text. Anything else
 * (exponents, whitespace, signs, long mantissas, empty fields) goes through Number() on the
 * decoded text, so the accepted language is exactly the string reader's. Venue and symbol are
 * interned: a row costs a string only when a new name appears.
 */
import { createReadStream } from 'node:fs';
import { access } from 'node:fs/promises';
import { CsvFormatError } from './csv-error.ts';

/** A quote row's values as parsed. */
export interface ParsedQuote {
  ts: number;
  venue: string;
  symbol: string;
  bid: number;
  bidSize: number;
  ask: number;
  askSize: number;
  /** ts, bid or ask was empty text (Number('') is 0, which must not pass as a price or a time). */
  emptyRequired: boolean;
}

const COMMA = 44;
const NL = 10;
const CR = 13;
const DOT = 46;
const MINUS = 45;
const ZERO = 48;
const POW10 = Array.from({ length: 23 }, (_, i) => 10 ** i);

/** Number() of bytes [a, b) of `buf`. */
function parseNumber(buf: Buffer, a: number, b: number): number {
  let i = a;
  let neg = false;
  if (i < b && buf[i] === MINUS) {
    neg = true;
    i++;
  }
  let m = 0;
  let digits = 0;
  let frac = -1;
  for (; i < b; i++) {
    const c = buf[i]!;
    const d = c - ZERO;
    if (d >= 0 && d <= 9) {
      m = m * 10 + d;
      if (m !== 0 || frac >= 0) digits++;
      if (frac >= 0) frac++;
    } else if (c === DOT && frac < 0) frac = 0;
    else return Number(buf.toString('utf8', a, b));
  }
  // Empty, a lone sign or dot, or too many digits to be exact: let Number() decide.
  if (i === a || (neg && i === a + 1) || digits > 15 || frac === 0) return Number(buf.toString('utf8', a, b));
  const v = frac > 0 ? m / POW10[frac]! : m;
  return neg ? -v : v;
}

/** Interned strings of byte ranges (venue and symbol names: a handful per file). */
class Interner {
  private readonly keys: Buffer[] = [];
  private readonly values: string[] = [];

  get(buf: Buffer, a: number, b: number): string {
    const len = b - a;
    outer: for (let k = 0; k < this.keys.length; k++) {
      const key = this.keys[k]!;
      if (key.length !== len) continue;
      for (let i = 0; i < len; i++) if (key[i] !== buf[a + i]) continue outer;
      return this.values[k]!;
    }
    const s = buf.toString('utf8', a, b);
    if (this.keys.length < 256) {
      this.keys.push(Buffer.from(buf.subarray(a, b)));
      this.values.push(s);
    }
    return s;
  }
}

/**
 * Stream a quotes CSV in chunks, check the header, and hand each data line to `onRow` parsed
 * (or undefined when it does not have exactly 7 fields), with its 1-based line number and a
 * function that decodes its text (for skipped rows only). The parsed object is reused for the
 * next line: `onRow` copies what it keeps.
 */
export async function* streamQuoteLines<T>(
  file: string,
  header: string,
  batchSize: number,
  chunkBytes: number | undefined,
  onRow: (q: ParsedQuote | undefined, line: number, text: () => string) => T | undefined,
): AsyncGenerator<T[]> {
  try {
    await access(file);
  } catch {
    throw new CsvFormatError(file, 0, 'file not found or not readable');
  }
  const names = new Interner();
  const stream = createReadStream(file, { highWaterMark: chunkBytes ?? 1 << 20 });
  const commas = new Int32Array(8);
  let tail: Buffer | undefined;
  let lineNo = 0;
  let sawHeader = false;
  let batch: T[] = [];
  // One parsed row and one text accessor, reused line after line (no allocation per row).
  const q: ParsedQuote = {
    ts: 0,
    venue: '',
    symbol: '',
    bid: 0,
    bidSize: 0,
    ask: 0,
    askSize: 0,
    emptyRequired: false,
  };
  const current: { buf: Buffer; a: number; b: number } = { buf: Buffer.alloc(0), a: 0, b: 0 };
  const text = () => current.buf.toString('utf8', current.a, current.b);
  const handle = (buf: Buffer, a: number, end: number): void => {
    lineNo++;
    const b = end > a && buf[end - 1] === CR ? end - 1 : end;
    if (!sawHeader) {
      const h = buf
        .toString('utf8', a, b)
        .replace(/^\uFEFF/, '')
        .trim();
      if (h !== header)
        throw new CsvFormatError(file, lineNo, `expected header "${header}", found "${h.slice(0, 120)}"`);
      sawHeader = true;
      return;
    }
    if (b === a) return;
    let n = 0;
    for (let i = a; i < b; i++) if (buf[i] === COMMA && n++ < 8) commas[n - 1] = i;
    current.buf = buf;
    current.a = a;
    current.b = b;
    let row: T | undefined;
    if (n !== 6) row = onRow(undefined, lineNo, text);
    else {
      const c0 = commas[0]!;
      const c1 = commas[1]!;
      const c2 = commas[2]!;
      const c3 = commas[3]!;
      const c4 = commas[4]!;
      const c5 = commas[5]!;
      q.ts = parseNumber(buf, a, c0);
      q.venue = names.get(buf, c0 + 1, c1);
      q.symbol = names.get(buf, c1 + 1, c2);
      q.bid = parseNumber(buf, c2 + 1, c3);
      q.bidSize = parseNumber(buf, c3 + 1, c4);
      q.ask = parseNumber(buf, c4 + 1, c5);
      q.askSize = parseNumber(buf, c5 + 1, b);
      q.emptyRequired = c0 === a || c3 === c2 + 1 || c5 === c4 + 1;
      row = onRow(q, lineNo, text);
    }
    if (row !== undefined) batch.push(row);
  };
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    const data = tail ? Buffer.concat([tail, chunk]) : chunk;
    let start = 0;
    for (;;) {
      const nl = data.indexOf(NL, start);
      if (nl < 0) break;
      handle(data, start, nl);
      start = nl + 1;
      if (batch.length >= batchSize) {
        yield batch;
        batch = [];
      }
    }
    tail = start < data.length ? Buffer.from(data.subarray(start)) : undefined;
  }
  if (tail && tail.length > 0) handle(tail, 0, tail.length);
  if (!sawHeader) throw new CsvFormatError(file, 1, `empty file; expected header "${header}"`);
  if (batch.length > 0) yield batch;
}
