import type pg from 'pg';

// One key for "a Merit worker process is running on this database" (any constant works; this is 'MRIT').
const WORKER_LEADER_LOCK = 0x4d524954;

export interface WorkerLeadership {
  /** True when no other Merit worker process on this database was alive when this one started. */
  readonly leader: boolean;
  release(): Promise<void>;
}

/**
 * Takes the session-level advisory lock that the first live Merit worker process holds for its
 * lifetime, on a connection of its own. PostgreSQL drops the lock the moment that process's session
 * ends, killed or not, so holding it proves no other worker process is alive.
 */
export async function claimWorkerLeadership(pool: pg.Pool): Promise<WorkerLeadership> {
  const client = await pool.connect();
  try {
    const { rows } = await client.query<{ leader: boolean }>('SELECT pg_try_advisory_lock($1) AS leader', [
      WORKER_LEADER_LOCK,
    ]);
    const leader = rows[0]?.leader === true;
    if (!leader) client.release();
    return {
      leader,
      async release() {
        if (!leader) return;
        try {
          await client.query('SELECT pg_advisory_unlock($1)', [WORKER_LEADER_LOCK]);
        } finally {
          client.release();
        }
      },
    };
  } catch (error) {
    client.release();
    throw error;
  }
}

/**
 * Unlocks the jobs (and job queues) still locked by workers of processes that died mid-job, so they
 * run again now rather than after graphile-worker's 4-hour lock timeout. Only the leader may call this:
 * with no other worker process alive, every lock held is a dead worker's. Returns the workers released.
 */
export async function releaseJobsOfDeadWorkers(pool: pg.Pool): Promise<string[]> {
  const { rows } = await pool.query<{ locked_by: string }>(`
    SELECT DISTINCT locked_by FROM graphile_worker.jobs WHERE locked_by IS NOT NULL
    UNION
    SELECT DISTINCT locked_by FROM graphile_worker._private_job_queues WHERE locked_by IS NOT NULL
  `);
  const workerIds = rows.map((row) => row.locked_by);
  if (workerIds.length > 0) {
    await pool.query('SELECT graphile_worker.force_unlock_workers($1::text[])', [workerIds]);
  }
  return workerIds;
}
