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
