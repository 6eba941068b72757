// The PostgreSQL connection of a SyncPg, on its own thread. Plain JavaScript so it runs under any
// loader (tsx, vitest, plain node). It runs one request at a time: the calling thread is blocked
// in Atomics.wait until `flag` is set, so there is never more than one request in flight.
//
// A request is a transaction: steps of { sql, params, expect }. A step whose row count breaks its
// `expect` ({ rows: 'some' | 'none' | n, code }) rolls the whole transaction back and the answer
// names the step and code — the caller's check-then-write logic stays in one transaction without
// the SQL living here.
import { parentPort, workerData } from 'node:worker_threads';
import pg from 'pg';

const { flag, port, connection } = workerData;
const signal = new Int32Array(flag);
let client;
let broken = false;

async function connect() {
  client = new pg.Client(connection);
  // An idle connection killed by the server or the network must not crash the thread: the next
  // request reconnects.
  client.on('error', () => {
    broken = true;
  });
  await client.connect();
  broken = false;
}

function expected(expect, rowCount) {
  if (!expect) return true;
  if (expect.rows === 'some') return rowCount > 0;
  if (expect.rows === 'none') return rowCount === 0;
  return rowCount === expect.rows;
}

async function run(req) {
  if (!client || broken) {
    if (client) client.end().catch(() => {});
    await connect();
  }
  if (req.steps.length === 1) {
    // One statement is its own transaction (one round trip instead of three). The caller only
    // puts an expectation on a lone statement whose failing it means it changed nothing.
    const step = req.steps[0];
    const r = await client.query(step.sql, step.params);
    const rowCount = r.rowCount ?? 0;
    if (!expected(step.expect, rowCount))
      return { aborted: { step: 0, code: step.expect.code, rows: r.rows } };
    return { results: [{ rows: r.rows, rowCount }] };
  }
  await client.query('BEGIN');
  try {
    const results = [];
    for (let i = 0; i < req.steps.length; i++) {
      const step = req.steps[i];
      const r = await client.query(step.sql, step.params);
      const rowCount = r.rowCount ?? 0;
      if (!expected(step.expect, rowCount)) {
        await client.query('ROLLBACK');
        return { aborted: { step: i, code: step.expect.code, rows: r.rows } };
      }
      results.push({ rows: r.rows, rowCount });
    }
    await client.query('COMMIT');
    return { results };
  } catch (e) {
    await client.query('ROLLBACK').catch(() => {
      broken = true;
    });
    throw e;
  }
}

// A transaction PostgreSQL aborted to break a deadlock or a serialization conflict was rolled
// back whole, so running it again is safe; anything else goes to the caller.
const RETRYABLE = new Set(['40P01', '40001']);
const ATTEMPTS = 3;

async function runRetrying(req) {
  for (let attempt = 1; ; attempt++) {
    try {
      return await run(req);
    } catch (e) {
      if (!RETRYABLE.has(e?.code) || attempt >= ATTEMPTS) throw e;
    }
  }
}

port.on('message', async (req) => {
  let answer;
  try {
    answer = { id: req.id, ok: await runRetrying(req) };
  } catch (e) {
    answer = { id: req.id, error: { message: e?.message ?? String(e), code: e?.code, name: e?.name } };
    if (e?.code === undefined) broken = true; // a connection error, not an SQL one
  }
  port.postMessage(answer);
  Atomics.store(signal, 0, 1);
  Atomics.notify(signal, 0);
});

parentPort?.on('message', (m) => {
  if (m === 'close') {
    const done = () => process.exit(0);
    if (client) client.end().then(done, done);
    else done();
  }
});
