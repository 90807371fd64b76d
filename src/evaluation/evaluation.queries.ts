import { type Kysely, type RawBuilder, sql } from 'kysely';
import type {
  AppliedRewardRule,
  Database,
  EvaluationKind,
  ScoreRow,
  TaskEvaluationRow,
  TaskRow,
} from '../db/database.js';
import type { ReadRange } from '../stats/read-window.js';
import { daysOn, rangeOn, splitRange } from '../stats/stats.queries.js';
import {
  buildJobKey,
  EVALUATE_TASK_JOB,
  REVIEW_TASK_JOB,
  type RewardContext,
  type SpendTotals,
} from './evaluation.js';

// The category medians look at this many recent completed tasks (bounded cost, follows drift).
const MEDIAN_SAMPLE = 500;

export interface PendingJob {
  task_identifier: string;
  key: string | null;
  attempts: number;
  max_attempts: number;
  last_error: string | null;
  run_at: Date;
  locked_at: Date | null;
}

/**
 * The queued (or running, or failed-for-good) evaluation and review jobs of a task: its evaluation job,
 * a review job for every reviewer (`review_task:<task>:<reviewer>`) or one shared by all of them.
 */
export async function findJobsForTask(db: Kysely<Database>, taskId: string): Promise<PendingJob[]> {
  const keys = [buildJobKey(EVALUATE_TASK_JOB, taskId), buildJobKey(REVIEW_TASK_JOB, taskId)];
  const result = await sql<PendingJob>`
    SELECT task_identifier, key, attempts, max_attempts, last_error, run_at, locked_at
    FROM graphile_worker.jobs
    WHERE key = ANY(${keys}::text[]) OR key LIKE ${`${buildJobKey(REVIEW_TASK_JOB, taskId)}:%`}
    ORDER BY key
  `.execute(db);
  return result.rows;
}

export type TaskForEvaluation = TaskRow & { evaluation_criteria: string[] };

export async function findTaskForEvaluation(
  db: Kysely<Database>,
  taskId: string,
): Promise<TaskForEvaluation | undefined> {
  return db
    .selectFrom('tasks as t')
    .innerJoin('objective_templates as o', (join) =>
      join.onRef('o.project_id', '=', 't.project_id').onRef('o.category', '=', 't.objective_category'),
    )
    .selectAll('t')
    .select('o.evaluation_criteria')
    .where('t.id', '=', taskId)
    .executeTakeFirst();
}

export async function findEvaluation(
  db: Kysely<Database>,
  taskId: string,
  kind: EvaluationKind,
): Promise<TaskEvaluationRow | undefined> {
  return db
    .selectFrom('task_evaluations')
    .selectAll()
    .where('task_id', '=', taskId)
    .where('kind', '=', kind)
    .executeTakeFirst();
}

export async function findEvaluationsForTask(
  db: Kysely<Database>,
  taskId: string,
): Promise<TaskEvaluationRow[]> {
  return db
    .selectFrom('task_evaluations')
    .selectAll()
    .where('task_id', '=', taskId)
    .orderBy('created_at')
    .execute();
}

export interface EvaluationRecord {
  task_id: string;
  kind: EvaluationKind;
  status: 'done' | 'failed';
  accuracy_score: number | null;
  relevance_score: number | null;
  completeness_score: number | null;
  reasoning: string;
  evaluator_version: string;
  model: string | null;
  /** This run's usage; null when unknown, or when the run made no paid call (see `spent`). */
  prompt_tokens: number | null;
  completion_tokens: number | null;
  estimated_cost: number | null;
  failure_reason: string | null;
  attempts: number;
}

/**
 * Records a verdict, or the failure of an attempt that spent something while its job retries. A
 * finished ('done') evaluation is final: a second writer (a job re-run after a crash) gets undefined
 * back and must change nothing. A 'failed' row can be replaced by a later success, and its usage is
 * added to the new run's: a sum with an unknown part is unknown (null). `spent` false says this run made
 * no paid call, so the stored usage stays as it was (a null from this run would otherwise hide it).
 */
export async function saveEvaluation(
  db: Kysely<Database>,
  record: EvaluationRecord,
  options: { spent: boolean },
): Promise<TaskEvaluationRow | undefined> {
  const added = (column: 'prompt_tokens' | 'completion_tokens' | 'estimated_cost') =>
    options.spent
      ? sql<number | null>`task_evaluations.${sql.ref(column)} + excluded.${sql.ref(column)}`
      : sql<number | null>`task_evaluations.${sql.ref(column)}`;
  return db
    .insertInto('task_evaluations')
    .values({ ...record, source: record.kind })
    .onConflict((oc) =>
      oc
        .columns(['task_id', 'kind'])
        .doUpdateSet((eb) => ({
          status: eb.ref('excluded.status'),
          accuracy_score: eb.ref('excluded.accuracy_score'),
          relevance_score: eb.ref('excluded.relevance_score'),
          completeness_score: eb.ref('excluded.completeness_score'),
          reasoning: eb.ref('excluded.reasoning'),
          evaluator_version: eb.ref('excluded.evaluator_version'),
          model: eb.ref('excluded.model'),
          prompt_tokens: added('prompt_tokens'),
          completion_tokens: added('completion_tokens'),
          estimated_cost: added('estimated_cost'),
          failure_reason: eb.ref('excluded.failure_reason'),
          attempts: eb.ref('excluded.attempts'),
          updated_at: sql<Date>`now()`,
        }))
        .where('task_evaluations.status', '<>', 'done'),
    )
    .returningAll()
    .executeTakeFirst();
}

// An evaluation's spend, as evaluator_hourly_spend and evaluator_daily_spend keep it (migrations 024 and
// 027, merit_count_evaluation; their upkeep recomputes them with these): tokens and cost of metered rows
// (both token counts known), the metered rows with a cost, and the judge's calls without a price or
// without token counts.
const EVALUATION_METERED = sql`(prompt_tokens IS NOT NULL AND completion_tokens IS NOT NULL)`;
const EVALUATION_SUMS: readonly [string, RawBuilder<unknown>][] = [
  ['evaluations', sql`count(*)`],
  ['metered_calls', sql`count(*) FILTER (WHERE ${EVALUATION_METERED})`],
  ['prompt_tokens', sql`sum(prompt_tokens) FILTER (WHERE ${EVALUATION_METERED})`],
  ['completion_tokens', sql`sum(completion_tokens) FILTER (WHERE ${EVALUATION_METERED})`],
  ['priced_calls', sql`count(*) FILTER (WHERE ${EVALUATION_METERED} AND estimated_cost IS NOT NULL)`],
  ['cost', sql`sum(estimated_cost) FILTER (WHERE ${EVALUATION_METERED})`],
  [
    'unpriced_calls',
    sql`count(*) FILTER (WHERE kind = 'judge' AND ${EVALUATION_METERED} AND estimated_cost IS NULL)`,
  ],
  ['unmetered_calls', sql`count(*) FILTER (WHERE kind = 'judge' AND NOT ${EVALUATION_METERED})`],
];

/** The evaluator spend rollups' sum columns, in their tables' order. */
export const EVALUATION_SUM_COLUMNS: readonly string[] = EVALUATION_SUMS.map(([name]) => name);

/**
 * The spend rollups' sums over a group of evaluation rows (of task_evaluations, or of a subquery with its
 * column names), each under its column's name; 0 where no row counts, as a rollup row holds it.
 */
export function summedEvaluations(): RawBuilder<unknown> {
  return sql.join(EVALUATION_SUMS.map(([name, sum]) => sql`coalesce(${sum}, 0) AS ${sql.ref(name)}`));
}

/**
 * What each evaluator (the judge, per model, and the offline evaluator) spent on evaluations made in a
 * range: its whole UTC days from evaluator_daily_spend (migration 027), the whole hours of its partial
 * first and last days from evaluator_hourly_spend (migration 024; both kept by triggers), its partial
 * first and last hours from the evaluation rows.
 */
export async function findEvaluatorSpend(
  db: Kysely<Database>,
  projectId: string,
  range: ReadRange = {},
): Promise<({ kind: EvaluationKind; model: string | null; evaluations: number } & SpendTotals)[]> {
  const split = splitRange(range);
  const columns = sql.raw(EVALUATION_SUM_COLUMNS.join(', '));
  const parts = [
    ...(split.days === null
      ? []
      : [
          sql`
            SELECT kind, model, ${columns}
            FROM evaluator_daily_spend
            WHERE project_id = ${projectId} ${daysOn(sql`day`, split.days)}`,
        ]),
    ...split.hours.map(
      (hours) => sql`
        SELECT kind, model, ${columns}
        FROM evaluator_hourly_spend
        WHERE project_id = ${projectId} ${rangeOn(sql`hour`, hours)}`,
    ),
    ...split.raw.map(
      (period) => sql`
        SELECT kind, model, ${summedEvaluations()}
        FROM task_evaluations
        WHERE project_id = ${projectId} ${rangeOn(sql`created_at`, period)}
        GROUP BY kind, model`,
    ),
  ];
  if (parts.length === 0) return [];
  const result = await sql<{ kind: EvaluationKind; model: string | null } & Record<string, string | null>>`
    SELECT kind, model, ${sql.join(EVALUATION_SUM_COLUMNS.map((name) => sql`sum(${sql.ref(name)}) AS ${sql.ref(name)}`))}
    FROM (${sql.join(parts, sql` UNION ALL `)}) parts
    GROUP BY kind, model
    HAVING sum(evaluations) > 0
    ORDER BY kind, model
  `.execute(db);
  const int = (value: string | null | undefined) =>
    value === null || value === undefined ? 0 : Number(value);
  return result.rows.map((row) => {
    const metered = int(row.metered_calls);
    return {
      kind: row.kind,
      model: row.model,
      evaluations: int(row.evaluations),
      // Unknown (null), not 0, when no evaluation reported its tokens or a priced cost.
      prompt_tokens: metered > 0 ? int(row.prompt_tokens) : null,
      completion_tokens: metered > 0 ? int(row.completion_tokens) : null,
      cost: int(row.priced_calls) > 0 ? Number(row.cost) : null,
      unpriced_calls: int(row.unpriced_calls),
      unmetered_calls: int(row.unmetered_calls),
    };
  });
}

/** The figures the reward rules compare a task with: category medians and the agent's recent scores. */
export async function findRewardContext(
  db: Kysely<Database>,
  task: Pick<
    TaskRow,
    'id' | 'project_id' | 'agent_id' | 'objective_category' | 'completed_at' | 'duration_ms' | 'total_tokens'
  >,
  streak: number,
): Promise<RewardContext> {
  const completedAt = task.completed_at ?? new Date();
  const medians = await sql<{ duration: number | null; tokens: number | null }>`
    SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY duration_ms) AS duration,
      percentile_cont(0.5) WITHIN GROUP (ORDER BY total_tokens) AS tokens
    FROM (
      SELECT duration_ms, total_tokens FROM tasks
      WHERE project_id = ${task.project_id} AND objective_category = ${task.objective_category}
        AND status = 'completed'
      ORDER BY completed_at DESC LIMIT ${MEDIAN_SAMPLE}
    ) recent
  `.execute(db);
  const earlier = sql<boolean>`(t.completed_at < ${completedAt} OR (t.completed_at = ${completedAt} AND t.id < ${task.id}))`;
  const recent = await db
    .selectFrom('agent_performance_scores as s')
    .innerJoin('tasks as t', 't.id', 's.task_id')
    .select('s.overall_score')
    .where('s.project_id', '=', task.project_id)
    .where('s.agent_id', '=', task.agent_id)
    .where('s.objective_category', '=', task.objective_category)
    .where('s.overall_score', 'is not', null)
    .where('t.id', '<>', task.id)
    .where(earlier)
    .orderBy('t.completed_at', 'desc')
    .orderBy('t.id', 'desc')
    .limit(Math.max(streak - 1, 0))
    .execute();
  const previousSuccess = await db
    .selectFrom('tasks as t')
    .select('t.id')
    .where('t.project_id', '=', task.project_id)
    .where('t.agent_id', '=', task.agent_id)
    .where('t.objective_category', '=', task.objective_category)
    .where('t.status', '=', 'completed')
    .where('t.id', '<>', task.id)
    .where(earlier)
    .limit(1)
    .executeTakeFirst();
  const median = medians.rows[0];
  // Par: the team's last evaluated or reviewed completed tasks (final scores, not a rating and efficiency
  // waiting for their evaluation), every agent and category of the task's project.
  const par = await sql<{ overall_score: number }>`
    SELECT s.overall_score
    FROM (
      SELECT id FROM tasks
      WHERE project_id = ${task.project_id} AND status = 'completed' AND id <> ${task.id}
      ORDER BY completed_at DESC LIMIT ${MEDIAN_SAMPLE}
    ) recent
    JOIN agent_performance_scores s ON s.task_id = recent.id
    WHERE s.overall_score IS NOT NULL
      AND (s.accuracy_score IS NOT NULL OR s.relevance_score IS NOT NULL OR s.completeness_score IS NOT NULL
        OR s.peer_score IS NOT NULL)
  `.execute(db);
  return {
    durationMs: task.duration_ms,
    totalTokens: task.total_tokens,
    categoryMedianDurationMs: toNumberOrNull(median?.duration),
    categoryMedianTokens: toNumberOrNull(median?.tokens),
    isFirstSuccessInCategory: previousSuccess === undefined,
    recentScores: recent.map((row) => Number(row.overall_score)),
    teamScores: par.rows.map((row) => Number(row.overall_score)),
  };
}

export async function updateScoreFields(
  db: Kysely<Database>,
  scoreId: string,
  fields: Pick<
    ScoreRow,
    | 'user_rating'
    | 'accuracy_score'
    | 'relevance_score'
    | 'completeness_score'
    | 'peer_score'
    | 'overall_score'
    | 'reward_points'
    | 'score_sources'
  > & { reward_rules: AppliedRewardRule[] },
): Promise<ScoreRow> {
  return db
    .updateTable('agent_performance_scores')
    .set({
      ...fields,
      score_sources: JSON.stringify(fields.score_sources),
      reward_rules: JSON.stringify(fields.reward_rules),
      updated_at: new Date(),
    })
    .where('id', '=', scoreId)
    .returningAll()
    .executeTakeFirstOrThrow();
}

/**
 * Takes one token from a bucket holding at most `perMinute` tokens and refilled at `perMinute` a minute.
 * Returns 0 when a token was taken, else how many milliseconds until one is available. One atomic
 * statement, so concurrent workers share the budget.
 */
export async function takeRateLimitToken(
  db: Kysely<Database>,
  name: string,
  perMinute: number,
): Promise<number> {
  await sql`
    INSERT INTO evaluation_rate_limits (name, tokens, refilled_at) VALUES (${name}, ${perMinute}, now())
    ON CONFLICT (name) DO NOTHING
  `.execute(db);
  const result = await sql<{ available: number; taken: boolean }>`
    WITH current AS (
      SELECT least(${perMinute}::numeric,
        tokens + extract(epoch FROM (clock_timestamp() - refilled_at)) * ${perMinute}::numeric / 60) AS available
      FROM evaluation_rate_limits WHERE name = ${name} FOR UPDATE
    )
    UPDATE evaluation_rate_limits r
    SET tokens = CASE WHEN c.available >= 1 THEN c.available - 1 ELSE c.available END,
      refilled_at = clock_timestamp()
    FROM current c WHERE r.name = ${name}
    RETURNING c.available, c.available >= 1 AS taken
  `.execute(db);
  const row = result.rows[0];
  if (!row || row.taken) return 0;
  return Math.ceil(((1 - Number(row.available)) * 60_000) / perMinute);
}

function toNumberOrNull(value: number | string | null | undefined): number | null {
  return value === null || value === undefined ? null : Number(value);
}
