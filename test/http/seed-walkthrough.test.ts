import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, OTHER_USER, type TestApp } from '../support/app.js';
import { databaseKinds } from '../support/database.js';

describe.each(databaseKinds())('the seed guide, followed against Merit (%s PostgreSQL)', (kind) => {
  let app: TestApp;

  beforeAll(async () => {
    app = await createTestApp(kind);
  });
  afterAll(async () => {
    await app?.close();
  });

  it('answers an empty leaderboard before any data', async () => {
    const { status, body } = await app.call('GET', '/api/agents/leaderboard');
    expect(status).toBe(200);
    expect(body).toEqual({ rankings: [], category: null, last_updated: null, min_sample: 3, level: 0.9 });
  });

  it('records @bob research quantum computing, scores it on completion, and takes the 5-star rating', async () => {
    const created = await app.call('POST', '/api/tasks', {
      agent_id: 'agent_a',
      command: '@bob research quantum computing',
      status: 'running',
      objective_category: 'research',
    });
    expect(created.status).toBe(201);
    const taskId = created.body.id as string;

    const node = await app.call('POST', `/api/tasks/${taskId}/nodes`, {
      node_name: 'research',
      duration_ms: 9000,
      total_tokens: 1200,
    });
    expect(node.status).toBe(201);

    const completed = await app.call('POST', `/api/tasks/${taskId}/complete`, {
      result: '## Quantum computing\n\n- Qubits\n- Error correction',
      model: 'gpt-4o-mini',
      prompt_tokens: 1500,
      completion_tokens: 700,
      duration_ms: 20000,
    });
    expect(completed.status).toBe(200);
    expect(completed.body.status).toBe('completed');
    expect(completed.body.total_tokens).toBe(2200);
    // gpt-4o-mini: $0.15 per 1M prompt tokens, $0.60 per 1M completion tokens.
    expect(completed.body.estimated_cost).toBeCloseTo((1500 * 0.15 + 700 * 0.6) / 1e6, 6);
    expect(completed.body.score.efficiency_score).toBeGreaterThan(0);
    expect(completed.body.score.efficiency_score).toBeLessThan(1);
    expect(completed.body.nodes).toHaveLength(1);

    const feedback = await app.call('POST', `/api/tasks/${taskId}/feedback`, {
      user_rating: 5,
      user_feedback: 'Great job!',
    });
    expect(feedback).toEqual({
      status: 200,
      body: { success: true, message: 'Feedback submitted successfully' },
    });

    const board = await app.call('GET', '/api/agents/leaderboard');
    expect(board.status).toBe(200);
    const bob = board.body.rankings.find((ranking: { nickname: string }) => ranking.nickname === 'bob');
    expect(bob).toMatchObject({
      agent_id: 'agent_a',
      total_tasks: 1,
      avg_user_rating: 5,
      rated_tasks: 1,
      days_active: 1,
    });
    expect(bob.total_cost).toBeCloseTo(completed.body.estimated_cost, 6);
    for (const field of ['rank', 'avg_overall_score', 'cost_efficiency_score'])
      expect(bob).toHaveProperty(field);
    expect(board.body.last_updated).toEqual(expect.any(String));
  });

  it("lists bob at rank 1 after the troubleshooting section's manual INSERT", async () => {
    const fresh = await createTestApp(kind);
    try {
      await fresh.database.pool.query(
        "INSERT INTO agent_performance_stats (agent_id, nickname, total_tasks, avg_overall_score, overall_rank) VALUES ('agent_a', 'bob', 10, 0.85, 1);",
      );
      const { body } = await fresh.call(
        'GET',
        '/api/agents/leaderboard?user_id=00000000-0000-0000-0000-000000000001',
        undefined,
        { user: null },
      );
      expect(body.rankings).toHaveLength(1);
      expect(body.rankings[0]).toMatchObject({
        agent_id: 'agent_a',
        nickname: 'bob',
        rank: 1,
        total_tasks: 10,
        avg_overall_score: 0.85,
      });
    } finally {
      await fresh.close();
    }
  });

  it("answers another user's task exactly like a missing one", async () => {
    const created = await app.call('POST', '/api/tasks', { agent_id: 'agent_a', command: 'private work' });
    await app.call('POST', `/api/tasks/${created.body.id}/complete`, { result: 'done' });
    const foreign = await app.call(
      'POST',
      `/api/tasks/${created.body.id}/feedback`,
      { user_rating: 1 },
      { user: OTHER_USER },
    );
    const missing = await app.call(
      'POST',
      '/api/tasks/6f1d2c1e-0000-4000-8000-000000000000/feedback',
      { user_rating: 1 },
      { user: OTHER_USER },
    );
    expect(foreign.status).toBe(404);
    expect(missing.status).toBe(404);
    expect(foreign.body.error.code).toBe(missing.body.error.code);
    const mine = await app.call('GET', `/api/tasks/${created.body.id}`);
    expect(mine.body.score.user_rating).toBeNull();
    const theirs = await app.call('GET', `/api/tasks/${created.body.id}`, undefined, { user: OTHER_USER });
    expect(theirs.status).toBe(404);
  });

  it('serves the OpenAPI document with the seed endpoints, and a docs page', async () => {
    const doc = await app.call('GET', '/api/openapi.json', undefined, { user: null });
    expect(doc.status).toBe(200);
    expect(Object.keys(doc.body.paths)).toEqual(
      expect.arrayContaining([
        '/api/tasks/{task_id}/feedback',
        '/api/agents/leaderboard',
        '/api/agents/{agent_id}/performance',
      ]),
    );
    const page = await app.app.request('/api/docs');
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('/api/openapi.json');
  });

  it('says which database it uses on /api/health', async () => {
    const { status, body } = await app.call('GET', '/api/health', undefined, { user: null });
    expect(status).toBe(200);
    expect(body.status).toBe('ok');
    expect(body.database.label).toBe(app.database.name);
  });
});
