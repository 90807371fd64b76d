import type pg from 'pg';

/**
 * The first key of the session-level advisory locks that say "this graphile-worker worker is alive":
 * a Merit worker process holds (WORKER_ALIVE_LOCK, hashtext(worker id)) for each of its workers, on a
 * connection of its own, so PostgreSQL drops them the moment the process dies ('MR').
 */
export const WORKER_ALIVE_LOCK = 0x4d52;

/** Marks `workerId` alive for as long as `client`'s session lasts (false on a hash collision with a live worker). */
export async function lockWorkerAlive(client: pg.ClientBase, workerId: string): Promise<boolean> {
  const { rows } = await client.query<{ locked: boolean }>(
    'SELECT pg_try_advisory_lock($1, hashtext($2)) AS locked',
    [WORKER_ALIVE_LOCK, workerId],
  );
  return rows[0]?.locked === true;
}

export async function unlockWorkerAlive(client: pg.ClientBase, workerId: string): Promise<void> {
  await client.query('SELECT pg_advisory_unlock($1, hashtext($2))', [WORKER_ALIVE_LOCK, workerId]);
}

/**
 * The workers that hold jobs (locked longer than `lockedForMs`, through graphile-worker's public `jobs`
 * view) but whose alive lock no session holds: their process died (SIGKILL, OOM, a lost machine).
 */
export async function findDeadWorkers(pool: pg.Pool, lockedForMs: number): Promise<string[]> {
  const { rows } = await pool.query<{ locked_by: string }>(
    `SELECT DISTINCT j.locked_by FROM graphile_worker.jobs j
     WHERE j.locked_by IS NOT NULL AND j.locked_at < now() - make_interval(secs => $2::float8 / 1000)
       AND NOT EXISTS (
         SELECT 1 FROM pg_locks l
         WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2
           AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
           AND l.classid::bigint = $1 AND l.objid::bigint = (hashtext(j.locked_by)::bigint & 4294967295)
       )`,
    [WORKER_ALIVE_LOCK, lockedForMs],
  );
  return rows.map((row) => row.locked_by);
}

/** Unlocks the jobs and queues of workers known to be gone (graphile-worker's public force_unlock_workers). */
export async function unlockJobsOfWorkers(pool: pg.Pool, workerIds: readonly string[]): Promise<void> {
  if (workerIds.length === 0) return;
  await pool.query('SELECT graphile_worker.force_unlock_workers($1::text[])', [workerIds]);
}

/**
 * How many jobs of these tasks are ready (due for longer than `waitedMs`, unlocked, with attempts left) yet no worker has
 * taken them: a runner whose workers all died leaves them so. Through graphile-worker's public `jobs` view.
 */
export async function countStalledJobs(
  pool: pg.Pool,
  waitedMs: number,
  taskIdentifiers: readonly string[],
): Promise<number> {
  const { rows } = await pool.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM graphile_worker.jobs
     WHERE locked_at IS NULL AND attempts < max_attempts AND run_at < now() - make_interval(secs => $1::float8 / 1000)
       AND task_identifier = ANY($2::text[])`,
    [waitedMs, taskIdentifiers],
  );
  return rows[0]?.n ?? 0;
}
