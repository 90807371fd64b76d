import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../support/app.js';

interface ListedTask {
  id: string;
  command: string;
  agent_id: string;
  status: string;
  objective_category: string;
  evaluation_status: string | null;
  score: { user_rating: number | null; overall_score: number | null } | null;
}

async function recordFinished(app: TestApp, task: Record<string, unknown>): Promise<string> {
  const { status, body } = await app.call('POST', '/api/tasks/completed', {
    agent_id: 'agent_a',
    command: 'research something',
    duration_ms: 1000,
    total_tokens: 100,
    ...task,
  });
  expect(status, JSON.stringify(body)).toBe(201);
  return body.task_ids[0];
}

async function listCommands(app: TestApp, query: string): Promise<string[]> {
  const { status, body } = await app.call('GET', `/api/tasks?limit=200&${query}`);
  expect(status, JSON.stringify(body)).toBe(200);
  return (body.tasks as ListedTask[]).map((task) => task.command).sort();
}

describe('task list filters, search, ratings and evaluation status', () => {
  let app: TestApp;
  let ratedId: string;

  beforeAll(async () => {
    app = await createTestApp('embedded', { MERIT_EVALUATION: 'false' });
    ratedId = await recordFinished(app, {
      command: 'research quantum computing',
      result: 'Qubits and 100% coherence',
      user_rating: 4,
      user_feedback: 'good',
    });
    await recordFinished(app, { agent_id: 'agent_b', command: 'write a poem', result: 'roses' });
    await recordFinished(app, {
      agent_id: 'agent_b',
      command: 'write an essay',
      status: 'failed',
      error: 'gave up',
    });
    await recordFinished(app, { command: 'analyze sales_data', result: 'Sales went up' });
  });
  afterAll(async () => {
    await app?.close();
  });

  it('lists a rated task with its rating, feedback and score row, as the one-task endpoint does', async () => {
    const { body } = await app.call('GET', '/api/tasks');
    const task = (body.tasks as ListedTask[]).find((item) => item.id === ratedId);
    expect(task?.score?.user_rating).toBe(4);
    expect(task?.evaluation_status).toBe('pending');
    const one = await app.call('GET', `/api/tasks/${ratedId}`);
    expect(one.body.score.user_rating).toBe(4);
    expect(one.body.score.user_feedback).toBe('good');
    expect(one.body.evaluation_status).toBe('pending');
  });

  it('filters by agent, status, unrated and category, combined', async () => {
    expect(await listCommands(app, 'agent_id=agent_b')).toEqual(['write a poem', 'write an essay']);
    expect(await listCommands(app, 'status=failed')).toEqual(['write an essay']);
    expect(await listCommands(app, 'unrated=true')).toEqual(['analyze sales_data', 'write a poem']);
    expect(await listCommands(app, 'agent_id=agent_b&unrated=true')).toEqual(['write a poem']);
    const { body } = await app.call('GET', '/api/tasks?limit=200');
    const category = (body.tasks as ListedTask[]).find((task) => task.id === ratedId)?.objective_category;
    expect(await listCommands(app, `category=${category}`)).toContain('research quantum computing');
    expect(await listCommands(app, 'category=no-such-category')).toEqual([]);
  });

  it('searches commands and results case-insensitively, with % and _ as plain characters', async () => {
    expect(await listCommands(app, 'q=QUBITS')).toEqual(['research quantum computing']);
    expect(await listCommands(app, 'q=write')).toEqual(['write a poem', 'write an essay']);
    expect(await listCommands(app, `q=${encodeURIComponent('100%')}`)).toEqual([
      'research quantum computing',
    ]);
    expect(await listCommands(app, 'q=sales_data')).toEqual(['analyze sales_data']);
    expect(await listCommands(app, 'q=s_les')).toEqual([]);
  });

  it('pages filtered lists by the same cursor', async () => {
    const first = await app.call('GET', '/api/tasks?limit=1&agent_id=agent_b');
    expect(first.body.tasks).toHaveLength(1);
    expect(first.body.next_cursor).not.toBeNull();
    const second = await app.call(
      'GET',
      `/api/tasks?limit=1&agent_id=agent_b&cursor=${encodeURIComponent(first.body.next_cursor)}`,
    );
    expect(second.body.tasks).toHaveLength(1);
    expect(second.body.next_cursor).toBeNull();
    expect(second.body.tasks[0].id).not.toBe(first.body.tasks[0].id);
  });

  it('refuses a bad filter, naming the field', async () => {
    const { status, body } = await app.call('GET', '/api/tasks?status=done');
    expect(status).toBe(400);
    expect(JSON.stringify(body.error)).toContain('status');
  });
});
