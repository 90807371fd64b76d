import type { Task } from 'graphile-worker';
import type { Kysely } from 'kysely';
import type { Database } from '../db/database.js';
import { deleteExpiredSessions } from './identity.queries.js';
import { deleteOldRateLimitWindows, RATE_LIMIT_RETENTION_SECONDS } from './rate-limits.js';

export const DELETE_OLD_RATE_LIMIT_WINDOWS_JOB = 'delete_old_rate_limit_windows';

/**
 * Identity housekeeping, every few minutes: deletes the counters of windows no limit reads any more
 * (older than RATE_LIMIT_RETENTION_SECONDS; each run deletes a bounded number of rows and the next
 * takes the rest), and the sessions that have expired.
 */
export function createRateLimitJobs(db: Kysely<Database>): Record<string, Task> {
  return {
    [DELETE_OLD_RATE_LIMIT_WINDOWS_JOB]: async (_payload, helpers) => {
      const olderThan = new Date(Date.now() - RATE_LIMIT_RETENTION_SECONDS * 1000);
      const deleted = await deleteOldRateLimitWindows(db, olderThan);
      if (deleted > 0)
        helpers.logger.debug(`Deleted ${deleted} rate limit windows older than ${olderThan.toISOString()}`);
      const sessions = await deleteExpiredSessions(db);
      if (sessions > 0) helpers.logger.debug(`Deleted ${sessions} expired sessions`);
    },
  };
}
