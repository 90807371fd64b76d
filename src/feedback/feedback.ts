import type { Kysely } from 'kysely';
import type { Database } from '../db/database.js';
import { runTransaction } from '../db/transaction.js';
import { ConflictError, NotFoundError } from '../errors.js';
import { applyScoreChange, lockTask, type RescoreOptions } from '../evaluation/rescore.js';
import { isInScope, type Scope } from '../identity/scope.js';

export interface FeedbackInput {
  user_rating: number;
  user_feedback?: string | undefined;
}

/**
 * Stores a user's rating of a completed task the scope may see (in local mode, the user's own). Rating again replaces the earlier rating (the
 * task has one score row); the overall score, the reward rules and the agent's statistics follow in the
 * same transaction, through the same rescoring as the evaluators'.
 */
export async function submitTaskFeedback(
  db: Kysely<Database>,
  scope: Scope,
  taskId: string,
  input: FeedbackInput,
  scoring: RescoreOptions,
): Promise<{ agentId: string; userId: string }> {
  return runTransaction(db, async (trx) => {
    const task = await lockTask(trx, taskId);
    if (!task || !isInScope(task, scope))
      throw new NotFoundError('task_not_found', `Task ${taskId} not found`);
    if (task.status !== 'completed') {
      throw new ConflictError(
        'task_not_completed',
        `Task ${taskId} is ${task.status}; only a completed task can be rated`,
      );
    }
    // The text first: applyScoreChange ends with the agent's statistics rows, shared by all its writes,
    // which are then held only until the commit.
    await trx
      .updateTable('agent_performance_scores')
      .set({ user_feedback: input.user_feedback ?? null, rated_at: new Date() })
      .where('task_id', '=', task.id)
      .execute();
    await applyScoreChange(
      trx,
      task,
      { userRating: input.user_rating, sources: { user_rating: { source: 'user', version: 'user-1' } } },
      scoring,
    );
    return { agentId: task.agent_id, userId: task.user_id };
  });
}
