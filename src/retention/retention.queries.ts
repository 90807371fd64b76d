import { type Kysely, sql } from 'kysely';
import type { Database } from '../db/database.js';
import { RAW_SUMS, SUM_COLUMN_NAMES } from '../stats/stats-sums.js';

/** The summed columns of task_daily_rollups that the statistics rebuild adds (agent_category_stats' sums). */
const STATS_SUMS = SUM_COLUMN_NAMES;
const ROLLUP_SUMS = [...STATS_SUMS, 'score_rows', 'score_cost', 'score_priced_rows'] as const;

/**
 * Adds up to `batchSize` finished tasks completed before `cutoff` to task_daily_rollups and deletes
 * them (their scores, nodes, evaluations and reviews go with them, ON DELETE CASCADE), in one
 * transaction. The per-task figures are those recomputeAllStats reads, so the rebuild over tasks plus
 * rollups gives the same statistics. Returns how many tasks were deleted (0: nothing older is left).
 */
export async function rollUpOldTasks(db: Kysely<Database>, cutoff: Date, batchSize: number): Promise<number> {
  return db.transaction().execute(async (trx) => {
    // Conflicts with the rebuild's SHARE ROW EXCLUSIVE lock: a batch never commits between its read of
    // tasks and its read of rollups (the tasks would be counted twice). Writers are not blocked.
    await sql`LOCK TABLE agent_performance_stats, agent_category_stats IN ROW EXCLUSIVE MODE`.execute(trx);
    const statsSums = sql.raw(STATS_SUMS.join(', '));
    const addSums = sql.raw(
      ROLLUP_SUMS.map((column) => `${column} = r.${column} + excluded.${column}`).join(', '),
    );
    const result = await sql<{ deleted: number }>`
      WITH batch AS (
        SELECT id FROM tasks
        WHERE status IN ('completed', 'failed') AND completed_at < ${cutoff}
        LIMIT ${batchSize}
        FOR UPDATE SKIP LOCKED
      ),
      rolled AS (
        INSERT INTO task_daily_rollups AS r (project_id, agent_id, objective_category, user_id, day, ${statsSums},
          first_task_at, last_task_at, score_rows, score_cost, score_priced_rows)
        SELECT t.project_id, t.agent_id, t.objective_category, t.user_id, (t.completed_at AT TIME ZONE 'UTC')::date,
          ${RAW_SUMS},
          count(s.task_id)::int,
          coalesce(sum(s.estimated_cost), 0),
          count(s.estimated_cost)::int
        FROM tasks t
        JOIN batch b ON b.id = t.id
        LEFT JOIN agent_performance_scores s ON s.task_id = t.id
        GROUP BY 1, 2, 3, 4, 5
        ON CONFLICT (project_id, agent_id, objective_category, user_id, day) DO UPDATE SET ${addSums},
          first_task_at = LEAST(r.first_task_at, excluded.first_task_at),
          last_task_at = GREATEST(r.last_task_at, excluded.last_task_at)
        RETURNING 1
      ),
      deleted AS (
        DELETE FROM tasks t USING batch b
        WHERE t.id = b.id AND (SELECT count(*) FROM rolled) >= 0
        RETURNING 1
      )
      SELECT count(*)::int AS deleted FROM deleted
    `.execute(trx);
    return result.rows[0]?.deleted ?? 0;
  });
}

/** Deletes up to `batchSize` routing decisions made before `cutoff`; returns how many. */
export async function deleteOldRoutingDecisions(
  db: Kysely<Database>,
  cutoff: Date,
  batchSize: number,
): Promise<number> {
  const result = await sql<{ deleted: number }>`
    WITH deleted AS (
      DELETE FROM routing_decisions WHERE id IN (
        SELECT id FROM routing_decisions WHERE created_at < ${cutoff} LIMIT ${batchSize} FOR UPDATE SKIP LOCKED
      )
      RETURNING 1
    )
    SELECT count(*)::int AS deleted FROM deleted
  `.execute(db);
  return result.rows[0]?.deleted ?? 0;
}

/**
 * Adds the rolled-up (deleted) tasks to the statistics rebuild's `merit_stats_recompute` table (one row
 * per project, agent and category, built from tasks by recomputeAllStats), in the rebuild's transaction.
 */
export async function addRollupsToRecompute(db: Kysely<Database>): Promise<void> {
  const sums = STATS_SUMS.map((column) => `sum(${column}) AS ${column}`).join(', ');
  const add = STATS_SUMS.map((column) => `${column} = m.${column} + r.${column}`).join(', ');
  const columns = STATS_SUMS.join(', ');
  await sql`
    WITH r AS (
      SELECT project_id, agent_id, objective_category, ${sql.raw(sums)},
        min(first_task_at) AS first_task_at, max(last_task_at) AS last_task_at
      FROM task_daily_rollups
      GROUP BY project_id, agent_id, objective_category
    ),
    merged AS (
      UPDATE merit_stats_recompute m SET ${sql.raw(add)},
        first_task_at = LEAST(m.first_task_at, r.first_task_at),
        last_task_at = GREATEST(m.last_task_at, r.last_task_at)
      FROM r
      WHERE m.project_id = r.project_id AND m.agent_id = r.agent_id AND m.objective_category = r.objective_category
      RETURNING m.project_id, m.agent_id, m.objective_category
    )
    INSERT INTO merit_stats_recompute (project_id, agent_id, objective_category, ${sql.raw(columns)}, first_task_at, last_task_at)
    SELECT r.project_id, r.agent_id, r.objective_category, ${sql.raw(STATS_SUMS.map((column) => `r.${column}`).join(', '))},
      r.first_task_at, r.last_task_at
    FROM r
    WHERE NOT EXISTS (
      SELECT 1 FROM merged WHERE merged.project_id = r.project_id AND merged.agent_id = r.agent_id
        AND merged.objective_category = r.objective_category
    )
  `.execute(db);
}

/**
 * The rolled-up (deleted) tasks' days as rows of the daily statistics rebuild (project, agent, category,
 * user, day, the statistics sums in agent_category_stats' order, first and last task), to UNION ALL with
 * the days read from tasks (recomputeAllStats rebuilds agent_daily_stats from both).
 */
export function dailyRollupsForRecompute() {
  return sql`SELECT project_id, agent_id, objective_category, user_id, day, ${sql.raw(STATS_SUMS.join(', '))},
      first_task_at, last_task_at
    FROM task_daily_rollups`;
}
