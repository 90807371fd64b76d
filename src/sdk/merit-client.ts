/**
 * Merit's TypeScript SDK (`merit/sdk`): records the tasks an agent runs in the host's process (start,
 * steps, usage, result or failure) and users' ratings, and sends them to Merit in the background.
 *
 *   const merit = new MeritClient({ baseUrl: 'http://127.0.0.1:8000', apiKey: process.env.MERIT_API_KEY });
 *   const answer = await merit.task('agent_a', 'summarize the report', async (task) => {
 *     const text = await task.step('draft', () => callModel());
 *     task.usage({ model: 'gpt-4o-mini', inputTokens: 812, outputTokens: 130 });
 *     return text;
 *   });
 */
import { DeliveryQueue, type DeliveryStats, type MeritDeliveryError } from './delivery-queue.js';
import {
  addUsage,
  buildFinishedTask,
  describeError,
  describeResult,
  NO_USAGE,
  type RecordedNode,
  type Usage,
  type UsageTotals,
} from './task-body.js';

export type { DeliveryStats } from './delivery-queue.js';
export { MeritDeliveryError } from './delivery-queue.js';
export type { Usage } from './task-body.js';

export interface MeritClientOptions {
  /** Where Merit listens, e.g. `http://127.0.0.1:8000` (no trailing `/api`). */
  baseUrl: string;
  /** A project key with the `ingest` scope (and `feedback` to send ratings): `merit_<prefix>_<secret>`. */
  apiKey?: string | undefined;
  /**
   * Sent as `?user_id=` on every request. Local mode (MERIT_AUTH=local, no key): the UUID of the user the
   * tasks belong to, required there. With a key: the end user of tasks that name none.
   */
  userId?: string | undefined;
  /** Finished tasks per request (1-1000, the batch endpoint's limit). Default 100. */
  maxBatchSize?: number;
  /** How long a finished task may wait for others to share its request. Default 1000 ms. */
  flushIntervalMs?: number;
  /**
   * Tasks and ratings held in memory at most. When full, the oldest waiting item is dropped and counted in
   * `stats().dropped`: recording never blocks or slows the host's agent. Default 10,000.
   */
  maxQueueSize?: number;
  /**
   * What the tasks and ratings held may weigh at most (their JSON, UTF-8 bytes; a result may be 1,000,000
   * characters), dropping the oldest as `maxQueueSize` does. Default 64 MiB.
   */
  maxQueueBytes?: number;
  /**
   * A batch request's body at most (UTF-8 bytes), under Merit's MERIT_MAX_BODY_BYTES (4 MiB by default);
   * a batch that Merit still finds too large (413) is sent in halves. Default 3 MiB.
   */
  maxBatchBytes?: number;
  /** Attempts per request, the first included. Default 6. */
  maxAttempts?: number;
  /** Backoff of the first retry (doubled each time, with full jitter). Default 500 ms. */
  baseRetryDelayMs?: number;
  /** The longest wait between attempts, Retry-After included. Default 30,000 ms. */
  maxRetryDelayMs?: number;
  /** Per-request timeout. Default 30,000 ms (a retried request is safe: task ids make it idempotent). */
  requestTimeoutMs?: number;
  /** Flush on `beforeExit` and, best effort, on SIGTERM (see docs/SDK.md). Default true. */
  flushOnExit?: boolean;
  /** How long the SIGTERM flush may take before the signal's default action proceeds. Default 2,000 ms. */
  exitFlushTimeoutMs?: number;
  /** Called for what Merit refused (4xx) or what still failed after every retry. Default: a console warning. */
  onError?: (error: MeritDeliveryError) => void;
  /** Extra headers on every request (e.g. `X-Merit-Project`). */
  headers?: Record<string, string>;
  /** For tests and proxies; defaults to the global fetch. */
  fetch?: typeof globalThis.fetch;
  /** For tests: the jitter's random source. */
  random?: () => number;
}

export interface TaskOptions {
  /** The end user who gave the command, any string id (Merit maps it to a stable user). */
  userId?: string;
  /** The objective category; Merit classifies the command when omitted. */
  category?: string;
  /** The task's id (a UUID); generated when omitted. Sending the same id twice records the task once. */
  id?: string;
}

/** What a step's function can report about itself. */
export interface StepContext {
  readonly name: string;
  /** Token usage of a model call made in this step: counted for the step and for its task. */
  usage(usage: Usage): void;
}

/** The running task, handed to the function given to `MeritClient.task`. */
export interface TaskContext {
  /** The task's id in Merit (for `client.feedback` and the feedback widget). */
  readonly id: string;
  readonly agentId: string;
  /** Runs one step of the task, recorded as a node with its duration and error (a thrown error is re-thrown). */
  step<T>(name: string, fn: (step: StepContext) => T | Promise<T>): Promise<T>;
  /** Token usage of a model call outside any step (counted once, for the task). */
  usage(usage: Usage): void;
  /** Sets the result text Merit stores (otherwise the function's return value, as text). */
  setResult(result: string): void;
}

const AGENT_ID = /^[a-z0-9_]{1,50}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export class MeritClient {
  private readonly queue: DeliveryQueue;
  private readonly removeExitHooks: () => void;

  constructor(options: MeritClientOptions) {
    const baseUrl = options.baseUrl.replace(/\/+$/, '');
    if (!/^https?:\/\//.test(baseUrl)) throw new TypeError('baseUrl must be an http(s) URL');
    const maxBatchSize = options.maxBatchSize ?? 100;
    if (!Number.isInteger(maxBatchSize) || maxBatchSize < 1 || maxBatchSize > 1000) {
      throw new TypeError('maxBatchSize must be an integer from 1 to 1000');
    }
    const maxQueueSize = options.maxQueueSize ?? 10_000;
    if (!Number.isInteger(maxQueueSize) || maxQueueSize < 1)
      throw new TypeError('maxQueueSize must be a positive integer');
    const maxQueueBytes = options.maxQueueBytes ?? 64 * 1024 * 1024;
    const maxBatchBytes = options.maxBatchBytes ?? 3 * 1024 * 1024;
    for (const [name, value] of [
      ['maxQueueBytes', maxQueueBytes],
      ['maxBatchBytes', maxBatchBytes],
    ] as const) {
      if (!Number.isInteger(value) || value < 1) throw new TypeError(`${name} must be a positive integer`);
    }
    this.queue = new DeliveryQueue({
      baseUrl,
      apiKey: options.apiKey,
      userId: options.userId,
      fetch: options.fetch ?? globalThis.fetch.bind(globalThis),
      maxQueueSize,
      maxQueueBytes,
      maxBatchSize,
      maxBatchBytes,
      flushIntervalMs: options.flushIntervalMs ?? 1000,
      maxAttempts: Math.max(1, options.maxAttempts ?? 6),
      requestTimeoutMs: options.requestTimeoutMs ?? 30_000,
      backoff: {
        baseDelayMs: options.baseRetryDelayMs ?? 500,
        maxDelayMs: options.maxRetryDelayMs ?? 30_000,
      },
      random: options.random ?? Math.random,
      headers: options.headers ?? {},
      onError: options.onError ?? ((error) => console.warn(`[merit] ${error.message}`)),
    });
    this.removeExitHooks =
      options.flushOnExit === false ? () => {} : installExitHooks(this, options.exitFlushTimeoutMs ?? 2000);
  }

  /**
   * Runs `fn` as one task of `agentId` for `command` and records it: its start and end, its steps, usage,
   * and its result (what `fn` returns) or failure (what it throws, re-thrown unchanged).
   */
  async task<T>(
    agentId: string,
    command: string,
    fn: (task: TaskContext) => T | Promise<T>,
    options: TaskOptions = {},
  ): Promise<T> {
    if (!AGENT_ID.test(agentId)) {
      throw new TypeError('agentId must be 1-50 lowercase letters, digits or underscores (a Merit agent id)');
    }
    if (command.trim() === '') throw new TypeError('command must not be empty');
    if (options.id !== undefined && !UUID.test(options.id)) throw new TypeError('id must be a UUID');
    const id = options.id ?? crypto.randomUUID();
    const startedAt = new Date();
    const taskBegun = performance.now();
    const nodes: RecordedNode[] = [];
    let usage: UsageTotals = NO_USAGE;
    let result: string | undefined;
    const context: TaskContext = {
      id,
      agentId,
      usage: (reported) => {
        usage = addUsage(usage, reported);
      },
      setResult: (text) => {
        result = text;
      },
      step: async (name, stepFn) => {
        const node: RecordedNode = {
          name,
          startedAt: new Date(),
          durationMs: 0,
          error: undefined,
          usage: NO_USAGE,
        };
        const begun = performance.now();
        const step: StepContext = {
          name,
          usage: (reported) => {
            node.usage = addUsage(node.usage, reported);
            usage = addUsage(usage, reported);
          },
        };
        try {
          return await stepFn(step);
        } catch (error) {
          node.error = describeError(error);
          throw error;
        } finally {
          node.durationMs = Math.round(performance.now() - begun);
          nodes.push(node);
        }
      },
    };
    const record = (outcome: { result: string } | { error: string }) =>
      this.queue.push({
        kind: 'task',
        body: buildFinishedTask({
          id,
          agentId,
          command,
          category: options.category,
          userId: options.userId,
          startedAt,
          completedAt: new Date(),
          durationMs: Math.round(performance.now() - taskBegun),
          result: 'result' in outcome ? outcome.result : undefined,
          error: 'error' in outcome ? outcome.error : undefined,
          usage,
          nodes: [...nodes].sort((a, b) => a.startedAt.getTime() - b.startedAt.getTime()),
        }),
      });
    let value: T;
    try {
      value = await fn(context);
    } catch (error) {
      record({ error: describeError(error) });
      throw error;
    }
    record({ result: result ?? describeResult(value) });
    return value;
  }

  /**
   * Queues a user's 1-5 rating (and optional comment) of a task; sent after the task itself. Needs a key
   * with the `feedback` scope.
   */
  feedback(taskId: string, rating: number, text?: string, options: { userId?: string } = {}): void {
    if (!UUID.test(taskId)) throw new TypeError('taskId must be a UUID');
    if (!Number.isInteger(rating) || rating < 1 || rating > 5)
      throw new TypeError('rating must be an integer from 1 to 5');
    const comment = text?.trim();
    this.queue.push({
      kind: 'feedback',
      taskId,
      body: comment ? { user_rating: rating, user_feedback: comment } : { user_rating: rating },
      ...(options.userId === undefined ? {} : { userId: options.userId }),
    });
  }

  /** Resolves when everything recorded so far has been sent (or given up on). */
  flush(): Promise<void> {
    return this.queue.flush();
  }

  /** Sends what is queued (waiting at most `timeoutMs`), removes the exit hooks, and refuses new records. */
  async close(timeoutMs = 30_000): Promise<void> {
    this.removeExitHooks();
    await this.queue.close(timeoutMs);
  }

  /** What was sent, dropped, failed and retried so far. */
  stats(): DeliveryStats {
    return this.queue.snapshot();
  }
}

/** The clients whose queues are flushed on exit; one pair of process listeners serves them all. */
const clientsToFlushOnExit = new Set<MeritClient>();
let exitFlushTimeoutMs = 2000;

function flushAllClients(): Promise<unknown> {
  return Promise.all([...clientsToFlushOnExit].map((client) => client.flush()));
}

function onBeforeExit(): void {
  // beforeExit fires again after this work; once every queue is empty nothing is scheduled and the process ends.
  if ([...clientsToFlushOnExit].some((client) => client.stats().queued > 0)) void flushAllClients();
}

/**
 * SIGTERM, best effort, without changing what the signal does: if the host listens for SIGTERM itself it
 * stays in charge of exiting; otherwise, after the flush (bounded by the timeout), our listener is removed
 * and the signal raised again, so the process ends as it would have without the SDK.
 */
function onSigterm(): void {
  const hostHandlesSignal = process.listenerCount('SIGTERM') > 1;
  const timeout = new Promise((resolve) => setTimeout(resolve, exitFlushTimeoutMs).unref());
  const flushed = Promise.race([flushAllClients(), timeout]);
  if (hostHandlesSignal) return;
  void flushed.then(() => {
    process.off('SIGTERM', onSigterm);
    process.kill(process.pid, 'SIGTERM');
  });
}

function installExitHooks(client: MeritClient, timeoutMs: number): () => void {
  if (typeof process === 'undefined' || typeof process.on !== 'function') return () => {};
  exitFlushTimeoutMs = timeoutMs;
  if (clientsToFlushOnExit.size === 0) {
    process.on('beforeExit', onBeforeExit);
    process.on('SIGTERM', onSigterm);
  }
  clientsToFlushOnExit.add(client);
  return () => {
    if (!clientsToFlushOnExit.delete(client) || clientsToFlushOnExit.size > 0) return;
    process.off('beforeExit', onBeforeExit);
    process.off('SIGTERM', onSigterm);
  };
}
