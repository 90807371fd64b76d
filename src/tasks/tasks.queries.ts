import { type Kysely, sql } from 'kysely';
import type pg from 'pg';
import { excludeUnvotedArenaTasks } from '../arena/arena-blindness.js';
import type {
  Database,
  FailureReason,
  NewNode,
  NewScore,
  NewTask,
  NodeRow,
  ScoreRow,
  TaskRow,
  TaskUpdate,
  TemplateRow,
} from '../db/database.js';
import { EVENTS_CHANNEL } from '../events/events.queries.js';
import type { Scope } from '../identity/scope.js';
import { CURSOR_AT_FORMAT, type PagePosition, PREVIEW_CHARS } from '../lib/paging.js';
import {
  DELTA_RECORD_COLUMNS,
  deltaFieldsOf,
  STATS_UPSERT_CTES,
  type StatsDeltaRecord,
} from '../stats/stats.queries.js';

export async function insertTask(db: Kysely<Database>, task: NewTask): Promise<TaskRow | undefined> {
  return db
    .insertInto('tasks')
    .values(task)
    .onConflict((oc) => oc.column('id').doNothing())
    .returningAll()
    .executeTakeFirst();
}

/**
 * A task the scope may see: in its project (and the user's own in local mode). A task outside the scope
 * is treated exactly like a missing one.
 */
export async function findTaskInScope(
  db: Kysely<Database>,
  scope: Scope,
  taskId: string,
  options: { forUpdate?: boolean } = {},
): Promise<TaskRow | undefined> {
  let query = db
    .selectFrom('tasks')
    .selectAll()
    .where('id', '=', taskId)
    .where('project_id', '=', scope.projectId)
    .$if(scope.ownTasksOnly, (q) => q.where('user_id', '=', scope.userId));
  if (options.forUpdate) query = query.forUpdate();
  return query.executeTakeFirst();
}

/** Which of these ids belong to tasks the scope may not see (another project's, or another user's). */
export async function findTasksOutsideScope(
  db: Kysely<Database>,
  scope: Scope,
  ids: readonly string[],
): Promise<Set<string>> {
  const rows = await db
    .selectFrom('tasks')
    .select('id')
    .where('id', 'in', [...ids])
    .where((eb) =>
      scope.ownTasksOnly
        ? eb.or([eb('project_id', '!=', scope.projectId), eb('user_id', '!=', scope.userId)])
        : eb('project_id', '!=', scope.projectId),
    )
    .execute();
  return new Set(rows.map((row) => row.id));
}

/** A task by id alone, locked (for system jobs that act on any user's task). */
export async function findTaskForUpdate(db: Kysely<Database>, taskId: string): Promise<TaskRow | undefined> {
  return db.selectFrom('tasks').selectAll().where('id', '=', taskId).forUpdate().executeTakeFirst();
}

/** Unfinished tasks with no activity since `idleSince`, oldest first. */
export async function findIdleTaskIds(
  db: Kysely<Database>,
  idleSince: Date,
  limit: number,
): Promise<string[]> {
  const rows = await db
    .selectFrom('tasks')
    .select('id')
    .where('status', 'in', ['queued', 'running'])
    .where('last_activity_at', '<', idleSince)
    .orderBy('last_activity_at')
    .limit(limit)
    .execute();
  return rows.map((row) => row.id);
}

export async function updateTask(
  db: Kysely<Database>,
  taskId: string,
  changes: TaskUpdate,
): Promise<TaskRow> {
  return (
    db
      .updateTable('tasks')
      // Every change of a task is activity: a task is failed as timed out only after none for a while.
      .set({ ...changes, last_activity_at: sql<Date>`now()` })
      .where('id', '=', taskId)
      .returningAll()
      .executeTakeFirstOrThrow()
  );
}

/**
 * A task as list endpoints and live events carry it: long texts cut to `PREVIEW_CHARS` in SQL (the full
 * text never leaves PostgreSQL) with their full lengths, its score row's columns (null without one), and
 * its page position.
 */
export interface TaskPreviewRow {
  id: string;
  project_id: string;
  user_id: string;
  agent_id: string;
  nickname: string | null;
  command: string;
  command_length: number;
  objective_category: string;
  category_confidence: number | null;
  category_source: TaskRow['category_source'];
  status: TaskRow['status'];
  current_node: string | null;
  result: string | null;
  result_length: number | null;
  error: string | null;
  error_length: number | null;
  failure_reason: FailureReason | null;
  model: string | null;
  simulated: boolean;
  source: string;
  prompt_tokens: number | null;
  completion_tokens: number | null;
  total_tokens: number | null;
  estimated_cost: number | null;
  duration_ms: number | null;
  created_at: Date;
  started_at: Date | null;
  completed_at: Date | null;
  session_id: string | null;
  cursor_at: string;
  has_score: boolean;
  accuracy_score: number | null;
  relevance_score: number | null;
  completeness_score: number | null;
  efficiency_score: number | null;
  overall_score: number | null;
  peer_score: number | null;
  user_rating: number | null;
  user_feedback: string | null;
  user_feedback_length: number | null;
  score_total_tokens: number | null;
  score_estimated_cost: number | null;
  reward_points: number | null;
  score_sources: Record<string, unknown> | null;
  evaluation_status: EvaluationStatus | null;
}

/**
 * Where a completed task's automatic evaluation stands: 'evaluated' once an evaluator scored it, 'failed'
 * when every evaluator that ran failed, 'pending' before any reported; null for a task not completed.
 */
export type EvaluationStatus = 'pending' | 'evaluated' | 'failed';

/** Filters of the task list; each absent one lets every task through. */
export interface TaskListFilters {
  agentId?: string | undefined;
  category?: string | undefined;
  status?: TaskRow['status'] | undefined;
  /** Completed tasks without the user's rating. */
  unrated?: boolean | undefined;
  /** Case-insensitive text searched in the command and the result. */
  search?: string | undefined;
  /** Only the tasks of this session (conversation). */
  sessionId?: string | undefined;
}

/** `%` and `_` in a search are literal characters, not wildcards. */
function toLikePattern(text: string): string {
  return `%${text.replace(/[\\%_]/g, (char) => `\\${char}`)}%`;
}

/** The SQL of `filters` over `tasks t` joined to its score row `s`: the task list's and the export's. */
export function buildTaskFilters(filters: TaskListFilters) {
  const parts = [
    filters.agentId === undefined ? null : sql`AND t.agent_id = ${filters.agentId}`,
    filters.category === undefined ? null : sql`AND t.objective_category = ${filters.category}`,
    filters.sessionId === undefined ? null : sql`AND t.session_id = ${filters.sessionId}`,
    filters.status === undefined ? null : sql`AND t.status = ${filters.status}`,
    filters.unrated ? sql`AND t.status = 'completed' AND s.user_rating IS NULL` : null,
    filters.search === undefined
      ? null
      : sql`AND (t.command ILIKE ${toLikePattern(filters.search)} OR t.result ILIKE ${toLikePattern(filters.search)})`,
    // Arena blindness: an unvoted comparison's tasks would tell which agent answered which side.
    excludeUnvotedArenaTasks,
  ].filter((part) => part !== null);
  return parts.length === 0 ? sql`` : sql.join(parts, sql` `);
}

/**
 * A page of the scope's tasks (the user's own when `mine` or in local mode), newest first (`limit + 1`
 * rows: the extra one tells whether a next page exists). Keyset paging on `(created_at, id)`, served by
 * `tasks_project_user_created_idx` and `tasks_project_created_idx`.
 */
export async function listTaskPreviews(
  db: Kysely<Database>,
  scope: Scope,
  options: {
    limit: number;
    after?: PagePosition | undefined;
    mine?: boolean;
    filters?: TaskListFilters;
  },
): Promise<TaskPreviewRow[]> {
  const after = options.after
    ? sql`AND (t.created_at, t.id) < (${options.after.at}::timestamp AT TIME ZONE 'UTC', ${options.after.id}::uuid)`
    : sql``;
  const mine = scope.ownTasksOnly || options.mine ? sql`AND t.user_id = ${scope.userId}` : sql``;
  const result = await sql<TaskPreviewRow>`
    ${selectTaskPreviews}
    WHERE t.project_id = ${scope.projectId} ${mine} ${after} ${buildTaskFilters(options.filters ?? {})}
    ORDER BY t.created_at DESC, t.id DESC
    LIMIT ${options.limit + 1}
  `.execute(db);
  return result.rows;
}

/**
 * A task the scope may see, as the list shows it (for live events); any other task is not found, nor is
 * a task of an Arena comparison not voted on yet (the list leaves those out too).
 */
export async function findTaskPreviewInScope(
  db: Kysely<Database>,
  scope: Scope,
  taskId: string,
): Promise<TaskPreviewRow | undefined> {
  const mine = scope.ownTasksOnly ? sql`AND t.user_id = ${scope.userId}` : sql``;
  const result = await sql<TaskPreviewRow>`
    ${selectTaskPreviews}
    WHERE t.id = ${taskId} AND t.project_id = ${scope.projectId} ${mine} ${excludeUnvotedArenaTasks}
  `.execute(db);
  return result.rows[0];
}

const selectEvaluationStatus = sql`
  CASE WHEN t.status <> 'completed' THEN NULL
    WHEN EXISTS (SELECT 1 FROM task_evaluations e WHERE e.task_id = t.id AND e.status = 'done') THEN 'evaluated'
    WHEN EXISTS (SELECT 1 FROM task_evaluations e WHERE e.task_id = t.id) THEN 'failed'
    ELSE 'pending' END
`;

/** The evaluation status of one task (see EvaluationStatus); undefined for a task that does not exist. */
export async function findEvaluationStatus(
  db: Kysely<Database>,
  taskId: string,
): Promise<EvaluationStatus | null | undefined> {
  const result = await sql<{ evaluation_status: EvaluationStatus | null }>`
    SELECT ${selectEvaluationStatus} AS evaluation_status FROM tasks t WHERE t.id = ${taskId}
  `.execute(db);
  return result.rows[0]?.evaluation_status;
}

const selectTaskPreviews = sql`
  SELECT t.id, t.project_id, t.user_id, t.agent_id, a.nickname,
    left(t.command, ${sql.lit(PREVIEW_CHARS)}) AS command, char_length(t.command) AS command_length,
    t.objective_category, t.category_confidence, t.category_source, t.status, t.current_node,
    left(t.result, ${sql.lit(PREVIEW_CHARS)}) AS result, char_length(t.result) AS result_length,
    left(t.error, ${sql.lit(PREVIEW_CHARS)}) AS error, char_length(t.error) AS error_length,
    CASE WHEN t.status = 'failed' THEN coalesce(t.failure_reason, 'error') END AS failure_reason,
    t.model, t.simulated, t.source, t.prompt_tokens, t.completion_tokens, t.total_tokens, t.estimated_cost,
    t.duration_ms, t.created_at, t.started_at, t.completed_at, t.session_id,
    to_char(t.created_at AT TIME ZONE 'UTC', ${sql.lit(CURSOR_AT_FORMAT)}) AS cursor_at,
    s.task_id IS NOT NULL AS has_score, s.accuracy_score, s.relevance_score, s.completeness_score,
    s.efficiency_score, s.overall_score, s.peer_score, s.user_rating,
    left(s.user_feedback, ${sql.lit(PREVIEW_CHARS)}) AS user_feedback,
    char_length(s.user_feedback) AS user_feedback_length,
    s.total_tokens AS score_total_tokens, s.estimated_cost AS score_estimated_cost, s.reward_points,
    s.score_sources,
    ${selectEvaluationStatus} AS evaluation_status
  FROM tasks t
  LEFT JOIN agents a ON a.project_id = t.project_id AND a.agent_id = t.agent_id
  LEFT JOIN agent_performance_scores s ON s.task_id = t.id
`;

export async function findNodesForTask(db: Kysely<Database>, taskId: string): Promise<NodeRow[]> {
  return db
    .selectFrom('agent_node_performance')
    .selectAll()
    .where('task_id', '=', taskId)
    .orderBy('sequence')
    .execute();
}

export async function findNextNodeSequence(db: Kysely<Database>, taskId: string): Promise<number> {
  const row = await db
    .selectFrom('agent_node_performance')
    .select((eb) => eb.fn.max('sequence').as('max_sequence'))
    .where('task_id', '=', taskId)
    .executeTakeFirst();
  return row?.max_sequence === null || row?.max_sequence === undefined ? 0 : Number(row.max_sequence) + 1;
}

export async function insertNodes(db: Kysely<Database>, nodes: NewNode[]): Promise<NodeRow[]> {
  if (nodes.length === 0) return [];
  return db.insertInto('agent_node_performance').values(nodes).returningAll().execute();
}

export async function findScoreForTask(
  db: Kysely<Database>,
  taskId: string,
  options: { forUpdate?: boolean } = {},
): Promise<ScoreRow | undefined> {
  let query = db.selectFrom('agent_performance_scores').selectAll().where('task_id', '=', taskId);
  if (options.forUpdate) query = query.forUpdate();
  return query.executeTakeFirst();
}

/** Inserts score rows; a task that already has one keeps it (exactly one score row per task). */
export async function insertScores(db: Kysely<Database>, scores: NewScore[]): Promise<ScoreRow[]> {
  if (scores.length === 0) return [];
  return db
    .insertInto('agent_performance_scores')
    .values(scores)
    .onConflict((oc) => oc.column('task_id').doNothing())
    .returningAll()
    .execute();
}

export async function findAgentNicknames(
  db: Kysely<Database>,
  projectId: string,
): Promise<Map<string, { nickname: string; active: boolean }>> {
  const rows = await db
    .selectFrom('agents')
    .select(['agent_id', 'nickname', 'active'])
    .where('project_id', '=', projectId)
    .execute();
  return new Map(rows.map((row) => [row.agent_id, { nickname: row.nickname, active: row.active }]));
}

export async function findTemplates(db: Kysely<Database>, projectId: string): Promise<TemplateRow[]> {
  return db
    .selectFrom('objective_templates')
    .selectAll()
    .where('project_id', '=', projectId)
    .orderBy('category')
    .execute();
}

/** ln(tokens) + ln(duration) of the category's most recent completed tasks, for its efficiency baseline. */
export async function findRecentLogWork(
  db: Kysely<Database>,
  projectId: string,
  category: string,
  limit: number,
): Promise<number[]> {
  const rows = await sql<{ x: number }>`
    SELECT ln(greatest(total_tokens, 1)) + ln(greatest(duration_ms, 1)) AS x
    FROM tasks
    WHERE project_id = ${projectId} AND objective_category = ${category} AND status = 'completed'
      AND total_tokens IS NOT NULL AND duration_ms IS NOT NULL
    ORDER BY completed_at DESC
    LIMIT ${limit}
  `.execute(db);
  return rows.rows.map((row) => Number(row.x));
}

/** One finished task for insertFinishedTasks: its row, its score row and its statistics delta. */
export interface FinishedTaskRecord extends Omit<StatsDeltaRecord, 'project_id' | 'agent_id' | 'category'> {
  id: string;
  project_id: string;
  user_id: string;
  agent_id: string;
  command: string;
  objective_category: string;
  category_confidence: number | null;
  category_source: string;
  status: 'completed' | 'failed';
  result: string | null;
  error: string | null;
  model: string | null;
  simulated: boolean;
  source: string;
  prompt_tokens: number | null;
  completion_tokens: number | null;
  total_tokens: number | null;
  estimated_cost: number | null;
  duration_ms: number | null;
  created_at: string;
  started_at: string;
  completed_at: string;
  reward_points: number;
  reward_rules: readonly unknown[];
  efficiency_score: number | null;
  overall_score: number | null;
  user_rating: number | null;
  user_feedback: string | null;
  score_sources: Record<string, unknown>;
}

export interface FinishedNodeRecord {
  task_id: string;
  agent_id: string;
  node_name: string;
  sequence: number;
  status: string;
  duration_ms: number | null;
  prompt_tokens: number | null;
  completion_tokens: number | null;
  total_tokens: number | null;
  success: boolean;
  error: string | null;
  started_at: string | null;
  completed_at: string | null;
  model: string | null;
  provider: string | null;
  cache_read_tokens: number | null;
  reasoning_tokens: number | null;
  estimated_cost: number | null;
}

/**
 * Records finished tasks in ONE statement: task rows (ids already present are skipped), their score
 * rows and nodes, and the statistics deltas of the rows actually inserted. One round trip per request
 * keeps the single and batch endpoints close to the speed of plain INSERTs.
 */
export async function insertFinishedTasks(
  db: Kysely<Database>,
  tasks: readonly FinishedTaskRecord[],
  nodes: readonly FinishedNodeRecord[],
  jobs: readonly TaskJobSpec[],
  pool?: pg.Pool,
  notifications: readonly string[] = [],
): Promise<InsertedTask[]> {
  if (tasks.length === 0) return [];
  const values = [JSON.stringify(tasks), JSON.stringify(nodes), JSON.stringify(jobs), notifications] as const;
  const query = () => buildInsertFinishedTasksQuery(...values);
  if (!pool) return (await query().execute(db)).rows;
  // A named (prepared) statement: PostgreSQL plans this large statement once per connection, and its
  // text (the same for every call) is compiled once.
  insertFinishedTasksSql ??= query().compile(db).sql;
  const result = await pool.query<InsertedTask>({
    name: 'merit_insert_finished_tasks',
    text: insertFinishedTasksSql,
    values: [...values],
  });
  return result.rows;
}

/** A task the statement inserted (ids already present are skipped). */
export interface InsertedTask {
  id: string;
  project_id: string;
  agent_id: string;
}

/** A background job to enqueue for one task, in the same statement or transaction as its write. */
export interface TaskJobSpec {
  task_id: string;
  identifier: string;
  payload: Record<string, unknown>;
  max_attempts: number;
  job_key: string | null;
  queue_name: string | null;
  run_at: string | null;
}

/** Enqueues graphile-worker jobs with the given database handle (use the caller's transaction). */
export async function enqueueJobs(db: Kysely<Database>, jobs: readonly TaskJobSpec[]): Promise<void> {
  if (jobs.length === 0) return;
  await sql`
    SELECT count(*) FROM graphile_worker.add_jobs(ARRAY(
      SELECT ROW(j.identifier, j.payload, j.queue_name, coalesce(j.run_at, now()), j.max_attempts, j.job_key, 0, NULL)::graphile_worker.job_spec
      FROM jsonb_to_recordset(${JSON.stringify(jobs)}::jsonb) AS j(identifier text, payload json, queue_name text,
        run_at timestamptz, max_attempts int, job_key text)
    ))
  `.execute(db);
}

let insertFinishedTasksSql: string | undefined;

/**
 * The statement's parameters are, in order, the tasks, nodes and jobs as JSON arrays, and the live
 * events' notification payloads, sent (in the statement's transaction) when it inserts any task.
 */
function buildInsertFinishedTasksQuery(
  tasksJson: string,
  nodesJson: string,
  jobsJson: string,
  notifications: readonly string[],
) {
  return sql<InsertedTask>`
    WITH input AS (
      SELECT * FROM jsonb_to_recordset(${tasksJson}::jsonb) AS x(
        id uuid, project_id uuid, user_id uuid, agent_id text, command text, objective_category text, category_confidence numeric,
        category_source text, status text, result text, error text, model text, simulated boolean, source text,
        prompt_tokens int, completion_tokens int, total_tokens int, estimated_cost numeric, duration_ms int,
        created_at timestamptz, started_at timestamptz, completed_at timestamptz,
        reward_points int, reward_rules jsonb,
        efficiency_score numeric, overall_score numeric, user_rating int, user_feedback text, score_sources jsonb,
        ${DELTA_RECORD_COLUMNS})
    ),
    inserted AS (
      INSERT INTO tasks (id, project_id, user_id, agent_id, command, objective_category, category_confidence, category_source,
        status, result, error, model, simulated, source, prompt_tokens, completion_tokens, total_tokens,
        estimated_cost, duration_ms, created_at, started_at, completed_at)
      SELECT id, project_id, user_id, agent_id, command, objective_category, category_confidence, category_source, status,
        result, error, model, simulated, source, prompt_tokens, completion_tokens, total_tokens, estimated_cost,
        duration_ms, created_at, started_at, completed_at
      FROM input
      ON CONFLICT (id) DO NOTHING
      RETURNING id, project_id, agent_id
    ),
    scores AS (
      INSERT INTO agent_performance_scores (task_id, agent_id, user_id, objective_category, model, duration_ms,
        efficiency_score, overall_score, user_rating, user_feedback, rated_at, total_tokens, estimated_cost,
        score_sources, reward_points, reward_rules, created_at)
      SELECT i.id, i.agent_id, i.user_id, i.objective_category, i.model, i.duration_ms, i.efficiency_score,
        i.overall_score, i.user_rating, i.user_feedback, CASE WHEN i.user_rating IS NOT NULL THEN i.completed_at END,
        i.total_tokens, i.estimated_cost, i.score_sources, i.reward_points, i.reward_rules,
        i.completed_at AT TIME ZONE 'UTC'
      FROM input i JOIN inserted t ON t.id = i.id
      ON CONFLICT (task_id) DO NOTHING
      RETURNING task_id
    ),
    node_rows AS (
      INSERT INTO agent_node_performance (task_id, agent_id, node_name, sequence, status, duration_ms, prompt_tokens,
        completion_tokens, total_tokens, success, error, started_at, completed_at, model, provider,
        cache_read_tokens, reasoning_tokens, estimated_cost)
      SELECT n.task_id, n.agent_id, n.node_name, n.sequence, n.status, n.duration_ms, n.prompt_tokens,
        n.completion_tokens, n.total_tokens, n.success, n.error, n.started_at, n.completed_at, n.model, n.provider,
        n.cache_read_tokens, n.reasoning_tokens, n.estimated_cost
      FROM jsonb_to_recordset(${nodesJson}::jsonb) AS n(task_id uuid, agent_id text, node_name text,
        sequence int, status text, duration_ms int, prompt_tokens int, completion_tokens int, total_tokens int,
        success boolean, error text, started_at timestamptz, completed_at timestamptz, model text, provider text,
        cache_read_tokens int, reasoning_tokens int, estimated_cost numeric)
      JOIN inserted t ON t.id = n.task_id
      RETURNING 1
    ),
    stats_input AS (
      SELECT i.project_id, i.user_id, i.agent_id, i.objective_category AS category, ${deltaFieldsOf('i')}
      FROM input i JOIN inserted t ON t.id = i.id
    ),
    ${STATS_UPSERT_CTES},
    jobs AS (
      SELECT count(*) AS n FROM graphile_worker.add_jobs(ARRAY(
        SELECT ROW(j.identifier, j.payload, j.queue_name, coalesce(j.run_at, now()), j.max_attempts, j.job_key, 0, NULL)::graphile_worker.job_spec
        FROM jsonb_to_recordset(${jobsJson}::jsonb) AS j(task_id uuid, identifier text, payload json,
          queue_name text, run_at timestamptz, max_attempts int, job_key text)
        JOIN inserted t ON t.id = j.task_id
      ))
    ),
    notified AS (
      SELECT count(pg_notify(${sql.lit(EVENTS_CHANNEL)}, p)) AS n FROM unnest(${notifications}::text[]) AS p
      WHERE EXISTS (SELECT 1 FROM inserted)
    )
    SELECT inserted.id, inserted.project_id, inserted.agent_id FROM inserted, jobs, notified
  `;
}
