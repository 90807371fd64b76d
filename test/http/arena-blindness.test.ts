import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/http/app.js';
import { createLiveStreams, registerEventRoutes } from '../../src/http/events.routes.js';
import { createTestApp, type TestApp, USER } from '../support/app.js';
import { runDueJobs } from '../support/jobs.js';
import { EventReader } from '../support/sse-reader.js';

const SIMULATION = { MERIT_SIMULATION_SEED: '42', MERIT_SIMULATION_SPEED: '100000' };

describe('Arena blindness: an unvoted comparison stays out of the task list and the live stream', () => {
  let app: TestApp;

  beforeAll(async () => {
    app = await createTestApp('embedded', SIMULATION);
  });
  afterAll(async () => {
    await app?.close();
  });

  it('hides both tasks of a comparison from GET /api/tasks and the SSE stream until the vote, then shows them', async () => {
    const streams = createLiveStreams(app.ctx);
    const sse = createApp(app.ctx, { registerExtra: (api) => registerEventRoutes(api, app.ctx, streams) });
    const stream = new EventReader(await sse.request(`/api/events?user_id=${USER}`));
    await stream.waitFor((event) => event.event === 'ready');

    const created = await app.call('POST', '/api/arena/compare', {
      command: 'research the blind history of tide mills',
      agents: ['agent_a', 'agent_b'],
    });
    expect(created.status).toBe(201);
    const comparisonId = created.body.id as string;
    const stored = await app.ctx.db
      .selectFrom('arena_comparisons')
      .select(['task_a_id', 'task_b_id'])
      .where('id', '=', comparisonId)
      .executeTakeFirstOrThrow();
    const hidden = [stored.task_a_id, stored.task_b_id] as string[];
    expect(hidden.every((id) => typeof id === 'string')).toBe(true);

    // A task created after the comparison: once its events are read, the comparison's (earlier) are too.
    const marker = await app.call('POST', '/api/tasks', {
      agent_id: 'agent_a',
      command: 'an ordinary task beside the comparison',
      status: 'running',
    });
    expect(marker.status).toBe(201);
    await stream.waitFor((event) => event.event === 'task' && JSON.parse(event.data).id === marker.body.id);

    // Both answers finish (their status changes are task events too).
    await runDueJobs(app);
    const ready = await app.call('GET', `/api/arena/compare/${comparisonId}`);
    expect(ready.body.status).toBe('ready');
    const completed = await app.call('POST', `/api/tasks/${marker.body.id}/complete`, {
      result: 'done',
      duration_ms: 5,
    });
    expect(completed.status).toBe(200);
    await stream.waitFor(
      (event) =>
        event.event === 'task' &&
        JSON.parse(event.data).id === marker.body.id &&
        JSON.parse(event.data).status === 'completed',
    );
    for (const id of hidden) expect(stream.taskIds()).not.toContain(id);

    const listed = async (query = '') => {
      const response = await app.call('GET', `/api/tasks?limit=100${query}`);
      expect(response.status).toBe(200);
      return (response.body.tasks as { id: string }[]).map((task) => task.id);
    };
    const before = await listed();
    expect(before).toContain(marker.body.id);
    for (const id of hidden) expect(before).not.toContain(id);
    // Neither filters nor a search of the command bring them back.
    for (const query of ['&agent_id=agent_a', '&agent_id=agent_b', '&q=tide%20mills', '&status=completed']) {
      const ids = await listed(query);
      for (const id of hidden) expect(ids).not.toContain(id);
    }
    // The arena page still reads the answers (through the comparison, and the task by id).
    expect((await app.call('GET', `/api/tasks/${hidden[0]}`)).status).toBe(200);

    const voted = await app.call('POST', `/api/arena/compare/${comparisonId}/vote`, { winner: 'A' });
    expect(voted.status).toBe(200);

    const after = await listed();
    for (const id of hidden) expect(after).toContain(id);
    for (const id of hidden)
      await stream.waitFor((event) => event.event === 'task' && JSON.parse(event.data).id === id);
    await stream.close();
  });
});
