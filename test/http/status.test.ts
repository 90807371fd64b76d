import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { lockWorkerAlive } from '../../src/db/worker-locks.queries.js';
import { createConfiguredLlmProvider } from '../../src/llm/provider.js';
import { clearLlmHealth } from '../../src/status/llm-health.js';
import { OFFLINE_MESSAGE } from '../../src/status/status.js';
import { createTestApp, OTHER_USER, type TestApp } from '../support/app.js';
import { type FakeLlmServer, startFakeLlmServer } from '../support/fake-llm-server.js';
import { completeTask, runDueJobs } from '../support/jobs.js';

const VERSION = (
  JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  }
).version;

describe('GET /api/status offline (embedded PostgreSQL)', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await createTestApp('embedded');
  }, 60_000);
  afterAll(async () => {
    await app?.close();
  });

  it('names the database, its server version and latency, the version, and offline mode', async () => {
    const { status, body } = await app.call('GET', '/api/status');
    expect(status).toBe(200);
    expect(body.version).toBe(VERSION);
    expect(body.database).toMatchObject({ reachable: true, kind: 'external', error: null });
    expect(body.database.server_version).toMatch(/^\d+(\.\d+)?/);
    expect(body.database.latency_ms).toBeGreaterThanOrEqual(0);
    expect(body.llm).toEqual({
      mode: 'offline',
      message: OFFLINE_MESSAGE,
      provider: null,
      observed_in: 'this process',
      models: [],
    });
    expect(body.evaluation).toMatchObject({ enabled: true, evaluator: 'offline', sample_rate: 1 });
  });

  it('shows the worker dead without an alive lock, alive while a worker holds one, dead once its session ends', async () => {
    const before = await app.call('GET', '/api/status');
    expect(before.body.worker).toMatchObject({ alive: false, live_workers: 0, runs_in_this_process: false });
    // The lock a Merit worker process takes for each of its workers, on a connection of its own.
    const client = app.database.createClient();
    await client.connect();
    try {
      expect(await lockWorkerAlive(client, 'worker-status-test')).toBe(true);
      const during = await app.call('GET', '/api/status');
      expect(during.body.worker).toMatchObject({ alive: true, live_workers: 1 });
    } finally {
      await client.end();
    }
    const after = await app.call('GET', '/api/status');
    expect(after.body.worker).toMatchObject({ alive: false, live_workers: 0 });
  });

  it("counts the queue per job, the user's evaluation backlog only, and empties both once the jobs ran", async () => {
    await runDueJobs(app);
    const taskId = await completeTask(app);
    // Ready jobs that wait: the oldest one's age grows from the moment it was due.
    await app.database.pool.query(
      "SELECT graphile_worker.reschedule_jobs(ARRAY(SELECT id FROM graphile_worker.jobs), run_at := now() - interval '20 seconds')",
    );
    const queued = await app.call('GET', '/api/status');
    const evaluate = queued.body.worker.queue.find(
      (row: { task_identifier: string }) => row.task_identifier === 'evaluate_task',
    );
    expect(evaluate).toMatchObject({ ready: 1, running: 0, failed: 0 });
    expect(evaluate.oldest_ready_age_ms).toBeGreaterThanOrEqual(19_000);
    expect(queued.body.worker.stalled).toBe(true);
    expect(queued.body.evaluation).toMatchObject({ pending_tasks: 1, abandoned_tasks: 0, error: null });
    expect(queued.body.evaluation.oldest_pending_age_ms).toBeGreaterThanOrEqual(0);
    expect(queued.body.evaluation.unscored_tasks).toBeGreaterThanOrEqual(0);

    // Another local user sees the same queue but none of this user's backlog.
    const other = await app.call('GET', '/api/status', undefined, { user: OTHER_USER });
    expect(other.body.evaluation).toMatchObject({
      pending_tasks: 0,
      unscored_tasks: 0,
      oldest_pending_age_ms: null,
    });
    expect(other.body.worker.ready_jobs).toBe(queued.body.worker.ready_jobs);

    await runDueJobs(app);
    const done = await app.call('GET', '/api/status');
    expect(done.body.evaluation.pending_tasks).toBe(0);
    expect(done.body.worker.ready_jobs).toBe(0);
    expect(done.body.worker.stalled).toBe(false);
    const evaluation = await app.database.pool.query(
      'SELECT status FROM task_evaluations WHERE task_id = $1',
      [taskId],
    );
    expect(evaluation.rows).toEqual([{ status: 'done' }]);
  });

  it('counts the failed evaluations of the last 24 hours in scope', async () => {
    const taskId = await completeTask(app);
    await runDueJobs(app);
    await app.database.pool.query(
      "UPDATE task_evaluations SET status = 'failed', failure_reason = 'judge timed out' WHERE task_id = $1",
      [taskId],
    );
    const mine = await app.call('GET', '/api/status');
    expect(mine.body.evaluation.failed_evaluations_24h).toBe(1);
    const other = await app.call('GET', '/api/status', undefined, { user: OTHER_USER });
    expect(other.body.evaluation.failed_evaluations_24h).toBe(0);
    await app.database.pool.query(
      "UPDATE task_evaluations SET updated_at = now() - interval '25 hours' WHERE task_id = $1",
      [taskId],
    );
    const later = await app.call('GET', '/api/status');
    expect(later.body.evaluation.failed_evaluations_24h).toBe(0);
  });
});

describe('GET /api/status with an LLM (fake LLM on loopback)', () => {
  let app: TestApp;
  let llm: FakeLlmServer;
  beforeAll(async () => {
    llm = await startFakeLlmServer();
    app = await createTestApp('embedded', {
      MERIT_LLM_PROVIDER: 'openai',
      MERIT_LLM_BASE_URL: llm.baseUrl,
      MERIT_LLM_MODEL: 'gpt-4o-mini',
      MERIT_JUDGE_MODEL: 'gpt-4o',
      MERIT_AGENT_MODELS: 'bob=gpt-4o',
      MERIT_LLM_MAX_RETRIES: '0',
    });
  }, 60_000);
  afterAll(async () => {
    await app?.close();
    await llm?.close();
  });
  beforeEach(() => {
    llm.reset();
    clearLlmHealth();
  });

  it('lists each configured model as unknown until a call is made', async () => {
    const { body } = await app.call('GET', '/api/status');
    expect(body.llm).toMatchObject({ mode: 'online', message: null, provider: 'openai' });
    expect(body.llm.models).toEqual([
      expect.objectContaining({ model: 'gpt-4o-mini', roles: ['default'], reachable: null, calls: 0 }),
      expect.objectContaining({ model: 'gpt-4o', roles: ['judge', 'agent bob'], reachable: null, calls: 0 }),
    ]);
    expect(body.evaluation.evaluator).toBe('llm');
  });

  it('reports a model unreachable with the last error and when, then reachable after a call succeeds', async () => {
    const provider = createConfiguredLlmProvider(
      app.ctx.config.llm as NonNullable<typeof app.ctx.config.llm>,
      {
        model: 'gpt-4o',
      },
    );
    const request = {
      system: 'You answer briefly.',
      messages: [{ role: 'user' as const, content: 'hello' }],
    };
    llm.script([{ status: 401, body: { error: { message: 'bad key sk-secret' } } }]);
    await expect(provider.complete(request)).rejects.toThrow(/401/);
    const failed = await app.call('GET', '/api/status');
    const judge = failed.body.llm.models.find((model: { model: string }) => model.model === 'gpt-4o');
    expect(judge).toMatchObject({ reachable: false, calls: 1, failures: 1, last_error_status: 401 });
    expect(judge.last_error).toContain('authentication failed');
    // The provider's own text (which may echo a key) never reaches the page.
    expect(JSON.stringify(failed.body)).not.toContain('sk-secret');
    expect(Date.parse(judge.last_failure_at)).toBeGreaterThan(Date.now() - 60_000);
    const other = failed.body.llm.models.find((model: { model: string }) => model.model === 'gpt-4o-mini');
    expect(other.reachable).toBeNull();

    llm.script([{ text: 'hi' }]);
    await provider.complete(request);
    const recovered = await app.call('GET', '/api/status');
    const after = recovered.body.llm.models.find((model: { model: string }) => model.model === 'gpt-4o');
    expect(after).toMatchObject({ reachable: true, calls: 2, failures: 1, last_error_status: 401 });
    expect(after.last_success_at).not.toBeNull();
  });

  it('does not count a call its caller aborted against the connection', async () => {
    const provider = createConfiguredLlmProvider(
      app.ctx.config.llm as NonNullable<typeof app.ctx.config.llm>,
    );
    llm.script([{ text: 'late', delayMs: 2_000 }]);
    const controller = new AbortController();
    const call = provider.complete({
      system: 'x',
      messages: [{ role: 'user', content: 'y' }],
      signal: controller.signal,
    });
    setTimeout(() => controller.abort(), 50);
    await expect(call).rejects.toThrow(/aborted/);
    const { body } = await app.call('GET', '/api/status');
    const model = body.llm.models.find((entry: { model: string }) => entry.model === 'gpt-4o-mini');
    expect(model).toMatchObject({ reachable: null, calls: 0 });
  });
});
