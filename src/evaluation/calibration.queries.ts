import type { Kysely } from 'kysely';
import type { Database, EvaluationKind } from '../db/database.js';
import type { EvaluationRatingRow } from './calibration.js';

/**
 * The project's finished evaluations of one kind (the LLM judge or the offline evaluator) of tasks
 * their users rated, each with its dimensions and the rating, in task order (so the bootstrap is
 * reproducible); `excludeTaskId` leaves one task out.
 */
export async function findEvaluationRatingRows(
  db: Kysely<Database>,
  projectId: string,
  kind: EvaluationKind,
  options: { excludeTaskId?: string } = {},
): Promise<EvaluationRatingRow[]> {
  let query = db
    .selectFrom('task_evaluations as e')
    .innerJoin('tasks as t', 't.id', 'e.task_id')
    .innerJoin('agent_performance_scores as s', 's.task_id', 'e.task_id')
    .select(['e.accuracy_score', 'e.relevance_score', 'e.completeness_score', 's.user_rating'])
    .where('t.project_id', '=', projectId)
    .where('e.kind', '=', kind)
    .where('e.status', '=', 'done')
    .where('s.user_rating', 'is not', null);
  if (options.excludeTaskId !== undefined) query = query.where('e.task_id', '!=', options.excludeTaskId);
  const rows = await query.orderBy('e.task_id').execute();
  return rows.map((row) => ({
    accuracy: toNumberOrNull(row.accuracy_score),
    relevance: toNumberOrNull(row.relevance_score),
    completeness: toNumberOrNull(row.completeness_score),
    rating: Number(row.user_rating),
  }));
}

/** The project's finished peer reviews of tasks their users rated, by reviewer then task. */
export async function findReviewRatingRows(
  db: Kysely<Database>,
  projectId: string,
): Promise<{ reviewerAgentId: string; score: number; rating: number }[]> {
  const rows = await db
    .selectFrom('agent_peer_evaluations as p')
    .innerJoin('tasks as t', 't.id', 'p.task_id')
    .innerJoin('agent_performance_scores as s', 's.task_id', 'p.task_id')
    .select(['p.reviewer_agent_id', 'p.score', 's.user_rating'])
    .where('t.project_id', '=', projectId)
    .where('p.status', '=', 'done')
    .where('p.score', 'is not', null)
    .where('s.user_rating', 'is not', null)
    .orderBy('p.reviewer_agent_id')
    .orderBy('p.task_id')
    .execute();
  return rows.map((row) => ({
    reviewerAgentId: row.reviewer_agent_id,
    score: Number(row.score),
    rating: Number(row.user_rating),
  }));
}

/** Reviewers with at least one finished review of the project's tasks. */
export async function findProjectReviewerIds(db: Kysely<Database>, projectId: string): Promise<string[]> {
  const rows = await db
    .selectFrom('agent_peer_evaluations as p')
    .innerJoin('tasks as t', 't.id', 'p.task_id')
    .select('p.reviewer_agent_id')
    .distinct()
    .where('t.project_id', '=', projectId)
    .where('p.status', '=', 'done')
    .orderBy('p.reviewer_agent_id')
    .execute();
  return rows.map((row) => row.reviewer_agent_id);
}

function toNumberOrNull(value: number | string | null): number | null {
  return value === null ? null : Number(value);
}
