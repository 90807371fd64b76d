import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WorkerLiveness } from '../../src/db/worker-liveness.js';
import { WORKER_ALIVE_LOCK } from '../../src/db/worker-locks.queries.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';

/** A real client that records how many of its queries were in flight at once. */
class OverlapRecordingClient extends pg.Client {
  inFlight = 0;
  mostInFlight = 0;

  override query(...args: any[]): any {
    this.inFlight++;
    this.mostInFlight = Math.max(this.mostInFlight, this.inFlight);
    // pg's query has many overloads; this passes them all through.
    const result = (super.query as (...a: any[]) => any)(...args);
    if (result instanceof Promise) void result.finally(() => this.inFlight--).catch(() => {});
    else this.inFlight--;
    return result;
  }
}

describe('worker liveness locks (embedded PostgreSQL)', () => {
  let database: TestDatabase;

  beforeAll(async () => {
    database = await createTestDatabase('embedded');
  });
  afterAll(async () => {
    await database?.drop();
  });

  async function aliveLocks(): Promise<number> {
    const { rows } = await database.pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM pg_locks
       WHERE locktype = 'advisory' AND granted AND classid::bigint = $1
         AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
      [WORKER_ALIVE_LOCK],
    );
    return rows[0]?.n ?? 0;
  }

  it('locks the lanes started together one query at a time on its one connection, and drops them all on release', async () => {
    let client: OverlapRecordingClient | undefined;
    const liveness = await WorkerLiveness.open(
      {
        createClient: () => {
          client = new OverlapRecordingClient({ connectionString: database.url });
          client.on('error', () => {});
          return client;
        },
      },
      () => {},
    );
    // graphile-worker starts the commands lane and the evaluations lane at once.
    await Promise.all([
      liveness.markAlive('worker-commands'),
      liveness.markAlive('worker-evaluations'),
      liveness.markAlive('worker-arena'),
    ]);
    expect(await aliveLocks()).toBe(3);
    await Promise.all([liveness.markGone('worker-arena'), liveness.markAlive('worker-late')]);
    expect(await aliveLocks()).toBe(3);
    expect(client?.mostInFlight).toBe(1);
    await liveness.release();
    await expect.poll(aliveLocks).toBe(0);
  });
});
