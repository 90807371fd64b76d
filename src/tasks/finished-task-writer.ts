/**
 * Coalesces concurrent small writes of finished tasks into shared statements ("group commit" at the
 * application level). While a statement is in flight, new requests wait and are then written together
 * in one statement, so under load many tasks share one round trip, one commit and one statistics update;
 * with no load, a request is written at once, without waiting. Each request is answered only after the
 * statement holding its tasks committed. If a shared statement fails, its requests are retried one by
 * one, so that one request's failure is never another's.
 */

export interface WriteEntry<TRecord extends { id: string }, TNode> {
  record: TRecord;
  nodes: readonly TNode[];
}

/** Writes entries in one statement; returns the ids of the tasks it inserted (new ids only). */
export type WriteFinished<TRecord extends { id: string }, TNode> = (
  entries: readonly WriteEntry<TRecord, TNode>[],
) => Promise<ReadonlySet<string>>;

interface Pending<TRecord extends { id: string }, TNode> {
  entries: readonly WriteEntry<TRecord, TNode>[];
  resolve(inserted: ReadonlySet<string>): void;
  reject(error: unknown): void;
}

export interface WriterOptions {
  /** Statements in flight at once (more pipelines better on a pool; each holds a connection). */
  maxInFlight: number;
  /** Tasks per shared statement at most. */
  maxTasksPerStatement: number;
}

export class FinishedTaskWriter<TRecord extends { id: string }, TNode> {
  private readonly queue: Pending<TRecord, TNode>[] = [];
  private inFlight = 0;

  constructor(
    private readonly write: WriteFinished<TRecord, TNode>,
    private readonly options: WriterOptions,
  ) {}

  /** Writes the entries (shared with other requests' when they arrive together); resolves with the ids inserted. */
  submit(entries: readonly WriteEntry<TRecord, TNode>[]): Promise<ReadonlySet<string>> {
    return new Promise((resolve, reject) => {
      this.queue.push({ entries, resolve, reject });
      this.pump();
    });
  }

  private pump(): void {
    while (this.inFlight < this.options.maxInFlight && this.queue.length > 0) {
      const batch = this.takeBatch();
      this.inFlight++;
      void this.flush(batch).finally(() => {
        this.inFlight--;
        this.pump();
      });
    }
  }

  private takeBatch(): Pending<TRecord, TNode>[] {
    const batch: Pending<TRecord, TNode>[] = [];
    let tasks = 0;
    while (this.queue.length > 0) {
      const next = this.queue[0] as Pending<TRecord, TNode>;
      if (batch.length > 0 && tasks + next.entries.length > this.options.maxTasksPerStatement) break;
      batch.push(next);
      tasks += next.entries.length;
      this.queue.shift();
    }
    return batch;
  }

  private async flush(batch: readonly Pending<TRecord, TNode>[]): Promise<void> {
    try {
      const inserted = await this.write(dedupeEntries(batch.flatMap((pending) => pending.entries)));
      settleShared(batch, inserted);
    } catch (error) {
      if (batch.length === 1) {
        (batch[0] as Pending<TRecord, TNode>).reject(error);
        return;
      }
      for (const pending of batch) {
        await this.write(dedupeEntries(pending.entries)).then(pending.resolve, pending.reject);
      }
    }
  }
}

/** Keeps the first entry of each task id: a repeated id in one statement is a duplicate, not a second task. */
export function dedupeEntries<T extends { record: { id: string } }>(entries: readonly T[]): T[] {
  const seen = new Set<string>();
  return entries.filter((entry) => {
    if (seen.has(entry.record.id)) return false;
    seen.add(entry.record.id);
    return true;
  });
}

/** Each id the statement inserted is credited to the first request that sent it. */
function settleShared<TRecord extends { id: string }, TNode>(
  batch: readonly Pending<TRecord, TNode>[],
  inserted: ReadonlySet<string>,
): void {
  const credited = new Set<string>();
  for (const pending of batch) {
    const mine = new Set<string>();
    for (const { record } of pending.entries) {
      if (inserted.has(record.id) && !credited.has(record.id)) {
        credited.add(record.id);
        mine.add(record.id);
      }
    }
    pending.resolve(mine);
  }
}
