import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, OTHER_USER, type TestApp } from '../support/app.js';
import { databaseKinds } from '../support/database.js';

async function countRows(
  app: TestApp,
  table: string,
  where = 'true',
  params: unknown[] = [],
): Promise<number> {
  const { rows } = await app.database.pool.query(
    `SELECT count(*)::int AS n FROM ${table} WHERE ${where}`,
    params,
  );
  return rows[0].n;
}

async function createRunningTask(app: TestApp, body: Record<string, unknown> = {}): Promise<string> {
  const { status, body: task } = await app.call('POST', '/api/tasks', {
    agent_id: 'agent_a',
    command: 'research quantum computing',
    status: 'running',
    ...body,
  });
  expect(status).toBe(201);
  return task.id;
}

describe.each(databaseKinds())('task lifecycle (%s PostgreSQL)', (kind) => {
  let app: TestApp;

  beforeAll(async () => {
    app = await createTestApp(kind);
  });
  afterAll(async () => {
    await app?.close();
  });

  it('creates exactly one score row when the same completion is sent twice, one after the other', async () => {
    const id = await createRunningTask(app);
    const body = { result: 'done', total_tokens: 1000, duration_ms: 5000 };
    const first = await app.call('POST', `/api/tasks/${id}/complete`, body);
    const second = await app.call('POST', `/api/tasks/${id}/complete`, {
      ...body,
      result: 'a different result',
    });
    expect(first.status).toBe(200);
    expect(second.status).toBe(200);
    expect(second.body.result).toBe('done');
    expect(await countRows(app, 'agent_performance_scores', 'task_id = $1', [id])).toBe(1);
  });

  it('creates exactly one score row and counts the task once when ten completions race', async () => {
    const before = await app.database.pool.query(
      "SELECT coalesce(max(total_tasks), 0) AS n FROM agent_performance_stats WHERE agent_id = 'agent_c'",
    );
    const id = await createRunningTask(app, { agent_id: 'agent_c' });
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        app.call('POST', `/api/tasks/${id}/complete`, { result: `attempt ${i}`, duration_ms: 100 }),
      ),
    );
    expect(results.every((result) => result.status === 200)).toBe(true);
    expect(new Set(results.map((result) => result.body.result)).size).toBe(1);
    expect(await countRows(app, 'agent_performance_scores', 'task_id = $1', [id])).toBe(1);
    const after = await app.database.pool.query(
      "SELECT total_tasks FROM agent_performance_stats WHERE agent_id = 'agent_c'",
    );
    expect(after.rows[0].total_tasks - before.rows[0].n).toBe(1);
  });

  it('records nodes in order and shows the current node while running', async () => {
    const id = await createRunningTask(app);
    await app.call('POST', `/api/tasks/${id}/nodes`, {
      node_name: 'plan',
      duration_ms: 100,
      prompt_tokens: 10,
      completion_tokens: 5,
    });
    const running = await app.call('POST', `/api/tasks/${id}/nodes`, {
      node_name: 'research',
      duration_ms: 900,
      total_tokens: 400,
    });
    expect(running.body.sequence).toBe(1);
    expect((await app.call('GET', `/api/tasks/${id}`)).body.current_node).toBe('research');
    const done = await app.call('POST', `/api/tasks/${id}/complete`, {
      result: 'ok',
      nodes: [{ node_name: 'respond', duration_ms: 50, total_tokens: 30 }],
    });
    expect(done.body.nodes.map((node: { node_name: string }) => node.node_name)).toEqual([
      'plan',
      'research',
      'respond',
    ]);
    expect(done.body.nodes[0].total_tokens).toBe(15);
    expect(done.body.current_node).toBeNull();
  });

  it('fails a task with its error, counts it in statistics, and refuses to complete it afterwards', async () => {
    const id = await createRunningTask(app, { agent_id: 'agent_b' });
    const failed = await app.call('POST', `/api/tasks/${id}/fail`, { error: 'provider timed out' });
    expect(failed.body).toMatchObject({ status: 'failed', error: 'provider timed out' });
    const complete = await app.call('POST', `/api/tasks/${id}/complete`, { result: 'late' });
    expect(complete.status).toBe(409);
    expect(complete.body.error.code).toBe('task_already_finished');
    const rating = await app.call('POST', `/api/tasks/${id}/feedback`, { user_rating: 3 });
    expect(rating.status).toBe(409);
    expect(rating.body.error.code).toBe('task_not_completed');
    const { rows } = await app.database.pool.query(
      "SELECT failed_tasks FROM agent_performance_stats WHERE agent_id = 'agent_b'",
    );
    expect(rows[0].failed_tasks).toBeGreaterThanOrEqual(1);
  });

  it('replaces an earlier rating instead of adding a second one, and the average follows', async () => {
    const id = await createRunningTask(app, { agent_id: 'agent_f' });
    await app.call('POST', `/api/tasks/${id}/complete`, { result: 'a document' });
    await app.call('POST', `/api/tasks/${id}/feedback`, { user_rating: 2, user_feedback: 'meh' });
    await app.call('POST', `/api/tasks/${id}/feedback`, { user_rating: 4 });
    const task = await app.call('GET', `/api/tasks/${id}`);
    expect(task.body.score).toMatchObject({ user_rating: 4, user_feedback: null });
    const { rows } = await app.database.pool.query(
      "SELECT rated_tasks, avg_user_rating, ratings_2, ratings_4 FROM agent_performance_stats WHERE agent_id = 'agent_f'",
    );
    expect(rows[0]).toEqual({ rated_tasks: 1, avg_user_rating: 4, ratings_2: 0, ratings_4: 1 });
  });

  it("applies the reward rules again when the user's rating arrives, and the agent's reward points follow", async () => {
    const id = await createRunningTask(app, { agent_id: 'agent_chat', objective_category: 'chat' });
    await app.call('POST', `/api/tasks/${id}/complete`, {
      result: 'a reply',
      total_tokens: 100,
      duration_ms: 1000,
    });
    const before = await app.database.pool.query(
      "SELECT reward_points FROM agent_performance_stats WHERE agent_id = 'agent_chat'",
    );
    await app.call('POST', `/api/tasks/${id}/feedback`, { user_rating: 1 });
    const { rows } = await app.database.pool.query(
      'SELECT reward_points, reward_rules, overall_score FROM agent_performance_scores WHERE task_id = $1',
      [id],
    );
    expect(rows[0].reward_rules.map((rule: { rule: string }) => rule.rule)).toContain('poor_quality');
    const points = rows[0].reward_rules.reduce(
      (sum: number, rule: { points: number }) => sum + rule.points,
      0,
    );
    expect(rows[0].reward_points).toBe(points);
    const after = await app.database.pool.query(
      "SELECT reward_points FROM agent_performance_stats WHERE agent_id = 'agent_chat'",
    );
    expect(after.rows[0].reward_points - before.rows[0].reward_points).toBe(rows[0].reward_points);
  });

  it('estimates the cost from the price table when the caller gives tokens but no cost', async () => {
    const id = await createRunningTask(app);
    const done = await app.call('POST', `/api/tasks/${id}/complete`, {
      result: 'x',
      model: 'gpt-4o',
      prompt_tokens: 1_000_000,
      completion_tokens: 0,
    });
    expect(done.body.estimated_cost).toBeGreaterThan(0);
    const given = await createRunningTask(app);
    const kept = await app.call('POST', `/api/tasks/${given}/complete`, {
      result: 'x',
      model: 'gpt-4o',
      total_tokens: 10,
      estimated_cost: 0.5,
    });
    expect(kept.body.estimated_cost).toBe(0.5);
  });

  it('scores efficiency within the category: cheaper and faster is higher', async () => {
    const cheap = await createRunningTask(app, { objective_category: 'data' });
    const costly = await createRunningTask(app, { objective_category: 'data' });
    const a = await app.call('POST', `/api/tasks/${cheap}/complete`, {
      result: 'x',
      total_tokens: 300,
      duration_ms: 2000,
    });
    const b = await app.call('POST', `/api/tasks/${costly}/complete`, {
      result: 'x',
      total_tokens: 30000,
      duration_ms: 200000,
    });
    expect(a.body.score.efficiency_score).toBeGreaterThan(b.body.score.efficiency_score);
  });

  it('records a batch of finished tasks once, counting re-sent ids as duplicates', async () => {
    const ids = Array.from({ length: 25 }, () => crypto.randomUUID());
    const tasks = ids.map((id, i) => ({
      id,
      agent_id: i % 2 === 0 ? 'agent_d' : 'agent_e',
      command: `plan the roadmap step ${i}`,
      objective_category: 'planning',
      result: 'plan',
      total_tokens: 500 + i,
      duration_ms: 1000 + i,
      ...(i % 5 === 0 ? { user_rating: 5 } : {}),
      nodes: [{ node_name: 'plan', duration_ms: 1000, total_tokens: 500 }],
    }));
    const first = await app.call('POST', '/api/tasks/batch', { tasks });
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({ accepted: 25, duplicates: 0 });
    const second = await app.call('POST', '/api/tasks/batch', { tasks: tasks.slice(0, 10) });
    expect(second.body).toMatchObject({ accepted: 0, duplicates: 10 });
    expect(await countRows(app, 'agent_performance_scores', 'task_id = ANY($1)', [ids])).toBe(25);
    expect(await countRows(app, 'agent_node_performance', 'task_id = ANY($1)', [ids])).toBe(25);
    const { rows } = await app.database.pool.query(
      "SELECT sum(total_tasks)::int AS n, sum(rated_tasks)::int AS rated FROM agent_category_stats WHERE objective_category = 'planning'",
    );
    expect(rows[0]).toEqual({ n: 25, rated: 5 });
  });

  it('records one finished task in a single request', async () => {
    const { status, body } = await app.call('POST', '/api/tasks/completed', {
      agent_id: 'agent_chat',
      command: 'hello there',
      result: 'Hi!',
      total_tokens: 20,
      duration_ms: 300,
    });
    expect(status).toBe(201);
    expect(body.accepted).toBe(1);
    const task = await app.call('GET', `/api/tasks/${body.task_ids[0]}`);
    expect(task.body).toMatchObject({ status: 'completed', result: 'Hi!', source: 'api' });
    expect(task.body.score.efficiency_score).not.toBeNull();
  });

  it('counts every task exactly once when many single requests (some re-sending the same id) share statements', async () => {
    const before = await app.database.pool.query(
      "SELECT coalesce(sum(total_tasks), 0)::int AS n FROM agent_category_stats WHERE objective_category = 'writing'",
    );
    const repeated = crypto.randomUUID();
    const ids = [
      ...Array.from({ length: 35 }, () => crypto.randomUUID()),
      ...Array.from({ length: 5 }, () => repeated),
    ];
    const responses = await Promise.all(
      ids.map((id, i) =>
        app.call('POST', '/api/tasks/completed', {
          id,
          agent_id: i % 2 === 0 ? 'agent_f' : 'agent_e',
          command: `write section ${i}`,
          objective_category: 'writing',
          result: 'text',
          total_tokens: 100,
          duration_ms: 1000,
          nodes: [{ node_name: 'draft', duration_ms: 900, total_tokens: 90 }],
        }),
      ),
    );
    expect(responses.every((response) => response.status === 201)).toBe(true);
    expect(responses.reduce((sum, response) => sum + response.body.accepted, 0)).toBe(36);
    expect(responses.reduce((sum, response) => sum + response.body.duplicates, 0)).toBe(4);
    expect(await countRows(app, 'agent_node_performance', 'task_id = ANY($1)', [ids])).toBe(36);
    const after = await app.database.pool.query(
      "SELECT sum(total_tasks)::int AS n FROM agent_category_stats WHERE objective_category = 'writing'",
    );
    expect(after.rows[0].n - before.rows[0].n).toBe(36);
  });

  it("lists only the user's own tasks, newest first", async () => {
    await app.call(
      'POST',
      '/api/tasks',
      { agent_id: 'agent_a', command: 'someone else' },
      { user: OTHER_USER },
    );
    const mine = await app.call('GET', '/api/tasks?limit=200');
    expect(
      mine.body.tasks.every(
        (task: { user_id: string }) => task.user_id === '00000000-0000-0000-0000-000000000001',
      ),
    ).toBe(true);
    const times = mine.body.tasks.map((task: { created_at: string }) => task.created_at);
    expect([...times].sort().reverse()).toEqual(times);
  });

  it("pages an agent's scored tasks newest first, with the total", async () => {
    const page = await app.call('GET', '/api/agents/agent_a/performance?limit=2&offset=0');
    expect(page.status).toBe(200);
    expect(page.body.tasks).toHaveLength(2);
    expect(page.body.total).toBeGreaterThanOrEqual(4);
    expect(page.body.agent).toMatchObject({ agent_id: 'agent_a', nickname: 'bob' });
    expect(page.body.stats.agent_id).toBe('agent_a');
    const board = await app.call('GET', '/api/agents/leaderboard');
    const bob = board.body.rankings.find((ranking: { agent_id: string }) => ranking.agent_id === 'agent_a');
    expect(page.body.stats).toEqual(bob);
    const next = await app.call('GET', '/api/agents/agent_a/performance?limit=2&offset=2');
    expect(next.body.tasks[0].task_id).not.toBe(page.body.tasks[0].task_id);
    expect((await app.call('GET', '/api/agents/agent_zzz/performance')).status).toBe(404);
  });
});

describe('bad input gets a 400 naming the field and changes nothing', () => {
  let app: TestApp;

  beforeAll(async () => {
    app = await createTestApp('embedded');
  });
  afterAll(async () => {
    await app?.close();
  });

  async function expectRejected(
    method: string,
    path: string,
    body: unknown,
    expected: { status?: number; field?: string; code?: string },
    options?: { user?: string | null; raw?: string },
  ) {
    const before = await countRows(app, 'tasks');
    const beforeScores = await countRows(app, 'agent_performance_scores', 'user_rating IS NOT NULL');
    const response = await app.call(method, path, body, options);
    expect(response.status).toBe(expected.status ?? 400);
    expect(response.body.error.message).toEqual(expect.any(String));
    if (expected.field) expect(response.body.error.field).toBe(expected.field);
    if (expected.code) expect(response.body.error.code).toBe(expected.code);
    expect(await countRows(app, 'tasks')).toBe(before);
    expect(await countRows(app, 'agent_performance_scores', 'user_rating IS NOT NULL')).toBe(beforeScores);
  }

  it('rejects ratings of 0, 6, 4.5 and "five"', async () => {
    const id = await createRunningTask(app);
    await app.call('POST', `/api/tasks/${id}/complete`, { result: 'done' });
    for (const rating of [0, 6, 4.5, 'five']) {
      await expectRejected(
        'POST',
        `/api/tasks/${id}/feedback`,
        { user_rating: rating },
        { field: 'user_rating', code: 'validation_failed' },
      );
    }
    await expectRejected('POST', `/api/tasks/${id}/feedback`, {}, { field: 'user_rating' });
  });

  it('rejects ids and user ids that are not UUIDs', async () => {
    await expectRejected('POST', '/api/tasks/not-a-uuid/feedback', { user_rating: 5 }, { field: 'task_id' });
    await expectRejected(
      'GET',
      '/api/agents/leaderboard?user_id=bob',
      undefined,
      { field: 'user_id' },
      { user: null },
    );
    await expectRejected('GET', '/api/agents/leaderboard', undefined, { field: 'user_id' }, { user: null });
  });

  it('rejects wrong field types, unknown fields, unknown agents and categories', async () => {
    await expectRejected('POST', '/api/tasks', { agent_id: 'agent_a', command: 42 }, { field: 'command' });
    await expectRejected(
      'POST',
      '/api/tasks',
      { agent_id: 'agent_a', command: 'x', colour: 'red' },
      { code: 'validation_failed' },
    );
    await expectRejected(
      'POST',
      '/api/tasks',
      { agent_id: 'agent_nope', command: 'x' },
      { field: 'agent_id' },
    );
    await expectRejected(
      'POST',
      '/api/tasks',
      { agent_id: 'agent_a', command: 'x', objective_category: 'astrology' },
      { field: 'objective_category' },
    );
    await expectRejected(
      'POST',
      '/api/tasks/batch',
      {
        tasks: [
          { agent_id: 'agent_a', command: 'x', result: 'y' },
          { agent_id: 'agent_a', command: 'x' },
        ],
      },
      { field: 'tasks.1.result' },
    );
    await expectRejected(
      'POST',
      '/api/tasks/batch',
      { tasks: [{ agent_id: 'agent_a', command: 'x', result: 'y', total_tokens: -1 }] },
      { field: 'tasks.0.total_tokens' },
    );
    await expectRejected('GET', '/api/agents/leaderboard?category=astrology', undefined, {
      field: 'category',
    });
  });

  it('rejects malformed JSON and bodies that are too large', async () => {
    await expectRejected('POST', '/api/tasks', undefined, { code: 'invalid_json' }, { raw: '{"agent_id": ' });
    const huge = { agent_id: 'agent_a', command: 'x'.repeat(10), result: 'y'.repeat(5 * 1024 * 1024) };
    await expectRejected('POST', '/api/tasks/completed', huge, { status: 413, code: 'payload_too_large' });
  });
});
