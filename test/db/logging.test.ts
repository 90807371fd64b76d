import { Writable } from 'node:stream';
import type { JobHelpers } from 'graphile-worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAgentJobs } from '../../src/agents/agents.jobs.js';
import { RUN_AGENT_TASK_JOB } from '../../src/agents/agents.queries.js';
import { createLog, createWorkerLogger, type Log } from '../../src/lib/log.js';
import { startWorker, type WorkerHandle } from '../../src/worker.js';
import { createTestApp, type TestApp, testConfig, USER } from '../support/app.js';

/** A log whose JSON lines are kept in memory. */
function captureLog(): { log: Log; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split('\n')) if (line.trim()) lines.push(JSON.parse(line));
      done();
    },
  });
  return { log: createLog('info', stream), lines };
}

async function waitFor<T>(find: () => T | undefined, what: string): Promise<T> {
  for (let i = 0; i < 300; i++) {
    const found = find();
    if (found !== undefined) return found;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`Timed out waiting for ${what}`);
}

describe('structured logs', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await createTestApp('embedded', { MERIT_SIMULATION_SPEED: '100000' });
  });
  afterAll(async () => {
    await app?.close();
  });

  it('writes one JSON line per event, with the job and worker ids of graphile-worker scopes', () => {
    const { log, lines } = captureLog();
    const logger = createWorkerLogger(log).scope({
      workerId: 'w1',
      taskIdentifier: 'evaluate_task',
      jobId: '42',
    });
    logger.warn('retrying', { error: new Error('judge timed out') });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      level: 'warn',
      service: 'merit',
      component: 'worker',
      worker_id: 'w1',
      job: 'evaluate_task',
      job_id: '42',
      msg: 'retrying',
      err: { message: 'judge timed out' },
    });
    expect(typeof lines[0]?.time).toBe('string');
  });

  it('logs an agent run that failed, with its task id and reason', async () => {
    const created = await app.call('POST', '/api/commands', { command: '@bob research heat pumps' });
    expect(created.status).toBe(202);
    // The agent is retired before its job runs: the run fails the task, and says so in the log.
    await app.database.pool.query("UPDATE agents SET active = false WHERE nickname = 'bob'");
    try {
      const { log, lines } = captureLog();
      const job = createAgentJobs({ ...app.ctx, log })[RUN_AGENT_TASK_JOB] as (
        payload: unknown,
        helpers: JobHelpers,
      ) => Promise<void>;
      await job({ task_id: created.body.id, user_id: USER }, {
        job: { id: '7', attempts: 1, max_attempts: 3 },
        logger: createWorkerLogger(log),
      } as unknown as JobHelpers);
      const line = lines.find((entry) => entry.msg === 'agent run failed');
      expect(line).toMatchObject({ level: 'warn', task_id: created.body.id, job_id: '7' });
      expect(String(line?.error)).toMatch(/not available/);
    } finally {
      await app.database.pool.query("UPDATE agents SET active = true WHERE nickname = 'bob'");
    }
  });

  it('logs a job that failed for good with its reason and ids', async () => {
    const { log, lines } = captureLog();
    let worker: WorkerHandle | undefined;
    try {
      worker = await startWorker(testConfig({ MERIT_WORKER_CONCURRENCY: '1' }), app.database, {
        ...app.ctx,
        log,
      });
      const taskId = crypto.randomUUID();
      // An agent run of a task that does not exist fails on its only attempt.
      await app.database.pool.query(
        `SELECT graphile_worker.add_job($1, json_build_object('task_id', $2::text, 'user_id', $3::text), max_attempts := 1)`,
        [RUN_AGENT_TASK_JOB, taskId, USER],
      );
      const line = await waitFor(
        () => lines.find((entry) => entry.msg === 'job failed for good'),
        'the permanent failure line',
      );
      expect(line).toMatchObject({ level: 'error', job: RUN_AGENT_TASK_JOB, task_id: taskId, attempts: 1 });
      expect(line.err).toBeDefined();
      expect(line.job_id).toBeDefined();
    } finally {
      await worker?.stop();
    }
  });
});
