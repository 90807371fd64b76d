import type { Task } from 'graphile-worker';
import { z } from 'zod';
import type { AppContext } from '../app-context.js';
import { DEFAULT_PROJECT_ID } from '../identity/scope.js';
import { AgentRunner } from './agent-runner.js';
import { RUN_AGENT_TASK_JOB } from './agents.queries.js';

/** How often a `run_agent_task` job is tried before its task is failed for good. */
export const RUN_AGENT_TASK_MAX_ATTEMPTS = 3;

// Jobs enqueued before projects existed carry no project: theirs is the default one.
const payloadSchema = z.object({
  task_id: z.guid(),
  user_id: z.guid(),
  project_id: z.guid().default(DEFAULT_PROJECT_ID),
});

// Keeps a failure reason readable when an infrastructure error carries a long message.
const MAX_REASON_CHARS = 500;

/**
 * The job that executes one Mission Control task. An error thrown by the runner (database, shutdown) makes
 * graphile-worker retry the job; on its last attempt the task is failed with that error as the reason, so
 * no task stays queued or running for ever.
 */
export function createAgentJobs(
  ctx: Pick<AppContext, 'db' | 'tracker' | 'config' | 'log'>,
  options: { runner?: AgentRunner } = {},
): Record<string, Task> {
  const runner =
    options.runner ?? new AgentRunner({ db: ctx.db, tracker: ctx.tracker, config: ctx.config, log: ctx.log });
  const job: Task = async (payload, helpers) => {
    const parsed = payloadSchema.safeParse(payload);
    if (!parsed.success) {
      helpers.logger.error(`Ignoring a ${RUN_AGENT_TASK_JOB} job with an invalid payload`);
      return;
    }
    const target = {
      taskId: parsed.data.task_id,
      projectId: parsed.data.project_id,
      userId: parsed.data.user_id,
    };
    try {
      const task = await runner.run(target, helpers.abortSignal ? { signal: helpers.abortSignal } : {});
      if (task.status === 'failed') {
        ctx.log.warn(
          { task_id: task.id, agent_id: task.agent_id, job_id: helpers.job.id, error: task.error },
          'agent run failed',
        );
      }
    } catch (error) {
      if (helpers.job.attempts >= helpers.job.max_attempts) {
        const message = error instanceof Error ? error.message : String(error);
        await ctx.tracker
          .failTask(
            { projectId: target.projectId, userId: target.userId, ownTasksOnly: false },
            target.taskId,
            {
              error: `The agent run failed ${helpers.job.attempts} times; last error: ${message}`.slice(
                0,
                MAX_REASON_CHARS,
              ),
            },
          )
          .catch((failError: unknown) =>
            helpers.logger.error(`Could not fail task ${target.taskId} after its last attempt: ${failError}`),
          );
      }
      throw error;
    }
  };
  return { [RUN_AGENT_TASK_JOB]: job };
}
