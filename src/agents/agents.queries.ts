import { type Kysely, type RawBuilder, sql } from 'kysely';
import type { AgentRow, Database } from '../db/database.js';
import type { Scope } from '../identity/scope.js';
import { CURSOR_AT_FORMAT, type PagePosition, PREVIEW_CHARS } from '../lib/paging.js';
import { buildNodeWindowParts } from '../stats/node-stats.queries.js';
import type { ReadRange } from '../stats/read-window.js';
import { rangeOn } from '../stats/stats.queries.js';

export async function listAgentsWithLoad(
  db: Kysely<Database>,
  projectId: string,
): Promise<(AgentRow & { running_tasks: number })[]> {
  return db
    .selectFrom('agents as a')
    .selectAll('a')
    .select((eb) =>
      eb
        .selectFrom('tasks as t')
        .select(eb.fn.countAll<number>().as('n'))
        .whereRef('t.project_id', '=', 'a.project_id')
        .whereRef('t.agent_id', '=', 'a.agent_id')
        .where('t.status', 'in', ['queued', 'running'])
        .as('running_tasks'),
    )
    .where('a.project_id', '=', projectId)
    .orderBy('a.agent_id')
    .execute() as Promise<(AgentRow & { running_tasks: number })[]>;
}

export async function findAgent(
  db: Kysely<Database>,
  projectId: string,
  agentId: string,
): Promise<AgentRow | undefined> {
  return db
    .selectFrom('agents')
    .selectAll()
    .where('project_id', '=', projectId)
    .where('agent_id', '=', agentId)
    .executeTakeFirst();
}

/**
 * A count stops here: past it a total is reported as a lower bound (`total_is_estimate`). Counting
 * 1,000 index entries takes about 3 ms; 10,000 took 32 ms at 550k tasks, over the read paths' budget.
 */
export const COUNT_CAP = 1000;

/**
 * A page of the user's scored tasks of one agent in a window, newest first (`limit + 1` rows: the extra
 * one tells whether a next page exists), keyset on the score row's `(created_at, id)` (or, for old
 * clients, an offset), over `agent_performance_scores_agent_created_idx`. The total counts no further
 * than COUNT_CAP rows (an index range scan, never the whole history). Command and feedback are cut to
 * PREVIEW_CHARS in SQL, with their lengths.
 */
export async function findScoredTasks(
  db: Kysely<Database>,
  agentId: string,
  scope: Scope,
  page: { limit: number; offset: number; after?: PagePosition | undefined; range?: ReadRange | undefined },
) {
  const range = page.range ?? {};
  const base = db
    .selectFrom('agent_performance_scores as s')
    .where('s.project_id', '=', scope.projectId)
    .where('s.agent_id', '=', agentId)
    .$if(scope.ownTasksOnly, (q) => q.where('s.user_id', '=', scope.userId))
    .where(sql<boolean>`true ${rangeOn(sql`s.created_at`, range, 'timestamp')}`);
  const after = page.after;
  const rows = (
    after
      ? base.where(sql<boolean>`(s.created_at, s.id) < (${after.at}::timestamp, ${after.id}::uuid)`)
      : base
  )
    .innerJoin('tasks as t', 't.id', 's.task_id')
    .select([
      's.id',
      't.id as task_id',
      sql<string>`left(t.command, ${sql.lit(PREVIEW_CHARS)})`.as('command'),
      sql<number>`char_length(t.command)`.as('command_length'),
      't.objective_category',
      't.status',
      't.model',
      't.simulated',
      's.overall_score',
      's.efficiency_score',
      's.accuracy_score',
      's.relevance_score',
      's.completeness_score',
      's.peer_score',
      's.user_rating',
      sql<string | null>`left(s.user_feedback, ${sql.lit(PREVIEW_CHARS)})`.as('user_feedback'),
      sql<number | null>`char_length(s.user_feedback)`.as('user_feedback_length'),
      's.reward_points',
      's.total_tokens',
      's.estimated_cost',
      's.duration_ms',
      't.created_at',
      't.completed_at',
      sql<string>`to_char(s.created_at, ${sql.lit(CURSOR_AT_FORMAT)})`.as('cursor_at'),
    ])
    .orderBy('s.created_at', 'desc')
    .orderBy('s.id', 'desc')
    .limit(page.limit + 1)
    .offset(page.offset)
    .execute();
  // Every score row belongs to a task (foreign key), so the count needs no join.
  const counted = db
    .selectFrom(
      base
        .select('s.id')
        .limit(COUNT_CAP + 1)
        .as('capped'),
    )
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  const [pageRows, total] = await Promise.all([rows, counted]);
  const n = Number(total.n);
  return { rows: pageRows, total: Math.min(n, COUNT_CAP), totalIsEstimate: n > COUNT_CAP };
}

/**
 * Which steps cost the time and the tokens: per node name, over the scope's nodes of one agent that ran
 * in a window (started_at, else when stored). The window's whole UTC days come from
 * agent_node_daily_stats (migration 020, kept by triggers on every write of the nodes) and only its
 * partial first and last days from the nodes themselves, through `agent_node_performance_agent_ran_idx`
 * alone (nodes carry their task's user, migration 017): the raw rows' answer, at a cost that follows the
 * days. Retention keeps the days it deletes in the rollup, so their whole days stay in the breakdown.
 */
export async function findNodeBreakdown(
  db: Kysely<Database>,
  agentId: string,
  scope: Scope,
  range: ReadRange = {},
) {
  return (await buildNodeBreakdownQuery(agentId, scope, range).execute(db)).rows;
}

/** The statement of findNodeBreakdown (its plan is checked by a test). */
export function buildNodeBreakdownQuery(agentId: string, scope: Scope, range: ReadRange) {
  const parts = buildNodeWindowParts(
    scope.projectId,
    agentId,
    scope.ownTasksOnly ? scope.userId : undefined,
    range,
  );
  return sql<{
    node_name: string;
    runs: number;
    avg_duration_ms: number | null;
    total_duration_ms: number | null;
    avg_tokens: number | null;
    total_tokens: number | null;
    success_rate: number;
  }>`
    WITH parts AS MATERIALIZED (${sql.join(parts, sql` UNION ALL `)})
    SELECT p.node_name,
      sum(p.runs)::int AS runs,
      round(sum(p.sum_duration_ms)::numeric / nullif(sum(p.timed_runs), 0))::int AS avg_duration_ms,
      (CASE WHEN sum(p.timed_runs) > 0 THEN sum(p.sum_duration_ms) END)::bigint AS total_duration_ms,
      round(sum(p.sum_total_tokens)::numeric / nullif(sum(p.metered_runs), 0))::int AS avg_tokens,
      (CASE WHEN sum(p.metered_runs) > 0 THEN sum(p.sum_total_tokens) END)::bigint AS total_tokens,
      round(sum(p.successful_runs)::numeric / sum(p.runs), 4)::float8 AS success_rate
    FROM parts p
    GROUP BY p.node_name
    -- A day's row of zeros (its nodes deleted while their task stayed) is no node.
    HAVING sum(p.runs) > 0
    ORDER BY 4 DESC NULLS LAST, p.node_name
  `;
}

/** Cells of the cost-against-quality grid: cost in this many columns, score in this many rows. */
export const COST_QUALITY_GRID = { costColumns: 24, scoreRows: 20 } as const;

/** The most tasks the grid is drawn from: the range's newest scored, priced tasks. */
export const COST_QUALITY_SAMPLE = 2000;

/**
 * Cost against quality over one agent's newest scored, priced tasks in the range (at most
 * COST_QUALITY_SAMPLE of them, by their score row's time, the task's finish): read newest first from
 * `agent_performance_scores_cost_quality_idx` alone (migration 023), so its cost does not grow with the
 * range's tasks; grouped into a grid of cost columns (0 to the highest cost) and score rows, each cell
 * with its task count and mean cost and score, so a chart draws thousands of tasks as a few hundred dots.
 * `truncated` says the range held more such tasks than the grid was drawn from.
 */
export async function findCostQuality(
  db: Kysely<Database>,
  agentId: string,
  scope: Scope,
  range: ReadRange = {},
): Promise<{ cells: { tasks: number; avg_cost: number; avg_score: number }[]; truncated: boolean }> {
  const mine = scope.ownTasksOnly ? sql`AND s.user_id = ${scope.userId}` : sql``;
  const recent = rangeOn(sql`s.created_at`, range, 'timestamp');
  const { costColumns, scoreRows } = COST_QUALITY_GRID;
  const result = await sql<{ tasks: number; avg_cost: number; avg_score: number; sampled: number }>`
    WITH newest AS (
      SELECT s.estimated_cost::float8 AS cost, s.overall_score::float8 AS score
      FROM agent_performance_scores s
      WHERE s.project_id = ${scope.projectId} AND s.agent_id = ${agentId} ${mine} ${recent}
        AND s.estimated_cost IS NOT NULL AND s.overall_score IS NOT NULL
      ORDER BY s.created_at DESC
      LIMIT ${COST_QUALITY_SAMPLE + 1}
    ),
    sampled AS (SELECT count(*)::int AS n FROM newest),
    scored AS (SELECT * FROM newest LIMIT ${COST_QUALITY_SAMPLE}),
    top AS (SELECT max(cost) AS max_cost FROM scored)
    SELECT count(*)::int AS tasks, round(avg(cost)::numeric, 6)::float8 AS avg_cost,
      round(avg(score)::numeric, 3)::float8 AS avg_score, min(sampled.n) AS sampled
    FROM scored, top, sampled
    GROUP BY least(floor(cost / nullif(top.max_cost, 0) * ${costColumns}), ${costColumns - 1}),
      least(floor(score * ${scoreRows}), ${scoreRows - 1})
    ORDER BY 2, 3
  `.execute(db);
  return {
    cells: result.rows.map(({ sampled: _sampled, ...cell }) => cell),
    truncated: (result.rows[0]?.sampled ?? 0) > COST_QUALITY_SAMPLE,
  };
}

/** The graphile-worker job that executes one Mission Control task. */
export const RUN_AGENT_TASK_JOB = 'run_agent_task';

/**
 * Enqueues the job that runs a task. Call it inside the transaction that creates the task, so the job
 * commits with it; the job key makes a second enqueue of the same task replace, not duplicate, the job.
 */
export async function insertRunAgentTaskJob(
  db: Kysely<Database>,
  task: { taskId: string; projectId: string; userId: string },
  maxAttempts: number,
): Promise<void> {
  const payload = JSON.stringify({ task_id: task.taskId, project_id: task.projectId, user_id: task.userId });
  await sql`
    SELECT graphile_worker.add_job(
      ${RUN_AGENT_TASK_JOB},
      ${payload}::json,
      max_attempts := ${maxAttempts}::int,
      job_key := ${`${RUN_AGENT_TASK_JOB}:${task.taskId}`}
    )
  `.execute(db);
}

/**
 * How many earlier tasks of the same user gave the same agent the same command: a simulated agent's run
 * key, so that a repeated command gets a fresh (but still seed-determined) answer.
 */
export async function countEarlierRuns(
  db: Kysely<Database>,
  task: { id: string; projectId: string; userId: string; agentId: string; command: string; createdAt: Date },
): Promise<number> {
  const row = await db
    .selectFrom('tasks')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('project_id', '=', task.projectId)
    .where('user_id', '=', task.userId)
    .where('agent_id', '=', task.agentId)
    .where('command', '=', task.command)
    .where('id', '!=', task.id)
    .where('created_at', '<', task.createdAt)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}
