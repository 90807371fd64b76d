import { type Kysely, sql } from 'kysely';
import { rangeOn } from '../agents/agents.queries.js';
import type { Database, PeerEvaluationRow } from '../db/database.js';
import type { SpendTotals } from '../evaluation/evaluation.js';
import { selectSpendTotals } from '../evaluation/evaluation.queries.js';
import type { ReadRange } from '../stats/read-window.js';

export async function findReviewsForTask(
  db: Kysely<Database>,
  taskId: string,
): Promise<(PeerEvaluationRow & { reviewer_nickname: string })[]> {
  return (
    db
      .selectFrom('agent_peer_evaluations as p')
      // Agent ids are unique within a project only.
      .innerJoin('agents as a', (join) =>
        join.onRef('a.agent_id', '=', 'p.reviewer_agent_id').onRef('a.project_id', '=', 'p.project_id'),
      )
      .selectAll('p')
      .select('a.nickname as reviewer_nickname')
      .where('p.task_id', '=', taskId)
      .orderBy('p.created_at')
      .orderBy('p.reviewer_agent_id')
      .execute()
  );
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
  /** This run's usage; null when unknown, or when the run made no paid call (see `spent`). */
  prompt_tokens: number | null;
  completion_tokens: number | null;
  estimated_cost: number | null;
  /** Attempts the review's job made, the last one included (1 when omitted). */
  attempts?: number;
}

/**
 * Stores a review. A finished review is never stored twice: a reviewer whose 'done' review exists is
 * skipped (undefined). A 'failed' row (a failure recorded while the job retried, or a final one when
 * the caller chose to review again) is replaced, and its usage added to this run's: a sum with an
 * unknown part is unknown (null). `spent` false says this run made no paid call, so the stored usage
 * stays as it was.
 */
export async function savePeerReview(
  db: Kysely<Database>,
  review: NewPeerReview,
  options: { spent: boolean },
): Promise<PeerEvaluationRow | undefined> {
  const added = (column: 'prompt_tokens' | 'completion_tokens' | 'estimated_cost') =>
    options.spent
      ? sql<number | null>`agent_peer_evaluations.${sql.ref(column)} + excluded.${sql.ref(column)}`
      : sql<number | null>`agent_peer_evaluations.${sql.ref(column)}`;
  return db
    .insertInto('agent_peer_evaluations')
    .values({
      ...review,
      strengths: JSON.stringify(review.strengths),
      weaknesses: JSON.stringify(review.weaknesses),
      suggestions: JSON.stringify(review.suggestions),
    })
    .onConflict((oc) =>
      oc
        .columns(['task_id', 'reviewer_agent_id'])
        .doUpdateSet((eb) => ({
          status: eb.ref('excluded.status'),
          failure_reason: eb.ref('excluded.failure_reason'),
          score: eb.ref('excluded.score'),
          strengths: eb.ref('excluded.strengths'),
          weaknesses: eb.ref('excluded.weaknesses'),
          suggestions: eb.ref('excluded.suggestions'),
          review_text: eb.ref('excluded.review_text'),
          source: eb.ref('excluded.source'),
          evaluator_version: eb.ref('excluded.evaluator_version'),
          reviewer_weight: eb.ref('excluded.reviewer_weight'),
          prompt_tokens: added('prompt_tokens'),
          completion_tokens: added('completion_tokens'),
          estimated_cost: added('estimated_cost'),
          attempts: eb.ref('excluded.attempts'),
        }))
        .where('agent_peer_evaluations.status', '<>', 'done'),
    )
    .returningAll()
    .executeTakeFirst();
}

/**
 * What each reviewer agent's reviews written in a range spent (see SpendTotals), read through
 * agent_peer_evaluations_project_created_idx.
 */
export async function findReviewerSpend(
  db: Kysely<Database>,
  projectId: string,
  range: ReadRange = {},
): Promise<({ reviewer_agent_id: string } & SpendTotals)[]> {
  const result = await sql<{ reviewer_agent_id: string } & SpendTotals>`
    SELECT reviewer_agent_id, ${selectSpendTotals(sql<boolean>`source = 'llm'`)}
    FROM agent_peer_evaluations
    WHERE project_id = ${projectId} ${rangeOn(sql`created_at`, range, 'timestamp')}
    GROUP BY reviewer_agent_id
    ORDER BY reviewer_agent_id
  `.execute(db);
  return result.rows;
}

/**
 * Each reviewer's past scores beside the user's rating of the same task (rated tasks only), of the
 * reviews written in `range` (default: all of them).
 */
export async function findReviewerRatingPairs(
  db: Kysely<Database>,
  projectId: string,
  reviewerAgentIds?: readonly string[],
  range: ReadRange = {},
): Promise<{ reviewer_agent_id: string; score: number; user_rating: number }[]> {
  let query = db
    .selectFrom('agent_peer_evaluations as p')
    .innerJoin('agent_performance_scores as s', 's.task_id', 'p.task_id')
    .select(['p.reviewer_agent_id', 'p.score', 's.user_rating'])
    .where('p.project_id', '=', projectId)
    .where('s.user_rating', 'is not', null)
    .where('p.status', '=', 'done')
    .where(sql<boolean>`true ${rangeOn(sql`p.created_at`, range, 'timestamp')}`);
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

/** Reviewers who reviewed at least once in a range, with their review counts. */
export async function findReviewerActivity(
  db: Kysely<Database>,
  projectId: string,
  range: ReadRange = {},
): Promise<{ agent_id: string; nickname: string; reviews: number }[]> {
  const rows = await db
    .selectFrom('agent_peer_evaluations as p')
    .innerJoin('agents as a', (join) =>
      join.onRef('a.project_id', '=', 'p.project_id').onRef('a.agent_id', '=', 'p.reviewer_agent_id'),
    )
    .select(['a.agent_id', 'a.nickname', (eb) => eb.fn.countAll<number>().as('reviews')])
    .where('p.project_id', '=', projectId)
    .where('p.status', '=', 'done')
    .where(sql<boolean>`true ${rangeOn(sql`p.created_at`, range, 'timestamp')}`)
    .groupBy(['a.agent_id', 'a.nickname'])
    .execute();
  return rows.map((row) => ({ ...row, reviews: Number(row.reviews) }));
}

export async function findActiveAgentIds(
  db: Kysely<Database>,
  projectId: string,
): Promise<Map<string, string>> {
  const rows = await db
    .selectFrom('agents')
    .select(['agent_id', 'nickname'])
    .where('project_id', '=', projectId)
    .where('active', '=', true)
    .execute();
  return new Map(rows.map((row) => [row.agent_id, row.nickname]));
}
