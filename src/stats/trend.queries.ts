import { type Kysely, sql } from 'kysely';
import type { Database } from '../db/database.js';
import type { Scope } from '../identity/scope.js';
import type { ReadRange } from './read-window.js';
import { ALL_USERS_ID, daysOn, periodOn, splitRange } from './stats.queries.js';

export type TrendBucket = 'hour' | 'day' | 'week';

export interface TrendPoint {
  bucket_start: Date;
  tasks: number;
  avg_overall_score: number | null;
  avg_user_rating: number | null;
  total_cost: number | null;
}

/**
 * An agent's score trend (GET /api/agents/{id}/trend): per hour, day or week of the finish time, its
 * finished tasks, mean overall score, mean rating and cost (null when none of the bucket's tasks is
 * priced), over the scope's tasks finished in a range. Read from the rollups: whole UTC days from
 * agent_daily_stats (day and week buckets), whole hours from agent_hourly_stats, and only the partial
 * first and last hours from the task rows, so its cost follows the buckets, not the tasks. The daily rows
 * keep retention's deleted days (their tasks were rolled up), so the day and week chart outlives them.
 */
export async function findTrend(
  db: Kysely<Database>,
  agentId: string,
  scope: Scope,
  bucket: TrendBucket,
  range: ReadRange,
): Promise<TrendPoint[]> {
  const split = splitRange(range, { days: bucket !== 'hour' });
  const unit = sql.lit(bucket);
  const on = (alias: string) => {
    // Rollup rows are per user plus the all-users row (ALL_USERS_ID); task rows are the user's or everyone's.
    const mine =
      alias === 'r'
        ? sql`AND r.user_id = ${scope.ownTasksOnly ? scope.userId : ALL_USERS_ID}`
        : scope.ownTasksOnly
          ? sql`AND ${sql.ref(`${alias}.user_id`)} = ${scope.userId}`
          : sql``;
    return sql`${sql.ref(`${alias}.project_id`)} = ${scope.projectId} AND ${sql.ref(`${alias}.agent_id`)} = ${agentId} ${mine}`;
  };
  const sums = sql`sum(r.total_tasks) AS tasks, sum(r.sum_overall_score) AS sum_overall, sum(r.scored_tasks) AS scored,
    sum(r.sum_user_rating) AS sum_rating, sum(r.rated_tasks) AS rated, sum(r.total_cost) AS cost, sum(r.priced_tasks) AS priced`;
  const parts = split.raw.map((part) => {
    const since = part.since === undefined ? sql`` : sql`AND t.completed_at >= ${part.since}`;
    const until = part.until === undefined ? sql`` : sql`AND t.completed_at < ${part.until}`;
    return sql`
      SELECT date_trunc(${unit}, t.completed_at AT TIME ZONE 'UTC') AS bucket_start, count(*) AS tasks,
        sum(s.overall_score) AS sum_overall, count(s.overall_score) AS scored, sum(s.user_rating) AS sum_rating,
        count(s.user_rating) AS rated, sum(t.estimated_cost) AS cost, count(t.estimated_cost) AS priced
      FROM tasks t
      LEFT JOIN LATERAL (
        SELECT overall_score, user_rating FROM agent_performance_scores WHERE task_id = t.id LIMIT 1
      ) s ON true
      WHERE ${on('t')} AND t.status IN ('completed', 'failed') ${since} ${until}
      GROUP BY 1`;
  });
  for (const hours of split.hours)
    parts.push(sql`
      SELECT date_trunc(${unit}, r.hour AT TIME ZONE 'UTC') AS bucket_start, ${sums}
      FROM agent_hourly_stats r
      WHERE ${on('r')} ${periodOn(sql`r.hour`, hours)}
      GROUP BY 1`);
  if (split.days !== null)
    parts.push(sql`
      SELECT date_trunc(${unit}, r.day::timestamp) AS bucket_start, ${sums}
      FROM agent_daily_stats r
      WHERE ${on('r')} ${daysOn(sql`r.day`, split.days)}
      GROUP BY 1`);
  const result = await sql<TrendPoint>`
    WITH parts AS MATERIALIZED (${sql.join(parts, sql` UNION ALL `)})
    SELECT bucket_start AT TIME ZONE 'UTC' AS bucket_start, sum(tasks)::int AS tasks,
      round(sum(sum_overall) / nullif(sum(scored), 0), 3)::float8 AS avg_overall_score,
      round(sum(sum_rating) / nullif(sum(rated), 0), 2)::float8 AS avg_user_rating,
      CASE WHEN sum(priced) > 0 THEN round(sum(cost), 6)::float8 END AS total_cost
    FROM parts
    GROUP BY bucket_start
    HAVING sum(tasks) > 0
    ORDER BY bucket_start
  `.execute(db);
  return result.rows;
}
