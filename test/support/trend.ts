import { type Kysely, sql } from 'kysely';
import type { Database } from '../../src/db/database.js';
import type { Scope } from '../../src/identity/scope.js';
import type { ReadRange } from '../../src/stats/read-window.js';
import type { TrendBucket, TrendPoint } from '../../src/stats/trend.queries.js';

/** An agent's trend straight from the task and score rows: what findTrend reads from the rollups. */
export async function findRawTrend(
  db: Kysely<Database>,
  agentId: string,
  scope: Scope,
  bucket: TrendBucket,
  range: ReadRange = {},
): Promise<TrendPoint[]> {
  const mine = scope.ownTasksOnly ? sql`AND t.user_id = ${scope.userId}` : sql``;
  const since = range.since === undefined ? sql`` : sql`AND t.completed_at >= ${range.since}`;
  const until = range.until === undefined ? sql`` : sql`AND t.completed_at < ${range.until}`;
  const result = await sql<TrendPoint>`
    SELECT date_trunc(${sql.lit(bucket)}, t.completed_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' AS bucket_start,
      count(*)::int AS tasks,
      round(avg(s.overall_score), 3)::float8 AS avg_overall_score,
      round(avg(s.user_rating), 2)::float8 AS avg_user_rating,
      round(sum(t.estimated_cost), 6)::float8 AS total_cost
    FROM tasks t
    LEFT JOIN agent_performance_scores s ON s.task_id = t.id
    WHERE t.project_id = ${scope.projectId} AND t.agent_id = ${agentId} AND t.status IN ('completed', 'failed')
      ${mine} ${since} ${until}
    GROUP BY 1
    ORDER BY 1
  `.execute(db);
  return result.rows;
}
