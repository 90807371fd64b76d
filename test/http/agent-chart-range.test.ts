import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../support/app.js';

const DAY_MS = 86_400_000;

async function recordFinished(app: TestApp, daysAgo: number, cost: number, rating: number): Promise<void> {
  const completed = new Date(Date.now() - daysAgo * DAY_MS);
  const { status, body } = await app.call('POST', '/api/tasks/completed', {
    agent_id: 'agent_a',
    command: `research topic ${daysAgo}`,
    result: 'done',
    started_at: new Date(completed.getTime() - 1000).toISOString(),
    completed_at: completed.toISOString(),
    total_tokens: 100,
    estimated_cost: cost,
    user_rating: rating,
  });
  expect(status, JSON.stringify(body)).toBe(201);
}

describe("an agent's charts over a chosen time range", () => {
  let app: TestApp;

  beforeAll(async () => {
    app = await createTestApp('embedded', { MERIT_EVALUATION: 'false' });
    // 30 tasks a day apart: more than a history page, spread over a month.
    for (let day = 0; day < 30; day++) await recordFinished(app, day, 0.001 * (1 + (day % 3)), 1 + (day % 5));
  });
  afterAll(async () => {
    await app?.close();
  });

  it('plots cost against quality over every scored task of the range, not one page of them', async () => {
    const all = await app.call('GET', '/api/agents/agent_a/trend');
    expect(all.status).toBe(200);
    const cells = all.body.cost_quality as { tasks: number; avg_cost: number; avg_score: number }[];
    expect(cells.reduce((sum, cell) => sum + cell.tasks, 0)).toBe(30);
    for (const cell of cells) {
      expect(cell.avg_score).toBeGreaterThanOrEqual(0);
      expect(cell.avg_score).toBeLessThanOrEqual(1);
    }
    const since = new Date(Date.now() - 7 * DAY_MS + 60_000).toISOString();
    const week = await app.call('GET', `/api/agents/agent_a/trend?since=${encodeURIComponent(since)}`);
    expect(week.body.points).toHaveLength(7);
    const weekTasks = (week.body.cost_quality as { tasks: number }[]).reduce(
      (sum, cell) => sum + cell.tasks,
      0,
    );
    expect(weekTasks).toBe(7);
    expect(all.body.points.length).toBeGreaterThanOrEqual(30);
  });

  it('limits the node breakdown to the range, and refuses a since that is no instant', async () => {
    const future = new Date(Date.now() + DAY_MS).toISOString();
    const none = await app.call('GET', `/api/agents/agent_a/nodes?since=${encodeURIComponent(future)}`);
    expect(none.status).toBe(200);
    expect(none.body.nodes).toEqual([]);
    const bad = await app.call('GET', '/api/agents/agent_a/trend?since=yesterday');
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body.error)).toContain('since');
  });
});
