import type { Task } from 'graphile-worker';
import type { Kysely } from 'kysely';
import type { Database } from '../db/database.js';
import { RETENTION_BATCH_SIZE, RETENTION_MAX_BATCHES, retentionCutoff } from './retention.js';
import { deleteOldRoutingDecisions, rollUpOldTasks } from './retention.queries.js';

export const APPLY_RETENTION_JOB = 'apply_retention';

export interface RetentionRun {
  tasks: number;
  routingDecisions: number;
  /** False when the run stopped at RETENTION_MAX_BATCHES with rows left for the next run. */
  done: boolean;
}

/**
 * Deletes what is older than `retentionDays` in bounded batches: finished tasks (rolled up by day
 * first, so statistics and trends keep them) and routing decisions.
 */
export async function applyRetention(
  db: Kysely<Database>,
  retentionDays: number,
  options: { now?: Date; batchSize?: number; maxBatches?: number } = {},
): Promise<RetentionRun> {
  const cutoff = retentionCutoff(options.now ?? new Date(), retentionDays);
  const batchSize = options.batchSize ?? RETENTION_BATCH_SIZE;
  const maxBatches = options.maxBatches ?? RETENTION_MAX_BATCHES;
  const run: RetentionRun = { tasks: 0, routingDecisions: 0, done: false };
  let batches = 0;
  for (; batches < maxBatches; batches++) {
    const deleted = await rollUpOldTasks(db, cutoff, batchSize);
    run.tasks += deleted;
    if (deleted < batchSize) break;
  }
  for (; batches < maxBatches; batches++) {
    const deleted = await deleteOldRoutingDecisions(db, cutoff, batchSize);
    run.routingDecisions += deleted;
    if (deleted < batchSize) {
      run.done = true;
      break;
    }
  }
  return run;
}

/** The scheduled job; absent unless MERIT_RETENTION_DAYS is set. */
export function createRetentionJobs(
  db: Kysely<Database>,
  retentionDays: number | undefined,
): Record<string, Task> {
  if (retentionDays === undefined) return {};
  return {
    [APPLY_RETENTION_JOB]: async (_payload, helpers) => {
      const run = await applyRetention(db, retentionDays);
      helpers.logger.info(
        `${APPLY_RETENTION_JOB}: deleted ${run.tasks} tasks (rolled up by day) and ${run.routingDecisions} routing decisions older than ${retentionDays} days${run.done ? '' : '; more next run'}`,
      );
    },
  };
}
