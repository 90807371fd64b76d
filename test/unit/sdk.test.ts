import { describe, expect, it } from 'vitest';
import { findCrossOriginMethods, listCrossOriginRoutes } from '../../src/http/cors.js';
import {
  computeBackoffDelayMs,
  computeRetryDelayMs,
  isRetryableStatus,
  parseRetryAfterMs,
} from '../../src/sdk/backoff.js';
import { invalidTaskIndex } from '../../src/sdk/delivery-queue.js';
import {
  addUsage,
  buildFinishedTask,
  cut,
  describeError,
  NO_USAGE,
  type RecordedTask,
} from '../../src/sdk/task-body.js';

const BACKOFF = { baseDelayMs: 500, maxDelayMs: 30_000 };

describe('SDK backoff', () => {
  it('waits a jittered delay below base * 2^attempt, capped at the maximum', () => {
    expect(computeBackoffDelayMs(0, BACKOFF, () => 0.999)).toBe(499);
    expect(computeBackoffDelayMs(3, BACKOFF, () => 0.5)).toBe(2000);
    expect(computeBackoffDelayMs(20, BACKOFF, () => 0.5)).toBe(15_000);
    expect(computeBackoffDelayMs(2, BACKOFF, () => 0)).toBe(0);
  });

  it('reads Retry-After as seconds or an HTTP date', () => {
    const now = Date.parse('2026-01-15T09:30:00Z');
    expect(parseRetryAfterMs('7', now)).toBe(7000);
    expect(parseRetryAfterMs('Thu, 15 Jan 2026 09:30:12 GMT', now)).toBe(12_000);
    expect(parseRetryAfterMs('Thu, 15 Jan 2026 09:29:00 GMT', now)).toBe(0);
    expect(parseRetryAfterMs('soon', now)).toBeUndefined();
    expect(parseRetryAfterMs(null, now)).toBeUndefined();
  });

  it("prefers the server's Retry-After (capped) over backoff", () => {
    expect(computeRetryDelayMs(0, 4000, BACKOFF, () => 0.5)).toBe(4000);
    expect(computeRetryDelayMs(0, 120_000, BACKOFF, () => 0.5)).toBe(30_000);
    expect(computeRetryDelayMs(1, undefined, BACKOFF, () => 0.5)).toBe(500);
  });

  it('retries overload and unavailable answers only', () => {
    expect([429, 502, 503, 504].map(isRetryableStatus)).toEqual([true, true, true, true]);
    expect([400, 401, 403, 404, 409, 413, 500].map(isRetryableStatus)).toEqual([
      false,
      false,
      false,
      false,
      false,
      false,
      false,
    ]);
  });

  it("finds the refused task's index in a batch validation error", () => {
    expect(invalidTaskIndex('tasks.3.command')).toBe(3);
    expect(invalidTaskIndex('tasks.12')).toBe(12);
    expect(invalidTaskIndex('tasks')).toBeUndefined();
    expect(invalidTaskIndex('body')).toBeUndefined();
    expect(invalidTaskIndex(undefined)).toBeUndefined();
  });
});

describe('SDK task bodies', () => {
  const base: RecordedTask = {
    id: '7d4a4c7e-2f7d-4a8e-9b59-6a0f1f3c2b11',
    agentId: 'agent_a',
    command: 'plan a trip',
    category: undefined,
    userId: undefined,
    startedAt: new Date('2026-01-15T09:30:00.000Z'),
    completedAt: new Date('2026-01-15T09:30:02.500Z'),
    durationMs: 2500,
    result: 'done',
    error: undefined,
    usage: NO_USAGE,
    nodes: [],
  };

  it('sends no token figures when none were reported (unknown, not 0)', () => {
    expect(buildFinishedTask(base)).toEqual({
      id: base.id,
      agent_id: 'agent_a',
      command: 'plan a trip',
      status: 'completed',
      result: 'done',
      started_at: '2026-01-15T09:30:00.000Z',
      completed_at: '2026-01-15T09:30:02.500Z',
      duration_ms: 2500,
    });
  });

  it('sums usage across calls, keeping a figure unknown until some call reports it', () => {
    let usage = addUsage(NO_USAGE, { model: 'gpt-4o', inputTokens: 100, outputTokens: 20 });
    usage = addUsage(usage, { inputTokens: 50 });
    usage = addUsage(usage, { costUsd: 0.002 });
    expect(usage).toEqual({
      model: 'gpt-4o',
      inputTokens: 150,
      outputTokens: 20,
      totalTokens: 120,
      costUsd: 0.002,
    });
    // The API refuses a total below input + output: the body sends at least their sum.
    expect(buildFinishedTask({ ...base, usage })).toMatchObject({
      prompt_tokens: 150,
      completion_tokens: 20,
      total_tokens: 170,
      estimated_cost: 0.002,
      model: 'gpt-4o',
    });
    expect(() => addUsage(NO_USAGE, { inputTokens: -1 })).toThrow('inputTokens');
    expect(() => addUsage(NO_USAGE, { outputTokens: 1.5 })).toThrow('outputTokens');
  });

  it('records a failure with its failed node, and cuts texts to the API limits', () => {
    const body = buildFinishedTask({
      ...base,
      command: 'x'.repeat(25_000),
      result: undefined,
      error: 'boom',
      nodes: [
        {
          name: 'fetch',
          startedAt: new Date('2026-01-15T09:30:01.000Z'),
          durationMs: 800,
          error: 'Error: boom',
          usage: NO_USAGE,
        },
      ],
    });
    expect(body.command).toHaveLength(20_000);
    expect(body).toMatchObject({ status: 'failed', error: 'boom' });
    expect(body.result).toBeUndefined();
    expect(body.nodes).toEqual([
      {
        node_name: 'fetch',
        duration_ms: 800,
        started_at: '2026-01-15T09:30:01.000Z',
        success: false,
        error: 'Error: boom',
      },
    ]);
  });

  it('never cuts a surrogate pair in half', () => {
    expect(cut('ab😀', 3)).toBe('ab');
    expect(cut('ab😀', 4)).toBe('ab😀');
  });

  it('describes thrown values', () => {
    expect(describeError(new TypeError('bad input'))).toBe('TypeError: bad input');
    expect(describeError(new Error(''))).toBe('Error');
    expect(describeError('plain')).toBe('plain');
  });
});

describe('CORS routes', () => {
  const routes = listCrossOriginRoutes({
    'POST /api/tasks/{task_id}/feedback': 'feedback',
    'POST /api/tasks/batch': 'ingest',
    'POST /v1/traces': 'ingest',
    'GET /api/tasks/{task_id}': 'read',
    'POST /api/keys': 'admin',
  });

  it('opens feedback and ingest routes only', () => {
    expect(findCrossOriginMethods(routes, '/api/tasks/4f1c/feedback')).toEqual(['POST']);
    expect(findCrossOriginMethods(routes, '/api/tasks/batch')).toEqual(['POST']);
    expect(findCrossOriginMethods(routes, '/v1/traces')).toEqual(['POST']);
    expect(findCrossOriginMethods(routes, '/api/tasks/4f1c')).toEqual([]);
    expect(findCrossOriginMethods(routes, '/api/keys')).toEqual([]);
    expect(findCrossOriginMethods(routes, '/api/tasks/a/b/feedback')).toEqual([]);
  });
});
