import { type Kysely, sql } from 'kysely';
import type {
  Database,
  NewRoutingDecision,
  RoutingDecisionRow,
  RoutingObjectivesTable,
} from '../db/database.js';
import type { Scope } from '../identity/scope.js';
import { CURSOR_AT_FORMAT, type PagePosition, PREVIEW_CHARS } from '../lib/paging.js';
import type { ReadRange } from '../stats/read-window.js';
import { windowSumParts } from '../stats/stats.queries.js';
import type { SumColumn } from '../stats/stats-sums.js';
import type { RoutingCandidate } from './router.js';
import type { DecisionOutcome, PairStatsRow, QualitySums } from './routing.js';

/** Every agent the router may consider, with its tasks in flight (queued or running) and declared specialties. */
export async function findRoutingCandidates(
  db: Kysely<Database>,
  projectId: string,
): Promise<RoutingCandidate[]> {
  const rows = await db
    .selectFrom('agents as a')
    .select(['a.agent_id', 'a.nickname', 'a.active', 'a.specializations', 'a.is_orchestrator', 'a.origin'])
    .select((eb) =>
      eb
        .selectFrom('tasks as t')
        .select(eb.fn.countAll<number>().as('n'))
        .whereRef('t.project_id', '=', 'a.project_id')
        .whereRef('t.agent_id', '=', 'a.agent_id')
        .where('t.status', 'in', ['queued', 'running'])
        .as('load'),
    )
    .where('a.project_id', '=', projectId)
    .orderBy('a.agent_id')
    .execute();
  return rows.map((row) => ({
    agentId: row.agent_id,
    nickname: row.nickname,
    active: row.active,
    load: Number(row.load ?? 0),
    specialties: row.specializations,
    isOrchestrator: row.is_orchestrator,
    external: row.origin === 'external',
  }));
}

/** The statistics sums the router reads (a window sums only these). */
const ROUTER_SUMS = [
  'total_tasks',
  'failed_tasks',
  'rewarded_tasks',
  'sum_reward',
  'sum_sq_reward',
  'unscored_tasks',
  'completed_priced',
  'completed_cost',
  'completed_timed',
  'completed_duration_ms',
] as const satisfies readonly SumColumn[];

/**
 * Reward statistics per (agent, category) over tasks finished in `range`, from the statistics rollups
 * (windowSumParts: whole days, whole hours, and only the tasks of the range's partial first and last
 * hours raw; an open range reads its current hour from the rollups too), so the router's cost follows
 * days and agents, not tasks. A task's reward is its score row's `reward` (storedReward: the blend of
 * rating, judge and peer scores), 0 when it failed; tasks with none of those carry no reward yet and are
 * counted as `unscored` (the router corrects for them: a failure is known at once, a score later). Mean
 * cost and duration are over completed tasks that know them.
 */
export async function findPairRewardStats(
  db: Kysely<Database>,
  projectId: string,
  range: ReadRange,
): Promise<PairStatsRow[]> {
  const rows = await sql<{
    agent_id: string;
    category: string;
    n: number;
    reward_sum: number;
    reward_square_sum: number;
    mean_cost: number | null;
    cost_count: number;
    mean_duration_ms: number | null;
    duration_count: number;
    failures: number;
    unscored: number;
  }>`
    WITH parts AS MATERIALIZED (${windowSumParts(projectId, range, {}, ROUTER_SUMS)})
    SELECT agent_id, objective_category AS category,
      sum(rewarded_tasks)::int AS n,
      sum(sum_reward)::float8 AS reward_sum,
      sum(sum_sq_reward)::float8 AS reward_square_sum,
      (sum(completed_cost) / nullif(sum(completed_priced), 0))::float8 AS mean_cost,
      sum(completed_priced)::int AS cost_count,
      (sum(completed_duration_ms)::numeric / nullif(sum(completed_timed), 0))::float8 AS mean_duration_ms,
      sum(completed_timed)::int AS duration_count,
      sum(failed_tasks)::int AS failures,
      sum(unscored_tasks)::int AS unscored
    FROM parts
    GROUP BY agent_id, objective_category
    HAVING sum(total_tasks) > 0
    ORDER BY agent_id, objective_category
  `.execute(db);
  return rows.rows.map((row) => ({
    agentId: row.agent_id,
    category: row.category,
    n: row.n,
    rewardSum: row.reward_sum,
    rewardSquareSum: row.reward_square_sum,
    meanCost: row.mean_cost,
    costCount: row.cost_count,
    meanDurationMs: row.mean_duration_ms,
    durationCount: row.duration_count,
    failures: row.failures,
    unscored: row.unscored,
  }));
}

export async function insertRoutingDecision(
  db: Kysely<Database>,
  decision: NewRoutingDecision,
): Promise<RoutingDecisionRow> {
  return db.insertInto('routing_decisions').values(decision).returningAll().executeTakeFirstOrThrow();
}

/** Links the scope user's decision to the task it created; false when no such decision (or task) in scope. */
export async function updateDecisionTask(
  db: Kysely<Database>,
  scope: Scope,
  decisionId: string,
  taskId: string,
): Promise<boolean> {
  const result = await db
    .updateTable('routing_decisions')
    .set({ task_id: taskId })
    .where('id', '=', decisionId)
    .where('project_id', '=', scope.projectId)
    .where('user_id', '=', scope.userId)
    .where((eb) =>
      eb.exists(
        eb
          .selectFrom('tasks')
          .select('tasks.id')
          .where('tasks.id', '=', taskId)
          .where('tasks.project_id', '=', scope.projectId)
          .where('tasks.user_id', '=', scope.userId),
      ),
    )
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

export type DecisionWithOutcome = RoutingDecisionRow & {
  nickname: string;
  outcome: DecisionOutcome;
  overall_score: number | null;
  /** Characters of the whole command (`command` is cut to PREVIEW_CHARS in a list). */
  command_length: number;
  /** True when `command` was cut. */
  truncated: boolean;
  /** The decision's page position (see lib/paging.ts). */
  cursor_at: string;
};

/**
 * A user's decisions, newest first, each with its task's outcome (from the outcomes view): a page
 * (`limit + 1` rows, keyset on `(created_at, id)` over `routing_decisions_user_created_idx`) with
 * commands cut to PREVIEW_CHARS, or with `taskId` only the decision that created that task, whole.
 */
export async function findDecisionsWithOutcomes(
  db: Kysely<Database>,
  scope: Scope,
  options: {
    limit: number;
    after?: PagePosition | undefined;
    taskId?: string | undefined;
    range?: ReadRange | undefined;
  },
): Promise<DecisionWithOutcome[]> {
  const range = options.range ?? {};
  const query = db
    .selectFrom('routing_decisions as d')
    .innerJoin('routing_decision_outcomes as o', 'o.decision_id', 'd.id')
    .innerJoin('agents as a', (join) =>
      join.onRef('a.project_id', '=', 'd.project_id').onRef('a.agent_id', '=', 'd.chosen_agent_id'),
    )
    .selectAll('d')
    .select([
      'a.nickname',
      'o.task_status',
      'o.user_rating',
      'o.judge_score',
      'o.peer_score',
      'o.overall_score',
      sql<number>`char_length(d.command)`.as('command_length'),
      sql<string>`to_char(d.created_at AT TIME ZONE 'UTC', ${sql.lit(CURSOR_AT_FORMAT)})`.as('cursor_at'),
    ])
    .where('d.project_id', '=', scope.projectId)
    .$if(scope.ownTasksOnly, (q) => q.where('d.user_id', '=', scope.userId))
    .$if(range.since !== undefined, (q) => q.where('d.created_at', '>=', range.since as Date))
    .$if(range.until !== undefined, (q) => q.where('d.created_at', '<', range.until as Date));
  const page = options.taskId
    ? query.where('d.task_id', '=', options.taskId).select(sql<boolean>`false`.as('truncated'))
    : query.select([
        sql<string>`left(d.command, ${sql.lit(PREVIEW_CHARS)})`.as('command'),
        sql<boolean>`char_length(d.command) > ${sql.lit(PREVIEW_CHARS)}`.as('truncated'),
      ]);
  const after = options.after;
  const rows = await (after
    ? page.where(
        sql<boolean>`(d.created_at, d.id) < (${after.at}::timestamp AT TIME ZONE 'UTC', ${after.id}::uuid)`,
      )
    : page
  )
    .orderBy('d.created_at', 'desc')
    .orderBy('d.id', 'desc')
    .limit(options.taskId ? options.limit : options.limit + 1)
    .execute();
  return rows.map(({ task_status, user_rating, judge_score, peer_score, overall_score, ...row }) => ({
    ...row,
    overall_score,
    outcome: {
      createdAt: row.created_at,
      reason: row.reason,
      chosenAgentId: row.chosen_agent_id,
      bestAgentId: row.best_agent_id,
      taskId: row.task_id,
      taskStatus: task_status,
      userRating: user_rating,
      judgeScore: judge_score === null ? null : Number(judge_score),
      peerScore: peer_score,
    },
  }));
}

const HOUR_MS = 3_600_000;

/**
 * Routing quality sums per UTC day of the decisions created in [since, until) (until open when left
 * out): the window's whole UTC hours from routing_quality_hourly (migration 021, kept by triggers as
 * outcomes arrive) plus the decisions of its partial first and last hours, read by key with their stored
 * outcome_reward. Whole days and the project or the user's decisions alike: ~24 rows a day, not one
 * join per decision.
 */
export async function findRoutingQualityDays(
  db: Kysely<Database>,
  scope: Scope,
  since: Date,
  until?: Date | undefined,
): Promise<(QualitySums & { day: string })[]> {
  const firstHour = new Date(Math.ceil(since.getTime() / HOUR_MS) * HOUR_MS);
  const lastHour =
    until === undefined ? undefined : new Date(Math.floor(until.getTime() / HOUR_MS) * HOUR_MS);
  const user = scope.ownTasksOnly ? sql`AND user_id = ${scope.userId}` : sql``;
  // A window inside one hour (or two partial ones) has no whole hour: all of it is raw decisions.
  const wholeHours = lastHour === undefined || lastHour > firstHour;
  const rawRanges: [Date, Date | undefined][] = wholeHours
    ? [[since, firstHour], ...(until && lastHour ? [[lastHour, until] as [Date, Date]] : [])]
    : [[since, until]];
  const raw = rawRanges
    .filter(([from, to]) => to === undefined || from < to)
    .map(
      ([from, to]) => sql`
        SELECT to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS day, 1 AS decisions,
          (reason <> 'mention')::int AS routed,
          (reason <> 'mention' AND outcome_reward IS NOT NULL)::int AS rewarded,
          CASE WHEN reason <> 'mention' THEN coalesce(outcome_reward::numeric, 0) ELSE 0 END AS reward_sum,
          (reason <> 'mention' AND best_agent_id IS NOT NULL)::int AS with_best,
          (reason <> 'mention' AND chosen_agent_id = best_agent_id)::int AS to_best
        FROM routing_decisions
        WHERE project_id = ${scope.projectId} ${user} AND created_at >= ${from}
          ${to === undefined ? sql`` : sql`AND created_at < ${to}`}`,
    );
  const hourly = wholeHours
    ? [
        sql`
          SELECT to_char(hour AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS day, decisions, routed, rewarded, reward_sum,
            with_best, to_best
          FROM routing_quality_hourly
          WHERE project_id = ${scope.projectId} ${user} AND hour >= ${firstHour}
            ${lastHour === undefined ? sql`` : sql`AND hour < ${lastHour}`}`,
      ]
    : [];
  const parts = [...hourly, ...raw];
  if (parts.length === 0) return [];
  const rows = await sql<{
    day: string;
    decisions: number;
    routed: number;
    rewarded: number;
    reward_sum: number;
    with_best: number;
    to_best: number;
  }>`
    SELECT day, sum(decisions)::int AS decisions, sum(routed)::int AS routed, sum(rewarded)::int AS rewarded,
      sum(reward_sum) AS reward_sum, sum(with_best)::int AS with_best, sum(to_best)::int AS to_best
    FROM (${sql.join(parts, sql` UNION ALL `)}) counted
    GROUP BY day
    HAVING sum(decisions) > 0
    ORDER BY day
  `.execute(db);
  return rows.rows.map((row) => ({
    day: row.day,
    decisions: row.decisions,
    routed: row.routed,
    rewarded: row.rewarded,
    rewardSum: Number(row.reward_sum),
    withBest: row.with_best,
    toBest: row.to_best,
  }));
}

/** The most recent commands whose category the user stated (the classifier's labelled examples). */
export async function findLabelledCommands(
  db: Kysely<Database>,
  projectId: string,
  limit: number,
): Promise<{ text: string; category: string; created_at: Date }[]> {
  return db
    .selectFrom('tasks')
    .select(['command as text', 'objective_category as category', 'created_at'])
    .where('project_id', '=', projectId)
    .where('category_source', '=', 'explicit')
    .orderBy('created_at', 'desc')
    .limit(limit)
    .execute();
}

/** How many labelled commands arrived after `after`, counting no further than `cap` (an index range scan). */
export async function countLabelledCommandsAfter(
  db: Kysely<Database>,
  projectId: string,
  after: Date,
  cap: number,
): Promise<number> {
  const row = await db
    .selectFrom((eb) =>
      eb
        .selectFrom('tasks')
        .select('id')
        .where('project_id', '=', projectId)
        .where('category_source', '=', 'explicit')
        .where('created_at', '>', after)
        .limit(cap)
        .as('recent'),
    )
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirst();
  return Number(row?.n ?? 0);
}

/** The project's stored default objective, or undefined when it never set one (it routes on quality). */
export async function findRoutingObjective(db: Kysely<Database>, projectId: string) {
  return db
    .selectFrom('routing_objectives')
    .selectAll()
    .where('project_id', '=', projectId)
    .executeTakeFirst();
}

/** Locks the project's objective row for an update (undefined when it has none yet). */
export async function findRoutingObjectiveForUpdate(db: Kysely<Database>, projectId: string) {
  return db
    .selectFrom('routing_objectives')
    .selectAll()
    .where('project_id', '=', projectId)
    .forUpdate()
    .executeTakeFirst();
}

/** Writes the project's default objective and knobs whole. */
export async function upsertRoutingObjective(
  db: Kysely<Database>,
  projectId: string,
  values: Pick<
    RoutingObjectivesTable,
    'objective' | 'usd_per_quality' | 'target_quality' | 'min_probability'
  >,
) {
  return db
    .insertInto('routing_objectives')
    .values({ project_id: projectId, ...values, updated_at: new Date() })
    .onConflict((oc) => oc.column('project_id').doUpdateSet({ ...values, updated_at: new Date() }))
    .returningAll()
    .executeTakeFirstOrThrow();
}
