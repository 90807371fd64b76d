import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLog, type Log } from '../../src/lib/log.js';
import { ExecutionTracker } from '../../src/tasks/execution-tracker.js';
import type { FinishedTaskInput } from '../../src/tasks/task-schemas.js';
import { createTestApp, scopeOf, type TestApp, USER } from '../support/app.js';

/** A log whose JSON lines are kept in memory. */
function captureLog(level: 'info' | 'debug'): { log: Log; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split('\n')) if (line.trim()) lines.push(JSON.parse(line));
      done();
    },
  });
  return { log: createLog(level, stream), lines };
}

function savedLines(lines: Record<string, unknown>[]) {
  return lines
    .filter((line) => String(line.msg).startsWith('Performance score saved for task '))
    .map((line) => ({ level: line.level, task_id: line.task_id, msg: line.msg }));
}

async function createRunningTask(app: TestApp, model?: string): Promise<string> {
  const { status, body } = await app.call('POST', '/api/tasks', {
    agent_id: 'agent_a',
    command: 'research quantum computing',
    status: 'running',
    ...(model ? { model } : {}),
  });
  expect(status).toBe(201);
  return body.id;
}

describe('the score pipeline of a finished task', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await createTestApp('embedded');
  });
  afterAll(async () => {
    await app?.close();
  });

  it('completes a task without token figures with the usage of the nodes it recorded before, explicit figures as sent', async () => {
    const id = await createRunningTask(app, 'gpt-4o-mini');
    await app.call('POST', `/api/tasks/${id}/nodes`, {
      node_name: 'plan',
      prompt_tokens: 100,
      completion_tokens: 50,
    });
    await app.call('POST', `/api/tasks/${id}/nodes`, {
      node_name: 'research',
      prompt_tokens: 300,
      completion_tokens: 150,
    });
    const done = await app.call('POST', `/api/tasks/${id}/complete`, {
      result: 'ok',
      nodes: [{ node_name: 'respond', prompt_tokens: 20, completion_tokens: 10 }],
    });
    expect(done.status).toBe(200);
    expect(done.body).toMatchObject({ prompt_tokens: 420, completion_tokens: 210, total_tokens: 630 });
    expect(done.body.estimated_cost).toBeGreaterThan(0);
    expect(done.body.score).toMatchObject({ total_tokens: 630, estimated_cost: done.body.estimated_cost });
    expect(done.body.score.efficiency_score).not.toBeNull();
    const stats = await app.database.pool.query(
      "SELECT total_tokens FROM agent_performance_stats WHERE agent_id = 'agent_a'",
    );
    expect(Number(stats.rows[0].total_tokens)).toBe(630);

    // Explicit figures win and are never added to the nodes' (the agent runner sends the nodes' sums).
    const explicit = await createRunningTask(app, 'gpt-4o-mini');
    await app.call('POST', `/api/tasks/${explicit}/nodes`, {
      node_name: 'plan',
      prompt_tokens: 100,
      completion_tokens: 50,
    });
    const sent = await app.call('POST', `/api/tasks/${explicit}/complete`, {
      result: 'ok',
      prompt_tokens: 100,
      completion_tokens: 50,
    });
    expect(sent.body).toMatchObject({ prompt_tokens: 100, completion_tokens: 50, total_tokens: 150 });

    // Nodes that report no tokens leave the task's usage unknown, never 0.
    const unknown = await createRunningTask(app, 'gpt-4o-mini');
    await app.call('POST', `/api/tasks/${unknown}/nodes`, { node_name: 'plan' });
    const silent = await app.call('POST', `/api/tasks/${unknown}/complete`, { result: 'ok' });
    expect(silent.body).toMatchObject({ prompt_tokens: null, total_tokens: null, estimated_cost: null });
    expect(silent.body.score.efficiency_score).toBeNull();
  });

  it('logs "Performance score saved for task <id>" once when a completion or a failure saves the score', async () => {
    const { log, lines } = captureLog('info');
    const tracker = new ExecutionTracker(app.database.db, { log });
    const scope = scopeOf(USER);
    const completed = await createRunningTask(app);
    const failed = await createRunningTask(app);
    await tracker.completeTask(scope, completed, { result: 'ok', total_tokens: 100 });
    await tracker.completeTask(scope, completed, { result: 'again' });
    await tracker.failTask(scope, failed, { error: 'the tool crashed' });
    expect(savedLines(lines)).toEqual([
      { level: 'info', task_id: completed, msg: `Performance score saved for task ${completed}` },
      { level: 'info', task_id: failed, msg: `Performance score saved for task ${failed}` },
    ]);
  });

  it('logs a line per new task of a reported batch, at debug level for batches over 50 tasks', async () => {
    const { log, lines } = captureLog('debug');
    const tracker = new ExecutionTracker(app.database.db, { log });
    const scope = scopeOf(USER);
    const small: FinishedTaskInput[] = [
      {
        id: crypto.randomUUID(),
        agent_id: 'agent_b',
        command: 'summarise the report',
        status: 'completed',
        result: 'ok',
      },
      {
        id: crypto.randomUUID(),
        agent_id: 'agent_b',
        command: 'summarise the memo',
        status: 'failed',
        error: 'no memo',
      },
    ];
    await tracker.recordFinishedTasks(scope, small, { source: 'batch' });
    // A re-sent task is a duplicate: its score row existed already.
    await tracker.recordFinishedTasks(scope, small.slice(0, 1), { source: 'batch' });
    expect(savedLines(lines)).toEqual(
      small.map((task) => ({
        level: 'info',
        task_id: task.id,
        msg: `Performance score saved for task ${task.id}`,
      })),
    );

    lines.length = 0;
    const large: FinishedTaskInput[] = Array.from({ length: 51 }, (_, i) => ({
      agent_id: 'agent_b',
      command: `summarise report ${i}`,
      status: 'completed',
      result: 'ok',
    }));
    const result = await tracker.recordFinishedTasks(scope, large, { source: 'batch' });
    const saved = savedLines(lines);
    expect(saved).toHaveLength(51);
    expect(saved.every((line) => line.level === 'debug')).toBe(true);
    expect(saved.map((line) => line.task_id)).toEqual(result.task_ids);
  });
});
