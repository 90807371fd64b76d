import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { createTestApp, type TestApp } from '../support/app.js';
import { databaseKinds } from '../support/database.js';
import { countAllRows } from '../support/rows.js';

const MINUTE_MS = 60_000;
const MAX_TOKENS = 100_000_000;
const FUTURE_RULE = 'must not be more than 5 minutes in the future';
const PAST_RULE = 'must not be before 2000-01-01T00:00:00Z';

/** Every request body that takes a timestamp, with the field's path in it. */
interface TimestampInput {
  name: string;
  field: string;
  send(app: TestApp, timestamp: string): Promise<{ status: number; body: any }>;
}

function finishedTask(overrides: Record<string, unknown> = {}) {
  return {
    id: randomUUID(),
    agent_id: 'agent_a',
    command: 'summarize the report',
    result: 'done',
    ...overrides,
  };
}

async function createRunningTask(app: TestApp): Promise<string> {
  const created = await app.call('POST', '/api/tasks', {
    agent_id: 'agent_a',
    command: 'research quantum computing',
    status: 'running',
  });
  expect(created.status).toBe(201);
  return created.body.id;
}

const TIMESTAMP_INPUTS: TimestampInput[] = [
  {
    name: 'a finished task',
    field: 'completed_at',
    send: (app, at) => app.call('POST', '/api/tasks/completed', finishedTask({ completed_at: at })),
  },
  {
    name: 'a finished task',
    field: 'started_at',
    // completed_at later than any started_at tried, so only the range rule can refuse it.
    send: (app, at) =>
      app.call(
        'POST',
        '/api/tasks/completed',
        finishedTask({ started_at: at, ...(Date.parse(at) > Date.now() ? {} : { completed_at: at }) }),
      ),
  },
  {
    name: 'a finished task',
    field: 'nodes.0.started_at',
    send: (app, at) =>
      app.call(
        'POST',
        '/api/tasks/completed',
        finishedTask({ nodes: [{ node_name: 'draft', started_at: at }] }),
      ),
  },
  {
    name: 'a batch',
    field: 'tasks.1.completed_at',
    send: (app, at) =>
      app.call('POST', '/api/tasks/batch', { tasks: [finishedTask(), finishedTask({ completed_at: at })] }),
  },
  {
    name: 'a node',
    field: 'started_at',
    send: async (app, at) =>
      app.call('POST', `/api/tasks/${await createRunningTask(app)}/nodes`, {
        node_name: 'plan',
        started_at: at,
      }),
  },
  {
    name: 'a completion',
    field: 'nodes.0.started_at',
    send: async (app, at) =>
      app.call('POST', `/api/tasks/${await createRunningTask(app)}/complete`, {
        result: 'ok',
        nodes: [{ node_name: 'respond', started_at: at }],
      }),
  },
  {
    name: 'a failure',
    field: 'nodes.0.started_at',
    send: async (app, at) =>
      app.call('POST', `/api/tasks/${await createRunningTask(app)}/fail`, {
        error: 'boom',
        nodes: [{ node_name: 'respond', started_at: at }],
      }),
  },
];

describe.each(databaseKinds())('range checks on dates and token counts (%s PostgreSQL)', (kind) => {
  let app: TestApp;
  let now: number;

  beforeAll(async () => {
    app = await createTestApp(kind);
  });
  afterAll(async () => {
    await app?.close();
  });
  beforeEach(() => {
    // A frozen clock makes the boundaries exact; only Date is faked, timers stay real.
    now = Date.now();
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(now);
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it.each(TIMESTAMP_INPUTS)(
    'refuses a $field in $name more than 5 minutes in the future, or before 2000',
    async (input) => {
      const refused: [string, string][] = [
        ['9999-12-31T23:59:59Z', FUTURE_RULE],
        [new Date(now + 5 * MINUTE_MS + 1).toISOString(), FUTURE_RULE],
        ['1999-12-31T23:59:59.999Z', PAST_RULE],
        ['0001-01-01T00:00:00Z', PAST_RULE],
        ['0001-01-01T00:00:00+14:00', PAST_RULE],
      ];
      for (const [timestamp, rule] of refused) {
        const before = await countAllRows(app.database.pool);
        const response = await input.send(app, timestamp);
        const after = await countAllRows(app.database.pool);
        expect({ timestamp, status: response.status, error: response.body?.error }).toEqual({
          timestamp,
          status: 400,
          error: { code: 'validation_failed', field: input.field, message: `${input.field}: ${rule}` },
        });
        // A send that creates its running task first writes exactly that task and nothing more.
        const created = after.tasks !== before.tasks ? 1 : 0;
        expect({ ...after, tasks: (after.tasks ?? 0) - created }).toEqual(before);
      }
    },
  );

  it.each(TIMESTAMP_INPUTS)('accepts a $field in $name at the boundaries', async (input) => {
    for (const timestamp of ['2000-01-01T00:00:00Z', new Date(now + 5 * MINUTE_MS).toISOString()]) {
      const response = await input.send(app, timestamp);
      expect(response.status, `${timestamp}: ${JSON.stringify(response.body)}`).toBeLessThan(300);
    }
  });

  it('refuses "0001-01-01" without a time as a malformed timestamp, not a server error', async () => {
    const response = await app.call(
      'POST',
      '/api/tasks/completed',
      finishedTask({ completed_at: '0001-01-01' }),
    );
    expect(response.status).toBe(400);
    expect(response.body.error.field).toBe('completed_at');
  });

  it('reads the clock at each request, not once at start', async () => {
    const at = new Date(now + 10 * MINUTE_MS).toISOString();
    const task = finishedTask({ completed_at: at });
    expect((await app.call('POST', '/api/tasks/completed', task)).status).toBe(400);
    vi.setSystemTime(now + 10 * MINUTE_MS);
    expect((await app.call('POST', '/api/tasks/completed', task)).status).toBe(201);
  });

  it('refuses started_at after completed_at, and accepts them equal', async () => {
    const completedAt = new Date(now - MINUTE_MS);
    const later = new Date(completedAt.getTime() + 1).toISOString();
    const before = await countAllRows(app.database.pool);
    const single = await app.call(
      'POST',
      '/api/tasks/completed',
      finishedTask({ started_at: later, completed_at: completedAt.toISOString() }),
    );
    expect(single.status).toBe(400);
    expect(single.body.error).toEqual({
      code: 'validation_failed',
      field: 'started_at',
      message: 'started_at: must not be after completed_at',
    });
    const batch = await app.call('POST', '/api/tasks/batch', {
      tasks: [finishedTask(), finishedTask({ started_at: later, completed_at: completedAt.toISOString() })],
    });
    expect(batch.status).toBe(400);
    expect(batch.body.error.field).toBe('tasks.1.started_at');
    expect(await countAllRows(app.database.pool)).toEqual(before);

    const equal = finishedTask({
      started_at: completedAt.toISOString(),
      completed_at: completedAt.toISOString(),
    });
    expect((await app.call('POST', '/api/tasks/completed', equal)).status).toBe(201);
    const stored = await app.call('GET', `/api/tasks/${equal.id}`);
    expect(stored.body.started_at).toBe(completedAt.toISOString());
    expect(stored.body.duration_ms).toBe(0);
  });

  it('refuses a started_at so old that the duration it implies exceeds the cap (found by the fuzzer as a 500)', async () => {
    const longAgo = new Date(now - 700 * 24 * 60 * MINUTE_MS).toISOString();
    const before = await countAllRows(app.database.pool);
    const single = await app.call('POST', '/api/tasks/completed', finishedTask({ started_at: longAgo }));
    expect(single.status).toBe(400);
    expect(single.body.error).toMatchObject({ code: 'validation_failed', field: 'started_at' });
    const batch = await app.call('POST', '/api/tasks/batch', {
      tasks: [finishedTask({ started_at: longAgo })],
    });
    expect(batch.status).toBe(400);
    expect(batch.body.error.field).toBe('tasks.0.started_at');
    expect(await countAllRows(app.database.pool)).toEqual(before);
    // With its duration given, an old start is a backfill like any other.
    const backfill = finishedTask({ started_at: longAgo, completed_at: longAgo, duration_ms: 1000 });
    expect((await app.call('POST', '/api/tasks/completed', backfill)).status).toBe(201);
  });

  it('refuses prompt_tokens + completion_tokens above the cap on total_tokens, and accepts it at the cap', async () => {
    const atCap = { prompt_tokens: MAX_TOKENS - 1, completion_tokens: 1 };
    const overCap = { prompt_tokens: MAX_TOKENS - 1, completion_tokens: 2 };
    const rule = `prompt_tokens + completion_tokens must not exceed ${MAX_TOKENS}`;
    const before = await countAllRows(app.database.pool);
    await expectTokens('/api/tasks/completed', finishedTask(overCap), 'completion_tokens', rule);
    await expectTokens(
      '/api/tasks/batch',
      { tasks: [finishedTask(overCap)] },
      'tasks.0.completion_tokens',
      rule,
    );
    await expectTokens(
      '/api/tasks/completed',
      finishedTask({ nodes: [{ node_name: 'draft', ...overCap }] }),
      'nodes.0.completion_tokens',
      rule,
    );
    expect(await countAllRows(app.database.pool)).toEqual(before);

    const id = await createRunningTask(app);
    await expectTokens(
      `/api/tasks/${id}/nodes`,
      { node_name: 'plan', ...overCap },
      'completion_tokens',
      rule,
    );
    await expectTokens(`/api/tasks/${id}/complete`, { result: 'ok', ...overCap }, 'completion_tokens', rule);
    const nodesBefore = await countAllRows(app.database.pool);
    expect((await app.call('POST', `/api/tasks/${id}/nodes`, { node_name: 'plan', ...atCap })).status).toBe(
      201,
    );
    const done = await app.call('POST', `/api/tasks/${id}/complete`, { result: 'ok', ...atCap });
    expect(done.status).toBe(200);
    expect(done.body.total_tokens).toBe(MAX_TOKENS);
    expect((await countAllRows(app.database.pool)).agent_node_performance).toBe(
      (nodesBefore.agent_node_performance ?? 0) + 1,
    );
    const single = await app.call('POST', '/api/tasks/completed', finishedTask(atCap));
    expect(single.status).toBe(201);
  });

  it('refuses a total_tokens below prompt_tokens + completion_tokens, and accepts it equal or above', async () => {
    const rule = 'must be at least prompt_tokens + completion_tokens (300)';
    const parts = { prompt_tokens: 200, completion_tokens: 100 };
    const before = await countAllRows(app.database.pool);
    await expectTokens(
      '/api/tasks/completed',
      finishedTask({ ...parts, total_tokens: 299 }),
      'total_tokens',
      rule,
    );
    await expectTokens(
      '/api/tasks/batch',
      { tasks: [finishedTask({ nodes: [{ node_name: 'draft', ...parts, total_tokens: 299 }] })] },
      'tasks.0.nodes.0.total_tokens',
      rule,
    );
    const id = await createRunningTask(app);
    const afterCreate = await countAllRows(app.database.pool);
    expect(afterCreate.tasks).toBe((before.tasks ?? 0) + 1);
    await expectTokens(
      `/api/tasks/${id}/complete`,
      { result: 'ok', ...parts, total_tokens: 299 },
      'total_tokens',
      rule,
    );
    expect(await countAllRows(app.database.pool)).toEqual(afterCreate);

    const equal = await app.call(
      'POST',
      '/api/tasks/completed',
      finishedTask({ ...parts, total_tokens: 300 }),
    );
    expect(equal.status).toBe(201);
    const above = await app.call('POST', `/api/tasks/${id}/complete`, {
      result: 'ok',
      ...parts,
      total_tokens: 350,
    });
    expect(above.status).toBe(200);
    expect(above.body.total_tokens).toBe(350);
  });

  it("refuses nodes whose tokens together exceed the cap a task's total defaults to", async () => {
    const half = MAX_TOKENS / 2;
    const rule = `the nodes' tokens together must not exceed ${MAX_TOKENS}`;
    const over = [
      { node_name: 'plan', total_tokens: half },
      { node_name: 'draft', prompt_tokens: half, completion_tokens: 1 },
    ];
    const before = await countAllRows(app.database.pool);
    await expectTokens('/api/tasks/completed', finishedTask({ nodes: over }), 'nodes', rule);
    const id = await createRunningTask(app);
    await expectTokens(`/api/tasks/${id}/fail`, { error: 'boom', nodes: over }, 'nodes', rule);
    await expectTokens(`/api/tasks/${id}/complete`, { result: 'ok', nodes: over }, 'nodes', rule);
    expect((await countAllRows(app.database.pool)).agent_node_performance).toBe(
      before.agent_node_performance,
    );

    const atCap = [over[0], { node_name: 'draft', total_tokens: half }];
    const done = await app.call('POST', `/api/tasks/${id}/complete`, { result: 'ok', nodes: atCap });
    expect(done.status).toBe(200);
    expect(done.body.total_tokens).toBe(MAX_TOKENS);
  });

  it('shows the timestamp rules in the OpenAPI document', async () => {
    const doc = (await app.call('GET', '/api/openapi.json', undefined, { user: null })).body;
    const schemas = doc.components.schemas;
    for (const property of [
      schemas.FinishedTask.properties.completed_at,
      schemas.FinishedTask.properties.started_at,
      schemas.NodeInput.properties.started_at,
    ]) {
      expect(property.format).toBe('date-time');
      expect(property.description).toContain('2000-01-01T00:00:00Z');
      expect(property.description).toContain('5 minutes');
    }
  });

  async function expectTokens(path: string, body: unknown, field: string, rule: string): Promise<void> {
    const response = await app.call('POST', path, body);
    expect({ path, status: response.status, error: response.body?.error }).toEqual({
      path,
      status: 400,
      error: { code: 'validation_failed', field, message: `${field}: ${rule}` },
    });
  }
});
