/**
 * How long recompute_stats takes to check each trigger-kept rollup (src/stats/rollup-upkeep.ts), and to
 * rebuild the ones that drifted.
 * Seeds `--tasks` tasks (default 100,000; bench/seed-history.ts: over 90 days, each with 3 nodes, a routing
 * decision, and for the completed ones a score row (30% rated), two reviews and a judge evaluation) in a
 * database of its own (merit_bench_rollups); then measures, per rollup, the drift finder and the job's
 * check on consistent rollups, and again after every rollup was truncated and 10% of the decisions'
 * rewards and reviews' ratings were set wrong with the triggers off.
 *
 *   npx tsx bench/rollup-rebuild.bench.ts [--tasks 100000]
 */
import { sql } from 'kysely';
import { findRollupDrift, TRIGGER_ROLLUPS } from '../src/stats/rollup-upkeep.js';
import { runStatsRecompute } from '../src/stats/stats.jobs.js';
import { seedHistory } from './seed-history.js';
import { type BenchEnvironment, openBenchEnvironment } from './support.js';

const CHUNK = 10_000;

function parseTasks(): number {
  const index = process.argv.indexOf('--tasks');
  const value = index === -1 ? 100_000 : Number(process.argv[index + 1]);
  if (!Number.isInteger(value) || value <= 0) throw new Error('--tasks takes a positive integer');
  return value;
}

async function seed(env: BenchEnvironment, total: number): Promise<void> {
  await seedHistory(env.handle.db, 0, total, {
    chunk: CHUNK,
    onChunk: (added) => process.stderr.write(`seeded ${added} of ${total} tasks\n`),
  });
  await sql`ANALYZE`.execute(env.handle.db);
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
    await sql`TRUNCATE ${sql.join(TRIGGER_ROLLUPS.map((rollup) => sql.table(rollup)))}`.execute(trx);
    await sql`UPDATE routing_decisions SET outcome_reward = 0.5 WHERE random() < 0.1`.execute(trx);
    await sql`UPDATE agent_peer_evaluations SET user_rating = 3 WHERE random() < 0.1`.execute(trx);
  });
  await measure(env, 'after truncating every rollup and setting 10% of the copied values wrong');
  await measure(env, 'repaired, run again');
} finally {
  await env.close();
}
