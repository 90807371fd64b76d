import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { failIdleTasks } from '../../src/tasks/tasks.jobs.js';
import { createTestApp, type TestApp } from '../support/app.js';
import { databaseKinds } from '../support/database.js';

async function createTask(app: TestApp, agent: string, status: 'queued' | 'running'): Promise<string> {
  const created = await app.call('POST', '/api/tasks', {
    agent_id: agent,
    command: 'research something',
    objective_category: 'research',
    status,
  });
  expect(created.status).toBe(201);
  return created.body.id;
}

async function age(app: TestApp, taskId: string, minutes: number): Promise<void> {
  await app.database.pool.query(
    `UPDATE tasks SET last_activity_at = now() - make_interval(mins => $2), created_at = now() - make_interval(mins => $2)
     WHERE id = $1`,
    [taskId, minutes],
  );
}

describe.each(databaseKinds())('tasks left unfinished (%s PostgreSQL)', (kind) => {
  let app: TestApp;
  beforeAll(async () => {
    app = await createTestApp(kind);
  });
  afterAll(async () => {
    await app?.close();
  });

  it('fails a task idle past the deadline as timed out, with its score row and statistics', async () => {
    const stuck = await createTask(app, 'agent_a', 'running');
    const queued = await createTask(app, 'agent_a', 'queued');
    const fresh = await createTask(app, 'agent_a', 'running');
    await age(app, stuck, 90);
    await age(app, queued, 61);
    await age(app, fresh, 30);

    const failed = await failIdleTasks(app.ctx.tracker, 60);

    expect(new Set(failed)).toEqual(new Set([stuck, queued]));
    const { rows } = await app.database.pool.query(
      'SELECT id, status, failure_reason, error FROM tasks WHERE id = ANY($1) ORDER BY id',
      [[stuck, queued, fresh]],
    );
    const byId = new Map(rows.map((row) => [row.id, row]));
    expect(byId.get(stuck)).toMatchObject({ status: 'failed', failure_reason: 'timed_out' });
    expect(byId.get(stuck)?.error).toMatch(/^timed_out/);
    expect(byId.get(queued)).toMatchObject({ status: 'failed', failure_reason: 'timed_out' });
    expect(byId.get(fresh)).toMatchObject({ status: 'running', failure_reason: null });
    // The API says why: timed out here, 'error' for a failure an agent or client reported.
    expect((await app.call('GET', `/api/tasks/${stuck}`)).body).toMatchObject({
      status: 'failed',
      failure_reason: 'timed_out',
    });
    expect((await app.call('GET', `/api/tasks/${fresh}`)).body.failure_reason).toBeNull();
    const reported = await createTask(app, 'agent_d', 'running');
    expect(
      (await app.call('POST', `/api/tasks/${reported}/fail`, { error: 'tool crashed' })).body,
    ).toMatchObject({
      failure_reason: 'error',
    });
    const scores = await app.database.pool.query(
      'SELECT count(*)::int AS n FROM agent_performance_scores WHERE task_id = ANY($1)',
      [[stuck, queued]],
    );
    expect(scores.rows[0].n).toBe(2);
    const stats = await app.database.pool.query(
      "SELECT failed_tasks FROM agent_category_stats WHERE agent_id = 'agent_a' AND objective_category = 'research'",
    );
    expect(stats.rows[0].failed_tasks).toBe(2);
    // The agent's load (what the router avoids) no longer counts them.
    const load = await app.database.pool.query(
      "SELECT count(*)::int AS n FROM tasks WHERE agent_id = 'agent_a' AND status IN ('queued', 'running')",
    );
    expect(load.rows[0].n).toBe(1);
  });

  it('keeps a task alive while nodes arrive, however old it is', async () => {
    const task = await createTask(app, 'agent_b', 'running');
    await age(app, task, 120);
    const node = await app.call('POST', `/api/tasks/${task}/nodes`, {
      node_name: 'search',
      success: true,
      duration_ms: 1000,
    });
    expect(node.status).toBe(201);
    expect(await failIdleTasks(app.ctx.tracker, 60)).not.toContain(task);
    const { rows } = await app.database.pool.query('SELECT status FROM tasks WHERE id = $1', [task]);
    expect(rows[0].status).toBe('running');
  });

  it('leaves a task that finished meanwhile as it is, and fails nothing twice', async () => {
    const task = await createTask(app, 'agent_c', 'running');
    await age(app, task, 90);
    const completed = await app.call('POST', `/api/tasks/${task}/complete`, { result: 'done at last' });
    expect(completed.status).toBe(200);
    // The completion is activity; even a deadline in the future leaves a finished task alone.
    expect(await failIdleTasks(app.ctx.tracker, 60, new Date(Date.now() + 24 * 3600_000))).not.toContain(
      task,
    );
    const { rows } = await app.database.pool.query('SELECT status FROM tasks WHERE id = $1', [task]);
    expect(rows[0].status).toBe('completed');
  });
});
