import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { runStatsRecompute } from '../../src/stats/stats.jobs.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { freePort, type MeritProcess, runMerit } from '../support/process.js';

const USER = '00000000-0000-0000-0000-000000000001';
// Simulated agent runs take a few seconds: long enough to be killed mid-run.
const ENV = { MERIT_SIMULATION_SPEED: '0.5', MERIT_WORKER_CONCURRENCY: '3', MERIT_LOG_LEVEL: 'warn' };

async function poll<T>(read: () => Promise<T | undefined>, what: string, withinMs = 60_000): Promise<T> {
  const started = Date.now();
  while (Date.now() - started < withinMs) {
    const value = await read().catch(() => undefined);
    if (value !== undefined) return value;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${what}: not within ${withinMs} ms`);
}

async function post(url: string, path: string, body: unknown): Promise<{ status: number; body: any }> {
  const response = await fetch(`${url}${path}${path.includes('?') ? '&' : '?'}user_id=${USER}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: await response.json() };
}

/** An SSE client of /api/events: every `task` event with the moment it arrived. */
async function openEventStream(url: string) {
  const controller = new AbortController();
  const response = await fetch(`${url}/api/events?user_id=${USER}`, { signal: controller.signal });
  expect(response.status).toBe(200);
  const events: { event: string; data: any; at: number }[] = [];
  const reader = (response.body as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  const reading = (async () => {
    for (;;) {
      const { value, done } = await reader.read().catch(() => ({ value: undefined, done: true }));
      if (done) return;
      buffer += decoder.decode(value, { stream: true });
      for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const event = /^event: (.*)$/m.exec(block)?.[1];
        const data = /^data: (.*)$/m.exec(block)?.[1];
        if (event && data) events.push({ event, data: JSON.parse(data), at: Date.now() });
      }
    }
  })();
  await poll(
    async () => (events.some((event) => event.event === 'ready') ? true : undefined),
    'stream ready',
  );
  return {
    events,
    async close() {
      controller.abort();
      await reading;
    },
  };
}

function startApi(database: TestDatabase, port: number): MeritProcess {
  return runMerit(['start', '--role', 'api'], { DATABASE_URL: database.url, PORT: String(port), ...ENV });
}

function startWorker(database: TestDatabase): MeritProcess {
  return runMerit(['worker'], { DATABASE_URL: database.url, ...ENV });
}

describe('2 API processes (--role api) and 2 workers (merit worker) on one database', () => {
  let database: TestDatabase;
  const processes: MeritProcess[] = [];
  let apiA: string;
  let apiB: string;

  beforeAll(async () => {
    database = await createTestDatabase('embedded');
    const a = startApi(database, await freePort());
    const b = startApi(database, await freePort());
    processes.push(a, b);
    [, apiA = ''] = await a.waitFor(/Merit is running at (http:\/\/\S+)/);
    [, apiB = ''] = await b.waitFor(/Merit is running at (http:\/\/\S+)/);
  }, 120_000);
  afterAll(async () => {
    for (const process of processes) process.child.kill('SIGKILL');
    await Promise.all(processes.map((process) => process.exited));
    await database?.drop();
  });
  const printOutputOnFailure = () =>
    onTestFailed(() => {
      for (const [index, process] of processes.entries())
        console.log(`process ${index} output:\n${process.output().slice(-4000)}`);
    });

  it('API processes run no jobs, and a client of API A sees within 1 s a task completed through API B', async () => {
    printOutputOnFailure();
    for (const process of processes) expect(process.output()).toContain('Worker: off');
    const stream = await openEventStream(apiA);
    try {
      const latencies: number[] = [];
      for (let i = 0; i < 5; i++) {
        const created = await post(apiB, '/api/tasks', { agent_id: 'agent_a', command: `through B ${i}` });
        expect(created.status).toBe(201);
        const id = created.body.id as string;
        // From the request that completes it (so an upper bound of commit-to-delivery).
        const sentAt = Date.now();
        const completed = await post(apiB, `/api/tasks/${id}/complete`, { result: 'done', duration_ms: 100 });
        expect(completed.status).toBe(200);
        const seen = await poll(
          async () =>
            stream.events.find(
              (event) => event.event === 'task' && event.data.id === id && event.data.status === 'completed',
            ),
          `task ${id} completed, on A's stream`,
          5000,
        );
        latencies.push(seen.at - sentAt);
      }
      console.log(`[multi-process] B's completion seen on A's stream after ${latencies.join(', ')} ms`);
      expect(Math.max(...latencies)).toBeLessThan(1000);
    } finally {
      await stream.close();
    }
  }, 60_000);

  it('a worker killed with jobs in flight has them finished by the other, and statistics match a recompute', async () => {
    printOutputOnFailure();
    const first = startWorker(database);
    processes.push(first);
    await first.waitFor(/The Merit worker is running/);
    const ids: string[] = [];
    for (let i = 0; i < 6; i++) {
      const { status, body } = await post(apiA, '/api/commands', { command: `@bob research topic ${i}` });
      expect(status).toBe(202);
      ids.push(body.id as string);
    }
    // The first worker takes jobs (all 3 of its slots); only then does the second start and the first die.
    const firstWorkers = await poll(async () => {
      const { rows } = await database.pool.query<{ locked_by: string }>(
        "SELECT locked_by FROM graphile_worker.jobs WHERE task_identifier = 'run_agent_task' AND locked_by IS NOT NULL",
      );
      return rows.length >= 3 ? [...new Set(rows.map((row) => row.locked_by))] : undefined;
    }, 'the first worker runs agent jobs');
    const second = startWorker(database);
    processes.push(second);
    await second.waitFor(/The Merit worker is running/);
    const { rows: inFlight } = await database.pool.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM graphile_worker.jobs WHERE locked_by = ANY($1::text[])',
      [firstWorkers],
    );
    first.child.kill('SIGKILL');
    const killedAt = Date.now();
    await first.exited;
    expect(inFlight[0]?.n).toBeGreaterThan(0);

    await poll(
      async () => {
        const { rows } = await database.pool.query<{ n: number }>(
          "SELECT count(*)::int AS n FROM tasks WHERE id = ANY($1::uuid[]) AND status = 'completed'",
          [ids],
        );
        return rows[0]?.n === ids.length ? true : undefined;
      },
      'every commanded task completed',
      90_000,
    );
    const finishedMs = Date.now() - killedAt;
    console.log(
      `[multi-process] ${inFlight[0]?.n} agent runs in flight at SIGKILL; all ${ids.length} completed ${finishedMs} ms later`,
    );
    expect(finishedMs).toBeLessThan(60_000);
    // The survivor found the dead process's workers (no alive lock) and released their jobs.
    expect(second.output()).toContain('Released the jobs of');
    // The jobs left (evaluations, reviews) are done by the surviving worker too.
    await poll(
      async () => {
        const { rows } = await database.pool.query<{ n: number }>(
          'SELECT count(*)::int AS n FROM graphile_worker.jobs',
        );
        return rows[0]?.n === 0 ? true : undefined;
      },
      'no job left',
      90_000,
    );

    const read = async () =>
      (
        await database.pool.query(
          `SELECT agent_id, total_tasks, successful_tasks, failed_tasks, scored_tasks, sum_overall_score::float8 AS sum_overall,
             rated_tasks, total_tokens, total_cost::float8 AS total_cost, reward_points
           FROM agent_performance_stats ORDER BY agent_id`,
        )
      ).rows;
    const incremental = await read();
    expect(incremental.reduce((sum, row) => sum + row.total_tasks, 0)).toBe(5 + ids.length);
    await runStatsRecompute(database.db);
    expect(await read()).toEqual(incremental);
  }, 200_000);
});
