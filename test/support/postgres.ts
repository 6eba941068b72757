/**
 * PostgreSQL for tests. These tests need a server: STATEARB_TEST_PG (default
 * postgres://postgres@127.0.0.1:5432/test). Without one they are skipped with a message —
 * except in CI (CI set), where a missing server fails the run: `.ci/run` starts it.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';

export const PG_URL = process.env.STATEARB_TEST_PG ?? 'postgres://postgres@127.0.0.1:5432/test';

/** true when the server answers; throws in CI when it does not. */
export async function postgresAvailable(): Promise<boolean> {
  const c = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 3_000 });
  try {
    await c.connect();
    await c.query('SELECT 1');
    return true;
  } catch (e) {
    const why = `PostgreSQL tests need a server at ${PG_URL} (STATEARB_TEST_PG): ${(e as Error).message}`;
    if (process.env.CI) throw new Error(why);
    console.warn(`skipped: ${why}`);
    return false;
  } finally {
    await c.end().catch(() => {});
  }
}

const schemas: string[] = [];

/** A store URL in a schema of its own, dropped by dropTestSchemas(). */
export function freshSchemaUrl(prefix = 't'): string {
  const schema = `${prefix}_${randomBytes(6).toString('hex')}`;
  schemas.push(schema);
  return `${PG_URL}?schema=${schema}`;
}

export async function dropTestSchemas(): Promise<void> {
  if (schemas.length === 0) return;
  const c = new pg.Client({ connectionString: PG_URL });
  await c.connect();
  for (const s of schemas.splice(0)) await c.query(`DROP SCHEMA IF EXISTS ${s} CASCADE`);
  await c.end();
}
