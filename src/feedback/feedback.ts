import type { Kysely } from 'kysely';
import type { Database } from '../db/database.js';
import { ConflictError, NotFoundError } from '../errors.js';
import { applyScoreChange, lockTask, type RescoreOptions } from '../evaluation/rescore.js';
import type { EventBus } from '../events/event-bus.js';
import { runTransactionWithEvents } from '../events/transactional-events.js';
import { isInScope, type Scope } from '../identity/scope.js';

export interface FeedbackInput {
  user_rating: number;
  user_feedback?: string | undefined;
}

/**
 * Stores a user's rating of a completed task the scope may see (in local mode, the user's own). Rating again replaces the earlier rating (the
 * task has one score row); the overall score, the reward rules and the agent's statistics follow in the
 * same transaction, through the same rescoring as the evaluators'. The task and leaderboard changes are
 * announced in that transaction too (every process learns of them if and only if it commits).
 */
export async function submitTaskFeedback(
  db: Kysely<Database>,
  scope: Scope,
  taskId: string,
  input: FeedbackInput,
  scoring: RescoreOptions,
  events?: EventBus,
): Promise<{ agentId: string; userId: string }> {
  return runTransactionWithEvents(db, events, async (trx, emit) => {
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
    emit(
      { type: 'task', projectId: task.project_id, userId: task.user_id, taskId: task.id },
      { type: 'leaderboard', projectId: task.project_id, agentIds: [task.agent_id] },
    );
    return { agentId: task.agent_id, userId: task.user_id };
  });
}
