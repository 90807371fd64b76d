import type { Kysely } from 'kysely';
import type { Database, PeerEvaluationRow } from '../db/database.js';

export async function findReviewsForTask(
  db: Kysely<Database>,
  taskId: string,
): Promise<(PeerEvaluationRow & { reviewer_nickname: string })[]> {
  return db
    .selectFrom('agent_peer_evaluations as p')
    .innerJoin('agents as a', 'a.agent_id', 'p.reviewer_agent_id')
    .selectAll('p')
    .select('a.nickname as reviewer_nickname')
    .where('p.task_id', '=', taskId)
    .orderBy('p.created_at')
    .orderBy('p.reviewer_agent_id')
    .execute();
}

export interface NewPeerReview {
  task_id: string;
  evaluated_agent_id: string;
  reviewer_agent_id: string;
  perspective: string;
  status?: 'done' | 'failed';
  failure_reason?: string | null;
  score: number | null;
  strengths: string[];
  weaknesses: string[];
  suggestions: string[];
  review_text: string;
  source: 'llm' | 'heuristic';
  evaluator_version: string;
  reviewer_weight: number;
  prompt_tokens: number;
  completion_tokens: number;
  estimated_cost: number;
  /** Attempts the review's job made, the last one included (1 when omitted). */
  attempts?: number;
}

/** Stores a review; a reviewer who already reviewed the task is skipped (undefined), never stored twice. */
export async function insertPeerReview(
  db: Kysely<Database>,
  review: NewPeerReview,
): Promise<PeerEvaluationRow | undefined> {
  return db
    .insertInto('agent_peer_evaluations')
    .values({
      ...review,
      strengths: JSON.stringify(review.strengths),
      weaknesses: JSON.stringify(review.weaknesses),
      suggestions: JSON.stringify(review.suggestions),
    })
    .onConflict((oc) => oc.columns(['task_id', 'reviewer_agent_id']).doNothing())
    .returningAll()
    .executeTakeFirst();
}

/** Each reviewer's past scores beside the user's rating of the same task (rated tasks only). */
export async function findReviewerRatingPairs(
  db: Kysely<Database>,
  reviewerAgentIds?: readonly string[],
): Promise<{ reviewer_agent_id: string; score: number; user_rating: number }[]> {
  let query = db
    .selectFrom('agent_peer_evaluations as p')
    .innerJoin('agent_performance_scores as s', 's.task_id', 'p.task_id')
    .select(['p.reviewer_agent_id', 'p.score', 's.user_rating'])
    .where('s.user_rating', 'is not', null)
    .where('p.status', '=', 'done');
  if (reviewerAgentIds) {
    if (reviewerAgentIds.length === 0) return [];
    query = query.where('p.reviewer_agent_id', 'in', reviewerAgentIds);
  }
  const rows = await query.orderBy('p.created_at').execute();
  return rows.map((row) => ({
    reviewer_agent_id: row.reviewer_agent_id,
    score: Number(row.score),
    user_rating: Number(row.user_rating),
  }));
}

/** Reviewers who have reviewed at least once, with their review counts. */
export async function findReviewerActivity(
  db: Kysely<Database>,
): Promise<{ agent_id: string; nickname: string; reviews: number }[]> {
  const rows = await db
    .selectFrom('agent_peer_evaluations as p')
    .innerJoin('agents as a', 'a.agent_id', 'p.reviewer_agent_id')
    .select(['a.agent_id', 'a.nickname', (eb) => eb.fn.countAll<number>().as('reviews')])
    .where('p.status', '=', 'done')
    .groupBy(['a.agent_id', 'a.nickname'])
    .execute();
  return rows.map((row) => ({ ...row, reviews: Number(row.reviews) }));
}

export async function findActiveAgentIds(db: Kysely<Database>): Promise<Map<string, string>> {
  const rows = await db
    .selectFrom('agents')
    .select(['agent_id', 'nickname'])
    .where('active', '=', true)
    .execute();
  return new Map(rows.map((row) => [row.agent_id, row.nickname]));
}
