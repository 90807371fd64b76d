import { type Kysely, type RawBuilder, sql } from 'kysely';
import type { AgentStatsRow, CategoryStatsRow, Database } from '../db/database.js';
import { addRollupsToRecompute, dailyRollupsForRecompute } from '../retention/retention.queries.js';
import type { StatsInput } from './leaderboard.js';
import type { ReadRange } from './read-window.js';
import { isEmptyDelta, type StatsDelta } from './stats.js';
import { RAW_SUMS, rawSumsOf, SUM_COLUMN_NAMES, SUM_COLUMNS, type SumColumn } from './stats-sums.js';

function round6(value: number): number {
  return Math.round(value * 1e6) / 1e6;
}

/**
 * The user id of the all-users rows of agent_daily_stats and agent_hourly_stats (migration 026): beside
 * each (agent, category, user, period) row, the statistics writers keep an (agent, category, ALL_USERS,
 * period) row with the sums of every user, so a project-wide window reads one row per agent, category and
 * period however many users the project has. No user has this id (user ids are random version-4 UUIDs).
 */
export const ALL_USERS_ID = 'ffffffff-ffff-ffff-ffff-ffffffffffff';

export interface StatsChange {
  projectId: string;
  /** The task's user: its daily row (agent_daily_stats) is per user. */
  userId: string;
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
  d_rewarded: number;
  d_sum_reward: number;
  d_sum_sq_reward: number;
  d_unscored: number;
  d_completed_priced: number;
  d_completed_cost: number;
  d_completed_timed: number;
  d_completed_duration_ms: number;
  d_at: string | null;
}

/** The delta fields of StatsDeltaRecord (without project, agent and category) with their SQL types. */
const DELTA_FIELDS: readonly [
  Exclude<keyof StatsDeltaRecord, 'project_id' | 'agent_id' | 'category'>,
  string,
][] = [
  ['d_tasks', 'int'],
  ['d_successful', 'int'],
  ['d_failed', 'int'],
  ['d_scored', 'int'],
  ['d_sum_overall', 'numeric'],
  ['d_sum_sq_overall', 'numeric'],
  ['d_rated', 'int'],
  ['d_sum_rating', 'numeric'],
  ['d_r1', 'int'],
  ['d_r2', 'int'],
  ['d_r3', 'int'],
  ['d_r4', 'int'],
  ['d_r5', 'int'],
  ['d_tokens', 'bigint'],
  ['d_cost', 'numeric'],
  ['d_metered', 'int'],
  ['d_priced', 'int'],
  ['d_duration_ms', 'bigint'],
  ['d_reward_points', 'int'],
  ['d_rewarded', 'int'],
  ['d_sum_reward', 'numeric'],
  ['d_sum_sq_reward', 'numeric'],
  ['d_unscored', 'int'],
  ['d_completed_priced', 'int'],
  ['d_completed_cost', 'numeric'],
  ['d_completed_timed', 'int'],
  ['d_completed_duration_ms', 'bigint'],
  ['d_at', 'timestamptz'],
];

/** Column list for `jsonb_to_recordset(...) AS x(...)` of StatsDeltaRecord fields (without agent and category). */
export const DELTA_RECORD_COLUMNS = sql.raw(
  DELTA_FIELDS.map(([field, type]) => `${field} ${type}`).join(', '),
);

/** The delta fields of a relation aliased `alias`, comma-separated (to select them into `stats_input`). */
export function deltaFieldsOf(alias: string) {
  return sql.raw(DELTA_FIELDS.map(([field]) => `${alias}.${field}`).join(', '));
}

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
    d_rewarded: d.rewarded,
    d_sum_reward: round6(d.sumReward),
    d_sum_sq_reward: round6(d.sumSqReward),
    d_unscored: d.unscored,
    d_completed_priced: d.completedPriced,
    d_completed_cost: round6(d.completedCost),
    d_completed_timed: d.completedTimed,
    d_completed_duration_ms: d.completedDurationMs,
    d_at: d.at ? d.at.toISOString() : null,
  };
}

const SUM_NAMES = SUM_COLUMN_NAMES.join(', ');
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
/** Each sum column summed (`sum(total_tasks)` ...), in SUM_COLUMNS order, to regroup rows of sums. */
const SUMMED_COLUMNS = sql.raw(SUM_COLUMNS.map(([column]) => `sum(${column})`).join(', '));
const DELTA_COLUMNS = sql.raw(
  [...SUM_COLUMNS.map(([column]) => `d.${column}`), 'd.first_task_at', 'd.last_task_at'].join(', '),
);

/**
 * The one lock order of every writer of statistics (a writer that takes locks in another order can
 * deadlock with this one):
 *   1. the task row (`SELECT ... FOR UPDATE`, or the INSERT of a new task), then its score row, then
 *      the graphile-worker job rows it enqueues;
 *   2. `agent_performance_stats` rows, in (project_id, agent_id) order;
 *   3. `agent_category_stats` rows, in (project_id, agent_id, objective_category) order;
 *   4. `agent_daily_stats` rows, in (project_id, agent_id, objective_category, user_id, day) order (the
 *      all-users row of a key after its users' rows: ALL_USERS_ID sorts last);
 *   5. `agent_hourly_stats` rows, in (project_id, agent_id, objective_category, user_id, hour) order.
 * Statistics rows are shared by every write of an agent: a writer takes them in its last statement,
 * so it holds them only for that statement and its commit.
 * The scheduled recompute locks the statistics tables whole (SHARE ROW EXCLUSIVE, in the order of 2,
 * 3, 4 and 5) before it reads any task, so writers wait for it rather than being overwritten by it.
 */
export const STATS_LOCK_ORDER = [
  'agent_performance_stats',
  'agent_category_stats',
  'agent_daily_stats',
  'agent_hourly_stats',
] as const;

/** The UTC day and the UTC hour (a timestamptz) of a delta's finish time, `d_at`. */
const UTC_DAY_OF_DELTA = sql`(d_at AT TIME ZONE 'UTC')::date`;
const UTC_HOUR_OF_DELTA = sql`date_trunc('hour', d_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'`;

/**
 * The two CTEs that add the deltas to a period rollup (one row per agent, category, user and `period` of
 * `d_at`): `stats_<name>_delta` sums them per key, `stats_<name>_upsert` writes them in key order once
 * `after` (the upsert before it in STATS_LOCK_ORDER) has run.
 */
function periodUpsert(
  name: 'daily' | 'hourly',
  table: 'agent_daily_stats' | 'agent_hourly_stats',
  period: 'day' | 'hour',
  periodOf: RawBuilder<unknown>,
  after: string,
) {
  const delta = sql.raw(`stats_${name}_delta`);
  const key = sql.raw(period);
  // Each delta counts for its user's row and for the all-users row (ALL_USERS_ID, a literal: the batch
  // statement is prepared once with its own parameters).
  return sql`${delta} AS (
    SELECT project_id, agent_id, category, u.row_user AS user_id, ${periodOf} AS ${key}, ${DELTA_SUMS}
    FROM stats_input CROSS JOIN LATERAL (VALUES (stats_input.user_id), (${sql.lit(ALL_USERS_ID)}::uuid)) AS u (row_user)
    WHERE d_at IS NOT NULL
    GROUP BY project_id, agent_id, category, u.row_user, 5
  ),
  ${sql.raw(`stats_${name}_upsert`)} AS (
    INSERT INTO ${sql.raw(table)} AS s (project_id, agent_id, objective_category, user_id, ${key}, ${COLUMNS}, last_updated)
    SELECT d.project_id, d.agent_id, d.category, d.user_id, d.${key}, ${DELTA_COLUMNS}, now()
    FROM ${delta} d
    WHERE (SELECT count(*) FROM ${sql.raw(after)}) >= 0
    ORDER BY d.project_id, d.agent_id, d.category, d.user_id, d.${key}
    ON CONFLICT (project_id, agent_id, objective_category, user_id, ${key}) DO UPDATE SET ${ADD_SUMS}
    RETURNING s.agent_id
  )`;
}

/**
 * CTEs (to follow a `stats_input` CTE of StatsDeltaRecord rows plus the task's `user_id`) that add the
 * deltas to the agents' statistics rows, their (agent, category) rows and their (agent, category, user,
 * UTC day and UTC hour of `d_at`) rows, in one statement, in STATS_LOCK_ORDER. Rows are
 * summed per key and written in key order, and every writer uses this same fragment. PostgreSQL runs the
 * data-modifying CTEs that the main query does not read in an order of its own (the later one first),
 * so each upsert reads the output of the one before it: the agents' rows are always locked first, the
 * hourly rows last.
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
  ),
  ${periodUpsert('daily', 'agent_daily_stats', 'day', UTC_DAY_OF_DELTA, 'stats_category_upsert')},
  ${periodUpsert('hourly', 'agent_hourly_stats', 'hour', UTC_HOUR_OF_DELTA, 'stats_daily_upsert')}`;

/** Applies task-level statistics changes in one statement (see STATS_UPSERT_CTES). */
export async function applyStatsChanges(
  db: Kysely<Database>,
  changes: readonly StatsChange[],
): Promise<void> {
  const records = changes
    .filter((change) => !isEmptyDelta(change.delta))
    .map((change) => ({
      ...toDeltaRecord(change.projectId, change.agentId, change.category, change.delta),
      user_id: change.userId,
    }));
  if (records.length === 0) return;
  await sql`
    WITH stats_input AS (
      SELECT * FROM jsonb_to_recordset(${JSON.stringify(records)}::jsonb) AS x(project_id uuid, user_id uuid, agent_id text, category text, ${DELTA_RECORD_COLUMNS})
    ),
    ${STATS_UPSERT_CTES}
    SELECT (SELECT count(*) FROM stats_agent_upsert) AS agents, (SELECT count(*) FROM stats_category_upsert) AS categories,
      (SELECT count(*) FROM stats_daily_upsert) AS days, (SELECT count(*) FROM stats_hourly_upsert) AS hours
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

/** Each sum column summed under its own name (`sum(total_tasks) AS total_tasks` ...), in SUM_COLUMNS order. */
const SUMMED_AS = sql.raw(SUM_COLUMNS.map(([column]) => `sum(${column}) AS ${column}`).join(', '));

/** Each task's score row by its key (LIMIT 1: there is one, and the limit keeps this a nested loop). */
const SCORE_OF_TASK = sql`LEFT JOIN LATERAL (
    SELECT overall_score, user_rating, reward_points, reward FROM agent_performance_scores WHERE task_id = t.id LIMIT 1
  ) s ON true`;

/**
 * Computes every statistics table afresh from the raw task and score rows (and retention's rolled-up
 * days) into temporary tables dropped at commit: merit_stats_recompute (per agent and category, as
 * agent_category_stats), merit_daily_recompute and merit_hourly_recompute (per user and all-users rows,
 * as agent_daily_stats and agent_hourly_stats; hours from the stored tasks only: retention keeps days).
 * With `since` (see buildRecentStatsRecompute) only the days and hours from then on.
 */
async function buildStatsRecompute(db: Kysely<Database>, since?: Date): Promise<void> {
  if (since === undefined) await buildFullStatsRecompute(db);
  else await buildRecentStatsRecompute(db, since);
}

async function buildFullStatsRecompute(db: Kysely<Database>): Promise<void> {
  await sql`
    CREATE TEMP TABLE merit_stats_recompute ON COMMIT DROP AS
    SELECT t.project_id, t.agent_id, t.objective_category,
      ${RAW_SUMS}
    FROM tasks t
    LEFT JOIN agent_performance_scores s ON s.task_id = t.id
    WHERE t.status IN ('completed', 'failed')
    GROUP BY t.project_id, t.agent_id, t.objective_category
  `.execute(db);
  // Tasks deleted by retention count through their daily rollups.
  await addRollupsToRecompute(db);
  await sql`
    CREATE TEMP TABLE merit_daily_recompute ON COMMIT DROP AS
    SELECT project_id, agent_id, objective_category, user_id, day, ${SUMMED_AS}, min(first_task_at) AS first_task_at,
      max(last_task_at) AS last_task_at
    FROM (
      SELECT t.project_id, t.agent_id, t.objective_category, t.user_id, (t.completed_at AT TIME ZONE 'UTC')::date AS day,
        ${RAW_SUMS}
      FROM tasks t
      LEFT JOIN agent_performance_scores s ON s.task_id = t.id
      WHERE t.status IN ('completed', 'failed') AND t.completed_at IS NOT NULL
      GROUP BY 1, 2, 3, 4, 5
      UNION ALL
      ${dailyRollupsForRecompute()}
    ) parts
    GROUP BY project_id, agent_id, objective_category, user_id, day
  `.execute(db);
  await sql`
    CREATE TEMP TABLE merit_hourly_recompute ON COMMIT DROP AS
    SELECT t.project_id, t.agent_id, t.objective_category, t.user_id,
      date_trunc('hour', t.completed_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' AS hour, ${RAW_SUMS}
    FROM tasks t
    LEFT JOIN agent_performance_scores s ON s.task_id = t.id
    WHERE t.status IN ('completed', 'failed') AND t.completed_at IS NOT NULL
    GROUP BY 1, 2, 3, 4, 5
  `.execute(db);
  await addAllUsersRows(db);
}

/** The all-users row (ALL_USERS_ID) of each agent, category and period, summed from its users' rows. */
async function addAllUsersRows(db: Kysely<Database>): Promise<void> {
  for (const [table, key] of [
    ['merit_daily_recompute', 'day'],
    ['merit_hourly_recompute', 'hour'],
  ] as const)
    await sql`
      INSERT INTO ${sql.raw(table)} (project_id, agent_id, objective_category, user_id, ${sql.raw(key)}, ${COLUMNS})
      SELECT project_id, agent_id, objective_category, ${ALL_USERS_ID}::uuid, ${sql.raw(key)}, ${SUMMED_COLUMNS},
        min(first_task_at), max(last_task_at)
      FROM ${sql.raw(table)}
      GROUP BY project_id, agent_id, objective_category, ${sql.raw(key)}
    `.execute(db);
}

/**
 * The tasks finished since `since` (a UTC midnight), grouped as merit_hourly_recompute's rows: read
 * through tasks_retention_idx (completed_at), each with its score row by its key, so the read follows
 * the period's tasks, not the table's.
 */
export function recentTasksByHour(since: Date) {
  return sql`
    SELECT t.project_id, t.agent_id, t.objective_category, t.user_id,
      date_trunc('hour', t.completed_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' AS hour, ${RAW_SUMS}
    FROM tasks t
    ${SCORE_OF_TASK}
    WHERE t.status IN ('completed', 'failed') AND t.completed_at >= ${since}
    GROUP BY 1, 2, 3, 4, 5`;
}

/**
 * The rows of a period rollup (agent_daily_stats or agent_hourly_stats) that count tasks, of every
 * (project, user) pair with `where` on the row `r` (a condition on its day or hour): the pairs are
 * enumerated from the (project_id, user_id, period) index one by one (a loose index scan; PostgreSQL
 * before 18 has no skip scan), and each pair's rows read by a range of that index, so the read follows
 * the rows wanted, not the table (per-user hourly rows can be nearly as many as the tasks).
 */
function periodRowsWhere(
  table: 'agent_daily_stats' | 'agent_hourly_stats',
  columns: RawBuilder<unknown>,
  where: RawBuilder<unknown>,
) {
  const rollup = sql.raw(table);
  return sql`
    WITH RECURSIVE pairs AS (
      (SELECT project_id, user_id FROM ${rollup} ORDER BY project_id, user_id LIMIT 1)
      UNION ALL
      SELECT n.project_id, n.user_id FROM pairs p CROSS JOIN LATERAL (
        SELECT q.project_id, q.user_id FROM ${rollup} q
        WHERE (q.project_id, q.user_id) > (p.project_id, p.user_id)
        ORDER BY q.project_id, q.user_id LIMIT 1
      ) n
    )
    SELECT ${columns} FROM pairs p
    -- OFFSET 0 keeps the subquery a per-pair index range: flattened, it is planned as a join that reads
    -- the whole table (the number of pairs is unknown to the planner).
    CROSS JOIN LATERAL (
      SELECT * FROM ${rollup} r WHERE r.project_id = p.project_id AND r.user_id = p.user_id AND ${where} OFFSET 0
    ) r
    WHERE r.total_tasks <> 0`;
}

/**
 * The recent check's recompute (see findStatsDrift), into the full one's temporary tables: the daily and
 * hourly rows from `since` (a UTC midnight) on, from the tasks finished since then (and retention's days
 * since then, should its cutoff be that recent); and the all-time rows as the stored all-users daily rows
 * before `since`, plus the recomputed ones since, plus the finished tasks without a finish time (they
 * count in no day). So it reads the period's tasks and the all-users daily rows, never every task;
 * a day before `since` is trusted as stored (the daily full check compares it with its tasks).
 */
async function buildRecentStatsRecompute(db: Kysely<Database>, since: Date): Promise<void> {
  const sinceDay = toPgDay(since);
  // The planner cannot know how few (project, user) pairs the loose index scans enumerate, so it expects
  // hundreds of thousands of rows and JIT-compiles the statements: ~1.2 s each for reads of ~20 ms.
  await sql`SET LOCAL jit = off`.execute(db);
  await sql`CREATE TEMP TABLE merit_hourly_recompute ON COMMIT DROP AS ${recentTasksByHour(since)}`.execute(
    db,
  );
  await sql`
    CREATE TEMP TABLE merit_daily_recompute ON COMMIT DROP AS
    SELECT project_id, agent_id, objective_category, user_id, day, ${SUMMED_AS}, min(first_task_at) AS first_task_at,
      max(last_task_at) AS last_task_at
    FROM (
      SELECT project_id, agent_id, objective_category, user_id, (hour AT TIME ZONE 'UTC')::date AS day, ${COLUMNS}
      FROM merit_hourly_recompute
      UNION ALL
      SELECT * FROM (${dailyRollupsForRecompute()}) rolled WHERE rolled.day >= ${sinceDay}::date
    ) parts
    GROUP BY project_id, agent_id, objective_category, user_id, day
  `.execute(db);
  await addAllUsersRows(db);
  const stored = periodRowsWhere(
    'agent_daily_stats',
    sql`r.project_id, r.agent_id, r.objective_category, ${sql.raw(SUM_COLUMN_NAMES.map((column) => `r.${column}`).join(', '))}, r.first_task_at, r.last_task_at`,
    sql`r.user_id = ${ALL_USERS_ID}::uuid AND r.day < ${sinceDay}::date`,
  );
  await sql`
    CREATE TEMP TABLE merit_stats_recompute ON COMMIT DROP AS
    WITH stored_days AS (${stored})
    SELECT project_id, agent_id, objective_category, ${SUMMED_AS}, min(first_task_at) AS first_task_at,
      max(last_task_at) AS last_task_at
    FROM (
      TABLE stored_days
      UNION ALL
      SELECT project_id, agent_id, objective_category, ${COLUMNS} FROM merit_daily_recompute
      WHERE user_id = ${ALL_USERS_ID}::uuid
      UNION ALL
      SELECT t.project_id, t.agent_id, t.objective_category, ${RAW_SUMS}
      FROM tasks t
      ${SCORE_OF_TASK}
      WHERE t.status IN ('completed', 'failed') AND t.completed_at IS NULL
      GROUP BY 1, 2, 3
    ) parts
    GROUP BY project_id, agent_id, objective_category
  `.execute(db);
}

/** The agents' rows as the recompute gives them (from merit_stats_recompute). */
const RECOMPUTED_AGENTS = sql`
  SELECT r.project_id, r.agent_id, ${SUMMED_AS}, min(first_task_at) AS first_task_at, max(last_task_at) AS last_task_at,
    round(sum(sum_overall_score) / nullif(sum(scored_tasks), 0), 2) AS avg_overall_score,
    round(sum(sum_user_rating) / nullif(sum(rated_tasks), 0), 2) AS avg_user_rating
  FROM merit_stats_recompute r JOIN agents a ON a.project_id = r.project_id AND a.agent_id = r.agent_id
  GROUP BY r.project_id, r.agent_id`;

/** Which statistics check runs: every row against every task, or the recent period's (see findStatsDrift). */
export type StatsCheck = { kind: 'full' } | { kind: 'recent'; since: Date };

/**
 * How many rows of each statistics table differ from a recompute from the raw rows (a changed row counts
 * on both sides, a missing or extra one once; a stored row that counts no task counts as no row). Read in the caller's transaction,
 * which must be REPEATABLE READ (one snapshot for the raw rows and the tables: a writer updates both in
 * one transaction, so a consistent history shows no drift) and takes no lock: the scheduled job checks
 * first and rebuilds (locking writers out) only what drifted.
 * The full check reads every task. The recent one (`since`, a UTC midnight) compares only the daily and
 * hourly rows from `since` on with the tasks finished since then, and the all-time rows with the daily
 * rows summed (see buildRecentStatsRecompute): a wrong stored day before `since` is found only when its
 * all-users row disagrees with the all-time rows, otherwise by the next full check.
 */
export async function findStatsDrift(
  db: Kysely<Database>,
  check: StatsCheck = { kind: 'full' },
): Promise<Record<(typeof STATS_LOCK_ORDER)[number], number>> {
  const since = check.kind === 'recent' ? check.since : undefined;
  if (since !== undefined && since.getTime() % DAY_MS !== 0)
    throw new Error(`a recent statistics check starts at a UTC midnight, not at ${since.toISOString()}`);
  await buildStatsRecompute(db, since);
  // Each project's latest day retention rolled up (afterRetention), read once.
  await sql`
    CREATE TEMP TABLE merit_retention_horizons ON COMMIT DROP AS
    SELECT project_id, max(day) AS last_day FROM task_daily_rollups GROUP BY project_id
  `.execute(db);
  const differing = async (stored: RawBuilder<unknown>, recomputed: RawBuilder<unknown>) => {
    const result = await sql<{ n: number }>`
      WITH a AS (${stored}), b AS (${recomputed})
      SELECT count(*)::int AS n FROM ((TABLE a EXCEPT TABLE b) UNION ALL (TABLE b EXCEPT TABLE a)) d
    `.execute(db);
    return result.rows[0]?.n ?? 0;
  };
  const period = (table: string, key: 'day' | 'hour') =>
    sql`SELECT project_id, agent_id, objective_category, user_id, ${sql.raw(key)}, ${COLUMNS} FROM ${sql.raw(table)}`;
  const storedPeriod = (table: 'agent_daily_stats' | 'agent_hourly_stats', key: 'day' | 'hour') =>
    since === undefined
      ? sql`${period(table, key)} WHERE total_tasks <> 0`
      : periodRowsWhere(
          table,
          sql.raw(
            [
              'project_id',
              'agent_id',
              'objective_category',
              'user_id',
              key,
              ...SUM_COLUMN_NAMES,
              'first_task_at',
              'last_task_at',
            ]
              .map((column) => `r.${column}`)
              .join(', '),
          ),
          key === 'day' ? sql`r.day >= ${toPgDay(since)}::date` : sql`r.hour >= ${since}`,
        );
  return {
    agent_performance_stats: await differing(
      sql`SELECT project_id, agent_id, ${COLUMNS}, avg_overall_score, avg_user_rating FROM agent_performance_stats
        WHERE total_tasks <> 0`,
      RECOMPUTED_AGENTS,
    ),
    agent_category_stats: await differing(
      sql`SELECT project_id, agent_id, objective_category, ${COLUMNS} FROM agent_category_stats WHERE total_tasks <> 0`,
      sql`SELECT project_id, agent_id, objective_category, ${COLUMNS} FROM merit_stats_recompute`,
    ),
    agent_daily_stats: await differing(
      storedPeriod('agent_daily_stats', 'day'),
      period('merit_daily_recompute', 'day'),
    ),
    agent_hourly_stats: await differing(
      afterRetention(storedPeriod('agent_hourly_stats', 'hour')),
      afterRetention(period('merit_hourly_recompute', 'hour')),
    ),
  };
}

/**
 * Hourly rows of hours after each project's latest day retention rolled up. Retention keeps its deleted
 * tasks by day (task_daily_rollups, which the daily rows and all-time rows are compared with) and leaves
 * their hours' rows as they were, counting tasks no row holds any more: no recompute can give those, so
 * they are not compared (every check after a retention run found them and rebuilt every statistics table
 * under its locks). A rebuild drops them, as it always did; hours after the latest rolled-up day hold no
 * deleted task (retention rolls up every task it deletes, by its day).
 */
function afterRetention(rows: RawBuilder<unknown>): RawBuilder<unknown> {
  return sql`
    SELECT * FROM (${rows}) x
    WHERE NOT EXISTS (
      SELECT 1 FROM merit_retention_horizons h
      WHERE h.project_id = x.project_id AND x.hour < (h.last_day + 1)::timestamp AT TIME ZONE 'UTC'
    )`;
}

/**
 * Rebuilds the statistics tables from the raw task and score rows, in one transaction (the caller's):
 * the scheduled repair of any drift in the running sums. Agents without finished tasks lose their row.
 * The tables are locked before the tasks are read: a writer that commits a task meanwhile waits and
 * adds its delta after the rebuild, instead of committing between the read and the rewrite (and being
 * wiped by it).
 */
export async function recomputeAllStats(
  db: Kysely<Database>,
): Promise<{ agents: number; categories: number }> {
  await sql`LOCK TABLE ${sql.raw(STATS_LOCK_ORDER.join(', '))} IN SHARE ROW EXCLUSIVE MODE`.execute(db);
  await buildStatsRecompute(db);
  for (const [table, recomputed, key] of [
    ['agent_daily_stats', 'merit_daily_recompute', 'day'],
    ['agent_hourly_stats', 'merit_hourly_recompute', 'hour'],
  ] as const) {
    await sql`DELETE FROM ${sql.raw(table)}`.execute(db);
    await sql`
      INSERT INTO ${sql.raw(table)} (project_id, agent_id, objective_category, user_id, ${sql.raw(key)}, ${COLUMNS}, last_updated)
      SELECT project_id, agent_id, objective_category, user_id, ${sql.raw(key)}, ${COLUMNS}, now()
      FROM ${sql.raw(recomputed)}
    `.execute(db);
  }
  await sql`DELETE FROM agent_category_stats`.execute(db);
  const categories = await sql`
    INSERT INTO agent_category_stats (project_id, agent_id, objective_category, ${COLUMNS}, last_updated)
    SELECT project_id, agent_id, objective_category, ${COLUMNS}, now()
    FROM merit_stats_recompute
  `.execute(db);
  await sql`
    DELETE FROM agent_performance_stats s
    WHERE NOT EXISTS (
      SELECT 1 FROM merit_stats_recompute r WHERE r.project_id = s.project_id AND r.agent_id = s.agent_id
    )
  `.execute(db);
  const agents = await sql`
    INSERT INTO agent_performance_stats AS s (project_id, agent_id, nickname, ${COLUMNS}, avg_overall_score,
      avg_user_rating, last_updated)
    SELECT r.project_id, r.agent_id, a.nickname, ${SUMMED_COLUMNS}, min(first_task_at), max(last_task_at),
      round(sum(sum_overall_score) / nullif(sum(scored_tasks), 0), 2),
      round(sum(sum_user_rating) / nullif(sum(rated_tasks), 0), 2),
      now() AT TIME ZONE 'UTC'
    FROM merit_stats_recompute r JOIN agents a ON a.project_id = r.project_id AND a.agent_id = r.agent_id
    GROUP BY r.project_id, r.agent_id, a.nickname
    ON CONFLICT (project_id, agent_id) DO UPDATE SET nickname = excluded.nickname, ${sql.raw(
      [...SUM_COLUMN_NAMES, 'first_task_at', 'last_task_at']
        .map((column) => `${column} = excluded.${column}`)
        .join(', '),
    )},
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

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

/** A half-open period [since, until) of finish times (absent: unbounded). */
export interface Period {
  since: Date | undefined;
  until: Date | undefined;
}

/**
 * A range split for reading: its whole UTC days from agent_daily_stats, the whole hours around them
 * from agent_hourly_stats, and only what is left (at most a partial first and a partial last hour) from
 * the raw task rows.
 */
export interface RangeSplit {
  /** Whole days [fromDay, toDay) (ISO dates; absent: from the beginning, and on with no end), or null. */
  days: { fromDay: string | undefined; toDay: string | undefined } | null;
  /** Whole hours, each [since, until) on hour boundaries (absent: unbounded on that side). */
  hours: Period[];
  /** The partial ends read from raw task rows. */
  raw: Period[];
}

/**
 * A UTC day as PostgreSQL reads a date: YYYY-MM-DD, with BC for the years before 1 (a window ending in
 * year 1 starts in 1 BC; `toISOString` would give year 0000, which PostgreSQL refuses) and no sign
 * for the years after 9999.
 */
export function toPgDay(at: Date): string {
  const year = at.getUTCFullYear();
  const monthDay = `${String(at.getUTCMonth() + 1).padStart(2, '0')}-${String(at.getUTCDate()).padStart(2, '0')}`;
  return year >= 1
    ? `${String(year).padStart(4, '0')}-${monthDay}`
    : `${String(1 - year).padStart(4, '0')}-${monthDay} BC`;
}

/** `AND` conditions keeping a timestamptz column within a period (either bound may be absent). */
export function periodOn(column: RawBuilder<unknown>, period: Period): RawBuilder<unknown> {
  const since = period.since === undefined ? sql`` : sql`AND ${column} >= ${period.since}`;
  const until = period.until === undefined ? sql`` : sql`AND ${column} < ${period.until}`;
  return sql`${since} ${until}`;
}

/**
 * `AND <column> >= since AND <column> < until` for the bounds a range has. The seed's plain `timestamp`
 * columns hold UTC: the bounds are compared as UTC wall-clock times there.
 */
export function rangeOn(
  column: RawBuilder<unknown>,
  range: ReadRange,
  type: 'timestamptz' | 'timestamp' = 'timestamptz',
): RawBuilder<unknown> {
  const bound = (at: Date) =>
    type === 'timestamp' ? sql`(${at}::timestamptz AT TIME ZONE 'UTC')` : sql`${at}::timestamptz`;
  const since = range.since === undefined ? sql`` : sql`AND ${column} >= ${bound(range.since)}`;
  const until = range.until === undefined ? sql`` : sql`AND ${column} < ${bound(range.until)}`;
  return sql`${since} ${until}`;
}

/** `AND` conditions keeping a date column within a split's whole days (either bound may be absent). */
export function daysOn(
  column: RawBuilder<unknown>,
  days: { fromDay: string | undefined; toDay: string | undefined },
): RawBuilder<unknown> {
  const from = days.fromDay === undefined ? sql`` : sql`AND ${column} >= ${days.fromDay}::date`;
  const to = days.toDay === undefined ? sql`` : sql`AND ${column} < ${days.toDay}::date`;
  return sql`${from} ${to}`;
}

const floorTo = (at: Date, unit: number) => new Date(Math.floor(at.getTime() / unit) * unit);
const ceilTo = (at: Date, unit: number) => new Date(Math.ceil(at.getTime() / unit) * unit);

/**
 * A range split at UTC midnights only: whole days from a daily rollup, the partial ends from raw rows
 * (for rollups without an hourly level).
 */
export interface DaySplit {
  /** Whole days [fromDay, toDay) (ISO dates; absent: unbounded), or none when the range has no whole day. */
  days: { fromDay: string | undefined; toDay: string | undefined } | null;
  /** The partial ends read from raw task rows, each [since, until) (absent: unbounded). */
  raw: { since: Date | undefined; until: Date | undefined }[];
}

/**
 * Splits a window at UTC midnights: the whole days from the first midnight at or after `since` (the
 * beginning of time without one) up to the midnight before `until` (without one: today's midnight, so
 * today and anything later is read raw), and the partial first and last days around them.
 */
export function splitRangeByDay(range: ReadRange): DaySplit {
  const floorDay = (at: Date) => floorTo(at, DAY_MS);
  const ceilDay = (at: Date) => ceilTo(at, DAY_MS);
  const wholeFrom = range.since === undefined ? undefined : ceilDay(range.since);
  const fromDay = wholeFrom === undefined ? undefined : toPgDay(wholeFrom);
  const head =
    range.since !== undefined && wholeFrom !== undefined && range.since < wholeFrom
      ? [{ since: range.since, until: wholeFrom }]
      : [];
  // Open-ended: today's row (kept in the writing transaction) and later ones are read whole.
  if (range.until === undefined) return { days: { fromDay, toDay: undefined }, raw: head };
  const wholeTo = floorDay(range.until);
  if (wholeFrom !== undefined && wholeFrom >= wholeTo)
    return { days: null, raw: [{ since: range.since, until: range.until }] };
  const tail = wholeTo < range.until ? [{ since: wholeTo, until: range.until }] : [];
  return { days: { fromDay, toDay: toPgDay(wholeTo) }, raw: [...head, ...tail] };
}

/**
 * Splits [since, until) into whole hours and the partial hours at either end. Without `until` the range
 * is open: the hours from the first whole one on, the current one included (see splitRange).
 */
function splitByHour(since: Date, until: Date | undefined): Pick<RangeSplit, 'hours' | 'raw'> {
  const hourFrom = ceilTo(since, HOUR_MS);
  const head = since < hourFrom ? [{ since, until: hourFrom }] : [];
  if (until === undefined) return { hours: [{ since: hourFrom, until: undefined }], raw: head };
  const hourTo = floorTo(until, HOUR_MS);
  if (hourFrom >= hourTo) return { hours: [], raw: [{ since, until }] };
  const tail = hourTo < until ? [{ since: hourTo, until }] : [];
  return { hours: [{ since: hourFrom, until: hourTo }], raw: [...head, ...tail] };
}

/**
 * Splits a range at UTC midnights and hours: the whole days from the first midnight at or after `since`
 * (the beginning of time without one) up to the midnight before `until`, the whole hours of the partial
 * first and last days, and the partial first and last hours. A range without `until` (the usual "last
 * 30 days") is open: the rollup rows of today (or, with `days: false`, of this hour) are read whole, and
 * so are later ones. The statement that writes a finished task (or its score) updates its day's and hour's
 * rows in the same transaction, so an open period's row holds exactly the tasks the raw rows would give
 * (those stamped later than now included, as an open range includes them): no task of an open end is
 * read raw, and a window ending now costs the same however many tasks finish per hour.
 */
export function splitRange(range: ReadRange, options: { days?: boolean } = {}): RangeSplit {
  if (options.days === false) {
    if (range.since !== undefined) return { days: null, ...splitByHour(range.since, range.until) };
    // Whole hours only (a per-hour chart): from the first hour there is.
    if (range.until === undefined)
      return { days: null, hours: [{ since: undefined, until: undefined }], raw: [] };
    const hourTo = floorTo(range.until, HOUR_MS);
    const tail = hourTo < range.until ? [{ since: hourTo, until: range.until }] : [];
    return { days: null, hours: [{ since: undefined, until: hourTo }], raw: tail };
  }
  const wholeFrom = range.since === undefined ? undefined : ceilTo(range.since, DAY_MS);
  const fromDay = wholeFrom === undefined ? undefined : toPgDay(wholeFrom);
  const head =
    range.since !== undefined && wholeFrom !== undefined && range.since < wholeFrom
      ? (until: Date) => splitByHour(range.since as Date, until)
      : () => ({ hours: [], raw: [] });
  if (range.until === undefined) {
    const first = wholeFrom === undefined ? { hours: [], raw: [] } : head(wholeFrom);
    return { days: { fromDay, toDay: undefined }, ...first };
  }
  const wholeTo = floorTo(range.until, DAY_MS);
  if (range.since !== undefined && wholeFrom !== undefined && wholeFrom >= wholeTo)
    return { days: null, ...splitByHour(range.since, range.until) };
  const first = wholeFrom === undefined ? { hours: [], raw: [] } : head(wholeFrom);
  const last = wholeTo < range.until ? splitByHour(wholeTo, range.until) : { hours: [], raw: [] };
  return {
    days: { fromDay, toDay: toPgDay(wholeTo) },
    hours: [...first.hours, ...last.hours],
    raw: [...first.raw, ...last.raw],
  };
}

/** Which rows of a project a windowed read sums. */
export interface WindowFilter {
  category?: string | undefined;
  agentId?: string | undefined;
  /** Only this user's tasks (a scope that sees its own tasks only). */
  userId?: string | undefined;
}

/**
 * The statistics sums of a project's tasks finished in a range, as a UNION ALL of parts, each with the
 * columns `agent_id`, `objective_category`, the sum `columns` (all by default), `first_task_at` and `last_task_at`
 * (a part's rows are per agent and category): the range's whole days from agent_daily_stats, its whole
 * hours from agent_hourly_stats (the user's rows, or without one the all-users rows: one row per agent,
 * category and period however many users), and its partial first and last hours from the task and score rows,
 * summed the way the statistics rebuild sums them (RAW_SUMS, through `tasks_finished_idx`). Summed per
 * agent (and category), the parts give the answer the raw rows give, at a cost that follows the days and
 * hours, not the tasks.
 */
export function windowSumParts(
  projectId: string,
  range: ReadRange,
  filter: WindowFilter,
  columns: readonly SumColumn[] = SUM_COLUMN_NAMES,
) {
  const split = splitRange(range);
  const on = (alias: string) => {
    const category =
      filter.category === undefined
        ? sql``
        : sql`AND ${sql.ref(`${alias}.objective_category`)} = ${filter.category}`;
    const agent =
      filter.agentId === undefined ? sql`` : sql`AND ${sql.ref(`${alias}.agent_id`)} = ${filter.agentId}`;
    // Rollup rows are per user plus the all-users row; task rows are the user's or everyone's.
    const user =
      alias === 'r'
        ? sql`AND r.user_id = ${filter.userId ?? ALL_USERS_ID}`
        : filter.userId === undefined
          ? sql``
          : sql`AND ${sql.ref(`${alias}.user_id`)} = ${filter.userId}`;
    return sql`${sql.ref(`${alias}.project_id`)} = ${projectId} ${category} ${agent} ${user}`;
  };
  const summed = sql.raw(columns.map((column) => `sum(r.${column}) AS ${column}`).join(', '));
  const rawSums = rawSumsOf(columns);
  const parts = split.raw.map((part) => {
    const since = part.since === undefined ? sql`` : sql`AND t.completed_at >= ${part.since}`;
    const until = part.until === undefined ? sql`` : sql`AND t.completed_at < ${part.until}`;
    return sql`
      SELECT t.agent_id, t.objective_category, ${rawSums}
      FROM tasks t
      -- Each task's score row by its key (LIMIT 1: there is one, and the limit keeps this a nested loop):
      -- a partial hour is a few hundred tasks at most, and a hash join would read every score row instead.
      LEFT JOIN LATERAL (
        SELECT overall_score, user_rating, reward_points, reward FROM agent_performance_scores WHERE task_id = t.id LIMIT 1
      ) s ON true
      WHERE ${on('t')} AND t.status IN ('completed', 'failed') ${since} ${until}
      GROUP BY t.agent_id, t.objective_category`;
  });
  for (const hours of split.hours)
    parts.push(sql`
      SELECT r.agent_id, r.objective_category, ${summed}, min(r.first_task_at) AS first_task_at,
        max(r.last_task_at) AS last_task_at
      FROM agent_hourly_stats r
      WHERE ${on('r')} ${periodOn(sql`r.hour`, hours)}
      GROUP BY r.agent_id, r.objective_category`);
  if (split.days !== null)
    parts.push(sql`
      SELECT r.agent_id, r.objective_category, ${summed}, min(r.first_task_at) AS first_task_at,
        max(r.last_task_at) AS last_task_at
      FROM agent_daily_stats r
      WHERE ${on('r')} ${daysOn(sql`r.day`, split.days)}
      GROUP BY r.agent_id, r.objective_category`);
  if (parts.length === 0) throw new Error('a range splits into at least one part');
  return sql.join(parts, sql` UNION ALL `);
}

/**
 * Each active agent's statistics (or, with `agentId`, that agent's per category) over the project's
 * tasks finished in a window, from windowSumParts: the same answer as the raw rows (`all` reads the
 * all-time rollup tables instead, see findAllAgentStats).
 */
export async function findStatsInWindow(
  db: Kysely<Database>,
  projectId: string,
  range: ReadRange,
  filter: { category?: string | undefined; agentId?: string | undefined } = {},
): Promise<WindowStatsRow[]> {
  const byCategory = filter.agentId !== undefined;
  const parts = windowSumParts(projectId, range, filter);
  const group = byCategory ? sql`p.objective_category` : sql`NULL::text`;
  const result = await sql<
    Omit<WindowStatsRow, 'ratings' | 'avg_overall_score' | 'avg_user_rating'> & {
      r1: number;
      r2: number;
      r3: number;
      r4: number;
      r5: number;
    }
  >`
    WITH window_parts AS MATERIALIZED (${parts})
    SELECT p.agent_id, a.nickname, ${group} AS objective_category,
      sum(p.total_tasks)::int AS total_tasks,
      sum(p.successful_tasks)::int AS successful_tasks,
      sum(p.failed_tasks)::int AS failed_tasks,
      sum(p.scored_tasks)::int AS scored_tasks,
      sum(p.sum_overall_score)::float8 AS sum_overall_score,
      sum(p.rated_tasks)::int AS rated_tasks,
      sum(p.sum_user_rating)::float8 AS sum_user_rating,
      sum(p.ratings_1)::int AS r1,
      sum(p.ratings_2)::int AS r2,
      sum(p.ratings_3)::int AS r3,
      sum(p.ratings_4)::int AS r4,
      sum(p.ratings_5)::int AS r5,
      sum(p.total_tokens)::float8 AS total_tokens,
      sum(p.total_cost)::float8 AS total_cost,
      sum(p.priced_tasks)::int AS priced_tasks,
      sum(p.metered_tasks)::int AS metered_tasks,
      sum(p.total_duration_ms)::float8 AS total_duration_ms,
      sum(p.reward_points)::int AS reward_points,
      min(p.first_task_at) AS first_task_at,
      max(p.last_task_at) AS last_task_at
    FROM window_parts p
    JOIN agents a ON a.project_id = ${projectId} AND a.agent_id = p.agent_id AND a.active
    GROUP BY p.agent_id, a.nickname, 3
    HAVING sum(p.total_tasks) > 0
    ORDER BY p.agent_id, 3
  `.execute(db);
  return result.rows.map(({ r1, r2, r3, r4, r5, ...row }) => ({
    ...row,
    ratings: [r1, r2, r3, r4, r5],
    avg_overall_score: null,
    avg_user_rating: null,
  }));
}
