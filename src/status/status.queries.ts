import { type Kysely, sql } from 'kysely';
import type { Database } from '../db/database.js';
import { WORKER_ALIVE_LOCK } from '../db/worker-locks.queries.js';
import { EVALUATE_TASK_JOB, REVIEW_TASK_JOB } from '../evaluation/evaluation.js';
import type { Scope } from '../identity/scope.js';

export interface DatabaseProbe {
  serverVersion: string;
  latencyMs: number;
}

/** One round trip that names the server's version, timed. */
export async function probeDatabaseServer(db: Kysely<Database>): Promise<DatabaseProbe> {
  const started = performance.now();
  const result = await sql<{ version: string }>`SELECT current_setting('server_version') AS version`.execute(
    db,
  );
  const latencyMs = Math.round((performance.now() - started) * 10) / 10;
  return { serverVersion: result.rows[0]?.version ?? 'unknown', latencyMs };
}

/**
 * How many graphile-worker workers are alive on this database: a Merit worker process holds the advisory
 * lock (WORKER_ALIVE_LOCK, hashtext(worker id)) for each of its workers, and PostgreSQL drops it the
 * moment the holding session ends (src/db/worker-locks.queries.ts).
 */
export async function countLiveWorkers(db: Kysely<Database>): Promise<number> {
  // A two-key advisory lock is stored as classid = first key, objid = second key, objsubid = 2.
  const result = await sql<{ workers: number }>`
    SELECT count(*)::int AS workers FROM pg_locks
    WHERE locktype = 'advisory' AND granted AND objsubid = 2 AND classid::bigint = ${WORKER_ALIVE_LOCK}
      AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
  `.execute(db);
  return result.rows[0]?.workers ?? 0;
}

export interface QueueRow {
  task_identifier: string;
  ready: number;
  scheduled: number;
  running: number;
  failed: number;
  oldest_ready_run_at: Date | null;
  last_activity_at: Date | null;
}

/** Jobs per task identifier, through graphile-worker's public `jobs` view (the whole database's queue). */
export async function findQueueDepths(db: Kysely<Database>): Promise<QueueRow[]> {
  const ready = sql`locked_at IS NULL AND attempts < max_attempts AND run_at <= now()`;
  const result = await sql<QueueRow>`
    SELECT task_identifier,
      count(*) FILTER (WHERE ${ready})::int AS ready,
      count(*) FILTER (WHERE locked_at IS NULL AND attempts < max_attempts AND run_at > now())::int AS scheduled,
      count(*) FILTER (WHERE locked_at IS NOT NULL)::int AS running,
      count(*) FILTER (WHERE locked_at IS NULL AND attempts >= max_attempts)::int AS failed,
      min(run_at) FILTER (WHERE ${ready}) AS oldest_ready_run_at,
      max(greatest(locked_at, CASE WHEN attempts > 0 THEN updated_at END)) AS last_activity_at
    FROM graphile_worker.jobs
    GROUP BY task_identifier
    ORDER BY task_identifier
  `.execute(db);
  return result.rows;
}

export interface BacklogRow {
  /** Completed tasks in scope with an evaluation or review job still to run. */
  pending_tasks: number;
  oldest_pending_completed_at: Date | null;
  /** Completed tasks in scope whose evaluation or review job failed for good. */
  abandoned_tasks: number;
  /** Completed tasks in scope without an overall score (no rating, verdict or review yet). */
  unscored_tasks: number;
  failed_evaluations_24h: number;
  failed_reviews_24h: number;
}

/** The scope's evaluation backlog: queued evaluation jobs joined to its tasks, and the last day's failures. */
export async function findEvaluationBacklog(db: Kysely<Database>, scope: Scope): Promise<BacklogRow> {
  const mine = scope.ownTasksOnly ? sql`AND t.user_id = ${scope.userId}` : sql``;
  const result = await sql<BacklogRow>`
    WITH evaluation_jobs AS (
      -- Job keys are '<job>:<task id>' or '<job>:<task id>:<reviewer>' (src/evaluation/evaluation.ts).
      -- The CASE keeps a key of another shape from failing the cast, whatever order the planner picks.
      SELECT CASE WHEN split_part(key, ':', 2) ~ '^[0-9a-fA-F-]{36}$' THEN split_part(key, ':', 2)::uuid END
          AS task_id,
        attempts >= max_attempts AS abandoned
      FROM graphile_worker.jobs
      WHERE task_identifier IN (${EVALUATE_TASK_JOB}, ${REVIEW_TASK_JOB})
    ),
    pending AS (
      SELECT t.id, t.completed_at, bool_and(j.abandoned) AS abandoned
      FROM evaluation_jobs j
      JOIN tasks t ON t.id = j.task_id
      WHERE t.project_id = ${scope.projectId} ${mine}
      GROUP BY t.id, t.completed_at
    )
    SELECT
      (SELECT count(*) FROM pending WHERE NOT abandoned)::int AS pending_tasks,
      (SELECT min(completed_at) FROM pending WHERE NOT abandoned) AS oldest_pending_completed_at,
      (SELECT count(*) FROM pending WHERE abandoned)::int AS abandoned_tasks,
      (SELECT count(*) FROM tasks t
        LEFT JOIN agent_performance_scores s ON s.task_id = t.id
        WHERE t.project_id = ${scope.projectId} ${mine} AND t.status = 'completed'
          AND s.overall_score IS NULL)::int AS unscored_tasks,
      (SELECT count(*) FROM task_evaluations e JOIN tasks t ON t.id = e.task_id
        WHERE t.project_id = ${scope.projectId} ${mine} AND e.status = 'failed'
          AND e.updated_at > now() - interval '24 hours')::int AS failed_evaluations_24h,
      (SELECT count(*) FROM agent_peer_evaluations p JOIN tasks t ON t.id = p.task_id
        WHERE p.project_id = ${scope.projectId} ${mine} AND p.status = 'failed'
          AND p.created_at > now() - interval '24 hours')::int AS failed_reviews_24h
  `.execute(db);
  const row = result.rows[0];
  if (!row) throw new Error('the backlog query returned no row');
  return row;
}
