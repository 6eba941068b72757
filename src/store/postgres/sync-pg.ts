/**
 * A synchronous PostgreSQL connection: the `pg` client runs on a worker thread and the caller
 * blocks in `Atomics.wait` until the answer is there.
 *
 * Why blocking: the supervisor's store contract is synchronous — a snapshot or an order intent is
 * durable when the call returns, in the same tick as the transition that produced it, so no event
 * can slip between a state change and its record (SQLite gives the same with better-sqlite3). A
 * commit on a nearby PostgreSQL costs about what an fsync'd SQLite commit costs; the engine's
 * event loop waits either way. Requests are serialised, one in flight; a request that takes longer
 * than `timeoutMs` fails with an unknown outcome and the connection is replaced, so a hung server
 * never leaves two transactions interleaved on one connection.
 */
import { MessageChannel, type MessagePort, receiveMessageOnPort, Worker } from 'node:worker_threads';

export interface Step {
  sql: string;
  params?: unknown[];
  /**
   * Roll the transaction back unless the statement's row count matches. A request of one step runs
   * without BEGIN/COMMIT: give a lone step an expectation only if, when it fails, it changed nothing
   * (an UPDATE of one row by key that matched none).
   */
  expect?: { rows: 'some' | 'none' | number; code: string };
}

export type TxResult =
  | { results: { rows: Record<string, unknown>[]; rowCount: number }[] }
  | { aborted: { step: number; code: string; rows: Record<string, unknown>[] } };

/** An error PostgreSQL reported (SQLSTATE in `code`) or a lost connection (no code). */
export class PgError extends Error {
  constructor(
    message: string,
    readonly code: string | undefined,
  ) {
    super(message);
    this.name = 'PgError';
  }
}

export interface SyncPgOptions {
  /** Passed to pg.Client: connectionString, options (e.g. search_path)… */
  connection: Record<string, unknown>;
  timeoutMs?: number;
}

export class SyncPg {
  private worker!: Worker;
  private port!: MessagePort;
  private signal!: Int32Array;
  private nextId = 1;
  private readonly timeoutMs: number;
  private closed = false;

  constructor(private readonly opts: SyncPgOptions) {
    this.timeoutMs = opts.timeoutMs ?? 10_000;
    this.spawn();
  }

  private spawn(): void {
    const flag = new SharedArrayBuffer(4);
    const { port1, port2 } = new MessageChannel();
    this.signal = new Int32Array(flag);
    this.port = port1;
    this.worker = new Worker(new URL('./worker.mjs', import.meta.url), {
      workerData: { flag, port: port2, connection: this.opts.connection },
      transferList: [port2],
      // Node options of the parent (tsx's loader, vitest's) are not needed by a plain .mjs file.
      execArgv: [],
    });
    // The thread must not keep the process alive on its own.
    this.worker.unref();
    this.port.unref();
  }

  /** Run steps in one transaction (one statement without `expect` runs on its own). */
  tx(steps: Step[]): TxResult {
    if (this.closed) throw new PgError('store is closed', undefined);
    const id = this.nextId++;
    Atomics.store(this.signal, 0, 0);
    this.port.postMessage({ id, steps });
    const deadline = performance.now() + this.timeoutMs;
    if (Atomics.wait(this.signal, 0, 0, this.timeoutMs) === 'timed-out') this.abandon();
    // The worker posts the answer before it raises the flag; it is readable by now.
    type Answer = { id: number; ok?: TxResult; error?: { message: string; code?: string } };
    let m = receiveMessageOnPort(this.port)?.message as Answer | undefined;
    while (!m) {
      if (performance.now() > deadline) this.abandon();
      m = receiveMessageOnPort(this.port)?.message as Answer | undefined;
    }
    if (m.id !== id) throw new PgError(`answer ${m.id} for request ${id}`, undefined);
    if (m.error) throw new PgError(m.error.message, m.error.code);
    return m.ok!;
  }

  /** Unknown outcome: throw the connection away so a late answer cannot interleave with the next. */
  private abandon(): never {
    this.worker.terminate().catch(() => {});
    this.spawn();
    throw new PgError(`no answer from PostgreSQL within ${this.timeoutMs} ms (outcome unknown)`, undefined);
  }

  /** One statement; its rows. */
  query<T = Record<string, unknown>>(sql: string, params: unknown[] = []): T[] {
    const r = this.tx([{ sql, params }]);
    if ('aborted' in r) throw new Error('unreachable: no expectation given');
    return r.results[0]!.rows as T[];
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.worker.postMessage('close');
  }
}
