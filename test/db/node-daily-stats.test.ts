import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findNodeBreakdown } from '../../src/agents/agents.queries.js';
import { connectDatabase, type DatabaseHandle } from '../../src/db/connect.js';
import { countConflictRetries } from '../../src/db/transaction.js';
import type { Scope } from '../../src/identity/scope.js';
import { createRng } from '../../src/lib/random.js';
import { ingestSpans } from '../../src/otel/otel-ingest.js';
import type { Attributes, OtlpSpan } from '../../src/otel/otlp-span.js';
import { rollUpOldTasks } from '../../src/retention/retention.queries.js';
import { createServices, type MeritServices } from '../../src/server.js';
import { findNodeDailyDrift } from '../../src/stats/node-stats.queries.js';
import type { ReadRange } from '../../src/stats/read-window.js';
import { splitRangeByDay } from '../../src/stats/stats.queries.js';
import {
  callApp,
  createTestApp,
  DEFAULT_PROJECT_ID,
  OTHER_USER,
  scopeOf,
  type TestApp,
  testConfig,
  USER,
} from '../support/app.js';
import { createTestDatabase, databaseKinds, type TestDatabase } from '../support/database.js';

const AGENTS = ['agent_a', 'agent_b'];
const NODE_NAMES = ['plan', 'act', 'review', 'tool'];
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
// "Now" in the middle of a UTC day, so a window ending now has a partial last day.
const NOW = new Date(Date.UTC(2026, 10, 30, 10, 17, 0));
const MEMBER: Scope = { projectId: DEFAULT_PROJECT_ID, userId: USER, ownTasksOnly: false };

/** The breakdown straight from the node rows (the query findNodeBreakdown replaced). */
async function rawNodeBreakdown(app: TestApp, agentId: string, scope: Scope, range: ReadRange) {
  const at = sql`coalesce(n.started_at, n.created_at AT TIME ZONE 'UTC')`;
  const since = range.since === undefined ? sql`` : sql`AND ${at} >= ${range.since}::timestamptz`;
  const until = range.until === undefined ? sql`` : sql`AND ${at} < ${range.until}::timestamptz`;
  const mine = scope.ownTasksOnly ? sql`AND n.user_id = ${scope.userId}` : sql``;
  const result = await sql`
    SELECT n.node_name,
      count(*)::int AS runs,
      round(avg(n.duration_ms))::int AS avg_duration_ms,
      sum(n.duration_ms)::bigint AS total_duration_ms,
      round(avg(n.total_tokens))::int AS avg_tokens,
      sum(n.total_tokens)::bigint AS total_tokens,
      round(avg(CASE WHEN n.success THEN 1 ELSE 0 END), 4)::float8 AS success_rate
    FROM agent_node_performance n
    WHERE n.project_id = ${scope.projectId} AND n.agent_id = ${agentId} ${since} ${until} ${mine}
    GROUP BY n.node_name
    ORDER BY sum(n.duration_ms) DESC NULLS LAST, n.node_name
  `.execute(app.ctx.db);
  return result.rows;
}

/**
 * Finished tasks of two users with 1-4 nodes each, the nodes spread over the 10 days before NOW (a few
 * today, a few after NOW), some without started_at (their day is created_at's), duration or success.
 */
async function seedTasksWithNodes(app: TestApp, seed: number, count: number) {
  const random = createRng(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  for (let i = 0; i < count; i++) {
    const id = crypto.randomUUID();
    const agent = pick(AGENTS);
    const user = random() < 0.7 ? USER : OTHER_USER;
    const completedAt = new Date(NOW.getTime() + 2 * HOUR - Math.floor(random() * 10 * DAY));
    await sql`INSERT INTO tasks (id, project_id, user_id, agent_id, command, objective_category, status, result,
        started_at, completed_at, duration_ms)
      VALUES (${id}, ${DEFAULT_PROJECT_ID}, ${user}, ${agent}, ${`task ${i}`}, 'research', 'completed', 'done',
        ${new Date(completedAt.getTime() - 1000)}, ${completedAt}, 1000)`.execute(app.ctx.db);
    const nodes = 1 + Math.floor(random() * 4);
    for (let sequence = 0; sequence < nodes; sequence++) {
      const ranAt = new Date(completedAt.getTime() - Math.floor(random() * 3 * HOUR));
      const started = random() < 0.8;
      await sql`INSERT INTO agent_node_performance (task_id, agent_id, node_name, sequence, duration_ms, total_tokens,
          success, started_at, created_at)
        VALUES (${id}, ${agent}, ${pick(NODE_NAMES)}, ${sequence}, ${random() < 0.85 ? Math.floor(random() * 9000) : null},
          ${Math.floor(random() * 3000)}, ${random() < 0.8}, ${started ? ranAt : null},
          ${ranAt}::timestamptz AT TIME ZONE 'UTC')`.execute(app.ctx.db);
    }
  }
}

describe('splitRangeByDay', () => {
  it('reads whole UTC days from the rollup and only the partial days of closed ends raw', () => {
    // Open-ended: today's row (kept in the writing transaction) is read whole; the partial first day raw.
    expect(splitRangeByDay({ since: new Date('2026-11-20T10:17:00Z') })).toEqual({
      days: { fromDay: '2026-11-21', toDay: undefined },
      raw: [{ since: new Date('2026-11-20T10:17:00Z'), until: new Date('2026-11-21T00:00:00Z') }],
    });
    expect(
      splitRangeByDay({ since: new Date('2026-11-21T00:00:00Z'), until: new Date('2026-11-25T00:00:00Z') }),
    ).toEqual({ days: { fromDay: '2026-11-21', toDay: '2026-11-25' }, raw: [] });
    expect(
      splitRangeByDay({ since: new Date('2026-11-21T00:00:00Z'), until: new Date('2026-11-25T05:00:00Z') }),
    ).toEqual({
      days: { fromDay: '2026-11-21', toDay: '2026-11-25' },
      raw: [{ since: new Date('2026-11-25T00:00:00Z'), until: new Date('2026-11-25T05:00:00Z') }],
    });
    const inDay = { since: new Date('2026-11-29T01:00:00Z'), until: new Date('2026-11-29T05:00:00Z') };
    expect(splitRangeByDay(inDay)).toEqual({ days: null, raw: [inDay] });
    expect(splitRangeByDay({})).toEqual({ days: { fromDay: undefined, toDay: undefined }, raw: [] });
  });
});

describe.each(databaseKinds())('node breakdown from a daily rollup (%s PostgreSQL)', (kind) => {
  let app: TestApp;

  beforeAll(async () => {
    app = await createTestApp(kind, { MERIT_EVALUATION: 'false' });
    await seedTasksWithNodes(app, 11, 250);
  });
  afterAll(async () => {
    await app?.close();
  });

  const ranges: [string, ReadRange][] = [
    ['a window ending now from mid-day 7 days ago', { since: new Date(NOW.getTime() - 7 * DAY) }],
    ['the last 24 hours', { since: new Date(NOW.getTime() - DAY) }],
    [
      'mid-day to mid-day',
      { since: new Date('2026-11-22T07:30:00Z'), until: new Date('2026-11-27T19:05:00Z') },
    ],
    [
      'midnight to midnight',
      { since: new Date('2026-11-22T00:00:00Z'), until: new Date('2026-11-27T00:00:00Z') },
    ],
    ['within one day', { since: new Date('2026-11-25T03:00:00Z'), until: new Date('2026-11-25T21:00:00Z') }],
    ['everything before an instant', { until: new Date('2026-11-26T12:00:00Z') }],
    ['the whole history', {}],
  ];
  const scopes: [string, Scope][] = [
    ['a member (every user)', MEMBER],
    ['one user', scopeOf(USER)],
    ['another user', scopeOf(OTHER_USER)],
  ];

  it.each(ranges.flatMap(([name, range]) => scopes.map(([s, scope]) => [name, s, range, scope] as const)))(
    'equals the raw rows for %s, %s',
    async (_name, _scope, range, scope) => {
      for (const agent of AGENTS) {
        const raw = await rawNodeBreakdown(app, agent, scope, range);
        expect(raw.length).toBeGreaterThan(0);
        expect(await findNodeBreakdown(app.ctx.db, agent, scope, range)).toEqual(raw);
      }
    },
  );

  it('matches a recompute from the node rows after inserts, updates, deletes and a rollback', async () => {
    const tasks = (
      await sql<{ id: string; agent_id: string }>`SELECT id, agent_id FROM tasks ORDER BY id LIMIT 6`.execute(
        app.ctx.db,
      )
    ).rows;
    const [first, second, third] = tasks as [
      (typeof tasks)[number],
      (typeof tasks)[number],
      (typeof tasks)[number],
    ];
    await app.ctx.db.transaction().execute(async (trx) => {
      await sql`INSERT INTO agent_node_performance (task_id, agent_id, node_name, sequence, duration_ms, total_tokens,
          success, started_at)
        SELECT ${first.id}, ${first.agent_id}, 'extra', 100 + g, g * 10, g, g % 2 = 0, ${NOW}::timestamptz - g * interval '7 hours'
        FROM generate_series(1, 12) AS g`.execute(trx);
      // A task's nodes rebuilt (as OTLP ingestion does): deleted while the task stays, inserted again.
      await sql`DELETE FROM agent_node_performance WHERE task_id = ${second.id}`.execute(trx);
      await sql`INSERT INTO agent_node_performance (task_id, agent_id, node_name, sequence, duration_ms, total_tokens, started_at)
        VALUES (${second.id}, ${second.agent_id}, 'rebuilt', 0, 5, 5, ${NOW})`.execute(trx);
      // A node moved to another day, its duration made unknown and its outcome flipped.
      await sql`UPDATE agent_node_performance SET started_at = started_at - interval '3 days', duration_ms = NULL,
          success = NOT success
        WHERE task_id = ${third.id}`.execute(trx);
    });
    await expect(
      app.ctx.db.transaction().execute(async (trx) => {
        await sql`INSERT INTO agent_node_performance (task_id, agent_id, node_name, sequence, started_at)
          VALUES (${first.id}, ${first.agent_id}, 'rolled_back', 500, ${NOW})`.execute(trx);
        throw new Error('abort');
      }),
    ).rejects.toThrow('abort');
    // A statement outside any transaction.
    await sql`DELETE FROM agent_node_performance WHERE task_id = ${first.id} AND sequence = 101`.execute(
      app.ctx.db,
    );
    expect(await findNodeDailyDrift(app.ctx.db)).toEqual([]);
    const { rows } = await sql<{
      n: number;
    }>`SELECT count(*)::int AS n FROM agent_node_daily_pending`.execute(app.ctx.db);
    expect(rows[0]?.n).toBe(0);
    for (const [, range] of ranges)
      for (const [, scope] of scopes)
        expect(await findNodeBreakdown(app.ctx.db, 'agent_a', scope, range)).toEqual(
          await rawNodeBreakdown(app, 'agent_a', scope, range),
        );
  });

  it('keeps the days retention deletes: the whole days of the breakdown are the same after the delete', async () => {
    const range = { since: new Date('2026-11-21T00:00:00Z'), until: new Date('2026-11-29T00:00:00Z') };
    const before = await findNodeBreakdown(app.ctx.db, 'agent_b', MEMBER, range);
    const deleted = await rollUpOldTasks(app.ctx.db, new Date('2026-11-26T00:00:00Z'), 10_000);
    expect(deleted).toBeGreaterThan(0);
    // The raw rows lost the old nodes; the rollup still has them.
    expect(await rawNodeBreakdown(app, 'agent_b', MEMBER, range)).not.toEqual(before);
    expect(await findNodeBreakdown(app.ctx.db, 'agent_b', MEMBER, range)).toEqual(before);
    const drift = await findNodeDailyDrift(app.ctx.db);
    expect(drift.length).toBeGreaterThan(0);
    // What differs is only what the raw rows no longer have: the rollup counts more runs.
    const runsOf = (sums: string | null) => Number(sums?.split('/')[0] ?? 0);
    expect(drift.filter((row) => runsOf(row.rolled) <= runsOf(row.raw))).toEqual([]);
  });
});

/** Spans of one agent run: an invoke_agent span and `steps` children, one second apart. */
function agentTrace(traceNumber: number, steps: number) {
  const traceId = traceNumber.toString(16).padStart(32, 'd');
  const prefix = traceNumber.toString(16).padStart(8, '0');
  const id = (n: number) => `${prefix}${n.toString(16).padStart(8, '0')}`;
  const t0 = BigInt(Date.now() - 60_000) * 1_000_000n;
  const span = (n: number, parent: string | null, name: string, attributes: Attributes): OtlpSpan => ({
    traceId,
    spanId: id(n),
    parentSpanId: parent,
    name,
    kind: 1,
    startTimeUnixNano: t0 + BigInt(n) * 1_000_000_000n,
    endTimeUnixNano: t0 + BigInt(n) * 1_000_000_000n + 500_000_000n,
    attributes,
    resource: { 'service.name': 'node-rollup' },
    scope: { name: 'test', version: null },
    events: [],
    status: { code: 0, message: '' },
  });
  const agent = {
    ...span(0, null, 'invoke_agent Rollup Agent', {
      'gen_ai.operation.name': 'invoke_agent',
      'gen_ai.agent.name': 'Rollup Agent',
    }),
    endTimeUnixNano: t0 + BigInt(steps + 2) * 1_000_000_000n,
  };
  const children = Array.from({ length: steps }, (_, i) =>
    span(i + 1, id(0), 'chat gpt-4o', {
      'gen_ai.operation.name': 'chat',
      'gen_ai.request.model': 'gpt-4o',
      'gen_ai.usage.input_tokens': 10 * (i + 1),
      'gen_ai.usage.output_tokens': 5,
    }),
  );
  return { agent, children };
}

describe.each(databaseKinds())('node rollup under concurrent writers (%s PostgreSQL)', (kind) => {
  let database: TestDatabase;
  let handle: DatabaseHandle;
  let services: MeritServices;

  beforeAll(async () => {
    database = await createTestDatabase(kind);
    handle = connectDatabase(database.url, { maxConnections: 20, acquireTimeoutMs: 120_000 });
    services = createServices(testConfig({ MERIT_EVALUATION: 'false' }), {
      handle,
      kind: 'external',
      label: database.name,
    });
  });
  afterAll(async () => {
    await handle?.close();
    await database?.drop();
  });

  const call = (method: string, path: string, body?: unknown) => callApp(services, method, path, body);
  // Every writer's nodes share (agent, user, day, node name) keys, so they all take the same rollup rows.
  const node = (name: string) => ({
    node_name: name,
    started_at: new Date().toISOString(),
    duration_ms: 40,
    total_tokens: 7,
  });

  it('stays exact through runs, completions, failures, batches and OTLP rebuilds of one agent at once, without a deadlock', async () => {
    const running: string[] = [];
    for (let i = 0; i < 80; i++) {
      const created = await call('POST', '/api/tasks', {
        command: `research topic ${i}`,
        status: 'running',
        agent_id: 'agent_c',
        objective_category: 'analysis',
      });
      expect(created.status).toBe(201);
      running.push(created.body.id);
    }
    // OTLP tasks whose last span arrives during the load (their nodes are deleted and inserted again).
    const traces = Array.from({ length: 10 }, (_, i) => agentTrace(i + 1, 3));
    for (const trace of traces)
      await ingestSpans(services.ctx, DEFAULT_PROJECT_ID, [trace.agent, ...trace.children.slice(0, 2)]);
    const finished = (i: number, agentId: string) => ({
      id: crypto.randomUUID(),
      agent_id: agentId,
      command: `analyse sample ${i}`,
      objective_category: 'analysis',
      result: 'analysis',
      total_tokens: 700 + i,
      duration_ms: 2000 + i,
      nodes: [node('plan'), node('act'), node('review')],
    });
    const retriesBefore = countConflictRetries();
    const requests: Promise<unknown>[] = [];
    for (let i = 0; i < 240; i++) {
      const id = running[i % running.length] as string;
      switch (i % 6) {
        case 0:
          requests.push(call('POST', `/api/tasks/${id}/nodes`, node('plan')));
          break;
        case 1:
          requests.push(
            call('POST', `/api/tasks/${id}/complete`, { result: 'ok', nodes: [node('act'), node('review')] }),
          );
          break;
        case 2:
          requests.push(
            call('POST', `/api/tasks/${id}/fail`, { error: 'x', nodes: [node('review'), node('plan')] }),
          );
          break;
        case 3:
          requests.push(
            call('POST', '/api/tasks/batch', { tasks: [finished(i, 'agent_c'), finished(i, 'agent_d')] }),
          );
          break;
        case 4:
          requests.push(
            call('POST', '/api/tasks/batch', {
              tasks: Array.from({ length: 30 }, (_, j) =>
                finished(i * 100 + j, j % 2 ? 'agent_d' : 'agent_c'),
              ),
            }),
          );
          break;
        default: {
          const trace = traces[Math.floor(i / 6) % traces.length];
          if (trace)
            requests.push(
              ingestSpans(services.ctx, DEFAULT_PROJECT_ID, [trace.children[2] as OtlpSpan]).then(() => ({
                status: 200,
              })),
            );
        }
      }
    }
    const results = (await Promise.all(requests)) as { status: number; body?: unknown }[];
    // A node or outcome sent for a task finished a moment earlier is a valid 409; nothing else may fail.
    expect(results.filter((result) => ![200, 201, 409].includes(result.status))).toEqual([]);
    // Retries would hide a deadlock: none may have been needed.
    expect(countConflictRetries() - retriesBefore).toBe(0);
    expect(await findNodeDailyDrift(handle.db)).toEqual([]);
    const rows = await sql<{ runs: number }>`
      SELECT coalesce(sum(runs), 0)::int AS runs FROM agent_node_daily_stats WHERE agent_id = 'agent_c'
    `.execute(handle.db);
    expect(rows.rows[0]?.runs).toBeGreaterThan(200);
  }, 120_000);
});
