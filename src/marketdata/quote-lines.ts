/**
 * The quotes CSV parsed from bytes: no line strings, no split arrays, no number substrings, and
 * one pass over each line's bytes (a field's reader also finds its comma).
 * Canonical decimals (`-?digits[.digits]`, at most 15 digits) are read digit by
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
const NINE = 57;
const POW10 = Array.from({ length: 23 }, (_, i) => 10 ** i);

/**
 * Where the field read last ended (the index of its comma, or the line's end). The field readers
 * return their value and leave the end here: one pass over the line's bytes, no allocation.
 */
let fieldEnd = 0;

/** The end of the field starting at `i`: the next comma before `end`, or `end`. */
function skipField(buf: Buffer, i: number, end: number): number {
  while (i < end && buf[i] !== COMMA) i++;
  return i;
}

/** Number() of the field starting at `a` (up to the next comma or `end`); sets fieldEnd. */
function numberField(buf: Buffer, a: number, end: number): number {
  let i = a;
  const neg = i < end && buf[i] === MINUS;
  if (neg) i++;
  const digitsFrom = i;
  let m = 0;
  let dot = -1;
  for (; i < end; i++) {
    const c = buf[i]!;
    if (c >= ZERO && c <= NINE) m = m * 10 + (c - ZERO);
    else if (c === COMMA) break;
    else if (c === DOT && dot < 0) dot = i;
    else {
      fieldEnd = skipField(buf, i, end);
      return Number(buf.toString('utf8', a, fieldEnd));
    }
  }
  fieldEnd = i;
  // No digit, or more digits than a double holds exactly: let Number() decide.
  const digits = i - digitsFrom - (dot < 0 ? 0 : 1);
  if (digits === 0 || digits > 15) return Number(buf.toString('utf8', a, i));
  const v = dot < 0 ? m : m / POW10[i - dot - 1]!;
  return neg ? -v : v;
}

/**
 * Interned strings of fields (venue and symbol names: a handful per file), found by a hash of
 * their bytes taken while looking for the comma, and confirmed byte by byte.
 */
class Interner {
  private readonly byHash = new Map<number, { key: Buffer; value: string }[]>();
  private size = 0;

  /** The string of the field starting at `a` (up to the next comma or `end`); sets fieldEnd. */
  field(buf: Buffer, a: number, end: number): string {
    let h = 0;
    let i = a;
    for (; i < end; i++) {
      const c = buf[i]!;
      if (c === COMMA) break;
      h = (Math.imul(h, 31) + c) | 0;
    }
    fieldEnd = i;
    const len = i - a;
    const bucket = this.byHash.get(h);
    if (bucket !== undefined)
      outer: for (let k = 0; k < bucket.length; k++) {
        const key = bucket[k]!.key;
        if (key.length !== len) continue;
        for (let j = 0; j < len; j++) if (key[j] !== buf[a + j]) continue outer;
        return bucket[k]!.value;
      }
    const value = buf.toString('utf8', a, i);
    if (this.size < 256) {
      this.size++;
      const entry = { key: Buffer.from(buf.subarray(a, i)), value };
      if (bucket) bucket.push(entry);
      else this.byHash.set(h, [entry]);
    }
    return value;
  }
}

/**
 * The seven fields of the line [a, b) into `q`, in one pass; false when the line does not have
 * exactly seven (each of the first six must end at a comma, the last at the line's end).
 */
function readRow(buf: Buffer, a: number, b: number, q: ParsedQuote, names: Interner): boolean {
  q.ts = numberField(buf, a, b);
  const tsEnd = fieldEnd;
  if (tsEnd === b) return false;
  q.venue = names.field(buf, tsEnd + 1, b);
  if (fieldEnd === b) return false;
  q.symbol = names.field(buf, fieldEnd + 1, b);
  if (fieldEnd === b) return false;
  const bidAt = fieldEnd + 1;
  q.bid = numberField(buf, bidAt, b);
  const bidEnd = fieldEnd;
  if (bidEnd === b) return false;
  q.bidSize = numberField(buf, bidEnd + 1, b);
  if (fieldEnd === b) return false;
  const askAt = fieldEnd + 1;
  q.ask = numberField(buf, askAt, b);
  const askEnd = fieldEnd;
  if (askEnd === b) return false;
  q.askSize = numberField(buf, askEnd + 1, b);
  if (fieldEnd !== b) return false;
  q.emptyRequired = tsEnd === a || bidEnd === bidAt || askEnd === askAt;
  return true;
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
    current.buf = buf;
    current.a = a;
    current.b = b;
    const row = readRow(buf, a, b, q, names) ? onRow(q, lineNo, text) : onRow(undefined, lineNo, text);
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
