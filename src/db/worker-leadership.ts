import type pg from 'pg';
import type { DatabaseHandle } from './connect.js';
import { tryLockWorkerLeadership, unlockWorkerLeadership } from './worker-locks.queries.js';

export interface WorkerLeadership {
  /** True when no other Merit worker process on this database was alive when this one started. */
  readonly leader: boolean;
  /** True while this process holds the leader lock (false while its connection is being re-opened). */
  holding(): boolean;
  release(): Promise<void>;
}

const FIRST_RETRY_MS = 250;
const MAX_RETRY_MS = 2000;
const END_TIMEOUT_MS = 1000;

/**
 * Claims the worker leader lock on a connection of its own and keeps it: when that connection dies
 * (pg_terminate_backend, a server restart) it is re-opened with backoff and the lock taken again, so
 * a process started meanwhile cannot go on believing it is the only one. The jobs of dead workers are
 * released only at start (see worker.ts): after a re-claim this process's own workers hold locks.
 */
export async function claimWorkerLeadership(
  handle: Pick<DatabaseHandle, 'createClient'>,
  log: (message: string) => void,
): Promise<WorkerLeadership> {
  let client: pg.Client | undefined = handle.createClient();
  try {
    await client.connect();
    if (!(await tryLockWorkerLeadership(client))) {
      await endClient(client);
      return { leader: false, holding: () => false, release: async () => {} };
    }
  } catch (error) {
    await endClient(client);
    throw error;
  }

  let released = false;
  let retryTimer: NodeJS.Timeout | undefined;
  let attempts = 0;
  const watch = (held: pg.Client) => {
    let lost = false;
    const onLost = (error?: Error) => {
      if (lost || released) return;
      lost = true;
      client = undefined;
      log(`The worker leader lock's connection was lost (${error?.message ?? 'closed'}): reconnecting...`);
      void endClient(held);
      scheduleReclaim();
    };
    held.on('error', onLost);
    held.on('end', () => onLost());
  };
  const scheduleReclaim = () => {
    const delay = Math.min(FIRST_RETRY_MS * 2 ** attempts, MAX_RETRY_MS);
    attempts++;
    retryTimer = setTimeout(reclaim, delay);
  };
  const reclaim = async () => {
    retryTimer = undefined;
    if (released) return;
    const candidate = handle.createClient();
    try {
      await candidate.connect();
      const held = await tryLockWorkerLeadership(candidate);
      if (released) {
        await endClient(candidate);
        return;
      }
      if (!held) {
        // Another worker process started while the lock was free; it leads from now on.
        log('The worker leader lock is now held by another Merit worker process.');
        await endClient(candidate);
        return;
      }
      attempts = 0;
      client = candidate;
      watch(candidate);
      log('The worker leader lock is held again.');
    } catch {
      await endClient(candidate);
      if (!released) scheduleReclaim();
    }
  };
  watch(client);

  return {
    leader: true,
    holding: () => client !== undefined,
    async release() {
      released = true;
      if (retryTimer) clearTimeout(retryTimer);
      const held = client;
      client = undefined;
      if (!held) return;
      try {
        await withTimeout(unlockWorkerLeadership(held), END_TIMEOUT_MS);
      } catch {
        // Ending the session below releases the lock anyway.
      }
      await endClient(held);
    },
  };
}

/** Ends a client without waiting on a server that does not answer. */
async function endClient(client: pg.Client): Promise<void> {
  try {
    await withTimeout(client.end(), END_TIMEOUT_MS);
  } catch {
    (client as unknown as { connection?: { stream?: { destroy(): void } } }).connection?.stream?.destroy();
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}
