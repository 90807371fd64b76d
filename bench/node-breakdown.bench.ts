/**
 * An agent's node breakdown (GET /api/agents/{id}/nodes) at scale: the raw statement it had before
 * migration 020 (every node of the window summed from agent_node_performance) against findNodeBreakdown
 * (the window's whole UTC days from agent_node_daily_stats, the partial first and last days raw), on the
 * same database: `--tasks` tasks of one user with 3 nodes each over 90 days across 8 agents, as in
 * bench/read-paths.bench.ts. Prints p50/p99 of each over the default window (30 days) and the whole
 * history, member-wide and for one user, then through the HTTP server; then what the rollup's triggers
 * cost a bulk insert (the same chunk with them and without them).
 * Usage: npx tsx bench/node-breakdown.bench.ts [--tasks 100000 --requests 60] [--reuse: measure the
 * database the last run seeded, without seeding]
 */
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import { serve } from '@hono/node-server';
import { sql } from 'kysely';
import { findNodeBreakdown } from '../src/agents/agents.queries.js';
import { DEFAULT_USER_ID, loadConfig } from '../src/config.js';
import { prepareDatabase } from '../src/db/bootstrap.js';
import { connectDatabase } from '../src/db/connect.js';
import { DEFAULT_PROJECT_ID, type Scope } from '../src/identity/scope.js';
import { createServices } from '../src/server.js';
import type { ReadRange } from '../src/stats/read-window.js';
import { type BenchEnvironment, openBenchEnvironment, percentile } from './support.js';

const { values } = parseArgs({
  options: {
    tasks: { type: 'string', default: '100000' },
    requests: { type: 'string', default: '60' },
    chunk: { type: 'string', default: '50000' },
    // Measure the database a previous run seeded (on DATABASE_URL's server) instead of seeding one.
    reuse: { type: 'boolean', default: false },
  },
});
const DATABASE = 'merit_bench_nodes';
const TASKS = Number(values.tasks);
const REQUESTS = Number(values.requests);
const CHUNK = Number(values.chunk);
const AGENT = 'agent_a';
const DAY_MS = 86_400_000;

/** Inserts tasks numbered [from, to) with 3 nodes each in one statement; returns its milliseconds. */
async function insertTasks(
  env: BenchEnvironment,
  agents: string[],
  from: number,
  to: number,
): Promise<number> {
  const started = performance.now();
  await sql`
    WITH g AS (
      SELECT i, now() - random() * interval '90 days' AS at FROM generate_series(${from}::int, ${to - 1}::int) AS i
    ),
    ins AS (
      INSERT INTO tasks (project_id, user_id, agent_id, command, objective_category, category_source, status,
        result, error, model, simulated, source, total_tokens, duration_ms, created_at, started_at, completed_at)
      SELECT ${DEFAULT_PROJECT_ID}::uuid, ${DEFAULT_USER_ID}::uuid, (${agents}::text[])[1 + i % ${agents.length}],
        'bench command ' || i, 'general', 'classifier', CASE WHEN i % 10 = 0 THEN 'failed' ELSE 'completed' END,
        CASE WHEN i % 10 = 0 THEN NULL ELSE 'result' END, CASE WHEN i % 10 = 0 THEN 'boom' END, 'sim-model', true, 'api', 100 + i % 700, 500 + i % 5000, at, at, at + (1 + i % 5) * interval '1 second'
      FROM g
      RETURNING id, project_id, agent_id, status, total_tokens, duration_ms, completed_at
    )
    INSERT INTO agent_node_performance (project_id, task_id, agent_id, node_name, sequence, status, duration_ms,
      total_tokens, success, started_at, completed_at, created_at)
    SELECT project_id, id, agent_id, (ARRAY['plan', 'act', 'review'])[seq + 1], seq, 'completed', duration_ms / 3,
      total_tokens / 3, status = 'completed' OR seq < 2, completed_at, completed_at, completed_at AT TIME ZONE 'UTC'
    FROM ins CROSS JOIN generate_series(0, 2) AS seq
  `.execute(env.handle.db);
  return performance.now() - started;
}

/** The statement /nodes ran before migration 020: the window's nodes summed from the raw rows. */
function rawBreakdown(env: BenchEnvironment, scope: Scope, range: ReadRange) {
  const at = sql`coalesce(n.started_at, n.created_at AT TIME ZONE 'UTC')`;
  const since = range.since === undefined ? sql`` : sql`AND ${at} >= ${range.since}::timestamptz`;
  const mine = scope.ownTasksOnly ? sql`AND n.user_id = ${scope.userId}` : sql``;
  return sql`
    SELECT n.node_name, count(*)::int AS runs, round(avg(n.duration_ms))::int AS avg_duration_ms,
      sum(n.duration_ms)::bigint AS total_duration_ms, round(avg(n.total_tokens))::int AS avg_tokens,
      sum(n.total_tokens)::bigint AS total_tokens,
      round(avg(CASE WHEN n.success THEN 1 ELSE 0 END), 4)::float8 AS success_rate
    FROM agent_node_performance n
    WHERE n.project_id = ${scope.projectId} AND n.agent_id = ${AGENT} ${since} ${mine}
    GROUP BY n.node_name
    ORDER BY sum(n.duration_ms) DESC NULLS LAST, n.node_name
  `
    .execute(env.handle.db)
    .then((result) => result.rows);
}

async function measure(call: () => Promise<unknown>): Promise<{ p50: number; p99: number }> {
  for (let i = 0; i < 3; i++) await call();
  const times: number[] = [];
  for (let i = 0; i < REQUESTS; i++) {
    const started = performance.now();
    await call();
    times.push(performance.now() - started);
  }
  times.sort((a, b) => a - b);
  return { p50: percentile(times, 50), p99: percentile(times, 99) };
}

const format = (figures: { p50: number; p99: number }) =>
  `p50 ${figures.p50.toFixed(1)} / p99 ${figures.p99.toFixed(1)} ms`;

/** The database an earlier run seeded, with the HTTP server over it (it is kept, not dropped). */
async function openSeededEnvironment(): Promise<BenchEnvironment> {
  const url = new URL(process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres');
  url.pathname = `/${DATABASE}`;
  const handle = connectDatabase(url.toString(), { maxConnections: 10, statementTimeoutMs: 0 });
  await prepareDatabase(handle);
  const config = loadConfig({
    MERIT_DATA_DIR: '/nonexistent',
    MERIT_WORKER: 'false',
    MERIT_EVALUATION: 'false',
  });
  const services = createServices(config, { handle, kind: 'external', label: DATABASE });
  const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
    const s = serve({ fetch: services.app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s));
  });
  const { port } = server.address() as AddressInfo;
  return {
    handle,
    services,
    baseUrl: `http://127.0.0.1:${port}`,
    label: DATABASE,
    async close() {
      server.close();
      await handle.close();
    },
  };
}

async function main() {
  const env = values.reuse ? await openSeededEnvironment() : await openBenchEnvironment(DATABASE);
  try {
    const agents = (
      await sql<{ agent_id: string }>`
        SELECT agent_id FROM agents WHERE project_id = ${DEFAULT_PROJECT_ID} AND active ORDER BY agent_id LIMIT 8
      `.execute(env.handle.db)
    ).rows.map((row) => row.agent_id);
    let seedMs = 0;
    for (let from = 0; !values.reuse && from < TASKS; from += CHUNK) {
      seedMs += await insertTasks(env, agents, from, Math.min(TASKS, from + CHUNK));
      process.stderr.write(`seeded ${Math.min(TASKS, from + CHUNK)} tasks\n`);
    }
    if (!values.reuse)
      for (const table of ['tasks', 'agent_node_performance', 'agent_node_daily_stats'])
        await sql`VACUUM ANALYZE ${sql.table(table)}`.execute(env.handle.db);
    const seeded = (
      await sql<{ tasks: number; nodes: number }>`
        SELECT (SELECT count(*)::int FROM tasks) AS tasks, (SELECT count(*)::int FROM agent_node_performance) AS nodes
      `.execute(env.handle.db)
    ).rows[0];
    const took = values.reuse ? '' : ` (seeded in ${(seedMs / 1000).toFixed(1)} s)`;
    console.log(`${seeded?.tasks} tasks, ${seeded?.nodes} nodes, 8 agents, 90 days${took}`);
    const member: Scope = { projectId: DEFAULT_PROJECT_ID, userId: DEFAULT_USER_ID, ownTasksOnly: false };
    const own: Scope = { ...member, ownTasksOnly: true };
    const windows: [string, () => ReadRange][] = [
      ['30d', () => ({ since: new Date(Date.now() - 30 * DAY_MS) })],
      ['all', () => ({})],
    ];
    for (const [name, range] of windows)
      for (const [who, scope] of [
        ['member', member],
        ['own user', own],
      ] as const) {
        // One range for both: a node a second older than the other's window would make them differ.
        const fixed = range();
        const raw = await rawBreakdown(env, scope, fixed);
        const rolled = await findNodeBreakdown(env.handle.db, AGENT, scope, fixed);
        if (JSON.stringify(raw) !== JSON.stringify(rolled))
          throw new Error(`different answers for ${name} ${who}: ${JSON.stringify({ raw, rolled })}`);
        const before = await measure(() => rawBreakdown(env, scope, range()));
        const after = await measure(() => findNodeBreakdown(env.handle.db, AGENT, scope, range()));
        console.log(
          `query ${name} ${who}: raw rows ${format(before)} -> daily rollup + partial days ${format(after)}`,
        );
      }
    for (const query of ['', '?window=all']) {
      const path = `/api/agents/${AGENT}/nodes${query}${query ? '&' : '?'}user_id=${DEFAULT_USER_ID}`;
      const figures = await measure(async () => {
        const response = await fetch(`${env.baseUrl}${path}`);
        if (response.status !== 200) throw new Error(`${path}: ${response.status} ${await response.text()}`);
        await response.text();
      });
      console.log(`HTTP GET ${path}: ${format(figures)}`);
    }
    // What the triggers cost a bulk insert: the same chunk size with them, then without them.
    if (values.reuse) return;
    const size = Math.min(CHUNK, 20_000);
    const withTriggers = await insertTasks(env, agents, TASKS, TASKS + size);
    await sql`ALTER TABLE agent_node_performance DISABLE TRIGGER agent_node_performance_daily_insert`.execute(
      env.handle.db,
    );
    const without = await insertTasks(env, agents, TASKS + size, TASKS + 2 * size);
    await sql`ALTER TABLE agent_node_performance ENABLE TRIGGER agent_node_performance_daily_insert`.execute(
      env.handle.db,
    );
    console.log(
      `insert of ${size} tasks (${size * 3} nodes) in one statement: ${withTriggers.toFixed(0)} ms with the rollup's triggers, ${without.toFixed(0)} ms without`,
    );
  } finally {
    await env.close();
  }
}

await main();
