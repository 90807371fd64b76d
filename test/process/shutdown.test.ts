import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { exitWithin, freePort, type MeritProcess, runMerit } from '../support/process.js';

const USER = '00000000-0000-0000-0000-000000000001';

describe('merit start on SIGTERM', () => {
  let database: TestDatabase;
  let merit: MeritProcess | undefined;
  let holder: pg.Client | undefined;

  beforeAll(async () => {
    database = await createTestDatabase('embedded');
  });
  afterAll(async () => {
    if (merit && merit.child.exitCode === null && merit.child.signalCode === null) {
      merit.child.kill('SIGKILL');
      await merit.exited;
    }
    await holder?.query('ROLLBACK').catch(() => {});
    await holder?.end().catch(() => {});
    await database?.drop();
  });

  it('exits within its shutdown deadline while requests are stuck on a lock, saying what it waited for', async () => {
    // No PostgreSQL timeouts: the stuck requests would wait for the lock forever.
    merit = runMerit(['start'], {
      DATABASE_URL: database.url,
      PORT: String(await freePort()),
      MERIT_DB_STATEMENT_TIMEOUT_MS: '0',
      MERIT_DB_LOCK_TIMEOUT_MS: '0',
    });
    const run = merit;
    onTestFailed(() => console.log(`merit output:\n${run.output().slice(-8000)}`));
    const [, url] = await merit.waitFor(/Merit is running at (http:\/\/\S+)/);

    holder = new pg.Client({ connectionString: database.url });
    holder.on('error', () => {});
    await holder.connect();
    await holder.query('BEGIN');
    await holder.query('LOCK TABLE tasks IN ACCESS EXCLUSIVE MODE');
    const stuck = Array.from({ length: 3 }, (_, i) =>
      fetch(`${url}/api/tasks?user_id=${USER}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ agent_id: 'agent_a', command: `stuck ${i}` }),
      }).catch(() => undefined),
    );
    for (let attempt = 0; attempt < 100; attempt++) {
      const { rows } = await holder.query<{ waiting: number }>(
        "SELECT count(*)::int AS waiting FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'",
      );
      if ((rows[0]?.waiting ?? 0) >= 3) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }

    const signalled = Date.now();
    merit.child.kill('SIGTERM');
    // A generous bound: the deadline is MERIT_SHUTDOWN_TIMEOUT_MS (8 s by default).
    const code = await exitWithin(merit, 30_000);
    const stoppedMs = Date.now() - signalled;
    expect(code).toBe(1);
    // Stuck on the lock are the requests, and any background job that reads tasks meanwhile (the
    // minutely idle-task check): Merit names whichever it was still waiting for.
    expect(merit.output()).toMatch(
      /Merit did not stop within 8000 ms \(still waiting for (database connections still in use|background jobs in progress)\): exiting now\./,
    );
    await Promise.all(stuck);
    console.log(`[shutdown] SIGTERM with 3 requests stuck on a lock: exited after ${stoppedMs} ms`);
  }, 90_000);
});
