import { type Kysely, sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectDatabase, type DatabaseHandle } from '../../src/db/connect.js';
import type { Database } from '../../src/db/database.js';
import { countConflictRetries } from '../../src/db/transaction.js';
import { createServices, type MeritServices } from '../../src/server.js';
import { runStatsRecompute } from '../../src/stats/stats.jobs.js';
import type { StatsDelta } from '../../src/stats/stats.js';
import { applyStatsChanges } from '../../src/stats/stats.queries.js';
import { callApp, DEFAULT_PROJECT_ID, testConfig, USER } from '../support/app.js';
import { createTestDatabase, databaseKinds, type TestDatabase } from '../support/database.js';

/**
 * The app over its own pool of `connections` connections, so a request that needs two hangs. The
 * acquire timeout is long: these tests are about deadlocks, and a burst of hundreds of in-process
 * requests on a small pool legitimately waits longer than the default before a connection is free.
 */
async function createAppWithPool(kind: 'embedded' | 'system', connections: number) {
  const database = await createTestDatabase(kind);
  const handle = connectDatabase(database.url, { maxConnections: connections, acquireTimeoutMs: 120_000 });
  const services = createServices(testConfig(), { handle, kind: 'external', label: database.name });
  return {
    database,
    handle,
    services,
    async close() {
      await handle.close();
      await database.drop();
    },
  };
}

function call(services: MeritServices, method: string, path: string, body?: unknown) {
  return callApp(services, method, path, body);
}

/** Fails (rather than hanging the run) when the work does not settle within the bound. */
function settleWithin<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  return Promise.race([
    work,
    new Promise<never>((_, reject) =>
      setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms (hung)`)), ms),
    ),
  ]);
}

async function createRunningTasks(services: MeritServices, count: number, body: Record<string, unknown>) {
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const created = await call(services, 'POST', '/api/tasks', {
      command: `research topic ${i}`,
      status: 'running',
      ...body,
    });
    expect(created.status).toBe(201);
    ids.push(created.body.id);
  }
  return ids;
}

describe.each(databaseKinds())('concurrency (%s PostgreSQL)', (kind) => {
  describe('a request never waits for a second pooled connection while holding one', () => {
    let app: Awaited<ReturnType<typeof createAppWithPool>>;
    beforeAll(async () => {
      app = await createAppWithPool(kind, 1);
    });
    afterAll(async () => {
      await app?.close();
    });

    it('completes 20 tasks at once over cold caches with a pool of one connection', async () => {
      const ids = await createRunningTasks(app.services, 20, {
        agent_id: 'agent_a',
        objective_category: 'research',
      });
      const results = await settleWithin(
        Promise.all(
          ids.map((id) =>
            call(app.services, 'POST', `/api/tasks/${id}/complete`, {
              result: 'done',
              total_tokens: 900,
              duration_ms: 4000,
            }),
          ),
        ),
        20_000,
        '20 concurrent completions',
      );
      expect(results.map((result) => result.status)).toEqual(ids.map(() => 200));
      const { rows } = await app.database.pool.query(
        'SELECT count(*)::int AS n FROM agent_performance_scores WHERE task_id = ANY($1)',
        [ids],
      );
      expect(rows[0].n).toBe(20);
    });

    it('answers 50 concurrent completions of one task with one result and one score row', async () => {
      const [id] = await createRunningTasks(app.services, 1, {
        agent_id: 'agent_b',
        objective_category: 'coding',
      });
      const results = await settleWithin(
        Promise.all(
          Array.from({ length: 50 }, (_, i) =>
            call(app.services, 'POST', `/api/tasks/${id}/complete`, { result: `try ${i}`, duration_ms: 10 }),
          ),
        ),
        20_000,
        '50 concurrent completions of one task',
      );
      expect(new Set(results.map((result) => result.status))).toEqual(new Set([200]));
      expect(new Set(results.map((result) => result.body.result)).size).toBe(1);
      const { rows } = await app.database.pool.query(
        'SELECT count(*)::int AS n FROM agent_performance_scores WHERE task_id = $1',
        [id],
      );
      expect(rows[0].n).toBe(1);
    });
  });

  describe('writers of statistics lock rows in one order', () => {
    let app: Awaited<ReturnType<typeof createAppWithPool>>;
    beforeAll(async () => {
      app = await createAppWithPool(kind, 20);
    });
    afterAll(async () => {
      await app?.close();
    });

    it('answers 300 concurrent valid writes on one agent and category without a deadlock', async () => {
      const agent = 'agent_c';
      const category = 'analysis';
      // Completed tasks to rate while the rest of the load runs.
      const rated = await createRunningTasks(app.services, 100, {
        agent_id: agent,
        objective_category: category,
      });
      for (const id of rated) {
        expect((await call(app.services, 'POST', `/api/tasks/${id}/complete`, { result: 'ok' })).status).toBe(
          200,
        );
      }
      const running = await createRunningTasks(app.services, 100, {
        agent_id: agent,
        objective_category: category,
      });
      const finishedTask = (i: number, agentId = agent) => ({
        id: crypto.randomUUID(),
        agent_id: agentId,
        command: `analyse sample ${i}`,
        objective_category: category,
        result: 'analysis',
        total_tokens: 700 + i,
        duration_ms: 2000 + i,
      });
      const retriesBefore = countConflictRetries();
      const requests: Promise<{ status: number; body: unknown }>[] = [];
      for (let i = 0; i < 300; i++) {
        const kindOfWrite = i % 6;
        if (kindOfWrite === 0 || kindOfWrite === 1) {
          requests.push(
            call(app.services, 'POST', `/api/tasks/${rated[i % rated.length]}/feedback`, {
              user_rating: 1 + (i % 5),
            }),
          );
        } else if (kindOfWrite === 2) {
          requests.push(
            call(app.services, 'POST', `/api/tasks/${running[i % running.length]}/complete`, {
              result: 'ok',
            }),
          );
        } else if (kindOfWrite === 3) {
          // Small batches share statements; two agents per request widen the set of rows locked.
          requests.push(
            call(app.services, 'POST', '/api/tasks/batch', {
              tasks: [finishedTask(i), finishedTask(i, 'agent_d')],
            }),
          );
        } else if (kindOfWrite === 4) {
          // A large batch is a statement of its own.
          requests.push(
            call(app.services, 'POST', '/api/tasks/batch', {
              tasks: Array.from({ length: 60 }, (_, j) =>
                finishedTask(i * 100 + j, j % 2 ? 'agent_d' : agent),
              ),
            }),
          );
        } else {
          requests.push(
            call(app.services, 'POST', `/api/tasks/${running[i % running.length]}/fail`, { error: 'x' }),
          );
        }
      }
      const results = await settleWithin(Promise.all(requests), 60_000, '300 concurrent writes');
      const statuses = results.map((result) => result.status);
      // A fail of a task completed a moment earlier is a valid 409; nothing else may fail.
      expect(statuses.filter((status) => status >= 500)).toEqual([]);
      expect(statuses.filter((status) => status !== 200 && status !== 201 && status !== 409)).toEqual([]);
      // Retries would hide a deadlock from the user: none may have been needed.
      expect(countConflictRetries() - retriesBefore).toBe(0);
      // The writes' own budget is settleWithin's 60 s; setting up 200 tasks comes before it (on a loaded
      // 2-core machine the whole test took 25-30 s, the default timeout).
    }, 120_000);
  });

  describe('the scheduled recompute', () => {
    let database: TestDatabase;
    let handle: DatabaseHandle;
    beforeAll(async () => {
      database = await createTestDatabase(kind);
      handle = database;
    });
    afterAll(async () => {
      await database?.drop();
    });

    it('keeps a task committed while it runs (the writer waits for it instead of being wiped)', async () => {
      const db = handle.db;
      const agent = 'agent_e';
      const category = 'writing';
      let release: () => void = () => {};
      const gate = new Promise<void>((resolve) => {
        release = resolve;
      });
      let written: () => void = () => {};
      const statsWritten = new Promise<void>((resolve) => {
        written = resolve;
      });
      // A finished task and its statistics, as every writer records them.
      const recordTask = async (trx: Kysely<Database>) => {
        const id = crypto.randomUUID();
        await sql`INSERT INTO tasks (id, project_id, user_id, agent_id, command, objective_category, status, result, started_at, completed_at, duration_ms)
          VALUES (${id}, ${DEFAULT_PROJECT_ID}, ${USER}, ${agent}, 'write a poem', ${category}, 'completed', 'a poem', now(), now(), 1000)`.execute(
          trx,
        );
        await sql`INSERT INTO agent_performance_scores (task_id, agent_id, user_id, objective_category)
          VALUES (${id}, ${agent}, ${USER}, ${category})`.execute(trx);
        await applyStatsChanges(trx, [
          { projectId: DEFAULT_PROJECT_ID, userId: USER, agentId: agent, category, delta: oneFinishedTask() },
        ]);
      };
      // The agent has statistics rows already, so the writer below updates (and locks) them.
      await db.transaction().execute(recordTask);
      // A writer that records a second task and holds its transaction open.
      const writer = db.transaction().execute(async (trx) => {
        await recordTask(trx);
        written();
        await gate;
      });
      // The recompute starts once the writer holds its statistics rows, and runs until it waits for
      // a lock the writer holds; then the writer commits.
      await statsWritten;
      // Forced: a check would find the statistics consistent and rebuild nothing.
      const recompute = runStatsRecompute(db, undefined, { force: true });
      try {
        await settleWithin(waitForLockWaiter(database), 10_000, 'the recompute reaching a lock');
      } finally {
        release();
      }
      await writer;
      await recompute;
      const { rows } = await database.pool.query(
        'SELECT total_tasks FROM agent_category_stats WHERE agent_id = $1 AND objective_category = $2',
        [agent, category],
      );
      const { rows: tasks } = await database.pool.query(
        "SELECT count(*)::int AS n FROM tasks WHERE agent_id = $1 AND objective_category = $2 AND status = 'completed'",
        [agent, category],
      );
      expect(tasks[0].n).toBe(2);
      expect(rows[0]?.total_tasks).toBe(2);
    });
  });
});

function oneFinishedTask(): StatsDelta {
  return {
    tasks: 1,
    successful: 1,
    failed: 0,
    scored: 0,
    sumOverall: 0,
    sumSqOverall: 0,
    rated: 0,
    sumRating: 0,
    ratingCounts: [0, 0, 0, 0, 0],
    tokens: 0,
    cost: 0,
    metered: 1,
    priced: 1,
    durationMs: 1000,
    rewardPoints: 0,
    rewarded: 0,
    sumReward: 0,
    sumSqReward: 0,
    unscored: 1,
    completedPriced: 1,
    completedCost: 0,
    completedTimed: 1,
    completedDurationMs: 1000,
    at: new Date(),
  };
}

/** Resolves once some session of this database waits for a lock. */
async function waitForLockWaiter(database: TestDatabase): Promise<void> {
  for (;;) {
    const { rows } = await database.pool.query(
      "SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'",
    );
    if (rows[0].n > 0) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
