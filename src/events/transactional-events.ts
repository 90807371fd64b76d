import type { Kysely, Transaction } from 'kysely';
import type { Database } from '../db/database.js';
import { type RetryOptions, runTransaction } from '../db/transaction.js';
import type { EventBus, LiveEvent } from './event-bus.js';
import { encodeEvent } from './event-payload.js';
import { notifyEvents } from './events.queries.js';

/** Announces a change of the write in progress (sent if and only if its transaction commits). */
export type Emit = (...events: LiveEvent[]) => void;

/**
 * The live events of one write. They are sent with pg_notify INSIDE the write's transaction (by `send`,
 * or as part of the write's own statement with `payloads`), so PostgreSQL delivers them to every
 * process exactly when the write commits, whatever happens to the writer afterwards; then `deliver`
 * hands them to this process's subscribers, once. The notifications carry the bus's origin, so this
 * process's relay drops its own. Without a bus (a CLI command, a test) they are sent untagged and every
 * listening process, this one's included, takes them.
 */
export class PendingEvents {
  private readonly events = new Map<string, LiveEvent>();
  private state: 'collecting' | 'sent' | 'delivered' = 'collecting';

  constructor(private readonly bus: EventBus | undefined) {}

  readonly emit: Emit = (...events) => {
    if (this.state !== 'collecting') throw new Error('an event was emitted after its transaction was sent');
    for (const event of events) this.add(event);
  };

  get size(): number {
    return this.events.size;
  }

  /** The notification payloads (each under PostgreSQL's 8000-byte cap), for a statement that sends them. */
  payloads(): string[] {
    const origin = this.bus?.origin ?? null;
    return [...this.events.values()].flatMap((event) => encodeEvent(event, origin));
  }

  /** Sends the events in `trx`, as its last statement before the commit. */
  async send(trx: Kysely<Database>): Promise<void> {
    const payloads = this.payloads();
    this.state = 'sent';
    await notifyEvents(trx, payloads);
  }

  /** After the commit: this process's subscribers get each event once (a second call does nothing). */
  deliver(): void {
    if (this.state === 'delivered') return;
    this.state = 'delivered';
    if (!this.bus) return;
    for (const event of this.events.values()) this.bus.deliver(event);
  }

  /**
   * One event per task, and one leaderboard change per project naming every agent (an empty list, "any
   * agent", absorbs the others): a batch of many tasks stays a bounded number of notifications.
   */
  private add(event: LiveEvent): void {
    if (event.type === 'resync') throw new Error('a resync is never sent to other processes');
    if (event.type !== 'leaderboard') {
      const key =
        event.type === 'task'
          ? `task/${event.projectId}/${event.taskId}`
          : `${event.type}/${event.projectId}`;
      if (!this.events.has(key)) this.events.set(key, event);
      return;
    }
    const key = `leaderboard/${event.projectId}`;
    const earlier = this.events.get(key);
    if (earlier?.type !== 'leaderboard') {
      this.events.set(key, { ...event, agentIds: [...new Set(event.agentIds)] });
      return;
    }
    const agentIds =
      earlier.agentIds.length === 0 || event.agentIds.length === 0
        ? []
        : [...new Set([...earlier.agentIds, ...event.agentIds])];
    this.events.set(key, { ...earlier, agentIds });
  }
}

/**
 * Runs `work` in one transaction (run again from the start after a deadlock, like runTransaction) with an
 * `emit` for the changes it makes: they are sent with one pg_notify statement just before the commit,
 * reach every other process if and only if it commits, and reach this process's subscribers after it
 * committed. Every Merit write that announces a change goes through here (or through PendingEvents, when
 * the write is a single statement).
 */
export async function runTransactionWithEvents<T>(
  db: Kysely<Database>,
  bus: EventBus | undefined,
  work: (trx: Transaction<Database>, emit: Emit) => Promise<T>,
  options: RetryOptions = {},
): Promise<T> {
  let pending: PendingEvents | undefined;
  const result = await runTransaction(
    db,
    async (trx) => {
      // An attempt aborted as a deadlock victim announced nothing: only the committed attempt's events count.
      pending = new PendingEvents(bus);
      const value = await work(trx, pending.emit);
      await pending.send(trx);
      return value;
    },
    options,
  );
  pending?.deliver();
  return result;
}
