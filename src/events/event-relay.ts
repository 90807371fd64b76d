import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type pg from 'pg';
import type { DatabaseHandle } from '../db/connect.js';
import type { Database } from '../db/database.js';
import type { Log } from '../lib/log.js';
import type { EventBus, LiveEvent } from './event-bus.js';
import { broadInvalidation, decodeEvent, encodeEvent } from './event-payload.js';
import { listenForEvents, notifyEvents } from './events.queries.js';

const FIRST_RETRY_MS = 250;
const MAX_RETRY_MS = 5000;
const END_TIMEOUT_MS = 1000;

/**
 * Announces a change inside the transaction that writes it: every process (this one too, through its
 * LISTEN connection) receives it if and only if the transaction commits.
 */
export async function notifyInTransaction(trx: Kysely<Database>, event: LiveEvent): Promise<void> {
  await notifyEvents(trx, encodeEvent(event, null));
}

export interface EventRelayOptions {
  readonly firstRetryMs?: number;
  readonly maxRetryMs?: number;
}

/**
 * Carries one process's live events to and from every other Merit process on the database, through
 * PostgreSQL: what this process publishes on its EventBus (after the write committed) is sent with
 * pg_notify, tagged with this process's origin id; ONE dedicated connection LISTENs and hands the other
 * processes' events (and untagged ones, sent by notifyInTransaction) to the bus. An event this process
 * published was delivered to its subscribers by `publish` and its own notification is dropped, so each
 * event reaches each process exactly once. A lost LISTEN connection is re-opened with backoff, and the
 * process then invalidates everything (notifications sent meanwhile were missed).
 */
export class EventRelay {
  /** Tags this process's notifications. */
  readonly origin = randomUUID();
  private client: pg.Client | undefined;
  private stopped = false;
  private retryTimer: NodeJS.Timeout | undefined;
  private attempts = 0;
  private detach: (() => void) | undefined;
  private readonly sending = new Set<Promise<void>>();
  /** Times the LISTEN connection was re-opened after being lost. */
  reconnects = 0;
  /** Events received from other processes. */
  received = 0;

  constructor(
    private readonly handle: Pick<DatabaseHandle, 'createClient' | 'db'>,
    private readonly bus: EventBus,
    private readonly log: Log,
    private readonly options: EventRelayOptions = {},
  ) {}

  /** True while the LISTEN connection is open. */
  get listening(): boolean {
    return this.client !== undefined;
  }

  /** The server process of the LISTEN connection (diagnostics, pg_stat_activity). */
  get backendPid(): number | undefined {
    return (this.client as { processID?: number } | undefined)?.processID;
  }

  /** Opens the LISTEN connection (failing if the database refuses it), then relays published events. */
  async start(): Promise<void> {
    this.client = await this.openListener();
    this.detach = this.bus.attachRelay((event) => this.send(event));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.detach?.();
    if (this.retryTimer) clearTimeout(this.retryTimer);
    await Promise.allSettled([...this.sending]);
    const client = this.client;
    this.client = undefined;
    if (client) await endClient(client);
  }

  private send(event: LiveEvent): void {
    // A resync is this process's own business: the others' connections were not down.
    if (event.type === 'resync') return;
    const sending = notifyEvents(this.handle.db, encodeEvent(event, this.origin))
      .catch((error: unknown) => {
        // The other processes miss it; their caches catch up when their LISTEN reconnects or expire.
        this.log.warn(
          { err: error, event: event.type },
          'could not announce a change to the other processes',
        );
      })
      .finally(() => this.sending.delete(sending));
    this.sending.add(sending);
  }

  private async openListener(): Promise<pg.Client> {
    const client = this.handle.createClient();
    try {
      client.on('notification', (message) => this.receive(message.payload));
      await client.connect();
      await listenForEvents(client);
    } catch (error) {
      await endClient(client);
      throw error;
    }
    let lost = false;
    const onLost = (error?: Error) => {
      if (lost || this.stopped) return;
      lost = true;
      if (this.client === client) this.client = undefined;
      this.log.warn({ err: error }, 'the live events connection was lost: reconnecting');
      void endClient(client);
      this.scheduleReconnect();
    };
    client.on('error', onLost);
    client.on('end', () => onLost());
    return client;
  }

  private receive(payload: string | undefined): void {
    const envelope = payload === undefined ? undefined : decodeEvent(payload);
    if (!envelope) {
      this.log.warn({ payload: payload?.slice(0, 200) }, 'ignored a notification that is not a Merit event');
      return;
    }
    if (envelope.origin === this.origin) return;
    this.received++;
    this.deliver([envelope.event]);
  }

  private deliver(events: readonly LiveEvent[]): void {
    for (const event of events) {
      try {
        this.bus.deliver(event);
      } catch (error) {
        this.log.error({ err: error, event: event.type }, 'a live event subscriber failed');
      }
    }
  }

  private scheduleReconnect(): void {
    const first = this.options.firstRetryMs ?? FIRST_RETRY_MS;
    const delay = Math.min(first * 2 ** this.attempts, this.options.maxRetryMs ?? MAX_RETRY_MS);
    this.attempts++;
    this.retryTimer = setTimeout(() => void this.reconnect(), delay);
  }

  private async reconnect(): Promise<void> {
    this.retryTimer = undefined;
    if (this.stopped) return;
    try {
      const client = await this.openListener();
      if (this.stopped) {
        await endClient(client);
        return;
      }
      this.client = client;
      this.attempts = 0;
      this.reconnects++;
      this.log.info('the live events connection is open again');
      // Whatever was announced while the connection was down is lost: assume everything changed.
      this.deliver(broadInvalidation());
    } catch {
      if (!this.stopped) this.scheduleReconnect();
    }
  }
}

/** Ends a client without waiting on a server that does not answer. */
async function endClient(client: pg.Client): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      client.end(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error('no answer')), END_TIMEOUT_MS);
      }),
    ]);
  } catch {
    (client as unknown as { connection?: { stream?: { destroy(): void } } }).connection?.stream?.destroy();
  } finally {
    clearTimeout(timer);
  }
}
