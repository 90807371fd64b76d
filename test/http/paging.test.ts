import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, OTHER_USER, type TestApp, USER } from '../support/app.js';
import { databaseKinds } from '../support/database.js';

// Microseconds on purpose: a cursor that kept only milliseconds (a JS Date) would skip or repeat rows.
const SHARED_AT = '2026-01-02 03:04:05.123456+00';

/** Follows next_cursor from the first page to the end, collecting the ids of every page. */
async function readAllPages(
  app: TestApp,
  path: string,
  pick: (body: any) => { id: string }[],
): Promise<{ ids: string[]; pages: number }> {
  const ids: string[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const separator = path.includes('?') ? '&' : '?';
    const url: string = cursor === null ? path : `${path}${separator}cursor=${encodeURIComponent(cursor)}`;
    const { status, body } = await app.call('GET', url);
    expect(status, JSON.stringify(body)).toBe(200);
    ids.push(...pick(body).map((item) => item.id));
    cursor = body.next_cursor;
    pages++;
    expect(pages).toBeLessThan(100);
  } while (cursor !== null);
  return { ids, pages };
}

async function insertTasksAt(app: TestApp, count: number, at: string, user = USER): Promise<string[]> {
  const { rows } = await app.database.pool.query<{ id: string }>(
    `INSERT INTO tasks (project_id, user_id, agent_id, command, created_at)
     SELECT '00000000-0000-0000-0000-000000000000', $1, 'agent_a', 'paging task ' || n, $2::timestamptz FROM generate_series(1, $3) AS n
     RETURNING id`,
    [user, at, count],
  );
  return rows.map((row) => row.id);
}

function encode(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

describe.each(databaseKinds())('keyset paging of lists (%s PostgreSQL)', (kind) => {
  let app: TestApp;

  beforeAll(async () => {
    app = await createTestApp(kind);
  });
  afterAll(async () => {
    await app?.close();
  });

  it('reaches all 60 tasks sharing one timestamp through pages, each exactly once', async () => {
    const inserted = await insertTasksAt(app, 60, SHARED_AT);
    await insertTasksAt(app, 3, SHARED_AT, OTHER_USER);
    const { ids, pages } = await readAllPages(app, '/api/tasks?limit=50', (body) => body.tasks);
    expect(pages).toBe(2);
    expect(ids).toHaveLength(60);
    expect(new Set(ids)).toEqual(new Set(inserted));
  });

  it('orders tasks of one millisecond by their microseconds and pages through them one by one', async () => {
    const times = [
      '2026-01-03 00:00:00.000001+00',
      '2026-01-03 00:00:00.000002+00',
      '2026-01-03 00:00:00.000003+00',
    ];
    const inserted = [];
    for (const at of times) inserted.push(...(await insertTasksAt(app, 1, at)));
    const { ids } = await readAllPages(app, '/api/tasks?limit=1', (body) => body.tasks);
    const newestFirst = [...inserted].reverse();
    expect(ids.slice(0, 3)).toEqual(newestFirst);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('answers next_cursor null on the last page, and on an exactly full last page', async () => {
    const total = Number(
      (await app.database.pool.query('SELECT count(*)::int AS n FROM tasks WHERE user_id = $1', [USER]))
        .rows[0].n,
    );
    const all = await app.call('GET', `/api/tasks?limit=${Math.min(total, 200)}`);
    expect(all.status).toBe(200);
    expect(all.body.tasks).toHaveLength(total);
    expect(all.body.next_cursor).toBeNull();
  });

  it('reaches all 60 routing decisions sharing one timestamp through pages, each exactly once', async () => {
    const { rows } = await app.database.pool.query<{ id: string }>(
      `INSERT INTO routing_decisions (project_id, user_id, command, category, category_source, chosen_agent_id, reason,
         expected_score, interval_lower, interval_upper, explanation, created_at)
       SELECT '00000000-0000-0000-0000-000000000000', $1, 'decision ' || n, 'general', 'default', 'agent_a', 'thompson', 0.5, 0.4, 0.6, 'why', $2::timestamptz
       FROM generate_series(1, 60) AS n
       RETURNING id`,
      [USER, SHARED_AT],
    );
    const { ids, pages } = await readAllPages(app, '/api/routing/decisions?limit=50&window=all', (body) =>
      body.decisions.map((decision: { decision_id: string }) => ({ id: decision.decision_id })),
    );
    expect(pages).toBe(2);
    expect(ids).toHaveLength(60);
    expect(new Set(ids)).toEqual(new Set(rows.map((row) => row.id)));
  });

  it("reaches all 60 of an agent's scored tasks sharing one timestamp through pages, each exactly once", async () => {
    const taskIds = await insertTasksAt(app, 60, SHARED_AT);
    await app.database.pool.query(
      `INSERT INTO agent_performance_scores (task_id, agent_id, user_id, objective_category, created_at)
       SELECT id, 'agent_a', user_id, objective_category, '2026-01-02 03:04:05.123456' FROM tasks WHERE id = ANY($1)`,
      [taskIds],
    );
    const { ids, pages } = await readAllPages(
      app,
      '/api/agents/agent_a/performance?limit=50&window=all',
      (body) => body.tasks.map((task: { task_id: string }) => ({ id: task.task_id })),
    );
    expect(pages).toBe(2);
    expect(ids).toHaveLength(60);
    expect(new Set(ids)).toEqual(new Set(taskIds));
  });

  it('refuses a tampered or foreign cursor with a 400 naming cursor', async () => {
    const id = '5b0c8a59-4d6a-4f5e-9f53-0d5c6f1c2a10';
    const first = await app.call('GET', '/api/tasks?limit=1');
    const taskCursor: string = first.body.next_cursor;
    expect(taskCursor).toEqual(expect.any(String));
    const bad = [
      'not a cursor',
      encode({ k: 'tasks', at: '2026-02-30T00:00:00.000000', id }),
      encode({ k: 'tasks', at: "2026-01-01T00:00:00.000000'; DROP TABLE tasks; --", id }),
      encode({ k: 'tasks', at: '2026-01-01T00:00:00.000000', id: 'x' }),
      encode(['tasks']),
      `${taskCursor.slice(0, -2)}!!`,
    ];
    for (const cursor of bad) {
      const response = await app.call('GET', `/api/tasks?cursor=${encodeURIComponent(cursor)}`);
      expect(response.status, cursor).toBe(400);
      expect(response.body.error).toMatchObject({ code: 'validation_failed', field: 'cursor' });
    }
    const foreign = await app.call('GET', `/api/routing/decisions?cursor=${encodeURIComponent(taskCursor)}`);
    expect(foreign.status).toBe(400);
    expect(foreign.body.error).toMatchObject({ code: 'validation_failed', field: 'cursor' });
  });

  it('refuses the former before= parameter with a 400 naming it, instead of silently answering page one', async () => {
    const response = await app.call('GET', '/api/tasks?before=2026-01-01T00:00:00Z');
    expect(response.status).toBe(400);
    expect(response.body.error).toMatchObject({ code: 'validation_failed', field: 'before' });
  });
});
