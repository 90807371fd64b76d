import { type Kysely, sql } from 'kysely';
import type { Database } from '../db/database.js';

/** A span as stored (ids hex, times as decimal text of nanoseconds). */
export interface SpanRecord {
  project_id: string;
  trace_id: string;
  span_id: string;
  parent_span_id: string | null;
  name: string;
  kind: number;
  start_time_unix_nano: string;
  end_time_unix_nano: string;
  status_code: number;
  status_message: string;
  attributes: unknown;
  resource: unknown;
  scope_name: string;
  scope_version: string | null;
  events: unknown;
  role: 'agent' | 'step';
  task_id: string | null;
  conversation_id: string | null;
}

/**
 * Inserts spans in one statement; a span already stored (same project, trace and span id) is left as it
 * was. Returns the keys of the spans inserted.
 */
export async function insertSpans(
  db: Kysely<Database>,
  spans: readonly SpanRecord[],
): Promise<{ trace_id: string; span_id: string }[]> {
  if (spans.length === 0) return [];
  const result = await sql<{ trace_id: string; span_id: string }>`
    INSERT INTO otel_spans (project_id, trace_id, span_id, parent_span_id, name, kind, start_time_unix_nano,
      end_time_unix_nano, status_code, status_message, attributes, resource, scope_name, scope_version, events,
      role, task_id, conversation_id)
    SELECT s.project_id, s.trace_id, s.span_id, s.parent_span_id, s.name, s.kind, s.start_time_unix_nano,
      s.end_time_unix_nano, s.status_code, s.status_message, s.attributes, s.resource, s.scope_name,
      s.scope_version, s.events, s.role, s.task_id, s.conversation_id
    FROM jsonb_to_recordset(${JSON.stringify(spans)}::jsonb) AS s(project_id uuid, trace_id text, span_id text,
      parent_span_id text, name text, kind smallint, start_time_unix_nano bigint, end_time_unix_nano bigint,
      status_code smallint, status_message text, attributes jsonb, resource jsonb, scope_name text,
      scope_version text, events jsonb, role text, task_id uuid, conversation_id text)
    ON CONFLICT (project_id, trace_id, span_id) DO NOTHING
    RETURNING trace_id, span_id
  `.execute(db);
  return result.rows;
}

/**
 * Takes a transaction-scoped lock per trace (in one order, so two transactions never wait on each other
 * in a cycle): two exports of one trace at once are mapped one after the other, never into two tasks.
 */
export async function lockTraces(
  db: Kysely<Database>,
  traces: readonly { projectId: string; traceId: string }[],
): Promise<void> {
  if (traces.length === 0) return;
  await sql`
    SELECT count(pg_advisory_xact_lock(k.key)) FROM (
      SELECT DISTINCT hashtextextended(t.project_id || ':' || t.trace_id, 7011) AS key
      FROM unnest(${traces.map((trace) => trace.projectId)}::text[], ${traces.map((trace) => trace.traceId)}::text[])
        AS t(project_id, trace_id)
      ORDER BY key
    ) AS k
  `.execute(db);
}

/** A stored span as mapping reads it, with what it became (its task, if any). */
export interface StoredSpanRow {
  trace_id: string;
  span_id: string;
  parent_span_id: string | null;
  name: string;
  kind: number;
  start_time_unix_nano: string;
  end_time_unix_nano: string;
  status_code: number;
  status_message: string;
  attributes: Record<string, unknown>;
  resource: Record<string, unknown>;
  events: { name: string; time_unix_nano: string; attributes: Record<string, unknown> }[];
  role: 'agent' | 'step';
  task_id: string | null;
}

/** Every stored span of these traces of the project. */
export async function findTraceSpans(
  db: Kysely<Database>,
  projectId: string,
  traceIds: readonly string[],
): Promise<StoredSpanRow[]> {
  if (traceIds.length === 0) return [];
  const result = await sql<StoredSpanRow>`
    SELECT trace_id, span_id, parent_span_id, name, kind, start_time_unix_nano::text AS start_time_unix_nano,
      end_time_unix_nano::text AS end_time_unix_nano, status_code, status_message, attributes, resource, events,
      role, task_id
    FROM otel_spans
    WHERE project_id = ${projectId} AND trace_id = ANY(${[...traceIds]}::text[])
  `.execute(db);
  return result.rows;
}

/** What a span became: the task it is (role `agent`) or belongs to. */
export interface SpanLink {
  trace_id: string;
  span_id: string;
  role: 'agent' | 'step';
  task_id: string;
  conversation_id: string | null;
}

export async function linkSpansToTasks(
  db: Kysely<Database>,
  projectId: string,
  links: readonly SpanLink[],
): Promise<void> {
  if (links.length === 0) return;
  await sql`
    UPDATE otel_spans s SET role = l.role, task_id = l.task_id, conversation_id = l.conversation_id
    FROM jsonb_to_recordset(${JSON.stringify(links)}::jsonb) AS l(trace_id text, span_id text, role text,
      task_id uuid, conversation_id text)
    WHERE s.project_id = ${projectId} AND s.trace_id = l.trace_id AND s.span_id = l.span_id
  `.execute(db);
}

export interface EvaluationScoreRecord {
  project_id: string;
  task_id: string;
  trace_id: string;
  span_id: string;
  event_index: number;
  name: string;
  score_value: number | null;
  score_label: string | null;
  explanation: string | null;
  response_id: string | null;
  evaluated_at: string;
}

/** Inserts evaluation results; one already stored (same span and event) is left as it was. */
export async function insertEvaluationScores(
  db: Kysely<Database>,
  scores: readonly EvaluationScoreRecord[],
): Promise<void> {
  if (scores.length === 0) return;
  await db
    .insertInto('otel_evaluation_scores')
    .values(scores.map((score) => ({ ...score })))
    .onConflict((oc) => oc.columns(['project_id', 'trace_id', 'span_id', 'event_index']).doNothing())
    .execute();
}

/** A task's evaluation results reported in its spans (source `otel`), oldest first. */
export async function findOtelScoresForTask(db: Kysely<Database>, projectId: string, taskId: string) {
  return db
    .selectFrom('otel_evaluation_scores')
    .select(['name', 'score_value', 'score_label', 'explanation', 'response_id', 'source', 'evaluated_at'])
    .where('project_id', '=', projectId)
    .where('task_id', '=', taskId)
    .orderBy('evaluated_at')
    .orderBy('span_id')
    .orderBy('event_index')
    .execute();
}

/** Files new tasks under their session (the agent span's gen_ai.conversation.id). */
export async function setTaskSessions(
  db: Kysely<Database>,
  sessions: readonly { taskId: string; sessionId: string }[],
): Promise<void> {
  if (sessions.length === 0) return;
  await sql`
    UPDATE tasks t SET session_id = v.session_id
    FROM unnest(${sessions.map((row) => row.taskId)}::uuid[], ${sessions.map((row) => row.sessionId)}::text[])
      AS v(task_id, session_id)
    WHERE t.id = v.task_id
  `.execute(db);
}

/** Removes a task's nodes (a task made of spans gets them again, in time order, when a late span arrives). */
export async function deleteTaskNodes(db: Kysely<Database>, taskId: string): Promise<void> {
  await db.deleteFrom('agent_node_performance').where('task_id', '=', taskId).execute();
}

/** A score row's copy of its task's tokens and cost. */
export async function updateScoreUsage(
  db: Kysely<Database>,
  taskId: string,
  usage: { total_tokens: number | null; estimated_cost: number | null; model: string | null },
): Promise<void> {
  await db
    .updateTable('agent_performance_scores')
    .set({ ...usage, updated_at: sql<Date>`now()` })
    .where('task_id', '=', taskId)
    .execute();
}
