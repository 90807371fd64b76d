import { randomUUID } from 'node:crypto';
import type { Log } from '../lib/log.js';

/**
 * A change other parts of Merit react to (SSE streams, caches). Ids only, never rows: it crosses
 * processes as a PostgreSQL notification (see event-relay.ts), whose payload is capped at 8000 bytes.
 */
export type LiveEvent =
  | { type: 'task'; projectId: string; userId: string; taskId: string }
  /** `projectId` null: every project's statistics may have changed (the scheduled recompute). */
  | { type: 'leaderboard'; projectId: string | null; agentIds: string[] }
  /** A project's categories (templates) changed: cached templates and trained classifiers are stale. Null: every project's. */
  | { type: 'categories'; projectId: string | null }
  /** A project's agents changed (added, renamed, deactivated). Null: every project's. */
  | { type: 'agents'; projectId: string | null }
  /**
   * This process may have missed events (its LISTEN connection was down): every live stream is closed,
   * so its client reconnects and refetches what it shows. Delivered locally only, never sent.
   */
  | { type: 'resync' };

/**
 * Fan-out of live events to this process's subscribers. Writes emit their events inside their own
 * transaction (runTransactionWithEvents, ./transactional-events.ts): PostgreSQL sends them to every
 * process when it commits, tagged with this bus's `origin`, and this process's subscribers get them from
 * the writer right after the commit. Other processes' events arrive through EventRelay's `deliver`.
 */
export class EventBus {
  /** Tags the notifications of this process's writes: its relay drops them (they were delivered here). */
  readonly origin = randomUUID();
  private readonly listeners = new Set<(event: LiveEvent) => void>();

  /** `log` reports a subscriber that throws (the others still get the event). */
  constructor(private readonly log?: Pick<Log, 'error'>) {}

  subscribe(listener: (event: LiveEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Hands an event to this process's subscribers (a committed write's, or another process's). */
  deliver(event: LiveEvent): void {
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch (error) {
        this.log?.error({ err: error, event: event.type }, 'a live event subscriber failed');
      }
    }
  }

  get size(): number {
    return this.listeners.size;
  }
}

/** One message of a live stream, serialized once for every stream that receives it. */
export interface StreamMessage {
  readonly event: 'task' | 'leaderboard' | 'categories' | 'agents';
  readonly data: string;
  readonly id?: string;
}

/** A task snapshot for the streams of its project; undefined when the task is gone. */
export type TaskSnapshotLoader = (projectId: string, taskId: string) => Promise<StreamMessage | undefined>;

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

/** Who a stream is for: one user's tasks (local mode), or every task of the project (members, keys). */
export interface StreamViewer {
  readonly projectId: string;
  readonly userId: string;
  readonly wholeProject: boolean;
}

/**
 * The live streams of this process, capped per user and in total. A task change is looked up ONCE and
 * the snapshot fanned out to every stream that may see it: its user's own streams and the project-wide
 * streams of its project (a project's lookups run one at a time, in order, and changes of a task that
 * arrive while it waits share one lookup). Nothing crosses projects: a stream only ever receives
 * events of its own project.
 */
export class LiveStreams {
  /** Streams by audience: `<project>/<user>` (own tasks) or `<project>/*` (the whole project). */
  private readonly byAudience = new Map<string, Set<LiveStream>>();
  /** Open streams per `<project>/<user>`, for the per-user cap. */
  private readonly perUser = new Map<string, number>();
  private readonly waiting = new Map<string, Set<string>>();
  private openCount = 0;
  private unsubscribe: (() => void) | undefined;
  /** Task lookups made so far (one per change, however many streams may see it). */
  lookups = 0;

  constructor(
    private readonly bus: EventBus,
    private readonly loadSnapshot: TaskSnapshotLoader,
    readonly limits: LiveStreamLimits,
  ) {}

  /** Open streams: in all, or of one user of a project. */
  count(viewer?: Pick<StreamViewer, 'projectId' | 'userId'>): number {
    return viewer === undefined ? this.openCount : (this.perUser.get(userKey(viewer)) ?? 0);
  }

  /** Opens a stream for the viewer, or says which cap refuses it. */
  open(viewer: StreamViewer): LiveStream | 'user_limit' | 'total_limit' {
    if (this.openCount >= this.limits.maxTotal) return 'total_limit';
    const user = userKey(viewer);
    if ((this.perUser.get(user) ?? 0) >= this.limits.maxPerUser) return 'user_limit';
    const audience = viewer.wholeProject ? `${viewer.projectId}/*` : user;
    const streams = this.byAudience.get(audience) ?? new Set<LiveStream>();
    const stream = new LiveStream(() => this.release(audience, user, stream));
    streams.add(stream);
    this.byAudience.set(audience, streams);
    this.perUser.set(user, (this.perUser.get(user) ?? 0) + 1);
    this.openCount++;
    this.unsubscribe ??= this.bus.subscribe((event) => this.dispatch(event));
    return stream;
  }

  private release(audience: string, user: string, stream: LiveStream): void {
    const streams = this.byAudience.get(audience);
    if (!streams?.delete(stream)) return;
    this.openCount--;
    if (streams.size === 0) this.byAudience.delete(audience);
    const remaining = (this.perUser.get(user) ?? 1) - 1;
    if (remaining <= 0) this.perUser.delete(user);
    else this.perUser.set(user, remaining);
    if (this.openCount === 0) {
      this.unsubscribe?.();
      this.unsubscribe = undefined;
    }
  }

  private dispatch(event: LiveEvent): void {
    if (event.type === 'resync') {
      for (const streams of [...this.byAudience.values()]) for (const stream of [...streams]) stream.close();
      return;
    }
    if (event.type !== 'task') {
      // Project-wide changes: Mission Control refetches the leaderboard (only the named agents'
      // figures), or its category pickers, or its agent list.
      const message: StreamMessage = {
        event: event.type,
        data: JSON.stringify(event.type === 'leaderboard' ? { agent_ids: event.agentIds } : {}),
      };
      for (const [audience, streams] of this.byAudience) {
        if (event.projectId !== null && !audience.startsWith(`${event.projectId}/`)) continue;
        for (const stream of streams) stream.push(event.type, message);
      }
      return;
    }
    if (this.audiencesOf(event).length === 0) return;
    const queued = this.waiting.get(event.projectId);
    const key = `${event.userId}/${event.taskId}`;
    if (queued) {
      queued.add(key);
      return;
    }
    this.waiting.set(event.projectId, new Set([key]));
    void this.lookUpChanges(event.projectId);
  }

  private audiencesOf(event: { projectId: string; userId: string }): Set<LiveStream>[] {
    return [`${event.projectId}/${event.userId}`, `${event.projectId}/*`]
      .map((audience) => this.byAudience.get(audience))
      .filter((streams): streams is Set<LiveStream> => streams !== undefined);
  }

  /** Looks up the project's changed tasks one after another and hands each snapshot to its streams. */
  private async lookUpChanges(projectId: string): Promise<void> {
    const queued = this.waiting.get(projectId);
    while (queued && queued.size > 0) {
      const key = queued.values().next().value as string;
      queued.delete(key);
      const [userId = '', taskId = ''] = key.split('/');
      const audiences = this.audiencesOf({ projectId, userId });
      if (audiences.length === 0) continue;
      this.lookups++;
      // A failed lookup (database down) drops this snapshot; the client refetches when it reconnects.
      const message = await this.loadSnapshot(projectId, taskId).catch(() => undefined);
      if (!message) continue;
      for (const streams of this.audiencesOf({ projectId, userId })) {
        for (const stream of streams) stream.push(`task:${taskId}`, message);
      }
    }
    this.waiting.delete(projectId);
  }
}

function userKey(viewer: Pick<StreamViewer, 'projectId' | 'userId'>): string {
  return `${viewer.projectId}/${viewer.userId}`;
}
