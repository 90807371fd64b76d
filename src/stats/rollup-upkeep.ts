import { type Kysely, type RawBuilder, sql } from 'kysely';
import type { Database } from '../db/database.js';
import { EVALUATION_SUM_COLUMNS, summedEvaluations } from '../evaluation/evaluation.queries.js';
import { REVIEW_SUM_COLUMNS, summedReviews } from '../reviews/reviews.queries.js';

/**
 * Upkeep of the rollups PostgreSQL triggers keep in the writing transactions (migrations 020, 021, 024, 027):
 * finding where a rollup differs from a recompute from its raw rows, and rebuilding it from them. Nothing
 * else repairs them: TRUNCATE skips row triggers, and a restore or a statement run with triggers disabled
 * leaves them wrong until rebuilt here.
 *
 * Every recompute below is the definition of the migration's trigger (and backfill), column for column.
 */
export const TRIGGER_ROLLUPS = [
  'routing_quality_hourly',
  'agent_node_daily_stats',
  'reviewer_hourly_stats',
  'reviewer_daily_stats',
  'evaluator_hourly_spend',
  'evaluator_daily_spend',
] as const;
export type TriggerRollup = (typeof TRIGGER_ROLLUPS)[number];

/**
 * A row that differs from its recompute: a key of the rollup whose stored sums differ from those of the
 * raw rows, or a raw row whose copied value (a decision's outcome_reward, a review's user_rating) differs
 * from its source's.
 */
export interface RollupDrift {
  rollup: TriggerRollup;
  /** The drifted row's table: the rollup, or the raw table whose copied value is stale. */
  table: string;
  /** The row's key columns as text (null: a null key column, e.g. the offline evaluator's model). */
  key: Record<string, string | null>;
  /** The stored sums, '/'-separated in the rollup's column order, or the copied value (null: no row, or null). */
  stored: string | null;
  /** What the raw rows give, in the same order (null: no raw row, or null). */
  recomputed: string | null;
}

/** What a rebuild changed. */
export interface RollupRepair {
  rollup: TriggerRollup;
  /** Rollup rows inserted, updated or deleted. */
  rowsChanged: number;
  /** Raw rows whose copied value was wrong and was set again (a decision's outcome_reward, a review's user_rating). */
  rawRowsFixed: number;
}

interface RollupDefinition {
  keys: readonly string[];
  sums: readonly string[];
  /**
   * The recomputed rows (keys and sums). `fresh`: the copied values (outcome_reward, user_rating) are
   * computed again from their sources instead of read from the raw rows.
   */
  recompute: (fresh: boolean) => RawBuilder<unknown>;
  /** Which stored rows the rebuild owns (`t` is the rollup); the others are kept as they are. */
  owned: RawBuilder<unknown>;
  /** Tables locked before the rebuild, in this order (raw table first, as writers take them). */
  locks: readonly string[];
  /** A value each raw row copies from elsewhere, kept by triggers: checked and set again first. */
  copy?: CopiedValue;
  /** Common table expressions the recompute and `owned` read (each ends with a comma). */
  ctes?: RawBuilder<unknown>;
  /** Key columns that may be null (matched with IS NOT DISTINCT FROM; the others by equality, hashable). */
  nullableKeys?: readonly string[];
  /** Also set on every row the rebuild writes. */
  touched?: string;
}

interface CopiedValue {
  table: 'routing_decisions' | 'agent_peer_evaluations';
  column: 'outcome_reward' | 'user_rating';
  /** Its value computed from its source, over the raw table aliased `alias` (both tables' key is `id`). */
  alias: 'd' | 'p';
  fresh: RawBuilder<unknown>;
}

/** A decision's outcome reward as its triggers set it (merit_set_decision_outcome_reward, migration 021). */
const FRESH_OUTCOME_REWARD = sql`CASE WHEN d.task_id IS NULL THEN NULL ELSE merit_task_outcome_reward(d.task_id) END`;

/** A review's rating as its triggers copy it: its task's score row's (merit_set_review_rating, migration 024). */
const FRESH_REVIEW_RATING = sql`(SELECT s.user_rating FROM agent_performance_scores s WHERE s.task_id = p.task_id)`;

/**
 * The node days retention never touched: after the latest day in task_daily_rollups for the project
 * (every day when retention deleted nothing there). Older days keep the counts of deleted nodes
 * (migration 020 does not subtract nodes deleted with their task), which no raw row holds any more.
 */
const notRetained = (projectId: RawBuilder<unknown>, day: RawBuilder<unknown>) =>
  sql`NOT EXISTS (SELECT 1 FROM retention_horizons h WHERE h.project_id = ${projectId} AND ${day} <= h.last_day)`;

/** Each project's latest day retention rolled up (one row a project: what notRetained reads per row). */
const RETENTION_HORIZONS = sql`
  retention_horizons AS (SELECT project_id, max(day) AS last_day FROM task_daily_rollups GROUP BY project_id),`;

/** Every node's sums per key, as merit_collect_node_daily adds them (a node with neither time is in no day). */
function summedNodeDays(): RawBuilder<unknown> {
  return sql`
    SELECT n.project_id, n.agent_id, n.user_id,
      (coalesce(n.started_at, n.created_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC')::date AS day, n.node_name,
      count(*) AS runs, count(*) FILTER (WHERE n.success) AS successful_runs, count(n.duration_ms) AS timed_runs,
      coalesce(sum(n.duration_ms), 0) AS sum_duration_ms, count(n.total_tokens) AS metered_runs,
      coalesce(sum(n.total_tokens), 0) AS sum_total_tokens
    FROM agent_node_performance n
    WHERE (n.started_at IS NOT NULL OR n.created_at IS NOT NULL)
    GROUP BY 1, 2, 3, 4, 5`;
}

/** A row of zeros is how the triggers leave a key whose nodes all went: it counts as no row. */
const NONZERO_NODE_ROW = sql`(t.runs <> 0 OR t.successful_runs <> 0 OR t.timed_runs <> 0 OR t.sum_duration_ms <> 0
  OR t.metered_runs <> 0 OR t.sum_total_tokens <> 0)`;

// Migration 024: merit_count_review per review (summedReviews), per reviewer and UTC hour of the review.
const REVIEWER_HOURS: RollupDefinition = {
  keys: ['project_id', 'reviewer_agent_id', 'hour'],
  sums: REVIEW_SUM_COLUMNS,
  recompute: (fresh) => sql`
    SELECT project_id, reviewer_agent_id, date_trunc('hour', created_at) AS hour, ${summedReviews()}
    FROM (
      SELECT p.project_id, p.reviewer_agent_id, p.created_at, p.status, p.score, p.source, p.prompt_tokens,
        p.completion_tokens, p.estimated_cost, ${fresh ? FRESH_REVIEW_RATING : sql`p.user_rating`} AS user_rating
      FROM agent_peer_evaluations p
      -- A review without a time is never counted (merit_count_review).
      WHERE p.created_at IS NOT NULL
    ) reviews
    GROUP BY 1, 2, 3`,
  owned: sql`true`,
  locks: ['agent_peer_evaluations', 'reviewer_hourly_stats'],
  copy: { table: 'agent_peer_evaluations', column: 'user_rating', alias: 'p', fresh: FRESH_REVIEW_RATING },
};

// Migration 024: merit_count_evaluation per evaluation (summedEvaluations), per evaluator, model and UTC hour.
const EVALUATOR_HOURS: RollupDefinition = {
  keys: ['project_id', 'kind', 'model', 'hour'],
  sums: EVALUATION_SUM_COLUMNS,
  recompute: () => sql`
    SELECT project_id, kind, model, date_trunc('hour', created_at, 'UTC') AS hour, ${summedEvaluations()}
    FROM task_evaluations
    GROUP BY 1, 2, 3, 4`,
  owned: sql`true`,
  locks: ['evaluator_hourly_spend'],
  nullableKeys: ['model'],
};

/**
 * A daily level of migration 027 against its hourly level: the trigger statement that moves an hour's
 * row moves its day's by the same amounts, so a day's row is its hours' sums. Checked (and rebuilt)
 * from the hours, a few rows per key and day, instead of reading every review or evaluation a second
 * time; the hourly level is checked against the raw rows, and rebuilt, before (TRIGGER_ROLLUPS order),
 * its copied ratings included. `locks` are the daily level's writers' first tables, as for the hours.
 */
function dailyFromHours(
  hourly: RollupDefinition,
  table: string,
  day: RawBuilder<unknown>,
  locks: readonly string[],
): RollupDefinition {
  const keys = hourly.keys.filter((key) => key !== 'hour');
  return {
    keys: [...keys, 'day'],
    sums: hourly.sums,
    recompute: () => sql`
      SELECT ${columns(keys)}, ${day} AS day,
        ${sql.join(hourly.sums.map((name) => sql`sum(${sql.ref(name)}) AS ${sql.ref(name)}`))}
      FROM ${sql.table(table)}
      GROUP BY ${columns(keys)}, ${day}`,
    owned: sql`true`,
    locks,
    ...(hourly.nullableKeys === undefined ? {} : { nullableKeys: hourly.nullableKeys }),
  };
}

const DEFINITIONS: Record<TriggerRollup, RollupDefinition> = {
  // Migration 021: merit_count_routing_quality per decision, and the backfill's GROUP BY.
  routing_quality_hourly: {
    keys: ['project_id', 'user_id', 'hour'],
    sums: ['decisions', 'routed', 'rewarded', 'reward_sum', 'with_best', 'to_best'],
    recompute: (fresh) => sql`
      SELECT project_id, user_id, date_trunc('hour', created_at, 'UTC') AS hour,
        count(*) AS decisions,
        count(*) FILTER (WHERE reason <> 'mention') AS routed,
        count(*) FILTER (WHERE reason <> 'mention' AND outcome_reward IS NOT NULL) AS rewarded,
        coalesce(sum(outcome_reward::numeric) FILTER (WHERE reason <> 'mention'), 0) AS reward_sum,
        count(*) FILTER (WHERE reason <> 'mention' AND best_agent_id IS NOT NULL) AS with_best,
        count(*) FILTER (WHERE reason <> 'mention' AND chosen_agent_id = best_agent_id) AS to_best
      FROM (
        SELECT d.project_id, d.user_id, d.created_at, d.reason, d.best_agent_id, d.chosen_agent_id,
          ${fresh ? FRESH_OUTCOME_REWARD : sql`d.outcome_reward`} AS outcome_reward
        FROM routing_decisions d
      ) d
      GROUP BY 1, 2, 3`,
    owned: sql`true`,
    locks: ['routing_decisions', 'routing_quality_hourly'],
    copy: { table: 'routing_decisions', column: 'outcome_reward', alias: 'd', fresh: FRESH_OUTCOME_REWARD },
  },
  // Migration 020: merit_collect_node_daily's sums per key (applied at commit by merit_apply_node_daily).
  agent_node_daily_stats: {
    keys: ['project_id', 'agent_id', 'user_id', 'day', 'node_name'],
    sums: ['runs', 'successful_runs', 'timed_runs', 'sum_duration_ms', 'metered_runs', 'sum_total_tokens'],
    recompute: () =>
      sql`SELECT * FROM (${summedNodeDays()}) n WHERE ${notRetained(sql`n.project_id`, sql`n.day`)}`,
    owned: sql`${notRetained(sql`t.project_id`, sql`t.day`)} AND ${NONZERO_NODE_ROW}`,
    // The triggers write this rollup only at commit (deferred) and never write the node rows.
    locks: ['agent_node_daily_stats'],
    ctes: RETENTION_HORIZONS,
    touched: 'last_updated',
  },
  reviewer_hourly_stats: REVIEWER_HOURS,
  // The reviews' created_at and their hours are TIMESTAMPs in UTC.
  reviewer_daily_stats: dailyFromHours(REVIEWER_HOURS, 'reviewer_hourly_stats', sql`hour::date`, [
    'agent_peer_evaluations',
    'reviewer_daily_stats',
  ]),
  evaluator_hourly_spend: EVALUATOR_HOURS,
  evaluator_daily_spend: dailyFromHours(
    EVALUATOR_HOURS,
    'evaluator_hourly_spend',
    sql`(hour AT TIME ZONE 'UTC')::date`,
    ['evaluator_daily_spend'],
  ),
};

const columns = (names: readonly string[], prefix?: string) =>
  sql.join(names.map((name) => (prefix === undefined ? sql.ref(name) : sql.ref(`${prefix}.${name}`))));

/** The sums as one comparable value: NUMERIC compares 0 equal to 0.000000, as the rollups' sums are NUMERIC. */
const sumsArray = (names: readonly string[], prefix: string) =>
  sql`ARRAY[${sql.join(names.map((name) => sql`${sql.ref(`${prefix}.${name}`)}::numeric`))}]`;

/**
 * The keys of a trigger-kept rollup whose stored row differs from a recompute from the raw rows, both
 * sums shown, in key order. The recompute takes the copied values from their sources (each decision's
 * outcome reward from merit_task_outcome_reward, each review's rating from its task's score row), so a
 * stale copy shows as drift of its hour. For agent_node_daily_stats only the days a rebuild owns are
 * compared (after retention's latest day; a row of zeros counts as no row): findAllNodeDayDrift
 * compares every day.
 */
export async function findRollupDrift(db: Kysely<Database>, rollup: TriggerRollup): Promise<RollupDrift[]> {
  const definition = DEFINITIONS[rollup];
  const rows = await findDrift(db, rollup, definition.owned, definition.recompute(true), definition.ctes);
  if (definition.copy === undefined) return rows;
  const { table, column } = definition.copy;
  const stale = await sql<{ id: string; stored: string | null; recomputed: string | null }>`
    SELECT id::text AS id, stored::text AS stored, fresh::text AS recomputed
    FROM (${freshCopies(definition.copy)}) c
    WHERE stored IS DISTINCT FROM fresh
    ORDER BY id
  `.execute(db);
  return [
    ...rows,
    ...stale.rows.map(({ id, stored, recomputed }) => ({
      rollup,
      table,
      key: { id, column },
      stored,
      recomputed,
    })),
  ];
}

/** Each raw row's id, its stored copy and the copy's value from its source. */
function freshCopies({ table, column, alias, fresh }: CopiedValue): RawBuilder<unknown> {
  return sql`
    SELECT ${sql.ref(`${alias}.id`)} AS id, ${sql.ref(`${alias}.${column}`)} AS stored, ${fresh} AS fresh
    FROM ${sql.table(table)} ${sql.raw(alias)}`;
}

/**
 * agent_node_daily_stats against its node rows over every day, those retention deleted nodes of included
 * (there the rollup counts more than the rows left): none while no node was deleted with its task.
 */
export async function findAllNodeDayDrift(db: Kysely<Database>): Promise<RollupDrift[]> {
  return findDrift(db, 'agent_node_daily_stats', NONZERO_NODE_ROW, summedNodeDays());
}

async function findDrift(
  db: Kysely<Database>,
  rollup: TriggerRollup,
  owned: RawBuilder<unknown>,
  recomputed: RawBuilder<unknown>,
  ctes?: RawBuilder<unknown>,
): Promise<RollupDrift[]> {
  const stored = sql`SELECT * FROM ${sql.table(rollup)} t WHERE ${owned}`;
  const rows = await compareSums(db, rollup, stored, recomputed, ctes);
  return rows.map(({ key, left, right }) => ({
    rollup,
    table: rollup,
    key,
    stored: left,
    recomputed: right,
  }));
}

/**
 * The keys whose sums differ between two sets of a rollup's rows (each key at most once in each), with
 * both sums '/'-separated (null: no row). Keys are shown as JSON shows them (ISO 8601 instants).
 */
async function compareSums(
  db: Kysely<Database>,
  rollup: TriggerRollup,
  left: RawBuilder<unknown>,
  right: RawBuilder<unknown>,
  ctes?: RawBuilder<unknown>,
): Promise<{ key: Record<string, string | null>; left: string | null; right: string | null }[]> {
  const { keys, sums } = DEFINITIONS[rollup];
  // The two sides meet by GROUP BY, which takes a null key (a model) as equal to null.
  const result = await sql<Record<string, string | null>>`
    WITH ${ctes ?? sql``}
    both_sides AS (
      SELECT ${columns(keys, 'a')}, true AS is_left, ${sumsArray(sums, 'a')} AS sums FROM (${left}) a
      UNION ALL
      SELECT ${columns(keys, 'b')}, false, ${sumsArray(sums, 'b')} FROM (${right}) b
    ),
    paired AS (
      SELECT ${columns(keys)}, max(sums) FILTER (WHERE is_left) AS left_sums,
        max(sums) FILTER (WHERE NOT is_left) AS right_sums
      FROM both_sides
      GROUP BY ${columns(keys)}
    )
    SELECT ${sql.join(keys.map((key) => sql`to_json(${sql.ref(key)}) #>> '{}' AS ${sql.ref(key)}`))},
      array_to_string(left_sums, '/') AS compared_left, array_to_string(right_sums, '/') AS compared_right
    FROM paired
    WHERE left_sums IS DISTINCT FROM right_sums
    ORDER BY ${columns(keys)}
  `.execute(db);
  return result.rows.map((row) => {
    const { compared_left: left = null, compared_right: right = null, ...key } = row;
    return { key, left, right };
  });
}

/**
 * Replaces a trigger-kept rollup by a recompute from its raw rows, in the caller's transaction (which
 * must be READ COMMITTED, or not have read anything yet, so its statements see every writer committed
 * before the locks): first the raw rows' copied values (outcome_reward, user_rating) are set again from
 * their sources, then the rows that differ are written and those with no raw rows deleted. For
 * agent_node_daily_stats only the days after retention's latest day of each project are rebuilt; the
 * others keep the counts of the nodes retention deleted.
 *
 * Locks: the rollup (and the raw table whose copied values it sets) in SHARE ROW EXCLUSIVE mode, until
 * the caller commits. Every trigger that moves a rollup row writes the rollup (ROW EXCLUSIVE), which
 * conflicts with it, so no writer's change lands between the recompute and its write: a writer that
 * wrote its raw rows before waits at its rollup write, its rows invisible to the recompute (uncommitted),
 * and applies its delta on the rebuilt row after the commit; a writer that committed before the lock was
 * granted is in the recompute. Readers are not blocked (they read the old rows until the commit), and
 * the mode conflicts with itself, so two rebuilds of one rollup run one after the other. The raw table is
 * locked first, as writers take it (the raw row, then by its trigger the rollup): a writer holding the
 * rollup always holds the raw table already, so waiting for both closes no cycle, and the rebuild's own
 * update of copied values then finds no row another writer holds.
 */
export async function rebuildRollup(db: Kysely<Database>, rollup: TriggerRollup): Promise<RollupRepair> {
  const definition = DEFINITIONS[rollup];
  await sql`LOCK TABLE ${sql.join(definition.locks.map((table) => sql.table(table)))} IN SHARE ROW EXCLUSIVE MODE`.execute(
    db,
  );
  let rawRowsFixed = 0;
  if (definition.copy !== undefined) {
    const { table, column } = definition.copy;
    // Setting a copy again fires its triggers, which move the rollup by the change (a right row made
    // wrong, rebuilt below): what changed is counted against the rows as they were before.
    await sql`CREATE TEMP TABLE merit_rollup_before ON COMMIT DROP AS
      SELECT * FROM ${sql.table(rollup)} t WHERE ${definition.owned}`.execute(db);
    const fixed = await sql<{ fixed: number }>`
      WITH fixed AS (
        UPDATE ${sql.table(table)} x SET ${sql.ref(column)} = c.fresh
        FROM (${freshCopies(definition.copy)}) c
        WHERE c.id = x.id AND c.stored IS DISTINCT FROM c.fresh
        RETURNING 1
      )
      SELECT count(*)::int AS fixed FROM fixed
    `.execute(db);
    rawRowsFixed = fixed.rows[0]?.fixed ?? 0;
  }
  const { keys, sums } = definition;
  const matchesKey = sql.join(
    keys.map((key) =>
      definition.nullableKeys?.includes(key)
        ? sql`r.${sql.ref(key)} IS NOT DISTINCT FROM t.${sql.ref(key)}`
        : sql`r.${sql.ref(key)} = t.${sql.ref(key)}`,
    ),
    sql` AND `,
  );
  const touched = definition.touched === undefined ? [] : [definition.touched];
  const result = await sql<{ changed: number }>`
    WITH ${definition.ctes ?? sql``}
    recomputed AS (${definition.recompute(false)}),
    removed AS (
      DELETE FROM ${sql.table(rollup)} t
      WHERE ${definition.owned} AND NOT EXISTS (SELECT 1 FROM recomputed r WHERE ${matchesKey})
      RETURNING 1
    ),
    written AS (
      INSERT INTO ${sql.table(rollup)} AS t (${columns([...keys, ...sums, ...touched])})
      SELECT ${columns([...keys, ...sums])}${touched.length > 0 ? sql`, now()` : sql``} FROM recomputed
      ON CONFLICT (${columns(keys)}) DO UPDATE SET
        ${sql.join([...sums, ...touched].map((name) => sql`${sql.ref(name)} = excluded.${sql.ref(name)}`))}
      WHERE (${columns(sums, 't')}) IS DISTINCT FROM (${columns(sums, 'excluded')})
      RETURNING 1
    )
    SELECT ((SELECT count(*) FROM removed) + (SELECT count(*) FROM written))::int AS changed
  `.execute(db);
  let rowsChanged = result.rows[0]?.changed ?? 0;
  if (definition.copy !== undefined) {
    const changed = await compareSums(
      db,
      rollup,
      sql`SELECT * FROM merit_rollup_before`,
      sql`SELECT * FROM ${sql.table(rollup)} t WHERE ${definition.owned}`,
      definition.ctes,
    );
    rowsChanged = changed.length;
    await sql`DROP TABLE merit_rollup_before`.execute(db);
  }
  return { rollup, rowsChanged, rawRowsFixed };
}
