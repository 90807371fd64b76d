import { type Kysely, type RawBuilder, sql } from 'kysely';
import type { Database, RoutingReason, TaskStatus } from '../db/database.js';
import type { Scope } from '../identity/scope.js';
import { CURSOR_AT_FORMAT, type PagePosition } from '../lib/paging.js';
import { buildTaskFilters, type TaskListFilters } from '../tasks/tasks.queries.js';

/** The filters every export takes: a time range on the rows' created_at (tasks: completed_at for stats). */
export interface ExportRange {
  since?: Date | undefined;
  until?: Date | undefined;
}

/** The task list's filters (agent, category, status, unrated, search, session) and a range. */
export interface TaskExportFilter extends ExportRange, TaskListFilters {
  /** Only the requesting user's tasks (local mode always is). */
  mine?: boolean | undefined;
}

export interface TaskExportRow {
  id: string;
  created_at: Date;
  started_at: Date | null;
  completed_at: Date | null;
  user_id: string;
  agent_id: string;
  nickname: string | null;
  command: string;
  objective_category: string;
  category_source: string;
  status: TaskStatus;
  failure_reason: string | null;
  model: string | null;
  simulated: boolean;
  source: string;
  prompt_tokens: number | null;
  completion_tokens: number | null;
  total_tokens: number | null;
  estimated_cost: number | null;
  duration_ms: number | null;
  overall_score: number | null;
  accuracy_score: number | null;
  relevance_score: number | null;
  completeness_score: number | null;
  efficiency_score: number | null;
  peer_score: number | null;
  user_rating: number | null;
  user_feedback: string | null;
  rated_at: Date | null;
  reward_points: number | null;
  cursor_at: string;
}

function rangeOn(column: RawBuilder<unknown>, range: ExportRange): RawBuilder<unknown> {
  const since = range.since ? sql`AND ${column} >= ${range.since}` : sql``;
  const until = range.until ? sql`AND ${column} < ${range.until}` : sql``;
  return sql`${since} ${until}`;
}

function after(position: PagePosition | undefined, alias: string): RawBuilder<unknown> {
  if (!position) return sql``;
  const table = sql.raw(alias);
  return sql`AND (${table}.created_at, ${table}.id) < (${position.at}::timestamp AT TIME ZONE 'UTC', ${position.id}::uuid)`;
}

/**
 * One page of the scope's tasks with their score row, newest first, keyset on `(created_at, id)`: an
 * export reads page after page, so memory stays bounded whatever the history's size.
 */
export async function findTaskExportPage(
  db: Kysely<Database>,
  scope: Scope,
  filter: TaskExportFilter,
  page: { limit: number; after?: PagePosition | undefined },
): Promise<TaskExportRow[]> {
  const mine = scope.ownTasksOnly || filter.mine ? sql`AND t.user_id = ${scope.userId}` : sql``;
  const result = await sql<TaskExportRow>`
    SELECT t.id, t.created_at, t.started_at, t.completed_at, t.user_id, t.agent_id, a.nickname, t.command,
      t.objective_category, t.category_source, t.status,
      CASE WHEN t.status = 'failed' THEN coalesce(t.failure_reason, 'error') END AS failure_reason,
      t.model, t.simulated, t.source, t.prompt_tokens, t.completion_tokens, t.total_tokens,
      t.estimated_cost, t.duration_ms, s.overall_score, s.accuracy_score, s.relevance_score,
      s.completeness_score, s.efficiency_score, s.peer_score, s.user_rating, s.user_feedback, s.rated_at,
      s.reward_points,
      to_char(t.created_at AT TIME ZONE 'UTC', ${sql.lit(CURSOR_AT_FORMAT)}) AS cursor_at
    FROM tasks t
    LEFT JOIN agents a ON a.project_id = t.project_id AND a.agent_id = t.agent_id
    LEFT JOIN agent_performance_scores s ON s.task_id = t.id
    WHERE t.project_id = ${scope.projectId} ${mine} ${buildTaskFilters(filter)}
      ${rangeOn(sql`t.created_at`, filter)} ${after(page.after, 't')}
    ORDER BY t.created_at DESC, t.id DESC
    LIMIT ${page.limit}
  `.execute(db);
  return result.rows;
}

export interface DecisionExportFilter extends ExportRange {
  agentId?: string | undefined;
  category?: string | undefined;
}

export interface DecisionExportRow {
  id: string;
  created_at: Date;
  user_id: string;
  task_id: string | null;
  command: string;
  category: string;
  confidence: number | null;
  category_source: string;
  chosen_agent_id: string;
  nickname: string | null;
  reason: RoutingReason;
  expected_score: number;
  interval_lower: number;
  interval_upper: number;
  sampled_score: number | null;
  observations: number;
  best_agent_id: string | null;
  explanation: string;
  task_status: TaskStatus | null;
  overall_score: number | null;
  user_rating: number | null;
  judge_score: number | null;
  peer_score: number | null;
  cursor_at: string;
}

/** One page of the scope's routing decisions with their task's outcome, newest first (keyset). */
export async function findDecisionExportPage(
  db: Kysely<Database>,
  scope: Scope,
  filter: DecisionExportFilter,
  page: { limit: number; after?: PagePosition | undefined },
): Promise<DecisionExportRow[]> {
  const mine = scope.ownTasksOnly ? sql`AND d.user_id = ${scope.userId}` : sql``;
  const agent = filter.agentId ? sql`AND d.chosen_agent_id = ${filter.agentId}` : sql``;
  const category = filter.category ? sql`AND d.category = ${filter.category}` : sql``;
  const result = await sql<DecisionExportRow>`
    SELECT d.id, d.created_at, d.user_id, d.task_id, d.command, d.category, d.confidence, d.category_source,
      d.chosen_agent_id, a.nickname, d.reason, d.expected_score, d.interval_lower, d.interval_upper,
      d.sampled_score, d.observations, d.best_agent_id, d.explanation, o.task_status, o.overall_score,
      o.user_rating, o.judge_score::float8 AS judge_score, o.peer_score,
      to_char(d.created_at AT TIME ZONE 'UTC', ${sql.lit(CURSOR_AT_FORMAT)}) AS cursor_at
    FROM routing_decisions d
    JOIN routing_decision_outcomes o ON o.decision_id = d.id
    LEFT JOIN agents a ON a.project_id = d.project_id AND a.agent_id = d.chosen_agent_id
    WHERE d.project_id = ${scope.projectId} ${mine} ${agent} ${category}
      ${rangeOn(sql`d.created_at`, filter)} ${after(page.after, 'd')}
    ORDER BY d.created_at DESC, d.id DESC
    LIMIT ${page.limit}
  `.execute(db);
  return result.rows;
}
