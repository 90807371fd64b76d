import type pg from 'pg';
import type { DatabaseHandle } from './connect.js';
import { lockWorkerAlive, unlockWorkerAlive } from './worker-locks.queries.js';

const FIRST_RETRY_MS = 250;
const MAX_RETRY_MS = 2000;
const END_TIMEOUT_MS = 1000;

/**
 * Says which graphile-worker workers of this process are alive, to every other process: one
 * session-level advisory lock per worker, all on one connection of its own. A process that dies
 * (SIGKILL, OOM, a lost machine) loses its session and with it the locks, and the other worker
 * processes then unlock its jobs (worker.ts). When the connection is lost while the process lives
 * (pg_terminate_backend, a failover) it is re-opened with backoff and every lock taken again.
 */
export class WorkerLiveness {
  private client: pg.Client | undefined;
  private readonly alive = new Set<string>();
  /** The workers locked on the current connection. */
  private locked = new Set<string>();
  private released = false;
  private retryTimer: NodeJS.Timeout | undefined;
  private attempts = 0;
  /** The lock and unlock queries, one at a time: a pg client runs one query at a time. */
  private pending: Promise<void> = Promise.resolve();

  private constructor(
    private readonly handle: Pick<DatabaseHandle, 'createClient'>,
    private readonly log: (message: string) => void,
  ) {}

  /** Opens the connection (failing when the database refuses it). */
  static async open(
    handle: Pick<DatabaseHandle, 'createClient'>,
    log: (message: string) => void,
  ): Promise<WorkerLiveness> {
    const liveness = new WorkerLiveness(handle, log);
    liveness.client = await liveness.connect();
    liveness.locked = new Set();
    return liveness;
  }

  /** True while the locks are held (false while the connection is being re-opened). */
  holding(): boolean {
    return this.client !== undefined;
  }

  /** The workers this process marked alive. */
  workerIds(): ReadonlySet<string> {
    return this.alive;
  }

  async markAlive(workerId: string): Promise<void> {
    this.alive.add(workerId);
    // A lost connection re-locks every alive worker once it is back.
    await this.serially(() => this.lockMissing());
  }

  /**
   * Runs `operation` after every one queued before it. The lanes' workers start together and would
   * otherwise query the one connection at once, which pg only tolerates with a deprecation warning.
   */
  private serially(operation: () => Promise<void>): Promise<void> {
    const run = this.pending.then(operation, operation);
    this.pending = run.catch(() => {});
    return run;
  }

  private async lockMissing(): Promise<void> {
    const client = this.client;
    if (!client) return;
    const locked = this.locked;
    for (const workerId of this.alive) {
      if (locked.has(workerId)) continue;
      locked.add(workerId);
      if (!(await lockWorkerAlive(client, workerId).catch(() => false))) locked.delete(workerId);
    }
  }

  async markGone(workerId: string): Promise<void> {
    if (!this.alive.delete(workerId)) return;
    await this.serially(async () => {
      const client = this.client;
      if (client && this.locked.delete(workerId)) await unlockWorkerAlive(client, workerId).catch(() => {});
    });
  }

  /** Drops every lock (ending the session): call once this process's workers have stopped. */
  async release(): Promise<void> {
    this.released = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    const client = this.client;
    this.client = undefined;
    if (client) await endClient(client);
  }

  private async connect(): Promise<pg.Client> {
    const client = this.handle.createClient();
    try {
      await client.connect();
    } catch (error) {
      await endClient(client);
      throw error;
    }
    let lost = false;
    const onLost = (error?: Error) => {
      if (lost || this.released) return;
      lost = true;
      if (this.client === client) this.client = undefined;
      this.log(`The worker liveness connection was lost (${error?.message ?? 'closed'}): reconnecting...`);
      void endClient(client);
      this.scheduleReconnect();
    };
    client.on('error', onLost);
    client.on('end', () => onLost());
    return client;
  }

  private scheduleReconnect(): void {
    const delay = Math.min(FIRST_RETRY_MS * 2 ** this.attempts, MAX_RETRY_MS);
    this.attempts++;
    this.retryTimer = setTimeout(() => void this.reconnect(), delay);
  }

  private async reconnect(): Promise<void> {
    this.retryTimer = undefined;
    if (this.released) return;
    try {
      const client = await this.connect();
      if (this.released) {
        await endClient(client);
        return;
      }
      this.client = client;
      this.locked = new Set();
      this.attempts = 0;
      await this.serially(() => this.lockMissing());
      this.log('The worker liveness locks are held again.');
    } catch {
      if (!this.released) this.scheduleReconnect();
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
        timer = setTimeout(() => reject(new Error(`no answer within ${END_TIMEOUT_MS} ms`)), END_TIMEOUT_MS);
      }),
    ]);
  } catch {
    (client as unknown as { connection?: { stream?: { destroy(): void } } }).connection?.stream?.destroy();
  } finally {
    clearTimeout(timer);
  }
}
