import type { Task } from 'graphile-worker';
import type { ExecutionTracker } from './execution-tracker.js';
import { findIdleTaskIds } from './tasks.queries.js';

export const FAIL_IDLE_TASKS_JOB = 'fail_idle_tasks';

/** Tasks failed per run at most; the next run (a minute later) takes the rest. */
const BATCH = 500;

/**
 * Fails every queued or running task that showed no activity (no node, no status change) for
 * `timeoutMinutes`: a client that created a task and vanished, or a crash between create and complete,
 * would otherwise leave it running forever, and the router would count it as its agent's load.
 */
export async function failIdleTasks(
  tracker: ExecutionTracker,
  timeoutMinutes: number,
  now: Date = new Date(),
): Promise<string[]> {
  const idleSince = new Date(now.getTime() - timeoutMinutes * 60_000);
  const failed: string[] = [];
  for (const id of await findIdleTaskIds(tracker.db, idleSince, BATCH)) {
    if (await tracker.failIdleTask(id, idleSince, timeoutMinutes)) failed.push(id);
  }
  return failed;
}

export function createTaskJobs(tracker: ExecutionTracker, timeoutMinutes: number): Record<string, Task> {
  return {
    [FAIL_IDLE_TASKS_JOB]: async (_payload, helpers) => {
      if (timeoutMinutes <= 0) return;
      const failed = await failIdleTasks(tracker, timeoutMinutes);
      for (const taskId of failed) {
        helpers.logger.warn(
          `Task ${taskId} failed: timed_out after ${timeoutMinutes} minutes without activity`,
        );
      }
    },
  };
}
