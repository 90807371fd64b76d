/** Tasks (and routing decisions) deleted per transaction: a batch holds its row locks briefly. */
export const RETENTION_BATCH_SIZE = 1000;
/** Batches per run of the job: a long backlog is worked off over several runs, never in one long job. */
export const RETENTION_MAX_BATCHES = 200;

const DAY_MS = 86_400_000;

/** Rows finished before this instant are past retention. */
export function retentionCutoff(now: Date, retentionDays: number): Date {
  return new Date(now.getTime() - retentionDays * DAY_MS);
}
