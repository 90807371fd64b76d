import { type Kysely, sql } from 'kysely';
import type { AgentStatsRow, CategoryStatsRow, Database } from '../db/database.js';
import { addRollupsToRecompute } from '../retention/retention.queries.js';
import type { StatsInput } from './leaderboard.js';
import type { ReadRange } from './read-window.js';
import { isEmptyDelta, type StatsDelta } from './stats.js';

function round6(value: number): number {
  return Math.round(value * 1e6) / 1e6;
}

export interface StatsChange {
  projectId: string;
  agentId: string;
  category: string;
  delta: StatsDelta;
}

/** The delta columns of one statistics change, as a row of the `stats_input` relation. */
export interface StatsDeltaRecord {
  project_id: string;
  agent_id: string;
  category: string;
  d_tasks: number;
  d_successful: number;
  d_failed: number;
  d_scored: number;
  d_sum_overall: number;
  d_sum_sq_overall: number;
  d_rated: number;
  d_sum_rating: number;
  d_r1: number;
  d_r2: number;
  d_r3: number;
  d_r4: number;
  d_r5: number;
  d_tokens: number;
  d_cost: number;
  d_metered: number;
  d_priced: number;
  d_duration_ms: number;
  d_reward_points: number;
  d_at: string | null;
}

/** Column list for `jsonb_to_recordset(...) AS x(...)` of StatsDeltaRecord fields (without agent and category). */
export const DELTA_RECORD_COLUMNS = sql.raw(
  [
    'd_tasks int',
    'd_successful int',
    'd_failed int',
    'd_scored int',
    'd_sum_overall numeric',
    'd_sum_sq_overall numeric',
    'd_rated int',
    'd_sum_rating numeric',
    'd_r1 int',
    'd_r2 int',
    'd_r3 int',
    'd_r4 int',
    'd_r5 int',
    'd_tokens bigint',
    'd_cost numeric',
    'd_metered int',
    'd_priced int',
    'd_duration_ms bigint',
    'd_reward_points int',
    'd_at timestamptz',
  ].join(', '),
);

export function toDeltaRecord(
  projectId: string,
  agentId: string,
  category: string,
  d: StatsDelta,
): StatsDeltaRecord {
  return {
    project_id: projectId,
    agent_id: agentId,
    category,
    d_tasks: d.tasks,
    d_successful: d.successful,
    d_failed: d.failed,
    d_scored: d.scored,
    d_sum_overall: round6(d.sumOverall),
    d_sum_sq_overall: round6(d.sumSqOverall),
    d_rated: d.rated,
    d_sum_rating: d.sumRating,
    d_r1: d.ratingCounts[0],
    d_r2: d.ratingCounts[1],
    d_r3: d.ratingCounts[2],
    d_r4: d.ratingCounts[3],
    d_r5: d.ratingCounts[4],
    d_tokens: d.tokens,
    d_cost: round6(d.cost),
    d_metered: d.metered,
    d_priced: d.priced,
    d_duration_ms: d.durationMs,
    d_reward_points: d.rewardPoints,
    d_at: d.at ? d.at.toISOString() : null,
  };
}

/** Statistics columns that are plain running sums, as (column, delta sum) pairs. */
const SUM_COLUMNS: readonly [string, string][] = [
  ['total_tasks', 'sum(d_tasks)::int'],
  ['successful_tasks', 'sum(d_successful)::int'],
  ['failed_tasks', 'sum(d_failed)::int'],
  ['scored_tasks', 'sum(d_scored)::int'],
  ['sum_overall_score', 'sum(d_sum_overall)'],
  ['sum_sq_overall_score', 'sum(d_sum_sq_overall)'],
  ['rated_tasks', 'sum(d_rated)::int'],
  ['sum_user_rating', 'sum(d_sum_rating)'],
  ['ratings_1', 'sum(d_r1)::int'],
  ['ratings_2', 'sum(d_r2)::int'],
  ['ratings_3', 'sum(d_r3)::int'],
  ['ratings_4', 'sum(d_r4)::int'],
  ['ratings_5', 'sum(d_r5)::int'],
  ['total_tokens', 'sum(d_tokens)::bigint'],
  ['total_cost', 'sum(d_cost)'],
  ['metered_tasks', 'sum(d_metered)::int'],
  ['priced_tasks', 'sum(d_priced)::int'],
  ['total_duration_ms', 'sum(d_duration_ms)::bigint'],
  ['reward_points', 'sum(d_reward_points)::int'],
];
const SUM_NAMES = SUM_COLUMNS.map(([column]) => column).join(', ');
/** The deltas summed per key, named like the columns they add to, plus the finish-time window. */
const DELTA_SUMS = sql.raw(
  [
    ...SUM_COLUMNS.map(([column, sum]) => `${sum} AS ${column}`),
    'min(d_at) AS first_task_at',
    'max(d_at) AS last_task_at',
  ].join(', '),
);
/** ON CONFLICT: add the sums (the seed's two nullable counts count from 0) and widen the window. */
const ADD_SUMS = sql.raw(
  [
    ...SUM_COLUMNS.map(([column]) => `${column} = coalesce(s.${column}, 0) + excluded.${column}`),
    'first_task_at = least(s.first_task_at, excluded.first_task_at)',
    'last_task_at = greatest(s.last_task_at, excluded.last_task_at)',
    'last_updated = excluded.last_updated',
  ].join(', '),
);
const COLUMNS = sql.raw(`${SUM_NAMES}, first_task_at, last_task_at`);
const DELTA_COLUMNS = sql.raw(
  [...SUM_COLUMNS.map(([column]) => `d.${column}`), 'd.first_task_at', 'd.last_task_at'].join(', '),
);

/**
 * The one lock order of every writer of statistics (a writer that takes locks in another order can
 * deadlock with this one):
 *   1. the task row (`SELECT ... FOR UPDATE`, or the INSERT of a new task), then its score row, then
 *      the graphile-worker job rows it enqueues;
 *   2. `agent_performance_stats` rows, in (project_id, agent_id) order;
 *   3. `agent_category_stats` rows, in (project_id, agent_id, objective_category) order.
 * Statistics rows are shared by every write of an agent: a writer takes them in its last statement,
 * so it holds them only for that statement and its commit.
 * The scheduled recompute locks both statistics tables whole (SHARE ROW EXCLUSIVE, in the order of 2
 * and 3) before it reads any task, so writers wait for it rather than being overwritten by it.
 */
export const STATS_LOCK_ORDER = ['agent_performance_stats', 'agent_category_stats'] as const;

/**
 * CTEs (to follow a `stats_input` CTE of StatsDeltaRecord rows) that add the deltas to the agents'
 * statistics rows and their (agent, category) rows, in one statement, in STATS_LOCK_ORDER. Rows are
 * summed per key and written in key order, and every writer uses this same fragment. PostgreSQL runs the
 * data-modifying CTEs that the main query does not read in an order of its own (the later one first),
 * so the category upsert reads the agent upsert's output: the agents' rows are always locked first.
 * Rows are created on first use (so the seed's manual INSERT of a stats row still works on a fresh
 * database), and an average keeps its stored value until real scores exist.
 */
export const STATS_UPSERT_CTES = sql`
  stats_agent_delta AS (
    SELECT project_id, agent_id, ${DELTA_SUMS} FROM stats_input GROUP BY project_id, agent_id
  ),
  stats_agent_upsert AS (
    INSERT INTO agent_performance_stats AS s (project_id, agent_id, nickname, ${COLUMNS}, avg_overall_score, avg_user_rating, last_updated)
    SELECT d.project_id, d.agent_id, a.nickname, ${DELTA_COLUMNS},
      round(d.sum_overall_score / nullif(d.scored_tasks, 0), 2), round(d.sum_user_rating / nullif(d.rated_tasks, 0), 2),
      now() AT TIME ZONE 'UTC'
    FROM stats_agent_delta d JOIN agents a ON a.project_id = d.project_id AND a.agent_id = d.agent_id
    ORDER BY d.project_id, d.agent_id
    ON CONFLICT (project_id, agent_id) DO UPDATE SET ${ADD_SUMS},
      avg_overall_score = CASE WHEN s.scored_tasks + excluded.scored_tasks > 0
        THEN round((s.sum_overall_score + excluded.sum_overall_score) / (s.scored_tasks + excluded.scored_tasks), 2)
        ELSE s.avg_overall_score END,
      avg_user_rating = CASE WHEN s.rated_tasks + excluded.rated_tasks > 0
        THEN round((s.sum_user_rating + excluded.sum_user_rating) / (s.rated_tasks + excluded.rated_tasks), 2)
        ELSE s.avg_user_rating END
    RETURNING s.agent_id
  ),
  stats_category_delta AS (
    SELECT project_id, agent_id, category, ${DELTA_SUMS} FROM stats_input GROUP BY project_id, agent_id, category
  ),
  stats_category_upsert AS (
    INSERT INTO agent_category_stats AS s (project_id, agent_id, objective_category, ${COLUMNS}, last_updated)
    SELECT d.project_id, d.agent_id, d.category, ${DELTA_COLUMNS}, now()
    FROM stats_category_delta d
    WHERE (SELECT count(*) FROM stats_agent_upsert) >= 0
    ORDER BY d.project_id, d.agent_id, d.category
    ON CONFLICT (project_id, agent_id, objective_category) DO UPDATE SET ${ADD_SUMS}
    RETURNING s.agent_id
  )`;

/** Applies task-level statistics changes in one statement (see STATS_UPSERT_CTES). */
export async function applyStatsChanges(
  db: Kysely<Database>,
  changes: readonly StatsChange[],
): Promise<void> {
  const records = changes
    .filter((change) => !isEmptyDelta(change.delta))
    .map((change) => toDeltaRecord(change.projectId, change.agentId, change.category, change.delta));
  if (records.length === 0) return;
  await sql`
    WITH stats_input AS (
      SELECT * FROM jsonb_to_recordset(${JSON.stringify(records)}::jsonb) AS x(project_id uuid, agent_id text, category text, ${DELTA_RECORD_COLUMNS})
    ),
    ${STATS_UPSERT_CTES}
    SELECT (SELECT count(*) FROM stats_agent_upsert) AS agents, (SELECT count(*) FROM stats_category_upsert) AS categories
  `.execute(db);
}

export async function findAllAgentStats(db: Kysely<Database>, projectId: string): Promise<AgentStatsRow[]> {
  return db
    .selectFrom('agent_performance_stats as s')
    .innerJoin('agents as a', (join) =>
      join.onRef('a.project_id', '=', 's.project_id').onRef('a.agent_id', '=', 's.agent_id'),
    )
    .selectAll('s')
    .where('s.project_id', '=', projectId)
    .where('a.active', '=', true)
    .execute();
}

export async function findCategoryStats(
  db: Kysely<Database>,
  projectId: string,
  filter: { category?: string; agentId?: string },
): Promise<(CategoryStatsRow & { nickname: string })[]> {
  let query = db
    .selectFrom('agent_category_stats as c')
    .innerJoin('agents as a', (join) =>
      join.onRef('a.project_id', '=', 'c.project_id').onRef('a.agent_id', '=', 'c.agent_id'),
    )
    .selectAll('c')
    .select('a.nickname')
    .where('c.project_id', '=', projectId)
    .where('a.active', '=', true);
  if (filter.category) query = query.where('c.objective_category', '=', filter.category);
  if (filter.agentId) query = query.where('c.agent_id', '=', filter.agentId);
  return query.orderBy('c.objective_category').execute();
}

/**
 * Rebuilds both statistics tables from the raw task and score rows, in one transaction (the caller's):
 * the scheduled repair of any drift in the running sums. Agents without finished tasks lose their row.
 * The tables are locked before the tasks are read: a writer that commits a task meanwhile waits and
 * adds its delta after the rebuild, instead of committing between the read and the rewrite (and being
 * wiped by it).
 */
export async function recomputeAllStats(
  db: Kysely<Database>,
): Promise<{ agents: number; categories: number }> {
  await sql`LOCK TABLE ${sql.raw(STATS_LOCK_ORDER.join(', '))} IN SHARE ROW EXCLUSIVE MODE`.execute(db);
  await sql`
    CREATE TEMP TABLE merit_stats_recompute ON COMMIT DROP AS
    SELECT t.project_id, t.agent_id, t.objective_category,
      count(*)::int AS total_tasks,
      count(*) FILTER (WHERE t.status = 'completed')::int AS successful_tasks,
      count(*) FILTER (WHERE t.status = 'failed')::int AS failed_tasks,
      count(s.overall_score)::int AS scored_tasks,
      coalesce(sum(s.overall_score), 0) AS sum_overall_score,
      coalesce(sum(s.overall_score * s.overall_score), 0) AS sum_sq_overall_score,
      count(s.user_rating)::int AS rated_tasks,
      coalesce(sum(s.user_rating), 0) AS sum_user_rating,
      count(*) FILTER (WHERE s.user_rating = 1)::int AS ratings_1,
      count(*) FILTER (WHERE s.user_rating = 2)::int AS ratings_2,
      count(*) FILTER (WHERE s.user_rating = 3)::int AS ratings_3,
      count(*) FILTER (WHERE s.user_rating = 4)::int AS ratings_4,
      count(*) FILTER (WHERE s.user_rating = 5)::int AS ratings_5,
      coalesce(sum(t.total_tokens), 0)::bigint AS total_tokens,
      coalesce(sum(t.estimated_cost), 0) AS total_cost,
      count(t.total_tokens)::int AS metered_tasks,
      count(t.estimated_cost)::int AS priced_tasks,
      coalesce(sum(t.duration_ms), 0)::bigint AS total_duration_ms,
      coalesce(sum(s.reward_points), 0)::int AS reward_points,
      min(t.completed_at) AS first_task_at,
      max(t.completed_at) AS last_task_at
    FROM tasks t
    LEFT JOIN agent_performance_scores s ON s.task_id = t.id
    WHERE t.status IN ('completed', 'failed')
    GROUP BY t.project_id, t.agent_id, t.objective_category
  `.execute(db);
  // Tasks deleted by retention count through their daily rollups.
  await addRollupsToRecompute(db);
  await sql`DELETE FROM agent_category_stats`.execute(db);
  const categories = await sql`
    INSERT INTO agent_category_stats (project_id, agent_id, objective_category, total_tasks, successful_tasks, failed_tasks,
      scored_tasks, sum_overall_score, sum_sq_overall_score, rated_tasks, sum_user_rating,
      ratings_1, ratings_2, ratings_3, ratings_4, ratings_5, total_tokens, total_cost, metered_tasks,
      priced_tasks, total_duration_ms, reward_points, first_task_at, last_task_at, last_updated)
    SELECT project_id, agent_id, objective_category, total_tasks, successful_tasks, failed_tasks, scored_tasks,
      sum_overall_score, sum_sq_overall_score, rated_tasks, sum_user_rating,
      ratings_1, ratings_2, ratings_3, ratings_4, ratings_5, total_tokens, total_cost, metered_tasks,
      priced_tasks, total_duration_ms, reward_points, first_task_at, last_task_at, now()
    FROM merit_stats_recompute
  `.execute(db);
  await sql`
    DELETE FROM agent_performance_stats s
    WHERE NOT EXISTS (
      SELECT 1 FROM merit_stats_recompute r WHERE r.project_id = s.project_id AND r.agent_id = s.agent_id
    )
  `.execute(db);
  const agents = await sql`
    INSERT INTO agent_performance_stats AS s (project_id, agent_id, nickname, total_tasks, successful_tasks, failed_tasks,
      scored_tasks, sum_overall_score, sum_sq_overall_score, rated_tasks, sum_user_rating,
      ratings_1, ratings_2, ratings_3, ratings_4, ratings_5, total_tokens, total_cost, metered_tasks,
      priced_tasks, total_duration_ms, reward_points, first_task_at, last_task_at, avg_overall_score,
      avg_user_rating, last_updated)
    SELECT r.project_id, r.agent_id, a.nickname, sum(total_tasks), sum(successful_tasks), sum(failed_tasks), sum(scored_tasks),
      sum(sum_overall_score), sum(sum_sq_overall_score), sum(rated_tasks), sum(sum_user_rating),
      sum(ratings_1), sum(ratings_2), sum(ratings_3), sum(ratings_4), sum(ratings_5), sum(total_tokens),
      sum(total_cost), sum(metered_tasks), sum(priced_tasks), sum(total_duration_ms), sum(reward_points), min(first_task_at), max(last_task_at),
      round(sum(sum_overall_score) / nullif(sum(scored_tasks), 0), 2),
      round(sum(sum_user_rating) / nullif(sum(rated_tasks), 0), 2),
      now() AT TIME ZONE 'UTC'
    FROM merit_stats_recompute r JOIN agents a ON a.project_id = r.project_id AND a.agent_id = r.agent_id
    GROUP BY r.project_id, r.agent_id, a.nickname
    ON CONFLICT (project_id, agent_id) DO UPDATE SET
      nickname = excluded.nickname, total_tasks = excluded.total_tasks,
      successful_tasks = excluded.successful_tasks, failed_tasks = excluded.failed_tasks,
      scored_tasks = excluded.scored_tasks, sum_overall_score = excluded.sum_overall_score,
      sum_sq_overall_score = excluded.sum_sq_overall_score, rated_tasks = excluded.rated_tasks,
      sum_user_rating = excluded.sum_user_rating, ratings_1 = excluded.ratings_1, ratings_2 = excluded.ratings_2,
      ratings_3 = excluded.ratings_3, ratings_4 = excluded.ratings_4, ratings_5 = excluded.ratings_5,
      total_tokens = excluded.total_tokens, total_cost = excluded.total_cost,
      metered_tasks = excluded.metered_tasks, priced_tasks = excluded.priced_tasks,
      total_duration_ms = excluded.total_duration_ms, reward_points = excluded.reward_points,
      first_task_at = excluded.first_task_at, last_task_at = excluded.last_task_at,
      avg_overall_score = excluded.avg_overall_score, avg_user_rating = excluded.avg_user_rating,
      last_updated = excluded.last_updated
  `.execute(db);
  return { agents: Number(agents.numAffectedRows ?? 0), categories: Number(categories.numAffectedRows ?? 0) };
}

/** Stores each agent's current rank in the seed's `overall_rank` column (the API ranks live). */
export async function saveOverallRanks(
  db: Kysely<Database>,
  projectId: string,
  ranks: ReadonlyMap<string, number | null>,
): Promise<void> {
  for (const [agentId, rank] of ranks) {
    await db
      .updateTable('agent_performance_stats')
      .set({ overall_rank: rank })
      .where('project_id', '=', projectId)
      .where('agent_id', '=', agentId)
      .where(sql<boolean>`overall_rank IS DISTINCT FROM ${rank}::int`)
      .execute();
  }
}

/** An agent's (or an agent's category's) sums over a window, as the leaderboard and category views read them. */
export type WindowStatsRow = StatsInput & { objective_category: string | null };

/**
 * Each active agent's statistics (or, with `agentId`, that agent's per category) over the project's
 * tasks finished in a window, summed from the task and score rows the way the statistics rebuild sums
 * them, through `tasks_finished_idx` (the window bounds the rows read; `all` reads the rollup tables
 * instead, see findAllAgentStats).
 */
export async function findStatsInWindow(
  db: Kysely<Database>,
  projectId: string,
  range: ReadRange,
  filter: { category?: string | undefined; agentId?: string | undefined } = {},
): Promise<WindowStatsRow[]> {
  const category = filter.category === undefined ? sql`` : sql`AND t.objective_category = ${filter.category}`;
  const agent = filter.agentId === undefined ? sql`` : sql`AND t.agent_id = ${filter.agentId}`;
  const since = range.since === undefined ? sql`` : sql`AND t.completed_at >= ${range.since}`;
  const until = range.until === undefined ? sql`` : sql`AND t.completed_at < ${range.until}`;
  const byCategory = filter.agentId !== undefined;
  const group = byCategory ? sql`t.objective_category` : sql`NULL::text`;
  const result = await sql<
    Omit<WindowStatsRow, 'ratings' | 'avg_overall_score' | 'avg_user_rating'> & {
      r1: number;
      r2: number;
      r3: number;
      r4: number;
      r5: number;
    }
  >`
    SELECT t.agent_id, a.nickname, ${group} AS objective_category,
      count(*)::int AS total_tasks,
      count(*) FILTER (WHERE t.status = 'completed')::int AS successful_tasks,
      count(*) FILTER (WHERE t.status = 'failed')::int AS failed_tasks,
      count(s.overall_score)::int AS scored_tasks,
      coalesce(sum(s.overall_score), 0)::float8 AS sum_overall_score,
      count(s.user_rating)::int AS rated_tasks,
      coalesce(sum(s.user_rating), 0)::float8 AS sum_user_rating,
      count(*) FILTER (WHERE s.user_rating = 1)::int AS r1,
      count(*) FILTER (WHERE s.user_rating = 2)::int AS r2,
      count(*) FILTER (WHERE s.user_rating = 3)::int AS r3,
      count(*) FILTER (WHERE s.user_rating = 4)::int AS r4,
      count(*) FILTER (WHERE s.user_rating = 5)::int AS r5,
      coalesce(sum(t.total_tokens), 0)::float8 AS total_tokens,
      coalesce(sum(t.estimated_cost), 0)::float8 AS total_cost,
      count(t.estimated_cost)::int AS priced_tasks,
      count(t.total_tokens)::int AS metered_tasks,
      coalesce(sum(t.duration_ms), 0)::float8 AS total_duration_ms,
      coalesce(sum(s.reward_points), 0)::int AS reward_points,
      min(t.completed_at) AS first_task_at,
      max(t.completed_at) AS last_task_at
    FROM tasks t
    JOIN agents a ON a.project_id = t.project_id AND a.agent_id = t.agent_id AND a.active
    LEFT JOIN agent_performance_scores s ON s.task_id = t.id
    WHERE t.project_id = ${projectId} AND t.status IN ('completed', 'failed') ${category} ${agent} ${since} ${until}
    GROUP BY t.agent_id, a.nickname, 3
    ORDER BY t.agent_id, 3
  `.execute(db);
  return result.rows.map(({ r1, r2, r3, r4, r5, ...row }) => ({
    ...row,
    ratings: [r1, r2, r3, r4, r5],
    avg_overall_score: null,
    avg_user_rating: null,
  }));
}
