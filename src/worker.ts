import { parseCronItems, type Runner, run, type TaskList } from 'graphile-worker';
import { createAgentJobs } from './agents/agents.jobs.js';
import type { Config } from './config.js';
import type { DatabaseHandle } from './db/connect.js';
import { createWorkerLogger } from './db/migrate.js';
import { claimWorkerLeadership, releaseJobsOfDeadWorkers } from './db/worker-locks.queries.js';
import { buildEvaluationDeps, createEvaluationJobs } from './evaluation/evaluation.jobs.js';
import type { AppContext } from './http/context.js';
import { createReviewJobs } from './reviews/review.jobs.js';
import { createStatsJobs, RECOMPUTE_STATS_JOB } from './stats/stats.jobs.js';

export interface WorkerHandle {
  readonly runner: Runner;
  stop(): Promise<void>;
}

/** Every background job Merit runs, by name. */
export function buildTaskList(ctx: AppContext): TaskList {
  const onStatsChanged = () => ctx.events.publish({ type: 'leaderboard', agentIds: [] });
  const evaluationDeps = { ...buildEvaluationDeps(ctx.config, ctx.db), onStatsChanged };
  return {
    ...createStatsJobs(ctx.db, onStatsChanged),
    ...createAgentJobs(ctx),
    ...createEvaluationJobs(evaluationDeps),
    ...createReviewJobs(evaluationDeps),
  };
}

/** Runs graphile-worker in this process, on the same database, with the scheduled jobs. */
export async function startWorker(
  config: Config,
  handle: DatabaseHandle,
  ctx: AppContext,
): Promise<WorkerHandle> {
  // A job whose worker process was killed stays locked for 4 hours; the first live worker process
  // (holding the leader lock) knows any lock left is a dead worker's and releases it now.
  const leadership = await claimWorkerLeadership(handle.pool);
  if (leadership.leader) await releaseJobsOfDeadWorkers(handle.pool);
  const runner = await run({
    pgPool: handle.pool,
    taskList: buildTaskList(ctx),
    concurrency: config.workerConcurrency,
    noHandleSignals: true,
    pollInterval: 1000,
    logger: createWorkerLogger(config.logLevel),
    parsedCronItems: parseCronItems([
      {
        task: RECOMPUTE_STATS_JOB,
        match: config.statsCron,
        identifier: RECOMPUTE_STATS_JOB,
        options: { backfillPeriod: 0 },
      },
    ]),
  }).catch(async (error: unknown) => {
    await leadership.release();
    throw error;
  });
  return {
    runner,
    async stop() {
      await runner.stop();
      await leadership.release();
    },
  };
}
