import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LiveStreams } from '../../src/events/event-bus.js';
import { createApp, type MeritApp } from '../../src/http/app.js';
import { createLiveStreams, registerEventRoutes } from '../../src/http/events.routes.js';
import { createTestApp, DEFAULT_PROJECT_ID, OTHER_USER, type TestApp, USER } from '../support/app.js';
import { databaseKinds } from '../support/database.js';
import { EventReader } from '../support/sse-reader.js';

/** The app with its event route over a LiveStreams the test can observe. */
function buildObservedApp(app: TestApp): { sse: MeritApp; streams: LiveStreams } {
  const streams = createLiveStreams(app.ctx);
  const sse = createApp(app.ctx, { registerExtra: (api) => registerEventRoutes(api, app.ctx, streams) });
  return { sse, streams };
}

async function openStream(sse: MeritApp, user: string): Promise<Response> {
  return sse.request(`/api/events?user_id=${user}`);
}

describe.each(databaseKinds())('live events (%s PostgreSQL)', (kind) => {
  let app: TestApp;

  beforeAll(async () => {
    app = await createTestApp(kind, { MERIT_SSE_MAX_PER_USER: '2', MERIT_SSE_MAX_TOTAL: '3' });
  });
  afterAll(async () => {
    await app?.close();
  });

  it('answers 429 with Retry-After past the per-user and per-process stream caps, and frees a slot on close', async () => {
    const { sse, streams } = buildObservedApp(app);
    const open: EventReader[] = [];
    for (const user of [USER, USER, OTHER_USER]) {
      const response = await openStream(sse, user);
      expect(response.status).toBe(200);
      const reader = new EventReader(response);
      await reader.waitFor((event) => event.event === 'ready');
      open.push(reader);
    }
    const overUser = await openStream(sse, USER);
    expect(overUser.status).toBe(429);
    expect(Number(overUser.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(await overUser.json()).toMatchObject({ error: { code: 'too_many_streams' } });

    const third = '00000000-0000-0000-0000-000000000003';
    const overTotal = await openStream(sse, third);
    expect(overTotal.status).toBe(429);
    expect(overTotal.headers.get('retry-after')).not.toBeNull();
    expect(streams.count()).toBe(3);

    await open[0]?.close();
    expect(streams.count({ projectId: DEFAULT_PROJECT_ID, userId: USER })).toBe(1);
    const again = await openStream(sse, USER);
    expect(again.status).toBe(200);
    const reader = new EventReader(again);
    await reader.waitFor((event) => event.event === 'ready');
    await reader.close();
    for (const other of open.slice(1)) await other.close();
    expect(streams.count()).toBe(0);
  });
});

describe.each(databaseKinds())('live event fan-out (%s PostgreSQL)', (kind) => {
  let app: TestApp;

  beforeAll(async () => {
    app = await createTestApp(kind);
  });
  afterAll(async () => {
    await app?.close();
  });

  it("looks a changed task up once for all of its user's streams, and sends it to none of another user's", async () => {
    const { sse, streams } = buildObservedApp(app);
    const readers: EventReader[] = [];
    for (let i = 0; i < 5; i++) {
      const reader = new EventReader(await openStream(sse, USER));
      await reader.waitFor((event) => event.event === 'ready');
      readers.push(reader);
    }
    const outsider = new EventReader(await openStream(sse, OTHER_USER));
    await outsider.waitFor((event) => event.event === 'ready');
    let changes = 0;
    const unsubscribe = app.ctx.events.subscribe((event) => {
      if (event.type === 'task' && event.userId === USER) changes++;
    });

    const created = await app.call('POST', '/api/tasks', {
      agent_id: 'agent_a',
      command: 'research fan-out',
      status: 'running',
    });
    expect(created.status).toBe(201);
    const taskId: string = created.body.id;
    const seen = (predicate: (task: any) => boolean) =>
      Promise.all(
        readers.map((reader) =>
          reader.waitFor((event) => {
            if (event.event !== 'task') return false;
            const task = JSON.parse(event.data);
            return task.id === taskId && predicate(task);
          }),
        ),
      );
    // Live events carry what the list carries, the evaluation's state included (null until completed).
    await seen((task) => task.status === 'running' && task.evaluation_status === null);
    for (const node of ['plan', 'research', 'write']) {
      const recorded = await app.call('POST', `/api/tasks/${taskId}/nodes`, {
        node_name: node,
        duration_ms: 10,
      });
      expect(recorded.status).toBe(201);
      await seen((task) => task.current_node === node);
    }
    const completed = await app.call('POST', `/api/tasks/${taskId}/complete`, {
      result: 'done',
      duration_ms: 100,
    });
    expect(completed.status).toBe(200);
    await seen(
      (task) =>
        task.status === 'completed' &&
        task.result === 'done' &&
        ['pending', 'evaluated'].includes(task.evaluation_status),
    );
    unsubscribe();

    expect(changes).toBeGreaterThanOrEqual(5);
    // One lookup per change at most (changes of one task that queue up share one), never one per stream.
    expect(streams.lookups).toBeGreaterThan(0);
    expect(streams.lookups).toBeLessThanOrEqual(changes);
    expect(outsider.events.filter((event) => event.event === 'task')).toHaveLength(0);
    for (const reader of [...readers, outsider]) await reader.close();
    expect(streams.count()).toBe(0);
  });

  it("tells the project's streams that its categories changed, so open pickers refetch them", async () => {
    const { sse } = buildObservedApp(app);
    const reader = new EventReader(await openStream(sse, USER));
    await reader.waitFor((event) => event.event === 'ready');
    const created = await app.call('POST', '/api/categories', {
      category: 'gardening',
      description: 'Plan and tend gardens: planting, pruning, watering schedules.',
      evaluation_criteria: ['Advice fits the season'],
      keywords: ['garden', 'plant', 'prune'],
      example_commands: ['plan a vegetable garden'],
      recommended_agents: ['agent_a'],
      typical_tokens: 1500,
    });
    expect(created.status).toBe(201);
    const event = await reader.waitFor((candidate) => candidate.event === 'categories');
    expect(JSON.parse(event.data)).toEqual({});
    await reader.close();
  });
});
