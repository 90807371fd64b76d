/** In-process fan-out of live events (task changes, leaderboard changes) to subscribers and SSE streams. */
export type LiveEvent =
  | { type: 'task'; userId: string; taskId: string }
  | { type: 'leaderboard'; agentIds: string[] };

export class EventBus {
  private readonly listeners = new Set<(event: LiveEvent) => void>();

  subscribe(listener: (event: LiveEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  publish(event: LiveEvent): void {
    for (const listener of this.listeners) listener(event);
  }

  get size(): number {
    return this.listeners.size;
  }
}

/** One message of a live stream, serialized once for every stream that receives it. */
export interface StreamMessage {
  readonly event: 'task' | 'leaderboard';
  readonly data: string;
  readonly id?: string;
}

/** A task snapshot for one user's streams; undefined when the task is gone or not the user's. */
export type TaskSnapshotLoader = (userId: string, taskId: string) => Promise<StreamMessage | undefined>;

export interface LiveStreamLimits {
  readonly maxPerUser: number;
  readonly maxTotal: number;
}

// A client that reads slower than tasks change gets its stream closed (it reconnects and refetches).
const MAX_PENDING_MESSAGES = 1000;

/**
 * One open live stream: the messages not yet written, at most one per task (a newer snapshot of a task
 * replaces the one still waiting) plus one leaderboard notice.
 */
export class LiveStream {
  private readonly pending = new Map<string, StreamMessage>();
  private wake: (() => void) | undefined;
  private closedFlag = false;

  constructor(private readonly onClose: () => void) {}

  get closed(): boolean {
    return this.closedFlag;
  }

  push(key: string, message: StreamMessage): void {
    if (this.closedFlag) return;
    this.pending.delete(key);
    this.pending.set(key, message);
    if (this.pending.size > MAX_PENDING_MESSAGES) this.close();
    this.wake?.();
  }

  /** The next message, or undefined after `timeoutMs` without one or once the stream is closed. */
  async next(timeoutMs: number): Promise<StreamMessage | undefined> {
    if (this.pending.size === 0 && !this.closedFlag) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, timeoutMs);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wake = undefined;
    }
    if (this.closedFlag) return undefined;
    const [key, message] = this.pending.entries().next().value ?? [];
    if (key === undefined) return undefined;
    this.pending.delete(key);
    return message;
  }

  /** Frees the stream's slot; idempotent. */
  close(): void {
    if (this.closedFlag) return;
    this.closedFlag = true;
    this.pending.clear();
    this.onClose();
    this.wake?.();
  }
}

/**
 * The live streams of this process, capped per user and in total. A task change is looked up ONCE and
 * the snapshot fanned out to every stream of its user (a user's lookups run one at a time, in order, and
 * changes of a task that arrive while it waits share one lookup).
 */
export class LiveStreams {
  private readonly byUser = new Map<string, Set<LiveStream>>();
  private readonly waiting = new Map<string, Set<string>>();
  private openCount = 0;
  private unsubscribe: (() => void) | undefined;
  /** Task lookups made so far (one per change, however many streams its user has open). */
  lookups = 0;

  constructor(
    private readonly bus: EventBus,
    private readonly loadSnapshot: TaskSnapshotLoader,
    readonly limits: LiveStreamLimits,
  ) {}

  /** Open streams: in all, or of one user. */
  count(userId?: string): number {
    return userId === undefined ? this.openCount : (this.byUser.get(userId)?.size ?? 0);
  }

  /** Opens a stream for the user, or says which cap refuses it. */
  open(userId: string): LiveStream | 'user_limit' | 'total_limit' {
    if (this.openCount >= this.limits.maxTotal) return 'total_limit';
    const streams = this.byUser.get(userId) ?? new Set<LiveStream>();
    if (streams.size >= this.limits.maxPerUser) return 'user_limit';
    const stream = new LiveStream(() => this.release(userId, stream));
    streams.add(stream);
    this.byUser.set(userId, streams);
    this.openCount++;
    this.unsubscribe ??= this.bus.subscribe((event) => this.dispatch(event));
    return stream;
  }

  private release(userId: string, stream: LiveStream): void {
    const streams = this.byUser.get(userId);
    if (!streams?.delete(stream)) return;
    this.openCount--;
    if (streams.size === 0) this.byUser.delete(userId);
    if (this.openCount === 0) {
      this.unsubscribe?.();
      this.unsubscribe = undefined;
    }
  }

  private dispatch(event: LiveEvent): void {
    if (event.type === 'leaderboard') {
      const message: StreamMessage = {
        event: 'leaderboard',
        data: JSON.stringify({ agent_ids: event.agentIds }),
      };
      for (const streams of this.byUser.values()) {
        for (const stream of streams) stream.push('leaderboard', message);
      }
      return;
    }
    if (!this.byUser.has(event.userId)) return;
    const queued = this.waiting.get(event.userId);
    if (queued) {
      queued.add(event.taskId);
      return;
    }
    this.waiting.set(event.userId, new Set([event.taskId]));
    void this.lookUpChanges(event.userId);
  }

  /** Looks up the user's changed tasks one after another and hands each snapshot to all its streams. */
  private async lookUpChanges(userId: string): Promise<void> {
    const queued = this.waiting.get(userId);
    while (queued && queued.size > 0 && this.byUser.has(userId)) {
      const taskId = queued.values().next().value as string;
      queued.delete(taskId);
      this.lookups++;
      // A failed lookup (database down) drops this snapshot; the client refetches when it reconnects.
      const message = await this.loadSnapshot(userId, taskId).catch(() => undefined);
      if (!message) continue;
      for (const stream of this.byUser.get(userId) ?? []) stream.push(`task:${taskId}`, message);
    }
    this.waiting.delete(userId);
  }
}
