import type pg from 'pg';
import type { DatabaseHandle } from '../db/connect.js';
import type { Log } from '../lib/log.js';
import type { EventBus, LiveEvent } from './event-bus.js';
import { broadInvalidation, decodeEvent } from './event-payload.js';
import { listenForEvents } from './events.queries.js';

const FIRST_RETRY_MS = 250;
const MAX_RETRY_MS = 5000;
const END_TIMEOUT_MS = 1000;

export interface EventRelayOptions {
  readonly firstRetryMs?: number;
  readonly maxRetryMs?: number;
}

/**
 * Brings the other Merit processes' live events into this process's EventBus: ONE dedicated connection
 * LISTENs on the events channel. Writes send their events themselves, with pg_notify inside their own
 * transaction (runTransactionWithEvents), tagged with their bus's origin; a notification of this
 * process's own origin is dropped (the writer delivered it here after its commit), so each event reaches
 * each process exactly once. Untagged ones (a CLI command's) are delivered like the others'. A lost
 * LISTEN connection is re-opened with backoff, and the process then invalidates everything
 * (notifications sent meanwhile were missed).
 */
export class EventRelay {
  private client: pg.Client | undefined;
  private stopped = false;
  private retryTimer: NodeJS.Timeout | undefined;
  private attempts = 0;
  /** Times the LISTEN connection was re-opened after being lost. */
  reconnects = 0;
  /** Events received from other processes. */
  received = 0;

  constructor(
    private readonly handle: Pick<DatabaseHandle, 'createClient'>,
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

  /** The tag of this process's own notifications (its bus's). */
  get origin(): string {
    return this.bus.origin;
  }

  /** Opens the LISTEN connection (failing if the database refuses it). */
  async start(): Promise<void> {
    this.client = await this.openListener();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    const client = this.client;
    this.client = undefined;
    if (client) await endClient(client);
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
    if (envelope.origin === this.bus.origin) return;
    this.received++;
    this.deliver([envelope.event]);
  }

  private deliver(events: readonly LiveEvent[]): void {
    for (const event of events) this.bus.deliver(event);
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
