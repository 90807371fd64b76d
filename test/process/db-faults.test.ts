import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it, onTestFailed } from 'vitest';
import { WORKER_ALIVE_LOCK } from '../../src/db/worker-locks.queries.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { freePort, type MeritProcess, runMerit, waitForHealth } from '../support/process.js';

const USER = '00000000-0000-0000-0000-000000000001';
const FAST = { MERIT_SIMULATION_SPEED: '1000000', MERIT_WORKER_CONCURRENCY: '4' };

/** Creates and completes tasks from a few concurrent clients until stopped, keeping what was acknowledged. */
function startLightLoad(url: string, clients = 3) {
  const created: string[] = [];
  const completed: string[] = [];
  const statuses = new Map<number, number>();
  let running = true;
  const count = (status: number) => statuses.set(status, (statuses.get(status) ?? 0) + 1);
  const client = async (n: number) => {
    for (let i = 0; running; i++) {
      try {
        const response = await fetch(`${url}/api/tasks?user_id=${USER}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ agent_id: 'agent_a', command: `load ${n}.${i}` }),
          signal: AbortSignal.timeout(15_000),
        });
        count(response.status);
        if (response.status !== 201) continue;
        const { id } = (await response.json()) as { id: string };
        created.push(id);
        const done = await fetch(`${url}/api/tasks/${id}/complete?user_id=${USER}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ result: `done ${n}.${i}`, duration_ms: 100 }),
          signal: AbortSignal.timeout(15_000),
        });
        count(done.status);
        if (done.status === 200) completed.push(id);
      } catch {
        count(0);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }
  };
  const done = Promise.all(Array.from({ length: clients }, (_, n) => client(n)));
  return {
    created,
    completed,
    statuses,
    async stop() {
      running = false;
      await done;
    },
  };
}

function printOutputOnFailure(run: MeritProcess): void {
  onTestFailed(() => console.log(`merit output:\n${run.output().slice(-8000)}`));
}

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

/** Terminates every backend connected to the database (Merit's pool, its lock and LISTEN connections). */
function terminateBackends(admin: pg.Client, name: string): Promise<pg.QueryResult> {
  return admin.query(
    'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()',
    [name],
  );
}

/** Whether the worker's alive locks (one per graphile-worker worker, worker-liveness.ts) are held. */
async function aliveLocksHeld(database: TestDatabase): Promise<boolean> {
  const { rows } = await database.pool.query<{ held: boolean }>(
    `SELECT EXISTS (SELECT 1 FROM pg_locks l JOIN pg_database d ON d.oid = l.database
                    WHERE l.locktype = 'advisory' AND l.granted AND d.datname = current_database()
                      AND l.classid::bigint = $1 AND l.objsubid = 2) AS held`,
    [WORKER_ALIVE_LOCK],
  );
  return rows[0]?.held === true;
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

async function postTask(url: string, command: string): Promise<{ status: number; id?: string }> {
  const response = await fetch(`${url}/api/tasks?user_id=${USER}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ agent_id: 'agent_a', command }),
  });
  const body = (await response.json()) as { id?: string };
  return { status: response.status, ...(body.id ? { id: body.id } : {}) };
}

/** A task completed now gets its evaluation from a background job: proof the worker runs. */
async function expectJobsToRun(url: string, database: TestDatabase): Promise<void> {
  const { id } = await postTask(url, 'after the fault');
  const done = await fetch(`${url}/api/tasks/${id}/complete?user_id=${USER}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ result: 'answered after the fault', duration_ms: 100 }),
  });
  expect(done.status).toBe(200);
  await poll(async () => {
    const { rowCount } = await database.pool.query('SELECT 1 FROM task_evaluations WHERE task_id = $1', [id]);
    return (rowCount ?? 0) > 0 ? true : undefined;
  }, `the evaluation job of task ${id}`);
}

describe('Merit on DATABASE_URL when its connections are cut', () => {
  let database: TestDatabase;
  let merit: MeritProcess | undefined;
  let url: string;

  beforeAll(async () => {
    database = await createTestDatabase('embedded');
  });
  afterEach(async () => {
    await withAdmin((admin) =>
      admin.query(`ALTER DATABASE ${admin.escapeIdentifier(database.name)} ALLOW_CONNECTIONS true`),
    );
  });
  afterAll(async () => {
    merit?.child.kill('SIGKILL');
    await merit?.exited;
    await database?.drop();
  });

  it('survives pg_terminate_backend of every connection under load, loses no acknowledged write, and runs jobs again', async () => {
    merit = runMerit(['start'], { DATABASE_URL: database.url, PORT: String(await freePort()), ...FAST });
    printOutputOnFailure(merit);
    [, url = ''] = await merit.waitFor(/Merit is running at (http:\/\/\S+)/);
    await poll(async () => ((await aliveLocksHeld(database)) ? true : undefined), 'alive locks at start');

    const load = startLightLoad(url);
    await poll(async () => (load.completed.length >= 10 ? true : undefined), 'some completed tasks');
    let terminated = 0;
    for (let round = 0; round < 3; round++) {
      terminated += (await withAdmin((admin) => terminateBackends(admin, database.name))).rowCount ?? 0;
      await new Promise((resolve) => setTimeout(resolve, 300));
    }
    const lastFault = Date.now();
    const health = await waitForHealth(url, 200);
    const recoveredMs = Date.now() - lastFault;
    await new Promise((resolve) => setTimeout(resolve, 500));
    await load.stop();

    expect(merit.child.exitCode).toBeNull();
    expect(merit.output()).not.toContain('Unhandled');
    expect(terminated).toBeGreaterThan(3);
    expect(health.body).toMatchObject({ status: 'ok', database: { status: 'up' } });
    const { rows } = await database.pool.query<{ id: string; status: string }>(
      'SELECT id, status FROM tasks WHERE id = ANY($1::uuid[])',
      [load.created],
    );
    expect(rows.length).toBe(load.created.length);
    const completed = new Set(rows.filter((row) => row.status === 'completed').map((row) => row.id));
    expect(load.completed.filter((id) => !completed.has(id))).toEqual([]);
    await poll(async () => ((await aliveLocksHeld(database)) ? true : undefined), 'alive locks re-taken');
    await expectJobsToRun(url, database);
    console.log(
      `[db-faults] terminated ${terminated} backends in 3 rounds under load; health 200 again ${recoveredMs} ms after the last; ` +
        `${load.created.length} tasks acknowledged, all found; statuses ${JSON.stringify(Object.fromEntries(load.statuses))}`,
    );
  }, 120_000);

  it('answers 503 while the database refuses connections and recovers by itself when it accepts them again', async () => {
    if (merit) printOutputOnFailure(merit);
    expect(merit?.child.exitCode).toBeNull();
    await withAdmin(async (admin) => {
      await admin.query(`ALTER DATABASE ${admin.escapeIdentifier(database.name)} ALLOW_CONNECTIONS false`);
      await terminateBackends(admin, database.name);
    });
    const down = await waitForHealth(url, 503);
    expect(down.retryAfter).toMatch(/^\d+$/);
    expect(down.body).toMatchObject({
      status: 'unavailable',
      down: ['database'],
      database: {
        kind: 'external',
        status: 'down',
        // The first failed probe names what it met: its connection cut, or a new one refused.
        error: expect.stringMatching(
          /not currently accepting|terminating connection due to administrator command/,
        ),
      },
      error: { code: 'service_unavailable' },
    });
    // Long enough for every reconnect loop (alive locks, live events, graphile-worker's LISTEN) to back off a few times.
    await new Promise((resolve) => setTimeout(resolve, 3000));
    expect((await waitForHealth(url, 503)).status).toBe(503);

    await withAdmin((admin) =>
      admin.query(`ALTER DATABASE ${admin.escapeIdentifier(database.name)} ALLOW_CONNECTIONS true`),
    );
    const back = Date.now();
    await waitForHealth(url, 200);
    const healthyMs = Date.now() - back;
    expect((await postTask(url, 'after the outage')).status).toBe(201);
    await poll(async () => ((await aliveLocksHeld(database)) ? true : undefined), 'alive locks re-taken');
    const aliveMs = Date.now() - back;
    await expectJobsToRun(url, database);
    expect(merit?.child.exitCode).toBeNull();
    console.log(
      `[db-faults] connections refused for 3 s: health 200 ${healthyMs} ms after the database accepted connections again, alive locks after ${aliveMs} ms`,
    );
  }, 120_000);
});

describe('Merit with the embedded server when the server is killed', () => {
  let dataDir: string;
  let merit: MeritProcess | undefined;

  beforeAll(async () => {
    dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'merit-faults-'));
    await fs.chmod(dataDir, 0o755);
  });
  afterAll(async () => {
    if (merit && merit.child.exitCode === null) {
      merit.child.kill('SIGINT');
      await merit.exited;
    }
    await fs.rm(dataDir, { recursive: true, force: true });
  });

  it('restarts the embedded server after kill -9 of its postmaster and is healthy again', async () => {
    merit = runMerit(['start'], {
      MERIT_DATA_DIR: dataDir,
      PORT: String(await freePort()),
      MERIT_PG_PORT: String(await freePort()),
      ...FAST,
    });
    printOutputOnFailure(merit);
    const [, url = ''] = await merit.waitFor(/Merit is running at (http:\/\/\S+)/);
    const before = await postTask(url, 'acknowledged before the kill');
    expect(before.status).toBe(201);

    const pidFile = path.join(dataDir, 'pg', 'postmaster.pid');
    const postmaster = Number((await fs.readFile(pidFile, 'utf8')).split('\n')[0]);
    process.kill(postmaster, 'SIGKILL');
    const killed = Date.now();
    const down = await waitForHealth(url, 503);
    expect(down.body).toMatchObject({
      status: 'unavailable',
      database: { kind: 'embedded', status: 'down' },
    });
    const health = await waitForHealth(url, 200);
    const recoveredMs = Date.now() - killed;
    await merit.waitFor(/embedded PostgreSQL server is running again/);

    const restarted = Number((await fs.readFile(pidFile, 'utf8')).split('\n')[0]);
    expect(restarted).not.toBe(postmaster);
    expect(health.body).toMatchObject({ status: 'ok', database: { kind: 'embedded', status: 'up' } });
    const again = await fetch(`${url}/api/tasks/${before.id}?user_id=${USER}`);
    expect(again.status).toBe(200);
    expect((await postTask(url, 'after the restart')).status).toBe(201);
    expect(merit.child.exitCode).toBeNull();
    console.log(`[db-faults] embedded postmaster killed -9: health 200 again after ${recoveredMs} ms`);

    merit.child.kill('SIGINT');
    expect(await merit.exited).toBe(0);
    await expect(fs.access(pidFile)).rejects.toThrow();
  }, 120_000);
});
