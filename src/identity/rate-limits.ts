import { type Kysely, type RawBuilder, sql } from 'kysely';
import { z } from 'zod';
import type { RateLimitDefaults } from '../config.js';
import type { Database } from '../db/database.js';
import { MeritError, ValidationError } from '../errors.js';

/**
 * Rate limits and quotas shared by every Merit process: the counters live in PostgreSQL
 * (`rate_limit_counters`, one row per bucket and window), never in process memory.
 *
 * Windows are a sliding-window approximation. Time is cut into fixed windows aligned to multiples of
 * `windowSeconds` since the Unix epoch (UTC; a day window runs from midnight UTC). A bucket's usage at an
 * instant is the current window's amount plus the previous window's amount weighted by the share of the
 * previous window still inside the last `windowSeconds` (the previous window's usage is taken as evenly
 * spread). Unlike plain fixed windows, a burst at the end of one window followed by a burst at the start
 * of the next cannot pass twice the limit; the current window alone never holds more than the limit.
 *
 * The clock is the database's (`statement_timestamp()`), one clock for every process, unless a caller
 * passes `now` (tests, or a job replaying a moment).
 */

/** Window lengths of the limits a project configures. */
export const RATE_LIMIT_WINDOW_SECONDS = {
  requests: 60,
  commands: 60,
  llmSpend: 24 * 60 * 60,
} as const;

/**
 * How long a window's row must be kept: the sliding estimate reads the previous window, so a row is
 * needed until two of the longest windows after its start (an hour more as a margin).
 */
export const RATE_LIMIT_RETENTION_SECONDS = 2 * RATE_LIMIT_WINDOW_SECONDS.llmSpend + 60 * 60;

/** Bucket names: one counter per key, per end user of a project, per project. */
export const rateLimitBuckets = {
  keyRequests: (keyId: string) => `key:${keyId}:requests`,
  userCommands: (projectId: string, userId: string) => `user:${projectId}:${userId}:commands`,
  projectLlmSpend: (projectId: string) => `project:${projectId}:llm_spend`,
};

const MAX_WINDOW_SECONDS = 366 * 24 * 60 * 60;
const MAX_BUCKET_LENGTH = 500;

export interface RateLimitWindow {
  /** The counter's name, e.g. `key:<id>:requests` (see rateLimitBuckets). */
  bucket: string;
  /** Whole seconds, at most a year. */
  windowSeconds: number;
  /** The instant to count at; the database's clock when absent. */
  now?: Date;
}

export interface RateLimitDecision {
  allowed: boolean;
  /** The bucket's usage over the last window (sliding estimate), this request's amount included if allowed. */
  used: number;
  limit: number;
  /**
   * 0 when allowed. Otherwise whole seconds (at least 1) after which the same request fits if nothing
   * else is consumed meanwhile: up to a window and a bit with the sliding estimate (two windows when the
   * amount alone is over the limit, after which the bucket is empty yet the request is still refused).
   */
  retryAfterSeconds: number;
}

/** A bucket's counters at one instant, as the sliding estimate sees them. */
interface WindowUsage {
  /** Exact text of the instant counted at, to read the same windows again. */
  now: string;
  elapsedSeconds: number;
  previousAmount: number;
  currentAmount: number;
  /** previousAmount weighted by the share of the previous window still inside the sliding window. */
  carried: number;
}

/**
 * Adds `amount` (default 1) to a bucket if its usage stays within `limit`, atomically: one INSERT ... ON
 * CONFLICT DO UPDATE ... WHERE, so concurrent callers in any process never pass the limit together, and
 * a refused request consumes nothing. Run it on its own, not inside a longer transaction: the counter's
 * row stays locked until the commit, queueing every request of the bucket behind it (and under
 * REPEATABLE READ a concurrent consumer would fail with a serialization error).
 */
export async function consumeRateLimit(
  db: Kysely<Database>,
  input: RateLimitWindow & { limit: number; amount?: number },
): Promise<RateLimitDecision> {
  const amount = input.amount ?? 1;
  assertWindow(input);
  assertFinite('limit', input.limit, 0);
  assertFinite('amount', amount, 0);
  if (amount === 0) throw new RangeError('amount must be more than 0 (checkRateLimit consumes nothing)');
  // The insert's own check covers a window without a row yet; the update's WHERE is evaluated again on
  // the latest row after waiting for its lock, which is what makes concurrent consumers exact.
  const { rows } = await sql<{ used: number | null; now: string }>`
    ${usageCtes(input, input.now ?? null)},
    consumed AS (
      INSERT INTO rate_limit_counters AS c (bucket, window_start, amount)
      SELECT est.bucket, est.window_start, ${amount}::numeric
      FROM est
      WHERE est.carried + ${amount}::numeric <= ${input.limit}::numeric
      ON CONFLICT (bucket, window_start) DO UPDATE SET amount = c.amount + excluded.amount
      WHERE (SELECT est.carried FROM est) + c.amount + excluded.amount <= ${input.limit}::numeric
      RETURNING c.amount
    )
    SELECT (SELECT est.carried FROM est) + (SELECT consumed.amount FROM consumed) AS used, est.now::text AS now
    FROM est
  `.execute(db);
  const row = rows[0];
  if (!row) throw new Error('rate limit statement returned no row');
  if (row.used !== null) return { allowed: true, used: row.used, limit: input.limit, retryAfterSeconds: 0 };
  // Refused: read the counters as committed now (the statement's snapshot may predate the rows that
  // filled the window), at the same instant so the answer describes the same windows.
  const usage = await readWindowUsage(db, input, row.now);
  return {
    allowed: false,
    used: usage.carried + usage.currentAmount,
    limit: input.limit,
    retryAfterSeconds: computeRetryAfterSeconds(usage, input.windowSeconds, amount, input.limit),
  };
}

/** A rate limit or quota refused the request: answered 429 with `Retry-After: <retryAfterSeconds>`. */
export class RateLimitedError extends MeritError {
  readonly retryAfterSeconds: number;

  constructor(message: string, options: { retryAfterSeconds: number; cause?: unknown }) {
    super('rate_limited', message, {
      cause: options.cause,
      details: { retry_after_seconds: options.retryAfterSeconds },
    });
    this.name = 'RateLimitedError';
    this.retryAfterSeconds = options.retryAfterSeconds;
  }
}

/**
 * consumeRateLimit, throwing RateLimitedError when refused; `name` is the limit as a project sets it
 * (`requests_per_minute`), for the message.
 */
export async function enforceRateLimit(
  db: Kysely<Database>,
  input: RateLimitWindow & { limit: number; amount?: number; name: string },
): Promise<RateLimitDecision> {
  const decision = await consumeRateLimit(db, input);
  if (!decision.allowed) {
    throw new RateLimitedError(
      `Rate limit reached: ${input.name} is ${input.limit}; retry in ${decision.retryAfterSeconds} s`,
      { retryAfterSeconds: decision.retryAfterSeconds },
    );
  }
  return decision;
}

/**
 * Whether a bucket is still under `limit`, consuming nothing: allowed while usage < limit. For a quota
 * whose cost is known only afterwards (LLM spend): check before the call, record the real cost after it.
 */
export async function checkRateLimit(
  db: Kysely<Database>,
  input: RateLimitWindow & { limit: number },
): Promise<RateLimitDecision> {
  assertWindow(input);
  assertFinite('limit', input.limit, 0);
  const usage = await readWindowUsage(db, input, input.now ?? null);
  const used = usage.carried + usage.currentAmount;
  if (used < input.limit) return { allowed: true, used, limit: input.limit, retryAfterSeconds: 0 };
  return {
    allowed: false,
    used,
    limit: input.limit,
    retryAfterSeconds: computeRetryAfterSeconds(usage, input.windowSeconds, 0, input.limit),
  };
}

/**
 * Adds `amount` to a bucket whatever its usage (money already spent is counted even past the quota), and
 * returns the usage after it. Atomic like consumeRateLimit.
 */
export async function recordRateLimitUsage(
  db: Kysely<Database>,
  input: RateLimitWindow & { amount: number },
): Promise<{ used: number }> {
  assertWindow(input);
  assertFinite('amount', input.amount, 0);
  const { rows } = await sql<{ used: number }>`
    ${usageCtes(input, input.now ?? null)},
    recorded AS (
      INSERT INTO rate_limit_counters AS c (bucket, window_start, amount)
      SELECT est.bucket, est.window_start, ${input.amount}::numeric FROM est
      ON CONFLICT (bucket, window_start) DO UPDATE SET amount = c.amount + excluded.amount
      RETURNING c.amount
    )
    SELECT (SELECT est.carried FROM est) + (SELECT recorded.amount FROM recorded) AS used
  `.execute(db);
  const row = rows[0];
  if (!row) throw new Error('rate limit statement returned no row');
  return { used: row.used };
}

/**
 * Deletes the counters of windows that started before `olderThan`, a batch at a time (each batch its own
 * statement, so no long lock), at most `maxBatches` batches per call; returns how many rows went. Pass an
 * instant at least RATE_LIMIT_RETENTION_SECONDS ago: a younger window may still be counted.
 */
export async function deleteOldRateLimitWindows(
  db: Kysely<Database>,
  olderThan: Date,
  options: { batchSize?: number; maxBatches?: number } = {},
): Promise<number> {
  const batchSize = options.batchSize ?? 1000;
  const maxBatches = options.maxBatches ?? 100;
  let deleted = 0;
  for (let batch = 0; batch < maxBatches; batch++) {
    // SKIP LOCKED: a row a consumer holds right now is left for the next run rather than waited for.
    const result = await sql`
      DELETE FROM rate_limit_counters c
      USING (
        SELECT bucket, window_start FROM rate_limit_counters
        WHERE window_start < ${olderThan}
        ORDER BY window_start
        LIMIT ${batchSize}
        FOR UPDATE SKIP LOCKED
      ) old
      WHERE c.bucket = old.bucket AND c.window_start = old.window_start
    `.execute(db);
    const count = Number(result.numAffectedRows ?? 0n);
    deleted += count;
    if (count < batchSize) break;
  }
  return deleted;
}

/** The limits that apply to one project. */
export interface RateLimits {
  requestsPerMinute: number;
  commandsPerMinute: number;
  llmSpendPerDayUsd: number;
}

/** The configured defaults (MERIT_RATE_*, MERIT_LLM_SPEND_PER_DAY_USD); no spend cap is an infinite one. */
export function configuredRateLimits(defaults: RateLimitDefaults): RateLimits {
  return {
    requestsPerMinute: defaults.requestsPerMinute,
    commandsPerMinute: defaults.commandsPerMinute,
    llmSpendPerDayUsd: defaults.llmSpendPerDayUsd ?? Number.POSITIVE_INFINITY,
  };
}

/**
 * A project's overrides, `projects.settings.rate_limits`. Requests need at least 1 per minute (0 would
 * lock out even the admin who could raise it); 0 commands or 0 USD turns commands or paid LLM calls off.
 */
export const rateLimitSettingsSchema = z.strictObject({
  requests_per_minute: z.number().int().min(1).max(1_000_000).optional(),
  commands_per_minute: z.number().int().min(0).max(1_000_000).optional(),
  llm_spend_per_day_usd: z.number().min(0).max(1_000_000).optional(),
});

const projectSettingsSchema = z.looseObject({ rate_limits: rateLimitSettingsSchema.optional() });

/**
 * The limits of a project: its `settings.rate_limits` overrides over `defaults`. Settings that break a
 * rule are a ValidationError naming the field (`settings.rate_limits.requests_per_minute`).
 */
export function resolveRateLimits(projectSettings: unknown, defaults: RateLimits): RateLimits {
  const parsed = projectSettingsSchema.safeParse(projectSettings);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = ['settings', ...(issue?.path ?? [])].map(String).join('.');
    throw new ValidationError(field, issue?.message ?? 'is invalid', { cause: parsed.error });
  }
  const overrides = parsed.data.rate_limits ?? {};
  return {
    requestsPerMinute: overrides.requests_per_minute ?? defaults.requestsPerMinute,
    commandsPerMinute: overrides.commands_per_minute ?? defaults.commandsPerMinute,
    llmSpendPerDayUsd: overrides.llm_spend_per_day_usd ?? defaults.llmSpendPerDayUsd,
  };
}

/**
 * Seconds until `amount` fits under `limit` if nothing else is consumed: first while the previous
 * window slides out of the current one, else in the next window, where the current window becomes the
 * previous one. With amount 0 (a check) usage must fall strictly below the limit.
 */
export function computeRetryAfterSeconds(
  usage: Pick<WindowUsage, 'elapsedSeconds' | 'previousAmount' | 'currentAmount'>,
  windowSeconds: number,
  amount: number,
  limit: number,
): number {
  const { elapsedSeconds: elapsed, previousAmount: previous, currentAmount: current } = usage;
  const strict = amount === 0;
  // Never fits: the time after which the bucket holds nothing at all.
  if (amount > limit || (strict && limit === 0)) return Math.ceil(2 * windowSeconds - elapsed);
  let wait: number;
  if (current + amount <= limit && previous > 0) {
    // previous * (W - t) / W + current + amount <= limit, for t in this window.
    wait = windowSeconds * (1 - (limit - current - amount) / previous) - elapsed;
  } else {
    // current * (W - t) / W + amount <= limit, for t in the next window.
    const next = current > 0 ? windowSeconds * (1 - (limit - amount) / current) : 0;
    wait = windowSeconds - elapsed + Math.max(0, next);
  }
  // Timestamps are exact to the microsecond: a nanosecond of floating-point noise is no wait at all.
  const seconds = strict ? Math.floor(wait + 1e-9) + 1 : Math.ceil(wait - 1e-9);
  return Math.max(1, seconds);
}

/** The counters of a bucket's current and previous windows at `now` (the database's clock when null). */
async function readWindowUsage(
  db: Kysely<Database>,
  window: RateLimitWindow,
  now: Date | string | null,
): Promise<WindowUsage> {
  const { rows } = await sql<{
    now: string;
    elapsed: number;
    previous_amount: number;
    current_amount: number;
    carried: number;
  }>`
    ${usageCtes(window, now)}
    SELECT est.now::text AS now, est.elapsed, est.previous_amount, est.carried,
      coalesce(
        (SELECT c.amount FROM rate_limit_counters c
         WHERE c.bucket = est.bucket AND c.window_start = est.window_start),
        0
      ) AS current_amount
    FROM est
  `.execute(db);
  const row = rows[0];
  if (!row) throw new Error('rate limit statement returned no row');
  return {
    now: row.now,
    elapsedSeconds: row.elapsed,
    previousAmount: row.previous_amount,
    currentAmount: row.current_amount,
    carried: row.carried,
  };
}

/**
 * `WITH ... est AS (...)`: the bucket, the instant, its window's start, the seconds elapsed in it, and
 * the previous window's amount with its carried (weighted) part. Numeric all through: a quota of 1.00
 * USD holds exactly ten calls of 0.10.
 */
function usageCtes(window: RateLimitWindow, now: Date | string | null): RawBuilder<unknown> {
  const at = typeof now === 'string' ? now : (now?.toISOString() ?? null);
  return sql`
    WITH input AS (
      SELECT ${window.bucket}::text AS bucket, ${window.windowSeconds}::integer AS w,
        coalesce(${at}::timestamptz, statement_timestamp()) AS now
    ),
    win AS (
      SELECT input.*, to_timestamp(floor(extract(epoch FROM input.now) / input.w) * input.w) AS window_start
      FROM input
    ),
    usage AS (
      SELECT win.*,
        extract(epoch FROM win.now) - extract(epoch FROM win.window_start) AS elapsed,
        coalesce(
          (SELECT c.amount FROM rate_limit_counters c
           WHERE c.bucket = win.bucket AND c.window_start = win.window_start - make_interval(secs => win.w)),
          0
        ) AS previous_amount
      FROM win
    ),
    est AS (
      SELECT usage.*, usage.previous_amount * (usage.w - usage.elapsed) / usage.w AS carried FROM usage
    )
  `;
}

function assertWindow(window: RateLimitWindow): void {
  if (window.bucket.length === 0 || window.bucket.length > MAX_BUCKET_LENGTH)
    throw new RangeError(`bucket must have 1 to ${MAX_BUCKET_LENGTH} characters`);
  if (
    !Number.isInteger(window.windowSeconds) ||
    window.windowSeconds < 1 ||
    window.windowSeconds > MAX_WINDOW_SECONDS
  )
    throw new RangeError(`windowSeconds must be a whole number from 1 to ${MAX_WINDOW_SECONDS}`);
  if (window.now !== undefined && Number.isNaN(window.now.getTime()))
    throw new RangeError('now must be a valid date');
}

function assertFinite(name: string, value: number, min: number): void {
  if (!Number.isFinite(value) || value < min)
    throw new RangeError(`${name} must be a finite number of at least ${min}`);
}
