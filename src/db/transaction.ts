import type { Kysely, Transaction } from 'kysely';

/** PostgreSQL aborts one of two transactions it cannot order: it is safe to run it again from the start. */
const RETRYABLE_SQLSTATES = new Set([
  '40P01', // deadlock_detected
  '40001', // serialization_failure
]);

export interface RetryOptions {
  /** Attempts in all, the first included. */
  attempts?: number;
  /** Backoff before the second attempt; doubled for each later one, with full jitter. */
  baseDelayMs?: number;
}

const DEFAULT_ATTEMPTS = 4;
const DEFAULT_BASE_DELAY_MS = 20;
let retries = 0;

/** How many times this process ran a transaction again after a deadlock or serialization failure. */
export function countConflictRetries(): number {
  return retries;
}

/** True for the errors after which a whole transaction may simply be run again. */
export function isRetryableTransactionError(error: unknown): boolean {
  const code = typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
  return typeof code === 'string' && RETRYABLE_SQLSTATES.has(code);
}

/**
 * Runs `work` again (bounded, with jittered backoff) when PostgreSQL aborted it as a deadlock victim or
 * a serialization failure. Every writer locks rows in one order (see STATS_LOCK_ORDER in
 * stats.queries.ts), so this is the last line of defence, not the mechanism. `work` must be a whole
 * transaction or a single statement: nothing it did survives the abort.
 */
export async function retryOnConflict<T>(work: () => Promise<T>, options: RetryOptions = {}): Promise<T> {
  const attempts = options.attempts ?? DEFAULT_ATTEMPTS;
  const baseDelayMs = options.baseDelayMs ?? DEFAULT_BASE_DELAY_MS;
  for (let attempt = 1; ; attempt++) {
    try {
      return await work();
    } catch (error) {
      if (attempt >= attempts || !isRetryableTransactionError(error)) throw error;
      retries++;
      const delay = Math.random() * baseDelayMs * 2 ** (attempt - 1);
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
}

/** One transaction on `db`, run again from the start if PostgreSQL aborts it as a deadlock victim. */
export function runTransaction<DB, T>(
  db: Kysely<DB>,
  work: (trx: Transaction<DB>) => Promise<T>,
  options: RetryOptions = {},
): Promise<T> {
  return retryOnConflict(() => db.transaction().execute(work), options);
}
