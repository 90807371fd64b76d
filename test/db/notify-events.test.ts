import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventBus, type LiveEvent, LiveStreams } from '../../src/events/event-bus.js';
import { encodeEvent, MAX_PAYLOAD_BYTES } from '../../src/events/event-payload.js';
import { EventRelay } from '../../src/events/event-relay.js';
import { runTransactionWithEvents } from '../../src/events/transactional-events.js';
import { createLog } from '../../src/lib/log.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';

/** One Merit process as far as events go: its bus, its relay, and what its subscribers received. */
interface FakeProcess {
  readonly bus: EventBus;
  readonly relay: EventRelay;
  readonly received: LiveEvent[];
}

async function startProcess(database: TestDatabase): Promise<FakeProcess> {
  const bus = new EventBus();
  const received: LiveEvent[] = [];
  bus.subscribe((event) => received.push(event));
  const relay = new EventRelay(database, bus, createLog('silent'), { firstRetryMs: 50, maxRetryMs: 200 });
  await relay.start();
  return { bus, relay, received };
}

async function until(check: () => boolean, what: string, withinMs = 10_000): Promise<void> {
  const started = Date.now();
  while (!check()) {
    if (Date.now() - started > withinMs) throw new Error(`${what}: not within ${withinMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 300));
const PROJECT = '00000000-0000-0000-0000-00000000000a';

describe('live events across processes (pg_notify + one LISTEN connection per process)', () => {
  let database: TestDatabase;
  let a: FakeProcess;
  let b: FakeProcess;

  beforeAll(async () => {
    database = await createTestDatabase('embedded');
    a = await startProcess(database);
    b = await startProcess(database);
  });
  afterAll(async () => {
    await a?.relay.stop();
    await b?.relay.stop();
    await database?.drop();
  });

  it('delivers an event written in a transaction exactly once to the writing process (once committed) and once to the other', async () => {
    a.received.length = 0;
    b.received.length = 0;
    const event: LiveEvent = { type: 'task', projectId: PROJECT, userId: 'u1', taskId: 't1' };
    await runTransactionWithEvents(database.db, a.bus, async (trx, emit) => {
      emit(event);
      await sql`SELECT pg_sleep(0.2)`.execute(trx);
      // Not before the commit.
      expect(a.received).toEqual([]);
      expect(b.received).toEqual([]);
    });
    // The writer's own subscribers have it when the write returns (read-your-writes).
    expect(a.received).toEqual([event]);
    await until(() => b.received.length === 1, 'the other process receives it');
    await settle();
    expect(a.received).toEqual([event]);
    expect(b.received).toEqual([event]);
  });

  it('sends the events of a write without a bus (a CLI command) to every listening process, and none on rollback', async () => {
    a.received.length = 0;
    b.received.length = 0;
    const committed: LiveEvent = { type: 'categories', projectId: PROJECT };
    await runTransactionWithEvents(database.db, undefined, async (_trx, emit) => emit(committed));
    await until(() => a.received.length === 1 && b.received.length === 1, 'both processes receive it');
    await expect(
      runTransactionWithEvents(database.db, undefined, async (_trx, emit) => {
        emit({ type: 'agents', projectId: PROJECT });
        throw new Error('rolled back');
      }),
    ).rejects.toThrow('rolled back');
    await settle();
    expect(a.received).toEqual([committed]);
    expect(b.received).toEqual([committed]);
  });

  it('splits an event too large for one notification (8000 bytes) and the other process gets every id', async () => {
    const agentIds = Array.from(
      { length: 1000 },
      (_, index) => `agent-${String(index).padStart(4, '0')}-${'x'.repeat(30)}`,
    );
    const event: LiveEvent = { type: 'leaderboard', projectId: PROJECT, agentIds };
    const payloads = encodeEvent(event, a.relay.origin);
    expect(payloads.length).toBeGreaterThan(4);
    for (const payload of payloads) expect(Buffer.byteLength(payload)).toBeLessThanOrEqual(MAX_PAYLOAD_BYTES);
    b.received.length = 0;
    await runTransactionWithEvents(database.db, a.bus, async (_trx, emit) => emit(event));
    await until(() => b.received.length === payloads.length, 'every part arrives');
    const seen = b.received.flatMap((part) => (part.type === 'leaderboard' ? part.agentIds : []));
    expect(seen).toEqual(agentIds);
  });

  it('re-opens a LISTEN connection killed by pg_terminate_backend, invalidates everything, restarts its live streams, and receives again', async () => {
    const pid = b.relay.backendPid;
    expect(pid).toBeTypeOf('number');
    const streams = new LiveStreams(b.bus, async () => undefined, { maxPerUser: 5, maxTotal: 5 });
    const stream = streams.open({ projectId: PROJECT, userId: 'u1', wholeProject: true });
    if (typeof stream === 'string') throw new Error(`stream refused: ${stream}`);
    b.received.length = 0;
    const { rows } = await database.pool.query<{ done: boolean }>('SELECT pg_terminate_backend($1) AS done', [
      pid,
    ]);
    expect(rows[0]?.done).toBe(true);
    await until(() => b.relay.reconnects === 1 && b.relay.listening, 'the relay reconnects');
    expect(b.relay.backendPid).not.toBe(pid);
    // Notifications sent while it was down are lost: every cache of the process is told to start over.
    expect(b.received).toEqual([
      { type: 'leaderboard', projectId: null, agentIds: [] },
      { type: 'categories', projectId: null },
      { type: 'agents', projectId: null },
      { type: 'resync' },
    ]);
    // Its SSE clients are cut off, so they reconnect and refetch what they show.
    expect(stream.closed).toBe(true);
    expect(streams.count()).toBe(0);
    b.received.length = 0;
    const event: LiveEvent = { type: 'task', projectId: PROJECT, userId: 'u1', taskId: 't2' };
    await runTransactionWithEvents(database.db, a.bus, async (_trx, emit) => emit(event));
    await until(() => b.received.length === 1, 'an event after the reconnect arrives');
    expect(b.received).toEqual([event]);
  });

  it('ignores a notification on the channel that is not a Merit event', async () => {
    b.received.length = 0;
    await database.pool.query(
      `SELECT pg_notify('merit_events', '{"origin":null,"event":{"type":"drop tables"}}')`,
    );
    await database.pool.query(`SELECT pg_notify('merit_events', 'not json')`);
    const event: LiveEvent = { type: 'agents', projectId: PROJECT };
    await runTransactionWithEvents(database.db, a.bus, async (_trx, emit) => emit(event));
    await until(() => b.received.length >= 1, 'the valid event arrives');
    await settle();
    expect(b.received).toEqual([event]);
  });
});
