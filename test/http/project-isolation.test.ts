import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KeyScope } from '../../src/db/database.js';
import { ensureDefaultData } from '../../src/db/default-data.js';
import { EventBus, LiveStreams } from '../../src/events/event-bus.js';
import { generateKeySecret } from '../../src/identity/credentials.js';
import { insertApiKey, insertProject } from '../../src/identity/identity.queries.js';
import { createTestApp, DEFAULT_PROJECT_ID, type TestApp } from '../support/app.js';

/**
 * Nothing crosses projects: project B's keys never see, count or change project A's tasks, ratings,
 * statistics, routing decisions, categories, keys or audit events, and A's task ids are not B's.
 */
describe('project isolation in required mode (embedded PostgreSQL)', () => {
  let app: TestApp;
  let keyA: string;
  let keyB: string;
  const tasksOfA: string[] = [];

  async function createKey(projectId: string, scopes: KeyScope[]): Promise<string> {
    const secret = generateKeySecret();
    await insertApiKey(app.ctx.db, {
      projectId,
      name: `test ${scopes.join(',')}`,
      prefix: secret.prefix,
      secretHash: secret.secretHash,
      scopes,
      allowedOrigins: [],
      createdBy: 'test',
      createdByAccountId: null,
    });
    return secret.secret;
  }

  async function call(key: string, method: string, path: string, body?: unknown) {
    const response = await app.app.request(path, {
      method,
      headers: {
        authorization: `Bearer ${key}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: response.status, body: (await response.json()) as any };
  }

  const finished = (id: string, rating: number) => ({
    id,
    agent_id: 'agent_a',
    command: `research topic ${id.slice(0, 6)}`,
    objective_category: 'research',
    status: 'completed',
    result: 'a finding',
    duration_ms: 4000,
    prompt_tokens: 500,
    completion_tokens: 300,
    model: 'gpt-4o-mini',
    user_rating: rating,
  });

  beforeAll(async () => {
    app = await createTestApp('embedded', { MERIT_AUTH: 'required' });
    const other = await insertProject(app.ctx.db, { slug: 'team-b', name: 'Team B' });
    await ensureDefaultData(app.ctx.db, other.id);
    keyA = await createKey(DEFAULT_PROJECT_ID, ['admin']);
    keyB = await createKey(other.id, ['admin']);
    for (let i = 0; i < 5; i++) tasksOfA.push(randomUUID());
    const batch = await call(keyA, 'POST', '/api/tasks/batch', {
      tasks: tasksOfA.map((id) => finished(id, 5)),
    });
    expect(batch.status).toBe(201);
    expect(batch.body.accepted).toBe(5);
    const category = await call(keyA, 'POST', '/api/categories', {
      category: 'secret_plans',
      description: "A's own category",
      evaluation_criteria: ['is secret'],
    });
    expect(category.status).toBe(201);
    const routed = await call(keyA, 'POST', '/api/route/recommend', { command: 'research the market' });
    expect(routed.status).toBe(200);
    const own = await call(keyB, 'POST', '/api/tasks/completed', finished(randomUUID(), 1));
    expect(own.status).toBe(201);
  });
  afterAll(async () => {
    await app?.close();
  });

  it("lists and counts none of another project's tasks, ratings or statistics", async () => {
    const tasks = await call(keyB, 'GET', '/api/tasks');
    expect(tasks.status).toBe(200);
    expect(tasks.body.tasks).toHaveLength(1);
    expect(tasks.body.tasks.map((task: { id: string }) => task.id)).not.toContain(tasksOfA[0]);

    const boardB = await call(keyB, 'GET', '/api/agents/leaderboard');
    const bobB = boardB.body.rankings.find((row: { agent_id: string }) => row.agent_id === 'agent_a');
    expect(bobB).toMatchObject({ total_tasks: 1, avg_user_rating: 1 });
    const boardA = await call(keyA, 'GET', '/api/agents/leaderboard');
    const bobA = boardA.body.rankings.find((row: { agent_id: string }) => row.agent_id === 'agent_a');
    expect(bobA).toMatchObject({ total_tasks: 5, avg_user_rating: 5 });

    const performance = await call(keyB, 'GET', '/api/agents/agent_a/performance');
    expect(performance.status).toBe(200);
    expect(performance.body.total).toBe(1);
    const trend = await call(keyB, 'GET', '/api/agents/agent_a/trend');
    expect(trend.body.points.reduce((sum: number, point: { tasks: number }) => sum + point.tasks, 0)).toBe(1);
    const nodes = await call(keyB, 'GET', '/api/agents/agent_a/nodes');
    expect(nodes.status).toBe(200);
  });

  it("answers 404 for another project's task, everywhere", async () => {
    const id = tasksOfA[0] as string;
    for (const [method, path, body] of [
      ['GET', `/api/tasks/${id}`, undefined],
      ['GET', `/api/tasks/${id}/evaluation`, undefined],
      ['GET', `/api/tasks/${id}/routing-decision`, undefined],
      ['POST', `/api/tasks/${id}/feedback`, { user_rating: 1 }],
      ['POST', `/api/tasks/${id}/start`, undefined],
      ['POST', `/api/tasks/${id}/complete`, { result: 'hijacked' }],
      ['POST', `/api/tasks/${id}/fail`, { error: 'hijacked' }],
      ['POST', `/api/tasks/${id}/nodes`, { node_name: 'x' }],
    ] as const) {
      const response = await call(keyB, method, path, body);
      expect(response.status, `${method} ${path}`).toBe(404);
    }
    const mine = await call(keyA, 'GET', `/api/tasks/${id}`);
    expect(mine.body).toMatchObject({ status: 'completed', result: 'a finding', score: { user_rating: 5 } });
  });

  it("never takes another project's task id as its own, one by one or in a batch", async () => {
    const id = tasksOfA[1] as string;
    const single = await call(keyB, 'POST', '/api/tasks', {
      id,
      agent_id: 'agent_a',
      command: 'take it over',
      status: 'running',
    });
    expect(single.status).toBe(409);
    expect(JSON.stringify(single.body)).not.toContain('research topic');
    const fresh = randomUUID();
    const batch = await call(keyB, 'POST', '/api/tasks/batch', {
      tasks: [finished(fresh, 2), finished(id, 1)],
    });
    expect(batch.status).toBe(409);
    expect(batch.body.error.field).toBe('tasks.1.id');
    // The batch is refused whole: not even its own new task was written.
    expect((await call(keyB, 'GET', `/api/tasks/${fresh}`)).status).toBe(404);
    expect((await call(keyA, 'GET', `/api/tasks/${id}`)).body.command).toMatch(/^research topic/);
    // A's own re-sent id is a duplicate, as before.
    const again = await call(keyA, 'POST', '/api/tasks/batch', { tasks: [finished(id, 5)] });
    expect(again.body).toMatchObject({ accepted: 0, duplicates: 1 });
  });

  it("sees none of another project's categories, routing decisions, keys or audit events", async () => {
    const categories = await call(keyB, 'GET', '/api/categories');
    expect(categories.body.categories.map((c: { category: string }) => c.category)).not.toContain(
      'secret_plans',
    );
    expect((await call(keyB, 'GET', '/api/categories/secret_plans/best-agents')).status).toBe(404);
    const decisions = await call(keyB, 'GET', '/api/routing/decisions');
    expect(decisions.body.decisions).toEqual([]);
    expect((await call(keyA, 'GET', '/api/routing/decisions')).body.decisions).toHaveLength(1);
    const keys = await call(keyB, 'GET', '/api/keys');
    expect(keys.body.keys).toHaveLength(1);
    const audit = await call(keyB, 'GET', '/api/audit');
    expect(JSON.stringify(audit.body)).not.toContain('secret_plans');
  });

  it("streams none of another project's task or leaderboard events", async () => {
    const bus = new EventBus();
    const loaded: string[] = [];
    const streams = new LiveStreams(
      bus,
      async (projectId, taskId) => {
        loaded.push(`${projectId}/${taskId}`);
        return { event: 'task', data: JSON.stringify({ id: taskId }) };
      },
      { maxPerUser: 5, maxTotal: 10 },
    );
    const viewerB = streams.open({ projectId: 'project-b', userId: 'someone', wholeProject: true });
    if (typeof viewerB === 'string') throw new Error(viewerB);
    bus.deliver({ type: 'task', projectId: 'project-a', userId: 'someone', taskId: 't-a' });
    bus.deliver({ type: 'leaderboard', projectId: 'project-a', agentIds: ['agent_a'] });
    expect(await viewerB.next(50)).toBeUndefined();
    expect(loaded).toEqual([]);
    bus.deliver({ type: 'task', projectId: 'project-b', userId: 'another', taskId: 't-b' });
    expect(await viewerB.next(500)).toMatchObject({ event: 'task' });
    bus.deliver({ type: 'leaderboard', projectId: null, agentIds: [] });
    expect(await viewerB.next(500)).toMatchObject({ event: 'leaderboard' });
    viewerB.close();
  });
});
