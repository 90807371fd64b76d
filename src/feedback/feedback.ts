import type { Kysely } from 'kysely';
import type { Database, ScoreRow } from '../db/database.js';
import { ConflictError, NotFoundError } from '../errors.js';
import { combineOverallScore, type OverallWeights } from '../evaluation/scores.js';
import { diffContributions } from '../stats/stats.js';
import { applyStatsChanges } from '../stats/stats.queries.js';
import { describeContribution } from '../tasks/tasks.js';
import { findScoreForTask, findTaskForUser } from '../tasks/tasks.queries.js';

export interface FeedbackInput {
  user_rating: number;
  user_feedback?: string | undefined;
}

/** The overall score of a score row once its components (and rating) are as given. */
export function recomputeOverall(
  score: Pick<
    ScoreRow,
    'accuracy_score' | 'relevance_score' | 'completeness_score' | 'efficiency_score' | 'peer_score'
  >,
  userRating: number | null,
  weights: OverallWeights,
): number | null {
  return combineOverallScore(
    {
      accuracy: score.accuracy_score,
      relevance: score.relevance_score,
      completeness: score.completeness_score,
      efficiency: score.efficiency_score,
      peer: score.peer_score,
      userRating,
    },
    weights,
  );
}

/**
 * Stores a user's rating of their own completed task. Rating again replaces the earlier rating (the
 * task has one score row); the overall score and the agent's statistics follow in the same transaction.
 */
export async function submitTaskFeedback(
  db: Kysely<Database>,
  userId: string,
  taskId: string,
  input: FeedbackInput,
  weights: OverallWeights,
): Promise<{ agentId: string }> {
  return db.transaction().execute(async (trx) => {
    const task = await findTaskForUser(trx, userId, taskId, { forUpdate: true });
    if (!task) throw new NotFoundError('task_not_found', `Task ${taskId} not found`);
    if (task.status !== 'completed') {
      throw new ConflictError(
        'task_not_completed',
        `Task ${taskId} is ${task.status}; only a completed task can be rated`,
      );
    }
    const score = await findScoreForTask(trx, taskId, { forUpdate: true });
    if (!score) throw new NotFoundError('task_not_found', `Task ${taskId} has no performance record`);
    const overall = recomputeOverall(score, input.user_rating, weights);
    const sources = { ...score.score_sources, user_rating: { source: 'user', version: 'user-1' } };
    const updated = await trx
      .updateTable('agent_performance_scores')
      .set({
        user_rating: input.user_rating,
        user_feedback: input.user_feedback ?? null,
        overall_score: overall,
        score_sources: JSON.stringify(sources),
        rated_at: new Date(),
        updated_at: new Date(),
      })
      .where('id', '=', score.id)
      .returningAll()
      .executeTakeFirstOrThrow();
    await applyStatsChanges(trx, [
      {
        agentId: task.agent_id,
        category: task.objective_category,
        delta: diffContributions(describeContribution(task, score), describeContribution(task, updated)),
      },
    ]);
    return { agentId: task.agent_id };
  });
}
