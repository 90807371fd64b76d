import type pg from 'pg';

// One key for "a Merit worker process is running on this database" (any constant works; this is 'MRIT').
export const WORKER_LEADER_LOCK = 0x4d524954;

/**
 * Takes the session-level advisory lock that the first live Merit worker process holds for its
 * lifetime, on `client` (a connection of its own). PostgreSQL drops the lock the moment that session
 * ends, so holding it proves no other worker process was alive when it was taken.
 */
export async function tryLockWorkerLeadership(client: pg.ClientBase): Promise<boolean> {
  const { rows } = await client.query<{ leader: boolean }>('SELECT pg_try_advisory_lock($1) AS leader', [
    WORKER_LEADER_LOCK,
  ]);
  return rows[0]?.leader === true;
}

export async function unlockWorkerLeadership(client: pg.ClientBase): Promise<void> {
  await client.query('SELECT pg_advisory_unlock($1)', [WORKER_LEADER_LOCK]);
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
  await unlockJobsOfWorkers(pool, workerIds);
  return workerIds;
}

/** Unlocks the jobs of workers known to be gone (graphile-worker's public force_unlock_workers). */
export async function unlockJobsOfWorkers(pool: pg.Pool, workerIds: readonly string[]): Promise<void> {
  if (workerIds.length === 0) return;
  await pool.query('SELECT graphile_worker.force_unlock_workers($1::text[])', [workerIds]);
}

/**
 * How many jobs are ready (due for longer than `waitedMs`, unlocked, with attempts left) yet no worker has
 * taken them: a runner whose workers all died leaves them so. Through graphile-worker's public `jobs` view.
 */
export async function countStalledJobs(pool: pg.Pool, waitedMs: number): Promise<number> {
  const { rows } = await pool.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM graphile_worker.jobs
     WHERE locked_at IS NULL AND attempts < max_attempts AND run_at < now() - make_interval(secs => $1::float8 / 1000)`,
    [waitedMs],
  );
  return rows[0]?.n ?? 0;
}
