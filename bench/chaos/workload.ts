import type { WriteLedger } from './checks.js';
import type { ChaosClient, Outcome } from './http-client.js';

export const CHAOS_USER_ID = '00000000-0000-0000-0000-00000000c4a0';

/** A version-4 UUID drawn from the seeded generator (reproducible ids). */
export function drawUuid(random: () => number): string {
  const bytes = Array.from({ length: 16 }, () => Math.floor(random() * 256));
  bytes[6] = ((bytes[6] as number) & 0x0f) | 0x40;
  bytes[8] = ((bytes[8] as number) & 0x3f) | 0x80;
  const hex = bytes.map((byte) => byte.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export function isSuccess(outcome: Outcome): boolean {
  return outcome.kind === 'status' && outcome.status >= 200 && outcome.status < 300;
}

export interface WorkloadOptions {
  agents: readonly string[];
  categories: readonly string[];
}

/**
 * Valid writes of every kind (tasks created and completed, finished tasks one by one and in batches,
 * ratings), each acknowledged one entered in the ledger.
 */
export class Workload {
  /** Acknowledged completed tasks that nobody has rated yet. */
  readonly rateable: string[] = [];
  private counter = 0;

  constructor(
    readonly client: ChaosClient,
    readonly ledger: WriteLedger,
    readonly random: () => number,
    readonly options: WorkloadOptions,
  ) {}

  withUser(path: string): string {
    return `${path}?user_id=${CHAOS_USER_ID}`;
  }

  private pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.random() * items.length)] as T;
  }

  private usage() {
    const prompt = 100 + Math.floor(this.random() * 3000);
    const completion = 50 + Math.floor(this.random() * 1500);
    return {
      prompt_tokens: prompt,
      completion_tokens: completion,
      total_tokens: prompt + completion,
      duration_ms: 500 + Math.floor(this.random() * 60_000),
    };
  }

  /** Creates a running task (client-chosen id); returns its id once acknowledged. */
  async createTask(category = this.pick(this.options.categories)): Promise<string | undefined> {
    const id = drawUuid(this.random);
    const outcome = await this.client.send({
      method: 'POST',
      path: this.withUser('/api/tasks'),
      body: {
        id,
        agent_id: this.pick(this.options.agents),
        command: `chaos task ${++this.counter}`,
        objective_category: category,
        status: 'running',
      },
    });
    if (!isSuccess(outcome)) return undefined;
    this.ledger.task(id, 'started');
    return id;
  }

  /** Completes a task; an acknowledged completion must leave it completed with its score. */
  async completeTask(id: string): Promise<Outcome> {
    const outcome = await this.client.send({
      method: 'POST',
      path: this.withUser(`/api/tasks/${id}/complete`),
      body: { result: `result of ${id}`, ...this.usage() },
    });
    if (isSuccess(outcome)) {
      this.ledger.task(id, 'completed');
      this.rateable.push(id);
    }
    return outcome;
  }

  /** A finished task as the batch endpoint takes it: mostly completed, some failed, some rated. */
  finishedTask(): { body: Record<string, unknown>; id: string; rating: number | undefined; failed: boolean } {
    const id = drawUuid(this.random);
    const failed = this.random() < 0.1;
    const rating = !failed && this.random() < 0.4 ? 1 + Math.floor(this.random() * 5) : undefined;
    const usage = this.usage();
    const completedAt = new Date(Date.now() - Math.floor(this.random() * 3_600_000));
    const startedAt = new Date(completedAt.getTime() - usage.duration_ms);
    return {
      id,
      rating,
      failed,
      body: {
        id,
        agent_id: this.pick(this.options.agents),
        command: `chaos finished task ${++this.counter}`,
        objective_category: this.pick(this.options.categories),
        status: failed ? 'failed' : 'completed',
        ...(failed ? { error: 'chaos failure' } : { result: `finished result ${id}` }),
        ...(rating === undefined ? {} : { user_rating: rating }),
        ...usage,
        started_at: startedAt.toISOString(),
        completed_at: completedAt.toISOString(),
      },
    };
  }

  /** Records `count` finished tasks: one through /api/tasks/completed, more through /api/tasks/batch. */
  async recordFinished(count: number): Promise<Outcome> {
    const tasks = Array.from({ length: count }, () => this.finishedTask());
    for (const task of tasks) if (task.rating !== undefined) this.ledger.ratingSent(task.id, task.rating);
    const outcome = await this.client.send(
      count === 1
        ? { method: 'POST', path: this.withUser('/api/tasks/completed'), body: tasks[0]?.body }
        : {
            method: 'POST',
            path: this.withUser('/api/tasks/batch'),
            body: { tasks: tasks.map((t) => t.body) },
          },
    );
    if (isSuccess(outcome)) {
      for (const task of tasks) {
        this.ledger.task(task.id, task.failed ? 'failed' : 'completed');
        if (task.rating !== undefined) this.ledger.ratingAcknowledged(task.id, task.rating);
        else if (!task.failed) this.rateable.push(task.id);
      }
    }
    return outcome;
  }

  /** Rates a completed task through the guide's feedback endpoint. */
  async rateTask(id: string): Promise<Outcome> {
    const rating = 1 + Math.floor(this.random() * 5);
    this.ledger.ratingSent(id, rating);
    const outcome = await this.client.send({
      method: 'POST',
      path: this.withUser(`/api/tasks/${id}/feedback`),
      body: { user_rating: rating, user_feedback: `chaos rating ${rating}` },
    });
    if (isSuccess(outcome)) this.ledger.ratingAcknowledged(id, rating);
    return outcome;
  }

  /** One operation of a steady mixed load (writes of every kind, some reads); returns its last outcome. */
  async mixedOperation(): Promise<Outcome | undefined> {
    const draw = this.random();
    if (draw < 0.3) return this.recordFinished(1);
    if (draw < 0.42) return this.recordFinished(10);
    if (draw < 0.67) {
      const id = await this.createTask();
      return id ? this.completeTask(id) : undefined;
    }
    if (draw < 0.87 && this.rateable.length > 0) {
      const index = Math.floor(this.random() * this.rateable.length);
      const [id] = this.rateable.splice(index, 1);
      return this.rateTask(id as string);
    }
    return this.client.send({
      method: 'GET',
      path: this.random() < 0.5 ? this.withUser('/api/agents/leaderboard') : this.withUser('/api/tasks'),
    });
  }
}

const PAUSE_AFTER_REFUSAL_MS = 100;

/**
 * Runs `operation` on `concurrency` workers until `stop()` says so; resolves when all have finished.
 * A worker pauses briefly after a refused connection or a 503, as a client with backoff would.
 */
export async function runSteadyLoad(
  concurrency: number,
  stop: () => boolean,
  operation: () => Promise<Outcome | undefined>,
): Promise<void> {
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (!stop()) {
        const outcome = await operation();
        if (
          outcome === undefined ||
          outcome.kind === 'error' ||
          (outcome.kind === 'status' && outcome.status === 503)
        )
          await new Promise((resolve) => setTimeout(resolve, PAUSE_AFTER_REFUSAL_MS));
      }
    }),
  );
}

/** Runs `count` operations with at most `concurrency` in flight. */
export async function runBounded(
  count: number,
  concurrency: number,
  operation: (index: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, count) }, async () => {
      for (;;) {
        const index = next++;
        if (index >= count) return;
        await operation(index);
      }
    }),
  );
}
