import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectDatabase, type DatabaseHandle } from '../../src/db/connect.js';
import { EventBus, type LiveEvent } from '../../src/events/event-bus.js';
import { EventRelay } from '../../src/events/event-relay.js';
import { runTransactionWithEvents } from '../../src/events/transactional-events.js';
import { createLog } from '../../src/lib/log.js';
import { createServices, type MeritServices } from '../../src/server.js';
import { callApp, DEFAULT_PROJECT_ID, testConfig, USER } from '../support/app.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';

/** Another Merit process, as far as events go: its bus, its LISTEN relay, what its subscribers got. */
interface Listener {
  readonly bus: EventBus;
  readonly relay: EventRelay;
  readonly received: LiveEvent[];
}

/** A whole Merit process writing through its HTTP app, over a pool of its own (so a test can close it). */
interface Writer extends Listener {
  readonly handle: DatabaseHandle;
  readonly services: MeritServices;
  call(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }>;
}

const silent = createLog('silent');

async function startListener(database: TestDatabase): Promise<Listener> {
  const bus = new EventBus();
  const received: LiveEvent[] = [];
  bus.subscribe((event) => received.push(event));
  const relay = new EventRelay(database, bus, silent);
  await relay.start();
  return { bus, relay, received };
}

async function startWriter(database: TestDatabase, options: { relay: boolean }): Promise<Writer> {
  const handle = connectDatabase(database.url);
  const services = createServices(testConfig({ MERIT_LOG_LEVEL: 'silent' }), {
    handle,
    kind: 'external',
    label: database.name,
  });
  const bus = services.ctx.events;
  const received: LiveEvent[] = [];
  bus.subscribe((event) => received.push(event));
  const relay = new EventRelay(handle, bus, silent);
  if (options.relay) await relay.start();
  return {
    bus,
    relay,
    received,
    handle,
    services,
    call: (method, path, body) => callApp(services, method, path, body),
  };
}

async function stopWriter(writer: Writer | undefined): Promise<void> {
  await writer?.relay.stop();
  // A pool a test closed already refuses a second end.
  await writer?.handle.close().catch(() => {});
}

async function until(check: () => boolean, what: string, withinMs = 5000): Promise<void> {
  const started = Date.now();
  while (!check()) {
    if (Date.now() - started > withinMs) throw new Error(`${what}: not within ${withinMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 300));

function ofTask(events: readonly LiveEvent[], taskId: string): LiveEvent[] {
  return events.filter((event) => event.type === 'task' && event.taskId === taskId);
}

function leaderboardChanges(events: readonly LiveEvent[]): LiveEvent[] {
  return events.filter((event) => event.type === 'leaderboard');
}

async function completeTask(writer: Writer, agentId: string): Promise<string> {
  const created = await writer.call('POST', '/api/tasks', {
    agent_id: agentId,
    command: 'summarize the quarterly report',
    status: 'running',
  });
  expect(created.status).toBe(201);
  const completed = await writer.call('POST', `/api/tasks/${created.body.id}/complete`, {
    result: 'A summary.',
    duration_ms: 1200,
  });
  expect(completed.status).toBe(200);
  return created.body.id;
}

describe('live events sent in the writing transaction (pg_notify before the commit)', () => {
  let database: TestDatabase;
  let other: Listener;
  let writer: Writer;

  beforeAll(async () => {
    database = await createTestDatabase('embedded');
    other = await startListener(database);
    writer = await startWriter(database, { relay: true });
  });
  afterAll(async () => {
    await stopWriter(writer);
    await other?.relay.stop();
    await database?.drop();
  });

  it('a rating committed by a process that can send nothing after its commit still reaches the other process', async () => {
    // The writer is a process of its own: its pool is closed (like a process dying, or losing its
    // database) the moment its write committed, before anything else of it could reach PostgreSQL.
    const dying = await startWriter(database, { relay: true });
    try {
      const taskId = await completeTask(dying, 'agent_b');
      await until(
        () => ofTask(other.received, taskId).length > 0,
        'the completion reaches the other process',
      );
      await settle();
      other.received.length = 0;
      dying.received.length = 0;
      let closed = false;
      dying.bus.subscribe((event) => {
        if (closed || event.type !== 'task' || event.taskId !== taskId) return;
        closed = true;
        void dying.handle.pool.end();
      });

      const rated = await dying.call('POST', `/api/tasks/${taskId}/feedback`, { user_rating: 5 });

      expect(rated.status).toBe(200);
      expect(closed).toBe(true);
      const score = await database.db
        .selectFrom('agent_performance_scores')
        .select('user_rating')
        .where('task_id', '=', taskId)
        .executeTakeFirstOrThrow();
      expect(score.user_rating).toBe(5);
      await until(
        () => ofTask(other.received, taskId).length === 1 && leaderboardChanges(other.received).length === 1,
        'the rating reaches the other process',
      );
      await settle();
      expect(ofTask(other.received, taskId)).toEqual([
        { type: 'task', projectId: DEFAULT_PROJECT_ID, userId: USER, taskId },
      ]);
      expect(leaderboardChanges(other.received)).toEqual([
        { type: 'leaderboard', projectId: DEFAULT_PROJECT_ID, agentIds: ['agent_b'] },
      ]);
      // The writer's own subscribers got each change once: its relay dropped its own notifications.
      expect(ofTask(dying.received, taskId)).toHaveLength(1);
      expect(leaderboardChanges(dying.received)).toHaveLength(1);
    } finally {
      await stopWriter(dying);
    }
  });

  it('an event whose transaction rolls back, or whose attempt is a deadlock victim run again, reaches no process', async () => {
    other.received.length = 0;
    writer.received.length = 0;
    await expect(
      runTransactionWithEvents(database.db, writer.bus, async (trx, emit) => {
        emit({ type: 'agents', projectId: DEFAULT_PROJECT_ID });
        await sql`SELECT 1`.execute(trx);
        throw new Error('rolled back');
      }),
    ).rejects.toThrow('rolled back');

    let attempts = 0;
    await runTransactionWithEvents(
      database.db,
      writer.bus,
      async (_trx, emit) => {
        attempts++;
        emit({ type: 'categories', projectId: `attempt-${attempts}` });
        if (attempts === 1) throw Object.assign(new Error('deadlock detected'), { code: '40P01' });
      },
      { baseDelayMs: 1 },
    );

    const committed: LiveEvent = { type: 'categories', projectId: 'attempt-2' };
    expect(writer.received).toEqual([committed]);
    await until(() => other.received.length >= 1, 'the committed attempt reaches the other process');
    await settle();
    expect(other.received).toEqual([committed]);
    expect(writer.received).toEqual([committed]);
  });

  it('a category edit whose commit fails (a deferred constraint) announces nothing; the next edit reaches every process once', async () => {
    const created = await writer.call('POST', '/api/categories', {
      category: 'contract_review',
      description: 'Reviews contracts',
      evaluation_criteria: ['names every risky clause'],
    });
    expect(created.status).toBe(201);
    await sql`
      CREATE FUNCTION refuse_at_commit() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW.description = 'refused at commit' THEN RAISE EXCEPTION 'refused at commit'; END IF;
        RETURN NULL;
      END $$
    `.execute(database.db);
    await sql`
      CREATE CONSTRAINT TRIGGER refuse_at_commit AFTER UPDATE ON objective_templates
      DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION refuse_at_commit()
    `.execute(database.db);
    await settle();
    other.received.length = 0;
    writer.received.length = 0;

    const refused = await writer.call('PATCH', '/api/categories/contract_review', {
      description: 'refused at commit',
    });
    expect(refused.status).toBe(500);
    await settle();
    expect(other.received).toEqual([]);
    expect(writer.received).toEqual([]);

    const edited = await writer.call('PATCH', '/api/categories/contract_review', {
      description: 'Reviews contracts and NDAs',
    });
    expect(edited.status).toBe(200);
    const change: LiveEvent = { type: 'categories', projectId: DEFAULT_PROJECT_ID };
    expect(writer.received).toEqual([change]);
    await until(() => other.received.length >= 1, 'the edit reaches the other process');
    await settle();
    expect(other.received).toEqual([change]);
    expect(writer.received).toEqual([change]);
  });

  it('a batch of finished tasks announces its statistics change in its own statement, and a batch of duplicates announces nothing', async () => {
    const tasks = ['agent_a', 'agent_c', 'agent_a'].map((agentId, index) => ({
      id: `00000000-0000-4000-8000-00000000010${index}`,
      agent_id: agentId,
      command: `translate paragraph ${index}`,
      result: 'done',
    }));
    other.received.length = 0;
    writer.received.length = 0;

    const first = await writer.call('POST', '/api/tasks/batch', { tasks });

    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({ accepted: 3, duplicates: 0 });
    const change: LiveEvent = {
      type: 'leaderboard',
      projectId: DEFAULT_PROJECT_ID,
      agentIds: ['agent_a', 'agent_c'],
    };
    expect(writer.received).toEqual([change]);
    await until(() => other.received.length >= 1, 'the batch reaches the other process');
    await settle();
    expect(other.received).toEqual([change]);

    other.received.length = 0;
    writer.received.length = 0;
    const again = await writer.call('POST', '/api/tasks/batch', { tasks });
    expect(again.body).toMatchObject({ accepted: 0, duplicates: 3 });
    await settle();
    expect(other.received).toEqual([]);
    expect(writer.received).toEqual([]);
  });

  it('a process without a relay still hands its own writes to its subscribers, once', async () => {
    const alone = await startWriter(database, { relay: false });
    try {
      const taskId = await completeTask(alone, 'agent_a');
      alone.received.length = 0;
      expect((await alone.call('POST', `/api/tasks/${taskId}/feedback`, { user_rating: 2 })).status).toBe(
        200,
      );
      expect(alone.received).toEqual([
        { type: 'task', projectId: DEFAULT_PROJECT_ID, userId: USER, taskId },
        { type: 'leaderboard', projectId: DEFAULT_PROJECT_ID, agentIds: ['agent_a'] },
      ]);
      await settle();
      expect(alone.received).toHaveLength(2);
    } finally {
      await stopWriter(alone);
    }
  });
});
