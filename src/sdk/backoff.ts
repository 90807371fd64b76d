/** When and whether the SDK sends a request again: pure functions of the answer and the attempt. */

export interface BackoffOptions {
  /** The first retry waits up to this long (before jitter). */
  readonly baseDelayMs: number;
  /** No wait is longer, whatever the attempt or a Retry-After header says. */
  readonly maxDelayMs: number;
}

/**
 * Exponential backoff with full jitter (AWS's "Exponential Backoff and Jitter"): a random wait between
 * 0 and min(max, base * 2^attempt), so many clients that failed together do not retry together.
 * `attempt` counts from 0 (the first retry); `random` returns a number in [0, 1).
 */
export function computeBackoffDelayMs(
  attempt: number,
  options: BackoffOptions,
  random: () => number,
): number {
  const ceiling = Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** attempt);
  return Math.floor(random() * ceiling);
}

/** The wait a Retry-After header asks for (delay-seconds or an HTTP-date), or undefined when absent or unreadable. */
export function parseRetryAfterMs(header: string | null | undefined, nowMs: number): number | undefined {
  if (header === null || header === undefined) return undefined;
  const text = header.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const date = Date.parse(text);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - nowMs);
}

/**
 * Whether an HTTP status is worth sending the same request again: overload (429), and a server or proxy
 * that is unavailable for now (502, 503, 504). Any other 4xx would be refused again; a 500 is a fault the
 * same request would hit again.
 */
export function isRetryableStatus(status: number): boolean {
  return status === 429 || status === 502 || status === 503 || status === 504;
}

/** The wait before the next attempt: the server's Retry-After when it gave one (capped), else jittered backoff. */
export function computeRetryDelayMs(
  attempt: number,
  retryAfterMs: number | undefined,
  options: BackoffOptions,
  random: () => number,
): number {
  if (retryAfterMs !== undefined) return Math.min(retryAfterMs, options.maxDelayMs);
  return computeBackoffDelayMs(attempt, options, random);
}
