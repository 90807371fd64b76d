import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, DEFAULT_PROJECT_ID, type TestApp, USER } from '../support/app.js';

const DAY_MS = 86_400_000;

/** A rated task of agent_a finished `daysAgo` days ago, reviewed by agent_d and judged then. */
async function recordReviewedTask(app: TestApp, daysAgo: number, review: { score: number; cost: number }) {
  const at = new Date(Date.now() - daysAgo * DAY_MS);
  const id = crypto.randomUUID();
  await sql`INSERT INTO tasks (id, project_id, user_id, agent_id, command, status, result, created_at, completed_at)
    VALUES (${id}, ${DEFAULT_PROJECT_ID}, ${USER}, 'agent_a', 'reviewed task', 'completed', 'done', ${at}, ${at})`.execute(
    app.ctx.db,
  );
  await sql`INSERT INTO agent_performance_scores (task_id, project_id, agent_id, user_id, objective_category, user_rating)
    VALUES (${id}, ${DEFAULT_PROJECT_ID}, 'agent_a', ${USER}, 'general', 4)`.execute(app.ctx.db);
  // The review tables' created_at is a plain timestamp holding UTC.
  await sql`INSERT INTO agent_peer_evaluations (project_id, task_id, evaluated_agent_id, reviewer_agent_id, perspective,
      score, source, evaluator_version, prompt_tokens, completion_tokens, estimated_cost, created_at)
    VALUES (${DEFAULT_PROJECT_ID}, ${id}, 'agent_a', 'agent_d', 'strategy', ${review.score}, 'llm', 'peer-llm-1', 100, 10,
      ${review.cost}, ${at}::timestamptz AT TIME ZONE 'UTC')`.execute(app.ctx.db);
  await sql`INSERT INTO task_evaluations (task_id, kind, status, accuracy_score, relevance_score, completeness_score,
      source, evaluator_version, model, prompt_tokens, completion_tokens, estimated_cost, created_at)
    VALUES (${id}, 'judge', 'done', 0.8, 0.8, 0.8, 'judge', 'judge-1', 'gpt-4o-mini', 200, 20, ${review.cost * 2}, ${at})`.execute(
    app.ctx.db,
  );
}

describe('GET /api/reviewers in a time window', () => {
  let app: TestApp;

  beforeAll(async () => {
    app = await createTestApp('embedded', { MERIT_EVALUATION: 'false' });
    await recordReviewedTask(app, 2, { score: 0.7, cost: 0.001 });
    await recordReviewedTask(app, 40, { score: 0.2, cost: 0.004 });
  });
  afterAll(async () => {
    await app?.close();
  });

  it('counts the reviews, rating pairs and spend of the last 30 days by default, and all of them with window=all', async () => {
    const month = await app.call('GET', '/api/reviewers');
    expect(month.status, JSON.stringify(month.body)).toBe(200);
    const kai = month.body.reviewers.find((row: { agent_id: string }) => row.agent_id === 'agent_d');
    expect(kai).toMatchObject({ reviews: 1, n: 1, spend: { prompt_tokens: 100, cost: 0.001 } });
    expect(month.body.evaluators).toEqual([
      expect.objectContaining({ evaluator: 'judge', model: 'gpt-4o-mini', evaluations: 1 }),
    ]);
    expect(month.body.evaluators[0].spend.cost).toBe(0.002);
    expect(month.body.window.until).toBeNull();
    // 30 days back from now, from the whole UTC hour at or before.
    const since = Date.parse(month.body.window.since);
    expect(since % 3_600_000).toBe(0);
    expect(Date.now() - 30 * DAY_MS - since).toBeGreaterThanOrEqual(0);
    expect(Date.now() - 30 * DAY_MS - since).toBeLessThan(3_600_000 + 60_000);

    const all = await app.call('GET', '/api/reviewers?window=all');
    const allKai = all.body.reviewers.find((row: { agent_id: string }) => row.agent_id === 'agent_d');
    expect(allKai).toMatchObject({ reviews: 2, n: 2, spend: { prompt_tokens: 200, cost: 0.005 } });
    expect(all.body.evaluators[0].evaluations).toBe(2);
    expect(all.body.window).toEqual({ since: null, until: null });

    const old = new Date(Date.now() - 45 * DAY_MS).toISOString();
    const before = new Date(Date.now() - 35 * DAY_MS).toISOString();
    const range = await app.call(
      'GET',
      `/api/reviewers?since=${encodeURIComponent(old)}&until=${encodeURIComponent(before)}`,
    );
    const rangeKai = range.body.reviewers.find((row: { agent_id: string }) => row.agent_id === 'agent_d');
    expect(rangeKai).toMatchObject({ reviews: 1, n: 1, spend: { cost: 0.004 } });
    expect(range.body.evaluators[0].spend.cost).toBe(0.008);
  });

  it('refuses a window it does not know, a window with since, and an until before since, naming the field', async () => {
    const unknown = await app.call('GET', '/api/reviewers?window=2w');
    expect(unknown.status).toBe(400);
    expect(unknown.body.error.field ?? JSON.stringify(unknown.body.error)).toContain('window');
    const both = await app.call(
      'GET',
      `/api/reviewers?window=7d&since=${encodeURIComponent(new Date().toISOString())}`,
    );
    expect(both.status).toBe(400);
    expect(both.body.error.field).toBe('window');
    const backwards = await app.call(
      'GET',
      '/api/reviewers?since=2026-01-02T00:00:00Z&until=2026-01-01T00:00:00Z',
    );
    expect(backwards.status).toBe(400);
    expect(backwards.body.error.field).toBe('until');
  });

  it('fills in the project of an evaluation from its task', async () => {
    const missing = await sql<{ n: number }>`
      SELECT count(*)::int AS n FROM task_evaluations WHERE project_id IS DISTINCT FROM ${DEFAULT_PROJECT_ID}::uuid
    `.execute(app.ctx.db);
    expect(missing.rows[0]?.n).toBe(0);
  });
});
