/**
 * Whose rows a piece of work may touch. Every query that reads or writes project data takes a scope;
 * nothing crosses projects. In local mode a request also sees only its own user's tasks (the seed's
 * `?user_id=` world); a signed-in member sees the whole project's tasks.
 */
export interface Scope {
  readonly projectId: string;
  /** The end user: `tasks.user_id` of what this work creates, and "mine" in filters. */
  readonly userId: string;
  /** Task reads and writes are limited to `userId`'s tasks. */
  readonly ownTasksOnly: boolean;
}

/** The implicit project of local mode and of every row written before projects existed (migration 009). */
export const DEFAULT_PROJECT_ID = '00000000-0000-0000-0000-000000000000';
export const DEFAULT_PROJECT_SLUG = 'default';

/** The scope of background work on one task: its project, acting for its user, over the whole project. */
export function taskScope(task: { project_id: string; user_id: string }): Scope {
  return { projectId: task.project_id, userId: task.user_id, ownTasksOnly: false };
}

/** Whether a task row is visible to the scope (the same rule as the queries' filters). */
export function isInScope(task: { project_id: string; user_id: string }, scope: Scope): boolean {
  return task.project_id === scope.projectId && (!scope.ownTasksOnly || task.user_id === scope.userId);
}
