import { sql } from 'kysely';

/**
 * The statistics sums every statistics table keeps (all-time, per category, per day and hour, and
 * retention's daily rollups), with how each is summed from a delta and from raw task rows. A leaf
 * module: the statistics and the retention queries both read it.
 */

/** Statistics columns that are plain running sums, as (column, delta sum) pairs. */
export const SUM_COLUMNS = [
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
  ['rewarded_tasks', 'sum(d_rewarded)::int'],
  ['sum_reward', 'sum(d_sum_reward)'],
  ['sum_sq_reward', 'sum(d_sum_sq_reward)'],
  ['unscored_tasks', 'sum(d_unscored)::int'],
  ['completed_priced', 'sum(d_completed_priced)::int'],
  ['completed_cost', 'sum(d_completed_cost)'],
  ['completed_timed', 'sum(d_completed_timed)::int'],
  ['completed_duration_ms', 'sum(d_completed_duration_ms)::bigint'],
] as const satisfies readonly (readonly [string, string])[];
/** A statistics sum column (the rollup tables' and the all-time tables' shared sums). */
export type SumColumn = (typeof SUM_COLUMNS)[number][0];
/** The sum columns' names, in SUM_COLUMNS order. */
export const SUM_COLUMN_NAMES: readonly SumColumn[] = SUM_COLUMNS.map(([column]) => column);

/** Each statistics sum over task rows (`t`) and their score rows (`s`), by column (SUM_COLUMNS' names). */
const RAW_SUM_EXPRESSIONS: Readonly<Record<SumColumn, string>> = {
  total_tasks: 'count(*)::int',
  successful_tasks: "count(*) FILTER (WHERE t.status = 'completed')::int",
  failed_tasks: "count(*) FILTER (WHERE t.status = 'failed')::int",
  scored_tasks: 'count(s.overall_score)::int',
  sum_overall_score: 'coalesce(sum(s.overall_score), 0)',
  sum_sq_overall_score: 'coalesce(sum(s.overall_score * s.overall_score), 0)',
  rated_tasks: 'count(s.user_rating)::int',
  sum_user_rating: 'coalesce(sum(s.user_rating), 0)',
  ratings_1: 'count(*) FILTER (WHERE s.user_rating = 1)::int',
  ratings_2: 'count(*) FILTER (WHERE s.user_rating = 2)::int',
  ratings_3: 'count(*) FILTER (WHERE s.user_rating = 3)::int',
  ratings_4: 'count(*) FILTER (WHERE s.user_rating = 4)::int',
  ratings_5: 'count(*) FILTER (WHERE s.user_rating = 5)::int',
  total_tokens: 'coalesce(sum(t.total_tokens), 0)::bigint',
  total_cost: 'coalesce(sum(t.estimated_cost), 0)',
  metered_tasks: 'count(t.total_tokens)::int',
  priced_tasks: 'count(t.estimated_cost)::int',
  total_duration_ms: 'coalesce(sum(t.duration_ms), 0)::bigint',
  reward_points: 'coalesce(sum(s.reward_points), 0)::int',
  rewarded_tasks: "count(*) FILTER (WHERE t.status = 'failed' OR s.reward IS NOT NULL)::int",
  sum_reward: "coalesce(sum(CASE WHEN t.status = 'failed' THEN 0 ELSE s.reward END), 0)",
  sum_sq_reward: "coalesce(sum(CASE WHEN t.status = 'failed' THEN 0 ELSE s.reward * s.reward END), 0)",
  unscored_tasks: "count(*) FILTER (WHERE t.status = 'completed' AND s.reward IS NULL)::int",
  completed_priced: "count(t.estimated_cost) FILTER (WHERE t.status = 'completed')::int",
  completed_cost: "coalesce(sum(t.estimated_cost) FILTER (WHERE t.status = 'completed'), 0)",
  completed_timed: "count(t.duration_ms) FILTER (WHERE t.status = 'completed')::int",
  completed_duration_ms: "coalesce(sum(t.duration_ms) FILTER (WHERE t.status = 'completed'), 0)::bigint",
};
/** The sums of `columns` over task rows (`t`) and their score rows (`s`), named like the columns, plus the finish-time window. */
export function rawSumsOf(columns: readonly SumColumn[]) {
  return sql.raw(
    [
      ...columns.map((column) => `${RAW_SUM_EXPRESSIONS[column]} AS ${column}`),
      'min(t.completed_at) AS first_task_at',
      'max(t.completed_at) AS last_task_at',
    ].join(',\n      '),
  );
}
/** The statistics sums of task rows (`t`) and their score rows (`s`), named like the columns, in SUM_COLUMNS order. */
export const RAW_SUMS = rawSumsOf(SUM_COLUMN_NAMES);
