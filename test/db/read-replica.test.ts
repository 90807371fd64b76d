import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServices, type MeritServices } from '../../src/server.js';
import { testConfig, USER } from '../support/app.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';

/**
 * DATABASE_READ_URL: the leaderboard and the agent read routes read from the replica's handle, every
 * write goes to the primary. A second database stands in for a replica that has not replayed the
 * primary's writes yet, so what each route read from is visible in its answer.
 */
describe('read endpoints on the read replica handle (DATABASE_READ_URL)', () => {
  let primary: TestDatabase;
  let replica: TestDatabase;
  let services: MeritServices;

  const call = async (method: string, path: string, body?: unknown) => {
    const response = await services.app.request(`${path}${path.includes('?') ? '&' : '?'}user_id=${USER}`, {
      method,
      ...(body === undefined
        ? {}
        : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
    });
    return { status: response.status, body: (await response.json()) as any };
  };

  beforeAll(async () => {
    primary = await createTestDatabase('embedded');
    replica = await createTestDatabase('embedded');
    services = createServices(testConfig(), {
      handle: primary,
      kind: 'external',
      label: primary.name,
      readHandle: replica,
    });
  });
  afterAll(async () => {
    await primary?.drop();
    await replica?.drop();
  });

  it('writes to the primary and answers the leaderboard, performance and trend from the replica', async () => {
    const created = await call('POST', '/api/tasks', { agent_id: 'agent_a', command: 'on the primary' });
    expect(created.status).toBe(201);
    expect(
      (await call('POST', `/api/tasks/${created.body.id}/complete`, { result: 'ok', duration_ms: 50 }))
        .status,
    ).toBe(200);
    const { rows } = await primary.pool.query<{ total_tasks: number }>(
      "SELECT total_tasks FROM agent_performance_stats WHERE agent_id = 'agent_a'",
    );
    expect(rows).toEqual([{ total_tasks: 1 }]);
    // The task itself is read from the primary: a client sees its own write.
    expect((await call('GET', `/api/tasks/${created.body.id}`)).body.status).toBe('completed');

    // The replica has not seen the write: the read routes show its (empty) state.
    const leaderboard = await call('GET', '/api/agents/leaderboard');
    expect(leaderboard.status).toBe(200);
    expect(JSON.stringify(leaderboard.body)).not.toContain('"total_tasks":1');
    const trend = await call('GET', '/api/agents/agent_a/trend');
    expect(trend.status).toBe(200);
    expect(trend.body.points).toEqual([]);

    // Once the "replica" has the row, the same routes answer it.
    await replica.pool.query(
      "UPDATE agent_performance_stats SET total_tasks = 1, successful_tasks = 1 WHERE agent_id = 'agent_a'",
    );
    const { rowCount } = await replica.pool.query(
      "SELECT 1 FROM agent_performance_stats WHERE agent_id = 'agent_a'",
    );
    if (rowCount === 0)
      await replica.pool.query(
        `INSERT INTO agent_performance_stats (project_id, agent_id, nickname, total_tasks, successful_tasks)
         SELECT project_id, agent_id, nickname, 1, 1 FROM agents WHERE agent_id = 'agent_a'`,
      );
    // The leaderboard cache holds answers up to a second (no event announces a replica's replay).
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const after = await call('GET', '/api/agents/leaderboard');
    expect(JSON.stringify(after.body)).toContain('"total_tasks":1');
  });
});
