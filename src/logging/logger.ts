/**
 * Structured logging with pino: JSON lines by default (for log shippers), pretty on a TTY, and
 * redaction of anything that looks like a credential wherever it appears in a log object.
 */
import { type DestinationStream, type Logger, pino } from 'pino';
import pretty from 'pino-pretty';

export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent';

export interface LoggingOptions {
  level?: LogLevel;
  /** true: human-readable; false: JSON lines; undefined: pretty when the stream is a TTY. */
  pretty?: boolean;
  /** Where the lines go (default stderr, so stdout stays free for tables and --json output). */
  destination?: DestinationStream & { isTTY?: boolean };
}

/** Key names whose values are secrets, at any depth of a logged object (matched case-insensitively). */
const SECRET_KEY =
  /(secret|passw(or)?d|passphrase|api[-_]?key|apikey|token|private[-_]?key|signature|credential|authorization)/i;

export const REDACTED = '[redacted]';

/** A copy of `value` with every secret-named key's value replaced; cycles are cut. */
export function redactSecrets(value: unknown, seen = new WeakSet<object>()): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (seen.has(value)) return '[circular]';
  seen.add(value);
  if (value instanceof Error) {
    return {
      name: value.name,
      message: redactText(value.message),
      stack: value.stack && redactText(value.stack),
    };
  }
  if (Array.isArray(value)) return value.map((v) => redactSecrets(v, seen));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = SECRET_KEY.test(k) ? REDACTED : redactSecrets(v, seen);
  return out;
}

/** Secrets pasted into a message (`apiKey=abc`, `"secret":"abc"`, `Bearer abc`) are masked too. */
export function redactText(text: string): string {
  return text
    .replace(
      /((?:secret|passw(?:or)?d|passphrase|api[-_]?key|apikey|token|private[-_]?key|signature)["']?\s*[:=]\s*["']?)[^\s"'&,}]+/gi,
      `$1${REDACTED}`,
    )
    .replace(/(Bearer\s+)[A-Za-z0-9._~+/-]+=*/g, `$1${REDACTED}`);
}

export function createLogger(opts: LoggingOptions = {}): Logger {
  const dest = opts.destination ?? (pino.destination({ fd: 2, sync: true }) as DestinationStream);
  const isTTY = opts.destination ? Boolean(opts.destination.isTTY) : Boolean(process.stderr.isTTY);
  const stream =
    (opts.pretty ?? isTTY)
      ? pretty({
          destination: dest as never,
          colorize: isTTY,
          translateTime: 'SYS:HH:MM:ss.l',
          ignore: 'pid,hostname',
          sync: true,
        })
      : dest;
  return pino(
    {
      level: opts.level ?? 'info',
      base: undefined,
      // Every object logged goes through the redactor: secrets are removed by key name at any
      // depth, which a fixed list of redaction paths could not promise.
      formatters: { log: (obj) => redactSecrets(obj) as Record<string, unknown> },
      hooks: {
        logMethod(args, method) {
          const a = args as unknown[];
          for (let i = 0; i < a.length; i++) if (typeof a[i] === 'string') a[i] = redactText(a[i] as string);
          method.apply(this, a as Parameters<typeof method>);
        },
      },
    },
    stream,
  );
}
