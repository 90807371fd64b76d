import { parseCronItems, type Runner, run, type TaskList } from 'graphile-worker';
import type { Config } from './config.js';
import type { DatabaseHandle } from './db/connect.js';
import { silentWorkerLogger } from './db/migrate.js';
import type { AppContext } from './http/context.js';
import { createStatsJobs, RECOMPUTE_STATS_JOB } from './stats/stats.jobs.js';

export interface WorkerHandle {
  readonly runner: Runner;
  stop(): Promise<void>;
}

/** Every background job Merit runs, by name. */
export function buildTaskList(ctx: AppContext): TaskList {
  return {
    ...createStatsJobs(ctx.db),
  };
}

/** Runs graphile-worker in this process, on the same database, with the scheduled jobs. */
export async function startWorker(
  config: Config,
  handle: DatabaseHandle,
  ctx: AppContext,
): Promise<WorkerHandle> {
  const runner = await run({
    pgPool: handle.pool,
    taskList: buildTaskList(ctx),
    concurrency: config.workerConcurrency,
    noHandleSignals: true,
    pollInterval: 1000,
    logger: silentWorkerLogger(),
    parsedCronItems: parseCronItems([
      {
        task: RECOMPUTE_STATS_JOB,
        match: config.statsCron,
        identifier: RECOMPUTE_STATS_JOB,
        options: { backfillPeriod: 0 },
      },
    ]),
  });
  return {
    runner,
    async stop() {
      await runner.stop();
    },
  };
}
