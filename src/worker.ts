import { parseCronItems, type Runner, run, type TaskList } from 'graphile-worker';
import { createAgentJobs } from './agents/agents.jobs.js';
import type { AppContext } from './app-context.js';
import type { Config } from './config.js';
import type { DatabaseHandle } from './db/connect.js';
import { claimWorkerLeadership } from './db/worker-leadership.js';
import {
  countStalledJobs,
  releaseJobsOfDeadWorkers,
  unlockJobsOfWorkers,
} from './db/worker-locks.queries.js';
import { buildEvaluationDeps, createEvaluationJobs } from './evaluation/evaluation.jobs.js';
import { createRateLimitJobs, DELETE_OLD_RATE_LIMIT_WINDOWS_JOB } from './identity/rate-limits.jobs.js';
import { createWorkerLogger } from './lib/log.js';
import { createReviewJobs } from './reviews/review.jobs.js';
import { createStatsJobs, RECOMPUTE_STATS_JOB } from './stats/stats.jobs.js';
import { createTaskJobs, FAIL_IDLE_TASKS_JOB } from './tasks/tasks.jobs.js';

export interface WorkerHandle {
  /** The graphile-worker runner now running jobs (a new one replaces it after a database failure). */
  readonly runner: Runner;
  stop(): Promise<void>;
}

const FIRST_RESTART_DELAY_MS = 250;
/** A job ready this long that no worker takes means the runner's workers are gone: it is replaced. */
const STALLED_JOB_MS = 15_000;
const STALL_CHECK_MS = 5_000;
const MAX_RESTART_DELAY_MS = 2000;

/** Every background job Merit runs, by name. */
export function buildTaskList(ctx: AppContext): TaskList {
  // The recompute changes every project's statistics; a job on one task changes its project's only.
  const onRecomputed = () => ctx.events.publish({ type: 'leaderboard', projectId: null, agentIds: [] });
  const onTaskScored = (taskId: string) => {
    ctx.db
      .selectFrom('tasks')
      .select(['project_id', 'agent_id'])
      .where('id', '=', taskId)
      .executeTakeFirst()
      .then(
        (task) => {
          if (task)
            ctx.events.publish({
              type: 'leaderboard',
              projectId: task.project_id,
              agentIds: [task.agent_id],
            });
        },
        (error: unknown) =>
          ctx.log.warn({ err: error, task_id: taskId }, 'could not announce a score change'),
      );
  };
  const evaluationDeps = {
    ...buildEvaluationDeps(ctx.config, ctx.db, ctx.log),
    onStatsChanged: onTaskScored,
  };
  return {
    ...createStatsJobs(ctx.db, onRecomputed),
    ...createAgentJobs(ctx),
    ...createEvaluationJobs(evaluationDeps),
    ...createReviewJobs(evaluationDeps),
    ...createTaskJobs(ctx.tracker, ctx.config.taskTimeoutMinutes),
    ...createRateLimitJobs(ctx.db),
  };
}

/**
 * Runs graphile-worker in this process, on the same database, with the scheduled jobs, and keeps it
 * running through database failures. graphile-worker 0.16 re-opens its LISTEN connection itself (with
 * backoff) and retries a failed job fetch every poll interval, but a worker that cannot record a job's
 * outcome exits for good ("committing seppuku") and is never replaced, and a cron tick that fails stops
 * the whole runner. Either starts a new runner (retried with backoff until the database answers), lets
 * the old one finish its jobs, and unlocks the dead workers' jobs so they run again.
 */
export async function startWorker(
  config: Config,
  handle: DatabaseHandle,
  ctx: AppContext,
  options: { taskList?: TaskList } = {},
): Promise<WorkerHandle> {
  const logger = createWorkerLogger(ctx.log);
  const warn = (message: string) => logger.warn(message);
  // A job whose worker process was killed stays locked for 4 hours; the first live worker process
  // (holding the leader lock) knows any lock left is a dead worker's and releases it now.
  const leadership = await claimWorkerLeadership(handle, warn);
  const runners = new Set<Runner>();
  const deadWorkerIds = new Set<string>();
  let stopping = false;
  let replacing: Promise<void> | undefined;
  let current: Runner;
  let currentStartedAt = Date.now();

  const startRunner = async (): Promise<Runner> => {
    const runner = await run({
      pgPool: handle.pool,
      taskList: options.taskList ?? buildTaskList(ctx),
      concurrency: config.workerConcurrency,
      noHandleSignals: true,
      pollInterval: 1000,
      logger,
      parsedCronItems: parseCronItems([
        {
          task: RECOMPUTE_STATS_JOB,
          match: config.statsCron,
          identifier: RECOMPUTE_STATS_JOB,
          options: { backfillPeriod: 0 },
        },
        {
          task: FAIL_IDLE_TASKS_JOB,
          match: '* * * * *',
          identifier: FAIL_IDLE_TASKS_JOB,
          options: { backfillPeriod: 0 },
        },
        {
          task: DELETE_OLD_RATE_LIMIT_WINDOWS_JOB,
          match: '*/10 * * * *',
          identifier: DELETE_OLD_RATE_LIMIT_WINDOWS_JOB,
          options: { backfillPeriod: 0 },
        },
      ]),
    });
    runners.add(runner);
    currentStartedAt = Date.now();
    runner.events.on('job:failed', ({ job, error }) => {
      // A job with attempts left is retried (graphile-worker logs that); the last failure is final.
      if (job.attempts < job.max_attempts) return;
      const payload = job.payload as { task_id?: unknown } | null;
      ctx.log.error(
        {
          err: error,
          job_id: job.id,
          job: job.task_identifier,
          attempts: job.attempts,
          ...(typeof payload?.task_id === 'string' ? { task_id: payload.task_id } : {}),
        },
        'job failed for good',
      );
    });
    runner.events.on('worker:fatalError', ({ worker, error }) => {
      deadWorkerIds.add(worker.workerId);
      if (runner === current) replaceRunner(`worker ${worker.workerId} stopped (${describe(error)})`);
    });
    runner.promise.then(
      () => {
        runners.delete(runner);
        if (runner === current) replaceRunner('the job runner stopped');
      },
      (error: unknown) => {
        runners.delete(runner);
        if (runner === current) replaceRunner(`the job runner stopped (${describe(error)})`);
      },
    );
    return runner;
  };

  const replaceRunner = (reason: string) => {
    if (stopping || replacing) return;
    warn(`${reason}: starting a new job runner`);
    const old = current;
    replacing = (async () => {
      for (let attempt = 0; !stopping; attempt++) {
        try {
          current = await startRunner();
          break;
        } catch (error) {
          const delay = Math.min(FIRST_RESTART_DELAY_MS * 2 ** attempt, MAX_RESTART_DELAY_MS);
          warn(`Starting a job runner failed (${describe(error)}); trying again in ${delay} ms`);
          await sleep(delay);
        }
      }
      // The old runner lets its remaining workers finish their jobs, then ends.
      if (runners.has(old)) void old.stop().catch(() => {});
      await unlockDeadWorkersJobs();
    })().finally(() => {
      replacing = undefined;
    });
  };

  const unlockDeadWorkersJobs = async () => {
    for (let attempt = 0; deadWorkerIds.size > 0 && !stopping; attempt++) {
      const ids = [...deadWorkerIds];
      try {
        await unlockJobsOfWorkers(handle.pool, ids);
        for (const id of ids) deadWorkerIds.delete(id);
      } catch {
        await sleep(Math.min(FIRST_RESTART_DELAY_MS * 2 ** attempt, MAX_RESTART_DELAY_MS));
      }
    }
  };

  // The last line of defence, whatever the cause (a worker that died while its runner was being
  // replaced, a pool left without workers): jobs that wait while no worker takes them.
  const checkForStalledJobs = async () => {
    if (stopping || replacing || Date.now() - currentStartedAt < STALLED_JOB_MS) return;
    try {
      const stalled = await countStalledJobs(handle.pool, STALLED_JOB_MS);
      if (stalled > 0 && !stopping && !replacing) {
        replaceRunner(`${stalled} jobs waited over ${STALLED_JOB_MS / 1000} s with no worker taking them`);
      }
    } catch {
      // The database is down: the runner's own failures start a new one when it is back.
    }
  };
  const stallCheck = setInterval(() => void checkForStalledJobs(), STALL_CHECK_MS);
  stallCheck.unref();

  try {
    if (leadership.leader) await releaseJobsOfDeadWorkers(handle.pool);
    current = await startRunner();
  } catch (error) {
    clearInterval(stallCheck);
    await leadership.release();
    throw error;
  }
  return {
    get runner() {
      return current;
    },
    async stop() {
      stopping = true;
      clearInterval(stallCheck);
      await replacing;
      await Promise.allSettled([...runners].map((runner) => runner.stop()));
      if (deadWorkerIds.size > 0) await unlockJobsOfWorkers(handle.pool, [...deadWorkerIds]).catch(() => {});
      await leadership.release();
    },
  };
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
