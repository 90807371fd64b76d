import { sql } from 'kysely';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectDatabase, type DatabaseHandle } from '../../src/db/connect.js';
import { classifyDatabaseError, toServiceUnavailableError } from '../../src/db/errors.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { freePort } from '../support/process.js';

/** The errors pg and pg-pool really raise, from a real server, and what Merit makes of them. */
describe('database failures', () => {
  let database: TestDatabase;
  const handles: DatabaseHandle[] = [];
  const open = (options: Parameters<typeof connectDatabase>[1]) => {
    const handle = connectDatabase(database.url, options);
    handles.push(handle);
    return handle;
  };

  beforeAll(async () => {
    database = await createTestDatabase('embedded');
  });
  afterAll(async () => {
    for (const handle of handles) await handle.close().catch(() => {});
    await database?.drop();
  });

  it('gives every connection the statement, lock and idle-in-transaction timeouts', async () => {
    const handle = open({ statementTimeoutMs: 1234, lockTimeoutMs: 567, idleInTransactionTimeoutMs: 8900 });
    const { rows } = await handle.pool.query<{ statement: string; lock: string; idle: string }>(
      `SELECT current_setting('statement_timeout') AS statement, current_setting('lock_timeout') AS lock,
              current_setting('idle_in_transaction_session_timeout') AS idle`,
    );
    expect(rows[0]).toEqual({ statement: '1234ms', lock: '567ms', idle: '8900ms' });
    const defaults = await database.pool.query<{ statement: string; lock: string }>(
      `SELECT current_setting('statement_timeout') AS statement, current_setting('lock_timeout') AS lock`,
    );
    expect(defaults.rows[0]).toEqual({ statement: '30s', lock: '10s' });
  });

  it('answers "busy" when no pooled connection frees up within the acquire timeout', async () => {
    const handle = open({ maxConnections: 1, acquireTimeoutMs: 200 });
    const held = await handle.pool.connect();
    try {
      const error = await sql`SELECT 1`.execute(handle.db).catch((caught: unknown) => caught);
      expect((error as Error).message).toBe('timeout exceeded when trying to connect');
      expect(classifyDatabaseError(error)).toBe('busy');
      const answer = toServiceUnavailableError(error);
      expect(answer).toMatchObject({ code: 'service_unavailable', kind: 'busy', retryAfterSeconds: 1 });
    } finally {
      held.release();
    }
  });

  it('answers "unavailable" when the server refuses connections', async () => {
    const url = new URL(database.url);
    url.port = String(await freePort());
    const handle = connectDatabase(url.toString());
    handles.push(handle);
    const error = await sql`SELECT 1`.execute(handle.db).catch((caught: unknown) => caught);
    expect((error as NodeJS.ErrnoException).code).toBe('ECONNREFUSED');
    expect(classifyDatabaseError(error)).toBe('unavailable');
  });

  it('survives pg_terminate_backend of a connection checked out in a transaction, and calls it "unavailable"', async () => {
    const handle = open({});
    const error = await handle.db
      .transaction()
      .execute(async (trx) => {
        const { rows } = await sql<{ pid: number }>`SELECT pg_backend_pid() AS pid`.execute(trx);
        // Terminated while Kysely holds the client between two statements: pg emits 'error' on it.
        await database.pool.query('SELECT pg_terminate_backend($1)', [rows[0]?.pid]);
        await new Promise((resolve) => setTimeout(resolve, 200));
        await sql`SELECT 1`.execute(trx);
      })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(Error);
    expect(classifyDatabaseError(error)).toBe('unavailable');
    // The pool dropped the dead client and serves again.
    const { rows } = await sql<{ one: number }>`SELECT 1 AS one`.execute(handle.db);
    expect(rows).toEqual([{ one: 1 }]);
  });

  it('calls the 57P01 of a statement running when its backend is terminated "unavailable"', async () => {
    const handle = open({});
    const running = handle.pool.query('SELECT pg_sleep(5)').catch((caught: unknown) => caught);
    await waitFor(async () => {
      const { rowCount } = await database.pool.query(
        "SELECT 1 FROM pg_stat_activity WHERE query = 'SELECT pg_sleep(5)' AND state = 'active'",
      );
      return (rowCount ?? 0) > 0;
    });
    await database.pool.query(
      "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query = 'SELECT pg_sleep(5)'",
    );
    const error = (await running) as pg.DatabaseError;
    expect(error.code).toBe('57P01');
    expect(classifyDatabaseError(error)).toBe('unavailable');
  });

  it('calls a statement_timeout and a lock_timeout "timeout", but not a cancelled statement', async () => {
    const handle = open({ statementTimeoutMs: 100 });
    const slow = (await handle.pool
      .query('SELECT pg_sleep(2)')
      .catch((caught: unknown) => caught)) as pg.DatabaseError;
    expect(slow.code).toBe('57014');
    expect(classifyDatabaseError(slow)).toBe('timeout');

    const holder = await database.pool.connect();
    try {
      await holder.query('BEGIN');
      await holder.query('LOCK TABLE agents IN ACCESS EXCLUSIVE MODE');
      const locking = open({ lockTimeoutMs: 100 });
      const blocked = (await locking.pool
        .query('SELECT count(*) FROM agents')
        .catch((caught: unknown) => caught)) as pg.DatabaseError;
      expect(blocked.code).toBe('55P03');
      expect(classifyDatabaseError(blocked)).toBe('timeout');
    } finally {
      await holder.query('ROLLBACK');
      holder.release();
    }

    const other = open({});
    const cancelled = other.pool.query('SELECT pg_sleep(5)').catch((caught: unknown) => caught);
    await waitFor(async () => {
      const { rows } = await database.pool.query<{ cancelled: boolean }>(
        "SELECT bool_or(pg_cancel_backend(pid)) AS cancelled FROM pg_stat_activity WHERE query = 'SELECT pg_sleep(5)' AND state = 'active'",
      );
      return rows[0]?.cancelled === true;
    });
    const error = (await cancelled) as pg.DatabaseError;
    expect(error.code).toBe('57014');
    expect(classifyDatabaseError(error)).toBeUndefined();
  });

  it('leaves request errors alone', async () => {
    const error = await sql`SELECT * FROM no_such_table`
      .execute(database.db)
      .catch((caught: unknown) => caught);
    expect((error as pg.DatabaseError).code).toBe('42P01');
    expect(classifyDatabaseError(error)).toBeUndefined();
    expect(toServiceUnavailableError(error)).toBeUndefined();
    expect(classifyDatabaseError(new Error('boom'))).toBeUndefined();
  });
});

async function waitFor(condition: () => Promise<boolean>): Promise<void> {
  for (let attempt = 0; attempt < 100; attempt++) {
    if (await condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error('condition not met within 5 s');
}
