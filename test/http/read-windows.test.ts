import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildNodeBreakdownQuery } from '../../src/agents/agents.queries.js';
import { createTestApp, OTHER_USER, scopeOf, type TestApp, USER } from '../support/app.js';

const DAY_MS = 86_400_000;

/** Records a finished task of agent_b (with one node and a rating) that completed `daysAgo` days ago. */
async function recordFinished(app: TestApp, daysAgo: number, label: string, user = USER): Promise<string> {
  const completed = new Date(Date.now() - daysAgo * DAY_MS);
  const started = new Date(completed.getTime() - 2000);
  const { status, body } = await app.call(
    'POST',
    '/api/tasks/completed',
    {
      agent_id: 'agent_b',
      command: `window task ${label}`,
      result: 'done',
      started_at: started.toISOString(),
      completed_at: completed.toISOString(),
      total_tokens: 100,
      estimated_cost: 0.001,
      user_rating: 4,
      nodes: [
        {
          node_name: `step_${label}`,
          started_at: started.toISOString(),
          duration_ms: 1000,
          total_tokens: 100,
        },
      ],
    },
    { user },
  );
  expect(status, JSON.stringify(body)).toBe(201);
  return body.task_ids[0];
}

describe('time windows of the read endpoints', () => {
  let app: TestApp;
  let recentId: string;
  let oldId: string;

  beforeAll(async () => {
    app = await createTestApp('embedded', { MERIT_EVALUATION: 'false' });
    recentId = await recordFinished(app, 1, 'recent');
    oldId = await recordFinished(app, 40, 'old');
  });
  afterAll(async () => {
    await app?.close();
  });

  it("leaves a 40-day-old task out of an agent's history, nodes and trend by default (30 days), and window=all brings it back", async () => {
    const history = await app.call('GET', '/api/agents/agent_b/performance');
    expect(history.status).toBe(200);
    expect(history.body.tasks.map((task: { task_id: string }) => task.task_id)).toEqual([recentId]);
    expect(history.body.total).toBe(1);
    expect(history.body.total_is_estimate).toBe(false);
    expect(history.body.window.until).toBeNull();
    const since = Date.parse(history.body.window.since);
    // 30 days back from now, from the whole UTC hour at or before.
    expect(since % 3_600_000).toBe(0);
    expect(Date.now() - 30 * DAY_MS - since).toBeGreaterThanOrEqual(0);
    expect(Date.now() - 30 * DAY_MS - since).toBeLessThan(3_600_000 + 60_000);

    const all = await app.call('GET', '/api/agents/agent_b/performance?window=all');
    expect(all.body.tasks.map((task: { task_id: string }) => task.task_id)).toEqual([recentId, oldId]);
    expect(all.body.total).toBe(2);
    expect(all.body.window).toEqual({ since: null, until: null });

    const nodes = await app.call('GET', '/api/agents/agent_b/nodes');
    expect(nodes.body.nodes.map((node: { node_name: string }) => node.node_name)).toEqual(['step_recent']);
    const allNodes = await app.call('GET', '/api/agents/agent_b/nodes?window=all');
    expect(allNodes.body.nodes.map((node: { node_name: string }) => node.node_name).sort()).toEqual([
      'step_old',
      'step_recent',
    ]);

    const trend = await app.call('GET', '/api/agents/agent_b/trend');
    expect(trend.body.points.reduce((sum: number, point: { tasks: number }) => sum + point.tasks, 0)).toBe(1);
    const allTrend = await app.call('GET', '/api/agents/agent_b/trend?window=all');
    expect(allTrend.body.points.reduce((sum: number, point: { tasks: number }) => sum + point.tasks, 0)).toBe(
      2,
    );

    const week = await app.call('GET', '/api/agents/agent_b/performance?window=90d');
    expect(week.body.total).toBe(2);
  });

  it('reads an explicit since and until, and windows the leaderboard only when asked (it stays all-time by default)', async () => {
    const since = new Date(Date.now() - 45 * DAY_MS).toISOString();
    const until = new Date(Date.now() - 35 * DAY_MS).toISOString();
    const old = await app.call(
      'GET',
      `/api/agents/agent_b/performance?since=${encodeURIComponent(since)}&until=${encodeURIComponent(until)}`,
    );
    expect(old.body.tasks.map((task: { task_id: string }) => task.task_id)).toEqual([oldId]);

    const board = await app.call('GET', '/api/agents/leaderboard');
    expect(
      board.body.rankings.find((row: { agent_id: string }) => row.agent_id === 'agent_b').total_tasks,
    ).toBe(2);
    const recent = await app.call('GET', '/api/agents/leaderboard?window=30d');
    expect(recent.status).toBe(200);
    expect(
      recent.body.rankings.find((row: { agent_id: string }) => row.agent_id === 'agent_b').total_tasks,
    ).toBe(1);
  });

  it('lists routing decisions and routing quality of the window, the whole history with window=all', async () => {
    await sql`
      INSERT INTO routing_decisions (project_id, user_id, command, category, category_source, chosen_agent_id, reason,
        expected_score, interval_lower, interval_upper, explanation, created_at)
      SELECT '00000000-0000-0000-0000-000000000000', ${USER}::uuid, 'decision ' || d, 'general', 'default', 'agent_b',
        'thompson', 0.5, 0.4, 0.6, 'why', now() - d * interval '1 day'
      FROM unnest(ARRAY[2, 40]) AS d
    `.execute(app.database.db);
    const recent = await app.call('GET', '/api/routing/decisions');
    expect(recent.body.decisions.map((row: { command: string }) => row.command)).toEqual(['decision 2']);
    const all = await app.call('GET', '/api/routing/decisions?window=all');
    expect(all.body.decisions.map((row: { command: string }) => row.command)).toEqual([
      'decision 2',
      'decision 40',
    ]);
    const quality = await app.call('GET', '/api/routing/quality?window=90d');
    expect(quality.status).toBe(200);
    expect(quality.body.overall.decisions).toBe(2);
    const month = await app.call('GET', '/api/routing/quality');
    expect(month.body.overall.decisions).toBe(1);
    const both = await app.call('GET', '/api/routing/quality?days=7&window=7d');
    expect(both.status).toBe(400);
    expect(both.body.error.field).toBe('days');
  });

  it('refuses a window it does not know, a window with since, and an until before since, naming the field', async () => {
    for (const path of [
      '/api/agents/agent_b/performance?window=2w',
      '/api/agents/agent_b/nodes?window=forever',
      '/api/agents/agent_b/trend?window=1y',
      '/api/agents/leaderboard?window=month',
      '/api/routing/decisions?window=yesterday',
      '/api/agents/agent_b/capabilities?window=30',
    ]) {
      const { status, body } = await app.call('GET', path);
      expect(status, path).toBe(400);
      expect(body.error.field ?? JSON.stringify(body.error), path).toContain('window');
    }
    const both = await app.call(
      'GET',
      `/api/agents/agent_b/trend?window=7d&since=${encodeURIComponent(new Date().toISOString())}`,
    );
    expect(both.status).toBe(400);
    expect(both.body.error.field).toBe('window');
    const backwards = await app.call(
      'GET',
      `/api/agents/agent_b/nodes?since=2026-01-02T00:00:00Z&until=2026-01-01T00:00:00Z`,
    );
    expect(backwards.status).toBe(400);
    expect(backwards.body.error.field).toBe('until');
    const offset = await app.call('GET', '/api/agents/agent_b/performance?offset=20000');
    expect(offset.status).toBe(400);
    expect(JSON.stringify(offset.body.error)).toContain('offset');
  });

  it("counts an agent's scored tasks no further than 1,000, saying when the total is a lower bound", async () => {
    await sql`
      WITH t AS (
        INSERT INTO tasks (project_id, user_id, agent_id, command, status, result, created_at, completed_at)
        SELECT '00000000-0000-0000-0000-000000000000', ${USER}::uuid, 'agent_c', 'many ' || n, 'completed', 'ok',
          now() - interval '1 hour', now() - interval '1 hour'
        FROM generate_series(1, 1001) AS n
        RETURNING id, user_id, objective_category
      )
      INSERT INTO agent_performance_scores (task_id, agent_id, user_id, objective_category, created_at)
      SELECT id, 'agent_c', user_id, objective_category, now() AT TIME ZONE 'UTC' - interval '1 hour' FROM t
    `.execute(app.database.db);
    const { body } = await app.call('GET', '/api/agents/agent_c/performance?limit=5');
    expect(body.total).toBe(1000);
    expect(body.total_is_estimate).toBe(true);
    expect(body.tasks).toHaveLength(5);
  });

  it('pages through scored tasks sharing one timestamp inside the default window, none skipped or repeated', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 7; i++) ids.push(await recordFinished(app, 2, `same_${i}`));
    // Seven score rows at exactly the same instant, within the last 30 days.
    await sql`
      UPDATE agent_performance_scores SET created_at = date_trunc('second', now() AT TIME ZONE 'UTC') - interval '2 days'
      WHERE task_id = ANY(${ids}::uuid[])
    `.execute(app.database.db);
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const path: string =
        cursor === null
          ? '/api/agents/agent_b/performance?limit=3'
          : `/api/agents/agent_b/performance?limit=3&cursor=${encodeURIComponent(cursor)}`;
      const { status, body } = await app.call('GET', path);
      expect(status, JSON.stringify(body)).toBe(200);
      seen.push(...body.tasks.map((task: { task_id: string }) => task.task_id));
      cursor = body.next_cursor;
      pages++;
    } while (cursor !== null && pages < 10);
    // The recent task and the seven: the 40-day-old one is outside the default window.
    expect(seen).toHaveLength(8);
    expect(new Set(seen)).toEqual(new Set([recentId, ...ids]));
    expect(seen).not.toContain(oldId);
  });

  it("reads an agent's nodes of one user through an index on the agent, without reading any task", async () => {
    for (let i = 0; i < 3; i++) await recordFinished(app, 3, `other_${i}`, OTHER_USER);
    const query = buildNodeBreakdownQuery('agent_b', scopeOf(USER), {
      since: new Date(Date.now() - 30 * DAY_MS),
    });
    const plan = await app.database.db.transaction().execute(async (trx) => {
      // A handful of rows would be read whole anyway: ask for the plan the index gives at scale.
      await sql`SET LOCAL enable_seqscan = off`.execute(trx);
      const compiled = query.compile(trx);
      const result = await sql<{ 'QUERY PLAN': unknown }>`EXPLAIN (FORMAT JSON) ${sql.raw(
        compiled.sql.replace(/\$(\d+)/g, (_match, index: string) =>
          literal(compiled.parameters[Number(index) - 1]),
        ),
      )}`.execute(trx);
      return result.rows[0]?.['QUERY PLAN'] as { Plan: PlanNode }[];
    });
    const scans = listScans(plan[0]?.Plan as PlanNode);
    expect(scans.map((scan) => scan.type)).not.toContain('Seq Scan');
    // The agent's nodes of the partial first day come from an index on (project_id, agent_id, ...), its
    // whole days (today's included: the window ends now) from agent_node_daily_stats by the agent's key,
    // and no task row is read.
    const nodeScans = scans.filter((scan) => scan.relation === 'agent_node_performance');
    expect(nodeScans).toHaveLength(1);
    expect(nodeScans[0]?.condition).toMatch(/agent_id/);
    const dayScans = scans.filter((scan) => scan.relation === 'agent_node_daily_stats');
    expect(dayScans).toHaveLength(1);
    expect(dayScans[0]?.condition).toMatch(/agent_id/);
    expect(scans.filter((scan) => scan.relation === 'tasks')).toEqual([]);
    const nodes = await app.call('GET', '/api/agents/agent_b/nodes');
    expect(nodes.body.nodes.map((node: { node_name: string }) => node.node_name)).not.toContain(
      'step_other_0',
    );
    const { rows } = await sql<{ user_id: string; n: number }>`
      SELECT user_id, count(*)::int AS n FROM agent_node_performance WHERE node_name LIKE 'step_other_%' GROUP BY user_id
    `.execute(app.database.db);
    expect(rows).toEqual([{ user_id: OTHER_USER, n: 3 }]);
  });
});

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  'Index Cond'?: string;
  Plans?: PlanNode[];
}

function listScans(
  node: PlanNode,
): { type: string; relation?: string; index?: string; condition?: string }[] {
  const own = node['Relation Name']
    ? [
        {
          type: node['Node Type'],
          relation: node['Relation Name'],
          index: node['Index Name'],
          condition: node['Index Cond'],
        },
      ]
    : [];
  return [...own, ...(node.Plans ?? []).flatMap(listScans)];
}

function literal(value: unknown): string {
  if (value instanceof Date) return `'${value.toISOString()}'`;
  return `'${String(value).replace(/'/g, "''")}'`;
}
