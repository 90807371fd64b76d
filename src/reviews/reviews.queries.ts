import { type Kysely, type RawBuilder, sql } from 'kysely';
import type { Database, PeerEvaluationRow } from '../db/database.js';
import type { SpendTotals } from '../evaluation/evaluation.js';
import type { ReadRange } from '../stats/read-window.js';
import { daysOn, rangeOn, splitRange } from '../stats/stats.queries.js';
import { type AgreementSums, NO_AGREEMENT_PAIRS } from './peer-review.js';

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

/** One reviewer's figures over a window: its reviews, their spend, and its agreement sums. */
export interface ReviewerWindowStats extends SpendTotals {
  reviewer_agent_id: string;
  /** Done reviews (failed ones count in the spend only). */
  reviews: number;
  agreement: AgreementSums;
}

// The review rollups' columns, and each one's value summed over review rows: migrations 024 and 027 keep
// reviewer_hourly_stats and reviewer_daily_stats with the same definitions, row by row, in
// merit_count_review; their upkeep (src/stats/rollup-upkeep.ts) recomputes them with these.
const REVIEW_METERED = sql`(prompt_tokens IS NOT NULL AND completion_tokens IS NOT NULL)`;
const REVIEW_PAIR = sql`(status = 'done' AND score IS NOT NULL AND user_rating IS NOT NULL)`;
const REVIEW_S = sql`round(score * 100)::bigint`;
const REVIEW_SUMS: readonly [string, RawBuilder<unknown>][] = [
  ['review_rows', sql`count(*)`],
  ['reviews', sql`count(*) FILTER (WHERE status = 'done')`],
  ['metered_calls', sql`count(*) FILTER (WHERE ${REVIEW_METERED})`],
  ['prompt_tokens', sql`sum(prompt_tokens) FILTER (WHERE ${REVIEW_METERED})`],
  ['completion_tokens', sql`sum(completion_tokens) FILTER (WHERE ${REVIEW_METERED})`],
  ['priced_calls', sql`count(*) FILTER (WHERE ${REVIEW_METERED} AND estimated_cost IS NOT NULL)`],
  ['cost', sql`sum(estimated_cost) FILTER (WHERE ${REVIEW_METERED})`],
  [
    'unpriced_calls',
    sql`count(*) FILTER (WHERE source = 'llm' AND ${REVIEW_METERED} AND estimated_cost IS NULL)`,
  ],
  ['unmetered_calls', sql`count(*) FILTER (WHERE source = 'llm' AND NOT ${REVIEW_METERED})`],
  ['pairs', sql`count(*) FILTER (WHERE ${REVIEW_PAIR})`],
  ['sum_score', sql`sum(${REVIEW_S}) FILTER (WHERE ${REVIEW_PAIR})`],
  ['sum_score_sq', sql`sum(${REVIEW_S} * ${REVIEW_S}) FILTER (WHERE ${REVIEW_PAIR})`],
  ['sum_rating', sql`sum(user_rating) FILTER (WHERE ${REVIEW_PAIR})`],
  ['sum_rating_sq', sql`sum(user_rating * user_rating) FILTER (WHERE ${REVIEW_PAIR})`],
  ['sum_score_rating', sql`sum(${REVIEW_S} * user_rating) FILTER (WHERE ${REVIEW_PAIR})`],
  ['sum_abs_error', sql`sum(abs(${REVIEW_S} - 25 * (user_rating - 1))) FILTER (WHERE ${REVIEW_PAIR})`],
];

/** The review rollups' sum columns, in their tables' order. */
export const REVIEW_SUM_COLUMNS: readonly string[] = REVIEW_SUMS.map(([name]) => name);

/**
 * The rollups' sums over a group of review rows (of agent_peer_evaluations, or of a subquery with its
 * column names), each under its column's name; 0 where no row counts, as a rollup row holds it.
 */
export function summedReviews(): RawBuilder<unknown> {
  return sql.join(REVIEW_SUMS.map(([name, sum]) => sql`coalesce(${sum}, 0) AS ${sql.ref(name)}`));
}

interface ReviewSumsRow {
  reviewer_agent_id: string;
  review_rows: string;
  reviews: string;
  metered_calls: string;
  prompt_tokens: string | null;
  completion_tokens: string | null;
  priced_calls: string;
  cost: string | null;
  unpriced_calls: string;
  unmetered_calls: string;
  pairs: string;
  sum_score: string | null;
  sum_score_sq: string | null;
  sum_rating: string | null;
  sum_rating_sq: string | null;
  sum_score_rating: string | null;
  sum_abs_error: string | null;
}

/**
 * Each reviewer's reviews, spend and agreement sums over the reviews written in a range (every reviewer
 * with a review row in it, failed ones included): the range's whole UTC days from reviewer_daily_stats
 * (migration 027), the whole hours of its partial first and last days from reviewer_hourly_stats
 * (migration 024; both kept by triggers as reviews and ratings are written) and its partial first and
 * last hours from the review rows. `reviewerAgentId` narrows to one reviewer (through the rollups' key).
 */
export async function findReviewerWindowStats(
  db: Kysely<Database>,
  projectId: string,
  range: ReadRange = {},
  options: { reviewerAgentId?: string } = {},
): Promise<ReviewerWindowStats[]> {
  const split = splitRange(range);
  const reviewer =
    options.reviewerAgentId === undefined ? sql`` : sql`AND reviewer_agent_id = ${options.reviewerAgentId}`;
  const columns = sql.raw(REVIEW_SUM_COLUMNS.join(', '));
  const parts: RawBuilder<unknown>[] = [
    ...(split.days === null
      ? []
      : [
          sql`
            SELECT reviewer_agent_id, ${columns}
            FROM reviewer_daily_stats
            WHERE project_id = ${projectId} ${reviewer} ${daysOn(sql`day`, split.days)}`,
        ]),
    ...split.hours.map(
      (hours) => sql`
        SELECT reviewer_agent_id, ${columns}
        FROM reviewer_hourly_stats
        WHERE project_id = ${projectId} ${reviewer} ${rangeOn(sql`hour`, hours, 'timestamp')}`,
    ),
    ...split.raw.map(
      (period) => sql`
        SELECT reviewer_agent_id, ${summedReviews()}
        FROM agent_peer_evaluations
        WHERE project_id = ${projectId} ${reviewer} ${rangeOn(sql`created_at`, period, 'timestamp')}
        GROUP BY reviewer_agent_id`,
    ),
  ];
  if (parts.length === 0) return [];
  const result = await sql<ReviewSumsRow>`
    SELECT reviewer_agent_id, ${sql.join(REVIEW_SUM_COLUMNS.map((name) => sql`sum(${sql.ref(name)}) AS ${sql.ref(name)}`))}
    FROM (${sql.join(parts, sql` UNION ALL `)}) parts
    GROUP BY reviewer_agent_id
    HAVING sum(review_rows) > 0
    ORDER BY reviewer_agent_id
  `.execute(db);
  const int = (value: string | null) => (value === null ? 0 : Number(value));
  return result.rows.map((row) => {
    const metered = int(row.metered_calls);
    return {
      reviewer_agent_id: row.reviewer_agent_id,
      reviews: int(row.reviews),
      // Unknown (null), not 0, when no review reported its tokens or a priced cost.
      prompt_tokens: metered > 0 ? int(row.prompt_tokens) : null,
      completion_tokens: metered > 0 ? int(row.completion_tokens) : null,
      cost: int(row.priced_calls) > 0 ? Number(row.cost) : null,
      unpriced_calls: int(row.unpriced_calls),
      unmetered_calls: int(row.unmetered_calls),
      agreement: {
        n: int(row.pairs),
        sumScore: int(row.sum_score),
        sumScoreSq: int(row.sum_score_sq),
        sumRating: int(row.sum_rating),
        sumRatingSq: int(row.sum_rating_sq),
        sumScoreRating: int(row.sum_score_rating),
        sumAbsError: int(row.sum_abs_error),
      },
    };
  });
}

/** A reviewer's agreement sums over all its reviews (what weighs its next review). */
export async function findReviewerAgreementSums(
  db: Kysely<Database>,
  projectId: string,
  reviewerAgentId: string,
): Promise<AgreementSums> {
  const [stats] = await findReviewerWindowStats(db, projectId, {}, { reviewerAgentId });
  return stats?.agreement ?? NO_AGREEMENT_PAIRS;
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
