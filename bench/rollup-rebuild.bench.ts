/**
 * How long recompute_stats takes to check each trigger-kept rollup (src/stats/rollup-upkeep.ts), and to
 * rebuild the ones that drifted.
 * Seeds `--tasks` tasks (default 100,000) over 90 days in a database of its own (merit_bench_rollups), each
 * with 3 nodes, a routing decision, and for the completed ones a score row (30% rated), two reviews and a
 * judge evaluation; then measures, per rollup, the drift finder and the rebuild on consistent rollups, and
 * again after every rollup was truncated and 10% of the decisions' rewards and reviews' ratings were set
 * wrong with the triggers off.
 *
 *   npx tsx bench/rollup-rebuild.bench.ts [--tasks 100000]
 */
import { sql } from 'kysely';
import { DEFAULT_USER_ID } from '../src/config.js';
import { DEFAULT_PROJECT_ID } from '../src/identity/scope.js';
import { findRollupDrift, TRIGGER_ROLLUPS } from '../src/stats/rollup-upkeep.js';
import { runStatsRecompute } from '../src/stats/stats.jobs.js';
import { type BenchEnvironment, openBenchEnvironment } from './support.js';

const CHUNK = 10_000;

function parseTasks(): number {
  const index = process.argv.indexOf('--tasks');
  const value = index === -1 ? 100_000 : Number(process.argv[index + 1]);
  if (!Number.isInteger(value) || value <= 0) throw new Error('--tasks takes a positive integer');
  return value;
}

async function seed(env: BenchEnvironment, total: number): Promise<void> {
  const db = env.handle.db;
  const agents = (
    await sql<{ agent_id: string }>`
      SELECT agent_id FROM agents WHERE project_id = ${DEFAULT_PROJECT_ID} AND active ORDER BY agent_id LIMIT 8
    `.execute(db)
  ).rows.map((row) => row.agent_id);
  for (let start = 0; start < total; start += CHUNK) {
    const end = Math.min(total, start + CHUNK) - 1;
    const chunk = await sql<{ completed: string[] }>`
      WITH g AS (
        SELECT i, now() - random() * interval '90 days' AS at FROM generate_series(${start}::int, ${end}::int) AS i
      ),
      ins AS (
        INSERT INTO tasks (project_id, user_id, agent_id, command, objective_category, status, result, error,
          total_tokens, estimated_cost, duration_ms, created_at, started_at, completed_at)
        SELECT ${DEFAULT_PROJECT_ID}::uuid, ${DEFAULT_USER_ID}::uuid, (${agents}::text[])[1 + i % ${agents.length}],
          'bench command ' || i, 'general',
          CASE WHEN i % 10 = 0 THEN 'failed' ELSE 'completed' END,
          CASE WHEN i % 10 = 0 THEN NULL ELSE 'result ' || i END, CASE WHEN i % 10 = 0 THEN 'boom' END,
          100 + i % 700, (i % 500) / 100000.0, 500 + i % 5000, at, at, at + (1 + i % 5) * interval '1 second'
        FROM g
        RETURNING id, project_id, user_id, agent_id, status, total_tokens, duration_ms, command, completed_at
      ),
      scores AS (
        INSERT INTO agent_performance_scores (project_id, task_id, agent_id, user_id, objective_category,
          accuracy_score, relevance_score, completeness_score, overall_score, user_rating, created_at)
        SELECT project_id, id, agent_id, user_id, 'general', round(random()::numeric, 2),
          round(random()::numeric, 2), round(random()::numeric, 2), round((0.3 + random() * 0.7)::numeric, 2),
          CASE WHEN random() < 0.3 THEN 1 + floor(random() * 5)::int END, completed_at AT TIME ZONE 'UTC'
        FROM ins WHERE status = 'completed'
        RETURNING 1
      ),
      nodes AS (
        INSERT INTO agent_node_performance (project_id, task_id, agent_id, node_name, sequence, status,
          duration_ms, total_tokens, success, started_at, completed_at, created_at)
        SELECT project_id, id, agent_id, (ARRAY['plan', 'act', 'review'])[seq + 1], seq, 'completed',
          duration_ms / 3, total_tokens / 3, status = 'completed' OR seq < 2, completed_at, completed_at,
          completed_at AT TIME ZONE 'UTC'
        FROM ins CROSS JOIN generate_series(0, 2) AS seq
        RETURNING 1
      ),
      decisions AS (
        INSERT INTO routing_decisions (project_id, user_id, task_id, command, category, category_source,
          chosen_agent_id, reason, expected_score, interval_lower, interval_upper, best_agent_id, explanation,
          created_at)
        SELECT project_id, user_id, id, command, 'general', 'classifier', agent_id, 'thompson', 0.7, 0.6, 0.8,
          agent_id, 'bench', completed_at - interval '2 seconds'
        FROM ins
        RETURNING 1
      )
      SELECT array(SELECT id FROM ins WHERE status = 'completed') AS completed,
        (SELECT count(*) FROM scores) + (SELECT count(*) FROM nodes) + (SELECT count(*) FROM decisions) AS n
    `.execute(db);
    // A second statement: a review takes its task's rating from the score row, which must be there.
    const completed = (chunk.rows[0]?.completed ?? []) as string[];
    await sql`
      WITH s AS (
        SELECT task_id, agent_id, created_at, row_number() OVER () AS i
        FROM agent_performance_scores WHERE task_id = ANY(${completed}::uuid[])
      ),
      reviews AS (
        INSERT INTO agent_peer_evaluations (task_id, evaluated_agent_id, reviewer_agent_id, perspective, status,
          score, source, evaluator_version, reviewer_weight, prompt_tokens, completion_tokens, estimated_cost,
          created_at)
        SELECT s.task_id, s.agent_id, reviewer, 'bench', 'done', round(random()::numeric, 2), 'llm', 'bench', 1,
          200, 40, CASE WHEN i % 3 = 0 THEN NULL ELSE 0.0002 END, s.created_at + interval '10 seconds'
        FROM s CROSS JOIN LATERAL (
          SELECT (${agents}::text[])[1 + (array_position(${agents}::text[], s.agent_id) + k) % ${agents.length}]
            AS reviewer
          FROM generate_series(0, 1) AS k
        ) r
        RETURNING 1
      ),
      evaluations AS (
        INSERT INTO task_evaluations (task_id, kind, status, accuracy_score, relevance_score, completeness_score,
          source, evaluator_version, model, prompt_tokens, completion_tokens, estimated_cost, created_at, updated_at)
        SELECT task_id, 'judge', 'done', 0.7, 0.7, 0.7, 'judge', 'bench', 'bench-judge', 300 + i % 200, 80,
          CASE WHEN i % 4 = 0 THEN NULL ELSE 0.0004 END, created_at AT TIME ZONE 'UTC' + interval '5 seconds',
          created_at AT TIME ZONE 'UTC' + interval '5 seconds'
        FROM s
        RETURNING 1
      )
      SELECT (SELECT count(*) FROM reviews) + (SELECT count(*) FROM evaluations) AS n
    `.execute(db);
    process.stderr.write(`seeded ${end + 1} of ${total} tasks\n`);
  }
  await sql`ANALYZE`.execute(db);
}

async function measure(env: BenchEnvironment, label: string): Promise<void> {
  const db = env.handle.db;
  const lines: string[] = [];
  for (const rollup of TRIGGER_ROLLUPS) {
    const started = performance.now();
    const drift = await findRollupDrift(db, rollup);
    lines.push(
      `  ${rollup}: drift finder ${Math.round(performance.now() - started)} ms (${drift.length} rows)`,
    );
  }
  const started = performance.now();
  const result = await runStatsRecompute(db);
  const total = Math.round(performance.now() - started);
  const rebuilt = result.rollups.map(
    (rebuild) =>
      `  ${rebuild.rollup}: ${rebuild.drifted === 0 ? 'checked, consistent, not rebuilt' : `${rebuild.drifted} drifted, checked and rebuilt`} in ${rebuild.ms} ms, ${rebuild.rowsChanged} rows changed, ${rebuild.rawRowsFixed} raw rows fixed`,
  );
  const rows = await sql<Record<string, number>>`
    SELECT ${sql.join(TRIGGER_ROLLUPS.map((rollup) => sql`(SELECT count(*)::int FROM ${sql.table(rollup)}) AS ${sql.ref(rollup)}`))}
  `.execute(db);
  console.log(
    `${label} (runStatsRecompute ${total} ms in all, statistics ${result.statistics.rebuilt ? 'rebuilt' : 'consistent'} in ${result.statistics.ms} ms; rollup rows ${JSON.stringify(rows.rows[0])})`,
  );
  console.log([...lines, ...rebuilt].join('\n'));
}

const tasks = parseTasks();
const env = await openBenchEnvironment('merit_bench_rollups');
try {
  await seed(env, tasks);
  const counts = await sql<Record<string, number>>`
    SELECT (SELECT count(*)::int FROM tasks) AS tasks, (SELECT count(*)::int FROM agent_node_performance) AS nodes,
      (SELECT count(*)::int FROM routing_decisions) AS decisions,
      (SELECT count(*)::int FROM agent_peer_evaluations) AS reviews,
      (SELECT count(*)::int FROM task_evaluations) AS evaluations
  `.execute(env.handle.db);
  console.log(`seeded ${JSON.stringify(counts.rows[0])}`);
  await measure(env, 'consistent rollups, first run');
  await measure(env, 'consistent rollups, second run');
  await env.handle.db.transaction().execute(async (trx) => {
    await sql`SET LOCAL session_replication_role = replica`.execute(trx);
    await sql`TRUNCATE routing_quality_hourly, agent_node_daily_stats, reviewer_hourly_stats, evaluator_hourly_spend`.execute(
      trx,
    );
    await sql`UPDATE routing_decisions SET outcome_reward = 0.5 WHERE random() < 0.1`.execute(trx);
    await sql`UPDATE agent_peer_evaluations SET user_rating = 3 WHERE random() < 0.1`.execute(trx);
  });
  await measure(env, 'after truncating every rollup and setting 10% of the copied values wrong');
  await measure(env, 'repaired, run again');
} finally {
  await env.close();
}
