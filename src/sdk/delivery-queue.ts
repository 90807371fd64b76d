/**
 * Sends recorded tasks and ratings to Merit in the background: finished tasks in batches
 * (POST /api/tasks/batch), ratings one by one (POST /api/tasks/{task_id}/feedback), in the order they
 * were recorded so a rating never overtakes its task. One request at a time; network errors, 429 and
 * 502-504 are retried with jittered exponential backoff (Retry-After honoured); other 4xx never are.
 */
import { type BackoffOptions, computeRetryDelayMs, isRetryableStatus, parseRetryAfterMs } from './backoff.js';
import type { components } from './openapi.generated.js';
import type { FinishedTaskBody } from './task-body.js';

export type FeedbackBody = components['schemas']['Feedback'];
type BatchResult = components['schemas']['BatchResult'];
type ErrorBody = components['schemas']['Error'];

export type QueueItem =
  | { readonly kind: 'task'; readonly body: FinishedTaskBody }
  | {
      readonly kind: 'feedback';
      readonly taskId: string;
      readonly body: FeedbackBody;
      readonly userId?: string;
    };

/** Why something recorded did not reach Merit (passed to the client's onError). */
export class MeritDeliveryError extends Error {
  constructor(
    message: string,
    readonly details: {
      /** The HTTP status, or undefined after a network error. */
      readonly status: number | undefined;
      /** Merit's error code (`validation_failed`, `unauthorized`...), when it answered with one. */
      readonly code: string | undefined;
      /** The items that were given up on. */
      readonly items: readonly QueueItem[];
    },
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'MeritDeliveryError';
  }
}

export interface DeliveryStats {
  /** Items waiting to be sent (including the request in flight). */
  queued: number;
  /** Tasks Merit accepted (new rows). */
  sentTasks: number;
  /** Tasks Merit already had (a retried batch whose first attempt had landed). */
  duplicateTasks: number;
  sentFeedback: number;
  /** Items dropped because the queue was full (the oldest go first). */
  dropped: number;
  /** Items given up on: refused by Merit (4xx) or still failing after every retry. */
  failed: number;
  /** Requests sent again after a network error, 429 or 502-504. */
  retries: number;
}

export interface DeliveryOptions {
  readonly baseUrl: string;
  readonly apiKey: string | undefined;
  /** Sent as `?user_id=` on every request (local mode's user; with a key, the default end user). */
  readonly userId: string | undefined;
  readonly fetch: typeof globalThis.fetch;
  readonly maxQueueSize: number;
  /** What the waiting items may weigh at most, as the JSON sent (UTF-8 bytes). */
  readonly maxQueueBytes: number;
  readonly maxBatchSize: number;
  /** A batch request's body at most (UTF-8 bytes); a single larger task is sent alone. */
  readonly maxBatchBytes: number;
  readonly flushIntervalMs: number;
  /** Attempts per request, the first included. */
  readonly maxAttempts: number;
  readonly requestTimeoutMs: number;
  readonly backoff: BackoffOptions;
  readonly random: () => number;
  readonly headers: Readonly<Record<string, string>>;
  readonly onError: (error: MeritDeliveryError) => void;
}

export class DeliveryQueue {
  private readonly items: QueueItem[] = [];
  private readonly stats: DeliveryStats = {
    queued: 0,
    sentTasks: 0,
    duplicateTasks: 0,
    sentFeedback: 0,
    dropped: 0,
    failed: 0,
    retries: 0,
  };
  private readonly inFlight = new Set<QueueItem>();
  /** Each queued item's weight (its body as JSON, UTF-8 bytes), and their sum. */
  private readonly weights = new WeakMap<QueueItem, number>();
  private queuedBytes = 0;
  private draining: Promise<void> | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private closed = false;
  private readonly aborter = new AbortController();

  constructor(private readonly options: DeliveryOptions) {}

  /**
   * Queues an item; while the queue is full (maxQueueSize items or maxQueueBytes) the oldest waiting items
   * are dropped (and counted), as is one queued after close().
   */
  push(item: QueueItem): void {
    // After close() nothing is sent; recording must not fail the host's task, so the item is only counted.
    if (this.closed) {
      this.stats.dropped += 1;
      return;
    }
    const weight = utf8Length(JSON.stringify(item.body));
    while (
      this.items.length >= this.options.maxQueueSize ||
      (this.items.length > 0 && this.queuedBytes + weight > this.options.maxQueueBytes)
    ) {
      // Items in the request being sent stay; the oldest waiting one goes.
      const oldest = this.items.findIndex((waiting) => !this.inFlight.has(waiting));
      if (oldest < 0) break;
      this.forget(this.items.splice(oldest, 1));
      this.stats.dropped += 1;
    }
    this.weights.set(item, weight);
    this.queuedBytes += weight;
    this.items.push(item);
    if (this.items.length >= this.options.maxBatchSize) void this.drain();
    else this.scheduleDrain();
  }

  snapshot(): DeliveryStats {
    return { ...this.stats, queued: this.items.length };
  }

  /** Resolves when everything queued before the call has been sent or given up on. */
  async flush(): Promise<void> {
    while ((this.items.length > 0 && !this.aborter.signal.aborted) || this.draining) await this.drain();
  }

  /** Sends what is queued (within `timeoutMs`, after which waiting requests are abandoned), then refuses new items. */
  async close(timeoutMs: number): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    let deadline: ReturnType<typeof setTimeout> | undefined;
    const expired = new Promise<void>((resolve) => {
      deadline = setTimeout(() => {
        this.aborter.abort();
        resolve();
      }, timeoutMs);
    });
    await Promise.race([this.flush(), expired]);
    clearTimeout(deadline);
    // Whatever the deadline cut off is given up on, and said so.
    await this.draining;
    const left = this.items.splice(0);
    this.forget(left);
    if (left.length > 0) {
      this.giveUp(
        {
          ok: false,
          status: undefined,
          retryable: false,
          retryAfterMs: undefined,
          error: undefined,
          cause: 'close() timed out',
        },
        left,
      );
    }
  }

  private scheduleDrain(): void {
    if (this.timer || this.draining) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.drain();
    }, this.options.flushIntervalMs);
    // A pending send never keeps the host's process alive: flush on exit takes care of it.
    this.timer.unref?.();
  }

  private drain(): Promise<void> {
    this.draining ??= this.sendAll().finally(() => {
      this.draining = undefined;
      if (this.items.length > 0 && !this.closed) this.scheduleDrain();
    });
    return this.draining;
  }

  private async sendAll(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    while (this.items.length > 0 && !this.aborter.signal.aborted) {
      const first = this.items[0];
      if (first === undefined) break;
      if (first.kind === 'feedback') {
        this.inFlight.add(first);
        await this.sendFeedback(first).finally(() => this.remove([first]));
        continue;
      }
      const batch: (QueueItem & { kind: 'task' })[] = [];
      let bytes = 0;
      for (const item of this.items) {
        if (item.kind !== 'task' || batch.length >= this.options.maxBatchSize) break;
        const weight = this.weights.get(item) ?? 0;
        // Within Merit's body limit (MERIT_MAX_BODY_BYTES, 4 MiB by default): a larger task goes alone.
        if (batch.length > 0 && bytes + weight > this.options.maxBatchBytes) break;
        bytes += weight;
        batch.push(item);
        this.inFlight.add(item);
      }
      await this.sendTasks(batch).finally(() => this.remove(batch));
    }
  }

  /** Removes the items of a finished request (sent or given up on). */
  private remove(sent: readonly QueueItem[]): void {
    const done = new Set(sent);
    for (const item of sent) this.inFlight.delete(item);
    for (let index = this.items.length - 1; index >= 0; index -= 1) {
      const item = this.items[index];
      if (item !== undefined && done.has(item)) this.forget(this.items.splice(index, 1));
    }
  }

  /** Items that left the queue no longer count in its weight. */
  private forget(items: readonly QueueItem[]): void {
    for (const item of items) this.queuedBytes -= this.weights.get(item) ?? 0;
  }

  private async sendTasks(batch: readonly (QueueItem & { kind: 'task' })[]): Promise<void> {
    let remaining = [...batch];
    while (remaining.length > 0) {
      const answer = await this.request('POST', `/api/tasks/batch${this.userQuery(undefined)}`, {
        tasks: remaining.map((item) => item.body),
      });
      if (answer.ok) {
        const result = answer.body as BatchResult;
        this.stats.sentTasks += result.accepted;
        this.stats.duplicateTasks += result.duplicates;
        return;
      }
      // Over this Merit's body limit (smaller than maxBatchBytes): each half is sent on its own.
      if (answer.status === 413 && remaining.length > 1) {
        const half = Math.ceil(remaining.length / 2);
        await this.sendTasks(remaining.slice(0, half));
        await this.sendTasks(remaining.slice(half));
        return;
      }
      // One invalid task (400 naming `tasks.<i>.<field>`) is set aside; the rest of the batch is sent again.
      const index = answer.status === 400 ? invalidTaskIndex(answer.error?.field) : undefined;
      const invalid = index === undefined ? undefined : remaining[index];
      if (invalid === undefined || remaining.length === 1) {
        this.giveUp(answer, remaining);
        return;
      }
      this.giveUp(answer, [invalid]);
      remaining = remaining.filter((item) => item !== invalid);
    }
  }

  private async sendFeedback(item: QueueItem & { kind: 'feedback' }): Promise<void> {
    const path = `/api/tasks/${encodeURIComponent(item.taskId)}/feedback${this.userQuery(item.userId)}`;
    const answer = await this.request('POST', path, item.body);
    if (answer.ok) this.stats.sentFeedback += 1;
    else this.giveUp(answer, [item]);
  }

  private userQuery(userId: string | undefined): string {
    const user = userId ?? this.options.userId;
    return user === undefined ? '' : `?user_id=${encodeURIComponent(user)}`;
  }

  private giveUp(answer: FailedAnswer, items: readonly QueueItem[]): void {
    this.stats.failed += items.length;
    const what = answer.status === undefined ? 'a network error' : `HTTP ${answer.status}`;
    const detail = answer.error
      ? `: ${answer.error.message}`
      : answer.cause
        ? `: ${String(answer.cause)}`
        : '';
    const error = new MeritDeliveryError(
      `Merit did not take ${items.length} item(s) (${what}${detail})`,
      { status: answer.status, code: answer.error?.code, items },
      { cause: answer.cause },
    );
    try {
      this.options.onError(error);
    } catch {
      // A throwing error handler must not stop the sending of everything else.
    }
  }

  private async request(method: string, path: string, body: unknown): Promise<Answer> {
    for (let attempt = 0; ; attempt += 1) {
      const answer = await this.attempt(method, path, body);
      if (answer.ok || !answer.retryable || attempt + 1 >= this.options.maxAttempts) return answer;
      if (this.aborter.signal.aborted) return answer;
      this.stats.retries += 1;
      const delay = computeRetryDelayMs(
        attempt,
        answer.retryAfterMs,
        this.options.backoff,
        this.options.random,
      );
      await sleep(delay, this.aborter.signal);
    }
  }

  private async attempt(method: string, path: string, body: unknown): Promise<Answer> {
    const headers: Record<string, string> = { 'content-type': 'application/json', ...this.options.headers };
    if (this.options.apiKey !== undefined) headers.authorization = `Bearer ${this.options.apiKey}`;
    const signal = AbortSignal.any([this.aborter.signal, AbortSignal.timeout(this.options.requestTimeoutMs)]);
    let response: Response;
    try {
      response = await this.options.fetch(`${this.options.baseUrl}${path}`, {
        method,
        headers,
        body: JSON.stringify(body),
        signal,
      });
    } catch (cause) {
      return {
        ok: false,
        status: undefined,
        retryable: true,
        retryAfterMs: undefined,
        error: undefined,
        cause,
      };
    }
    const text = await response.text().catch(() => '');
    const parsed = parseJson(text);
    if (response.ok) return { ok: true, status: response.status, body: parsed };
    return {
      ok: false,
      status: response.status,
      retryable: isRetryableStatus(response.status),
      retryAfterMs: parseRetryAfterMs(response.headers.get('retry-after'), Date.now()),
      error: readErrorBody(parsed),
      cause: undefined,
    };
  }
}

type Answer = { ok: true; status: number; body: unknown } | FailedAnswer;

interface FailedAnswer {
  ok: false;
  status: number | undefined;
  retryable: boolean;
  retryAfterMs: number | undefined;
  error: ErrorBody['error'] | undefined;
  cause: unknown;
}

/** The batch index in a validation error's field (`tasks.3.command` -> 3). */
export function invalidTaskIndex(field: string | undefined): number | undefined {
  const match = field === undefined ? null : /^tasks\.(\d+)(\.|$)/.exec(field);
  return match?.[1] === undefined ? undefined : Number(match[1]);
}

function readErrorBody(value: unknown): ErrorBody['error'] | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const error = (value as { error?: unknown }).error;
  if (typeof error !== 'object' || error === null) return undefined;
  const { code, message, field } = error as Record<string, unknown>;
  if (typeof code !== 'string' || typeof message !== 'string') return undefined;
  return typeof field === 'string' ? { code, message, field } : { code, message };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** The length of a string in UTF-8 bytes (what it weighs in a request body). */
export function utf8Length(text: string): number {
  let bytes = text.length;
  for (let index = 0; index < text.length; index += 1) {
    const code = text.charCodeAt(index);
    if (code < 0x80) continue;
    if (code < 0x800) {
      bytes += 1;
      continue;
    }
    bytes += 2;
    // A surrogate pair is 4 bytes for its 2 units.
    const next = text.charCodeAt(index + 1);
    if (code >= 0xd800 && code <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) index += 1;
  }
  return bytes;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
