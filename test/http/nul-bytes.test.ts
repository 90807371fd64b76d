import { randomUUID } from 'node:crypto';
import { createRoute, z } from '@hono/zod-openapi';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/http/app.js';
import { createTestApp, type TestApp, USER } from '../support/app.js';
import { databaseKinds } from '../support/database.js';
import {
  BASELINE_STATUS,
  BASELINES,
  type Baseline,
  type Fixtures,
  finishedTask,
} from '../support/operations.js';
import { countAllRows } from '../support/rows.js';

/**
 * PostgreSQL cannot store U+0000 in text or jsonb; Merit rejects it up front. Every operation of the
 * OpenAPI document is sent a NUL in each of its string inputs (path, query, body), one at a time.
 */

const NUL_TEXT = 'before\u0000after';
const NUL_RULE = 'must not contain NUL (U+0000) characters';

type JsonSchema = {
  $ref?: string;
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  items?: JsonSchema;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  allOf?: JsonSchema[];
};
type Parameter = { name: string; in: string; schema: JsonSchema };
type Operation = {
  parameters?: Parameter[];
  requestBody?: { content: Record<string, { schema: JsonSchema }> };
  responses: Record<string, { content?: Record<string, unknown> }>;
};
type OpenApiDocument = {
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, JsonSchema> };
};

function resolve(doc: OpenApiDocument, schema: JsonSchema): JsonSchema {
  let current = schema;
  while (current.$ref) {
    const name = current.$ref.replace('#/components/schemas/', '');
    current = doc.components.schemas[name] as JsonSchema;
  }
  return current;
}

function hasType(schema: JsonSchema, type: string): boolean {
  return Array.isArray(schema.type) ? schema.type.includes(type) : schema.type === type;
}

/** Paths (as arrays) of every string a body schema accepts, arrays entered at index 0. */
function stringPaths(
  doc: OpenApiDocument,
  raw: JsonSchema,
  prefix: (string | number)[] = [],
): (string | number)[][] {
  const schema = resolve(doc, raw);
  const variants = [...(schema.anyOf ?? []), ...(schema.oneOf ?? []), ...(schema.allOf ?? [])];
  const paths = variants.flatMap((variant) => stringPaths(doc, variant, prefix));
  if (hasType(schema, 'string')) paths.push(prefix);
  if (schema.properties)
    for (const [key, property] of Object.entries(schema.properties))
      paths.push(...stringPaths(doc, property, [...prefix, key]));
  if (hasType(schema, 'array') && schema.items) paths.push(...stringPaths(doc, schema.items, [...prefix, 0]));
  return paths;
}

/** A copy of `value` with the string at `path` replaced (containers created where missing). */
function withValueAt(value: unknown, path: (string | number)[], replacement: unknown): unknown {
  if (path.length === 0) return replacement;
  const [head, ...rest] = path as [string | number, ...(string | number)[]];
  if (typeof head === 'number') {
    const list = Array.isArray(value) ? [...value] : [];
    list[head] = withValueAt(list[head], rest, replacement);
    return list;
  }
  const object = typeof value === 'object' && value !== null ? { ...(value as Record<string, unknown>) } : {};
  object[head] = withValueAt(object[head], rest, replacement);
  return object;
}

interface Sent {
  url: string;
  body?: unknown;
}

function buildRequest(path: string, baseline: Baseline): Sent {
  let url = path;
  for (const [name, value] of Object.entries(baseline.params))
    url = url.replace(`{${name}}`, encodeURIComponent(value));
  const query = new URLSearchParams({ user_id: USER, ...baseline.query });
  return { url: `${url}?${query}`, body: baseline.body };
}

async function send(app: TestApp, method: string, request: Sent) {
  return app.call(method.toUpperCase(), request.url, request.body, { user: null });
}

describe.each(databaseKinds())('NUL characters (%s PostgreSQL)', (kind) => {
  let app: TestApp;
  let doc: OpenApiDocument;

  async function createTask(status: 'running' | 'completed'): Promise<string> {
    const created = await app.call('POST', '/api/tasks', {
      agent_id: 'agent_a',
      command: 'research quantum computing',
      objective_category: 'research',
      status: 'running',
    });
    expect(created.status).toBe(201);
    if (status === 'completed') {
      const done = await app.call('POST', `/api/tasks/${created.body.id}/complete`, { result: 'ok' });
      expect(done.status).toBe(200);
    }
    return created.body.id;
  }

  async function createFixtures(): Promise<Fixtures> {
    const category = `nul_${randomUUID().slice(0, 8)}`;
    const created = await app.call('POST', '/api/categories', {
      category,
      description: 'A category for the NUL tests',
      evaluation_criteria: ['is correct'],
    });
    expect(created.status).toBe(201);
    return {
      runningTask: await createTask('running'),
      completedTask: await createTask('completed'),
      category,
    };
  }

  beforeAll(async () => {
    app = await createTestApp(kind);
    const response = await app.call('GET', '/api/openapi.json', undefined, { user: null });
    expect(response.status).toBe(200);
    doc = response.body;
  });
  afterAll(async () => {
    await app?.close();
  });

  it('has a valid request for every operation of the OpenAPI document', () => {
    const operations = Object.entries(doc.paths).flatMap(([path, methods]) =>
      Object.keys(methods).map((method) => `${method.toUpperCase()} ${path}`),
    );
    expect(operations.filter((operation) => !BASELINES[operation])).toEqual([]);
  });

  it('answers 400 naming the field, and writes nothing, for a NUL in any string input of any operation', async () => {
    const failures: string[] = [];
    let sentCount = 0;
    for (const [path, methods] of Object.entries(doc.paths)) {
      for (const [method, operation] of Object.entries(methods)) {
        const name = `${method.toUpperCase()} ${path}`;
        const makeBaseline = BASELINES[name];
        if (!makeBaseline) continue;
        const fixtures = await createFixtures();
        const baseline = makeBaseline(fixtures);
        const mutations: { field: string; request: Sent }[] = [];
        for (const parameter of operation.parameters ?? []) {
          if (parameter.in === 'path')
            mutations.push({
              field: parameter.name,
              request: buildRequest(path, {
                ...baseline,
                params: { ...baseline.params, [parameter.name]: NUL_TEXT },
              }),
            });
          if (parameter.in === 'query') {
            const request = buildRequest(path, baseline);
            const url = new URL(request.url, 'http://merit.test');
            url.searchParams.set(parameter.name, NUL_TEXT);
            mutations.push({
              field: parameter.name,
              request: { ...request, url: `${url.pathname}${url.search}` },
            });
          }
        }
        const bodySchema = operation.requestBody?.content['application/json']?.schema;
        if (bodySchema)
          for (const fieldPath of stringPaths(doc, bodySchema))
            mutations.push({
              field: fieldPath.join('.'),
              request: {
                ...buildRequest(path, baseline),
                body: withValueAt(baseline.body, fieldPath, NUL_TEXT),
              },
            });

        const before = await countAllRows(app.database.pool);
        for (const mutation of mutations) {
          sentCount++;
          const response = await send(app, method, mutation.request);
          const error = typeof response.body === 'object' ? response.body?.error : undefined;
          if (
            response.status !== 400 ||
            error?.code !== 'validation_failed' ||
            error.field !== mutation.field
          )
            failures.push(`${name} ${mutation.field}: ${response.status} ${JSON.stringify(response.body)}`);
        }
        const after = await countAllRows(app.database.pool);
        if (JSON.stringify(after) !== JSON.stringify(before)) failures.push(`${name}: rows were written`);

        // The same request without the NUL is accepted, so each rejection above was the NUL's.
        if (!baseline.stream) {
          const accepted = await send(app, method, buildRequest(path, baseline));
          const expected = BASELINE_STATUS[name] ?? 299;
          if (accepted.status > expected) failures.push(`${name} baseline: ${accepted.status}`);
        }
      }
    }
    expect(failures).toEqual([]);
    expect(sentCount).toBeGreaterThan(100);
  });

  it('names the rule broken by a NUL in a nested field', async () => {
    const response = await send(app, 'post', {
      url: `/api/tasks/batch?user_id=${USER}`,
      body: {
        tasks: [finishedTask(), finishedTask(), finishedTask(), { ...finishedTask(), command: NUL_TEXT }],
      },
    });
    expect(response.status).toBe(400);
    expect(response.body.error).toEqual({
      code: 'validation_failed',
      field: 'tasks.3.command',
      message: `tasks.3.command: ${NUL_RULE}`,
    });
  });

  it('rejects a NUL in a JSON key', async () => {
    const response = await send(app, 'post', {
      url: `/api/tasks?user_id=${USER}`,
      body: { agent_id: 'agent_a', command: 'x', 'comm\u0000and': 'y' },
    });
    expect(response.status).toBe(400);
    expect(response.body.error.code).toBe('validation_failed');
  });

  it('rejects a NUL in a key of a free-form object, naming the key', async () => {
    const withRecord = createApp(app.ctx, {
      registerExtra: (api) =>
        api.openapi(
          createRoute({
            method: 'post',
            path: '/api/free-form',
            request: {
              body: {
                content: {
                  'application/json': { schema: z.object({ labels: z.record(z.string(), z.string()) }) },
                },
                required: true,
              },
            },
            responses: { 200: { description: 'Accepted' } },
          }),
          (c) => c.json({}, 200),
        ),
      extraRouteRules: { 'POST /api/free-form': 'ingest' },
    });
    const post = (body: unknown) =>
      withRecord.request(`/api/free-form?user_id=${USER}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    expect((await post({ labels: { team: 'red' } })).status).toBe(200);
    const response = await post({ labels: { team: 'red', 'bad\u0000key': 'x' } });
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({
      error: {
        code: 'validation_failed',
        field: 'labels.bad\\u0000key',
        message: `labels.bad\\u0000key: ${NUL_RULE}`,
      },
    });
  });

  it('rejects a percent-encoded NUL in a query string or a path', async () => {
    const leaderboard = await app.call('GET', '/api/agents/leaderboard?category=%00');
    expect(leaderboard.status).toBe(400);
    expect(leaderboard.body.error).toMatchObject({ code: 'validation_failed', field: 'category' });
    const performance = await app.call('GET', '/api/agents/agent%00a/performance');
    expect(performance.status).toBe(400);
    expect(performance.body.error).toMatchObject({ code: 'validation_failed', field: 'agent_id' });
    const asset = await app.call('GET', '/api/docs/assets/swagger-ui.css%00', undefined, { user: null });
    expect(asset.status).toBe(404);
  });

  it('answers 400, not 500, when PostgreSQL itself refuses a NUL in text or jsonb', async () => {
    // A route that skips validation, as a future one might: onError is the last line of defence.
    const unguarded = createApp(app.ctx, {
      registerExtra: (api) => {
        api.get('/api/unguarded/text', async (c) => {
          await sql`SELECT ${NUL_TEXT}::text`.execute(app.ctx.db);
          return c.json({}, 200);
        });
        api.get('/api/unguarded/jsonb', async (c) => {
          await sql`SELECT ${JSON.stringify({ note: NUL_TEXT })}::jsonb`.execute(app.ctx.db);
          return c.json({}, 200);
        });
      },
      extraRouteRules: { 'GET /api/unguarded/text': 'read', 'GET /api/unguarded/jsonb': 'read' },
    });
    for (const path of ['/api/unguarded/text', '/api/unguarded/jsonb']) {
      const response = await unguarded.request(`${path}?user_id=${USER}`);
      expect(response.status).toBe(400);
      expect(((await response.json()) as { error: { code: string } }).error.code).toBe('validation_failed');
    }
  });

  it('writes every valid request and none of the NUL ones when they arrive together', async () => {
    const good = Array.from({ length: 20 }, () => finishedTask());
    const bad = Array.from({ length: 20 }, () => ({ ...finishedTask(), result: NUL_TEXT }));
    const responses = await Promise.all([
      ...good.map((task, i) =>
        i % 2 === 0
          ? send(app, 'post', { url: `/api/tasks/completed?user_id=${USER}`, body: task })
          : send(app, 'post', { url: `/api/tasks/batch?user_id=${USER}`, body: { tasks: [task] } }),
      ),
      ...bad.map((task, i) =>
        i % 2 === 0
          ? send(app, 'post', { url: `/api/tasks/completed?user_id=${USER}`, body: task })
          : send(app, 'post', {
              url: `/api/tasks/batch?user_id=${USER}`,
              body: { tasks: [finishedTask(), task] },
            }),
      ),
    ]);
    expect(responses.slice(0, 20).map((response) => response.status)).toEqual(Array(20).fill(201));
    expect(responses.slice(20).map((response) => response.status)).toEqual(Array(20).fill(400));
    const ids = (rows: { id: string }[]) => rows.map((row) => row.id).sort();
    const all = [...good, ...bad].map((task) => task.id);
    const tasks = await app.database.pool.query<{ id: string }>(
      'SELECT id FROM tasks WHERE id = ANY($1::uuid[])',
      [all],
    );
    const scores = await app.database.pool.query<{ id: string }>(
      'SELECT task_id AS id FROM agent_performance_scores WHERE task_id = ANY($1::uuid[])',
      [all],
    );
    expect(ids(tasks.rows)).toEqual(ids(good));
    expect(ids(scores.rows)).toEqual(ids(good));
  });
});
