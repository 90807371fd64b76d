import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startWorker, type WorkerHandle } from '../../src/worker.js';
import { createTestApp, type TestApp, testConfig } from '../support/app.js';

async function withAdmin<T>(run: (admin: pg.Client) => Promise<T>): Promise<T> {
  const server = inject('databaseServers').find((candidate) => candidate.kind === 'embedded');
  const admin = new pg.Client({ connectionString: server?.adminUrl });
  admin.on('error', () => {});
  await admin.connect();
  try {
    return await run(admin);
  } finally {
    await admin.end();
  }
}

async function poll<T>(read: () => Promise<T | undefined>, what: string, withinMs = 60_000): Promise<T> {
  const started = Date.now();
  while (Date.now() - started < withinMs) {
    const value = await read().catch(() => undefined);
    if (value !== undefined) return value;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${what}: not within ${withinMs} ms`);
}

/**
 * graphile-worker 0.16 ends a worker for good when it cannot record a job's outcome ("committing
 * seppuku") and never replaces it: with concurrency 1 no job would ever run again, and the job would
 * stay locked for 4 hours.
 */
describe('the background worker when the database goes away mid-job', () => {
  let app: TestApp;
  let worker: WorkerHandle | undefined;
  let allowConnections: (allow: boolean) => Promise<void>;

  beforeAll(async () => {
    app = await createTestApp('embedded');
    allowConnections = (allow) =>
      withAdmin(async (admin) => {
        await admin.query(
          `ALTER DATABASE ${admin.escapeIdentifier(app.database.name)} ALLOW_CONNECTIONS ${allow}`,
        );
        if (!allow) {
          await admin.query(
            'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()',
            [app.database.name],
          );
        }
      });
  });
  afterAll(async () => {
    await allowConnections(true);
    await worker?.stop();
    await app?.close();
  });

  it('starts a new runner, re-runs the job whose outcome was lost, and runs later jobs', async () => {
    const runs: number[] = [];
    let releaseFirst: () => void = () => {};
    const firstHeld = new Promise<void>((resolve) => {
      releaseFirst = resolve;
    });
    worker = await startWorker(testConfig({ MERIT_WORKER_CONCURRENCY: '1' }), app.database, app.ctx, {
      taskList: {
        probe: async (payload) => {
          const { n } = payload as { n: number };
          runs.push(n);
          // The first run finishes while the database refuses connections, so its outcome is lost.
          if (runs.length === 1) await firstHeld;
        },
      },
    });
    await app.database.pool.query(`SELECT graphile_worker.add_job('probe', '{"n": 1}')`);
    await poll(async () => (runs.length === 1 ? true : undefined), 'the first job starts');

    await allowConnections(false);
    releaseFirst();
    // graphile-worker fails to complete the job, its only worker exits, and a new runner cannot start yet.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    await allowConnections(true);

    await poll(async () => (runs.length >= 2 ? true : undefined), 'the lost job runs again');
    await app.database.pool.query(`SELECT graphile_worker.add_job('probe', '{"n": 2}')`);
    await poll(async () => (runs.includes(2) ? true : undefined), 'a later job runs');
    const { rows } = await poll(async () => {
      const result = await app.database.pool.query(
        "SELECT id FROM graphile_worker.jobs WHERE task_identifier = 'probe'",
      );
      return result.rowCount === 0 ? result : undefined;
    }, 'every probe job completed');
    expect(rows).toEqual([]);
    expect(runs.slice(0, 2)).toEqual([1, 1]);
    expect(worker.runner).toBeDefined();
  }, 90_000);
});
