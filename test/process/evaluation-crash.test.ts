import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recomputeAllStats } from '../../src/stats/stats.queries.js';
import { startWorker } from '../../src/worker.js';
import { createTestApp, type TestApp, testConfig } from '../support/app.js';
import {
  type FakeLlmServer,
  type FakeReply,
  type RecordedRequest,
  startFakeLlmServer,
} from '../support/fake-llm-server.js';
import { completeTask, listJobs } from '../support/jobs.js';
import { freePort, runMerit } from '../support/process.js';

const VERDICT = { accuracy: 0.8, relevance: 0.8, completeness: 0.8, reasoning: 'Fine.' };
const REVIEW = { score: 0.7, strengths: ['a'], weaknesses: ['b'], suggestions: ['c'], review_text: 'Good.' };
const TASKS = 6;

/** Polls until `check` holds; the test's own timeout bounds the wait (no timed assertion). */
async function waitUntil(check: () => Promise<boolean>): Promise<void> {
  while (!(await check())) await new Promise((resolve) => setTimeout(resolve, 100));
}

function isJudgeRequest(request: RecordedRequest): boolean {
  return JSON.stringify(request.body.messages).includes('impartial evaluator');
}

describe('a worker killed in the middle of evaluations', () => {
  let fake: FakeLlmServer;
  let app: TestApp;
  let llmEnv: Record<string, string>;

  beforeAll(async () => {
    fake = await startFakeLlmServer();
    llmEnv = {
      MERIT_LLM_PROVIDER: 'openai',
      MERIT_LLM_BASE_URL: fake.baseUrl,
      MERIT_LLM_TIMEOUT_MS: '600000',
      MERIT_EVALUATION_RATE_PER_MINUTE: '10000',
    };
    app = await createTestApp('embedded', llmEnv);
  });
  afterAll(async () => {
    await app?.close();
    await fake?.close();
  });

  it('ends, after a restart, with every task evaluated exactly once', async () => {
    // While the first worker runs, the judge never answers: its jobs are locked mid-evaluation.
    let hang = true;
    fake.setFallback((request): FakeReply => {
      if (hang) return { delayMs: 600_000, json: VERDICT };
      return isJudgeRequest(request) ? { json: VERDICT } : { json: REVIEW };
    });
    const taskIds: string[] = [];
    for (let i = 0; i < TASKS; i++) taskIds.push(await completeTask(app));

    const first = runMerit(['start'], {
      ...llmEnv,
      DATABASE_URL: app.database.url,
      PORT: String(await freePort()),
      MERIT_WORKER: 'true',
    });
    await first.waitFor(/Merit is running at/);
    // Every one of the worker's 4 slots holds a hanging job, so no more are locked after the snapshot.
    await waitUntil(async () => fake.requests.length >= 4);
    const locked = (await listJobs(app)).filter((job) => job.locked_by !== null);
    expect(locked.length).toBeGreaterThan(0);

    first.child.kill('SIGKILL');
    await first.exited;
    // PostgreSQL ends the dead process's sessions (and its leader lock) once it sees the sockets close.
    await waitUntil(async () => {
      const { rows } = await app.database.pool.query(
        "SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
      );
      return rows[0].n === 0;
    });
    expect((await listJobs(app)).filter((job) => job.locked_by !== null).length).toBe(locked.length);

    hang = false;
    const worker = await startWorker(testConfig(llmEnv), app.database, app.ctx);
    try {
      await waitUntil(async () => (await listJobs(app)).length === 0);
    } finally {
      await worker.stop();
    }

    const { rows } = await app.database.pool.query(
      'SELECT task_id, kind, status, count(*) OVER (PARTITION BY task_id)::int AS n FROM task_evaluations',
    );
    expect(rows.map((row) => row.task_id).sort()).toEqual([...taskIds].sort());
    for (const row of rows) expect(row).toMatchObject({ kind: 'judge', status: 'done', n: 1 });
    const reviews = await app.database.pool.query(
      'SELECT task_id, count(*)::int AS n FROM agent_peer_evaluations GROUP BY task_id',
    );
    expect(reviews.rows).toHaveLength(TASKS);
    for (const row of reviews.rows) expect(row.n).toBe(2);

    const incremental = await app.database.pool.query(
      'SELECT agent_id, sum_overall_score, reward_points, scored_tasks FROM agent_performance_stats ORDER BY agent_id',
    );
    await app.ctx.db.transaction().execute((trx) => recomputeAllStats(trx));
    const recomputed = await app.database.pool.query(
      'SELECT agent_id, sum_overall_score, reward_points, scored_tasks FROM agent_performance_stats ORDER BY agent_id',
    );
    expect(incremental.rows).toEqual(recomputed.rows);
  }, 120_000);
});
