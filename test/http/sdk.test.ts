import { execFile, execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KeyScope } from '../../src/db/database.js';
import { generateKeySecret } from '../../src/identity/credentials.js';
import { insertApiKey } from '../../src/identity/identity.queries.js';
import { MeritClient, type MeritDeliveryError } from '../../src/sdk/merit-client.js';
import { DEFAULT_PROJECT_ID } from '../support/app.js';
import { type LiveServer, startLiveServer } from '../support/live-server.js';

/**
 * The SDK against a listening Merit in required mode with real keys: what it records lands in PostgreSQL
 * (read back through the API), retries go through a real loopback proxy that answers 503 or loses answers.
 */

const ROOT = path.resolve(import.meta.dirname, '..', '..');

type ProxyStep = 'forward' | 'answer-503' | 'forward-then-503';

/** A loopback HTTP proxy in front of Merit that follows a script, one step per request (then forwards). */
async function startProxy(target: string, script: ProxyStep[]) {
  const seen: string[] = [];
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', async () => {
      seen.push(`${request.method} ${request.url}`);
      const step = script.shift() ?? 'forward';
      if (step === 'answer-503') {
        response.writeHead(503, { 'content-type': 'application/json', 'retry-after': '0' });
        response.end(JSON.stringify({ error: { code: 'service_unavailable', message: 'busy' } }));
        return;
      }
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(request.headers)) {
        if (typeof value === 'string' && name !== 'host' && name !== 'content-length') headers[name] = value;
      }
      const answer = await fetch(`${target}${request.url}`, {
        method: request.method ?? 'GET',
        headers,
        body: chunks.length > 0 ? Buffer.concat(chunks) : null,
      });
      const text = await answer.text();
      if (step === 'forward-then-503') {
        // Merit stored it, but the client never learns: its retry must not record the task twice.
        response.writeHead(503, { 'content-type': 'application/json' });
        response.end(JSON.stringify({ error: { code: 'service_unavailable', message: 'answer lost' } }));
        return;
      }
      response.writeHead(answer.status, {
        'content-type': answer.headers.get('content-type') ?? 'text/plain',
      });
      response.end(text);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe('MeritClient (merit/sdk) against a live Merit in required mode', () => {
  let server: LiveServer;
  let writeKey: string;
  let readKey: string;

  async function createKey(scopes: KeyScope[]): Promise<string> {
    const secret = generateKeySecret();
    await insertApiKey(server.services.ctx.db, {
      projectId: DEFAULT_PROJECT_ID,
      name: `sdk ${scopes.join('+')}`,
      prefix: secret.prefix,
      secretHash: secret.secretHash,
      scopes,
      allowedOrigins: [],
      createdBy: 'test',
      createdByAccountId: null,
    });
    return secret.secret;
  }

  async function readTask(id: string): Promise<{ status: number; body: any }> {
    const response = await fetch(`${server.url}/api/tasks/${id}`, {
      headers: { authorization: `Bearer ${readKey}` },
    });
    return { status: response.status, body: await response.json() };
  }

  async function countTaskRows(ids: readonly string[]): Promise<number> {
    const row = await server.services.ctx.db
      .selectFrom('tasks')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .where('id', 'in', ids)
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  function createClient(overrides: Partial<ConstructorParameters<typeof MeritClient>[0]> = {}) {
    const errors: MeritDeliveryError[] = [];
    const client = new MeritClient({
      baseUrl: server.url,
      apiKey: writeKey,
      flushOnExit: false,
      baseRetryDelayMs: 10,
      maxRetryDelayMs: 50,
      onError: (error) => errors.push(error),
      ...overrides,
    });
    return { client, errors };
  }

  beforeAll(async () => {
    server = await startLiveServer({ MERIT_AUTH: 'required', MERIT_WORKER: 'false' });
    writeKey = await createKey(['ingest', 'feedback']);
    readKey = await createKey(['read']);
  });

  afterAll(async () => {
    await server?.stop();
  });

  it('records a task with its steps, usage and result, then the user rating', async () => {
    const { client, errors } = createClient();
    let taskId = '';
    const answer = await client.task(
      'agent_a',
      'summarize the quarterly report',
      async (task) => {
        taskId = task.id;
        const facts = await task.step('research', async (step) => {
          await new Promise((resolve) => setTimeout(resolve, 30));
          step.usage({ model: 'gpt-4o-mini', inputTokens: 120, outputTokens: 30 });
          return 'three facts';
        });
        await task.step('write', (step) => {
          step.usage({ model: 'gpt-4o-mini', inputTokens: 200, outputTokens: 80 });
        });
        return `Summary of ${facts}`;
      },
      { userId: 'end-user-42' },
    );
    expect(answer).toBe('Summary of three facts');
    client.feedback(taskId, 4, '  useful  ');
    await client.flush();

    const { status, body } = await readTask(taskId);
    expect(status).toBe(200);
    expect(body).toMatchObject({
      id: taskId,
      agent_id: 'agent_a',
      command: 'summarize the quarterly report',
      status: 'completed',
      result: 'Summary of three facts',
      model: 'gpt-4o-mini',
      prompt_tokens: 320,
      completion_tokens: 110,
      total_tokens: 430,
    });
    expect(body.nodes.map((node: any) => [node.node_name, node.success, node.total_tokens])).toEqual([
      ['research', true, 150],
      ['write', true, 280],
    ]);
    expect(body.nodes[0].duration_ms).toBeGreaterThanOrEqual(25);
    expect(body.duration_ms).toBeGreaterThanOrEqual(body.nodes[0].duration_ms);
    expect(body.score).toMatchObject({ user_rating: 4, user_feedback: 'useful' });
    expect(client.stats()).toMatchObject({ sentTasks: 1, sentFeedback: 1, failed: 0, dropped: 0, queued: 0 });
    expect(errors).toEqual([]);
    await client.close();
  });

  it("records a step's model, provider, cache-read and reasoning tokens and cost on its node", async () => {
    const { client, errors } = createClient();
    let taskId = '';
    await client.task('agent_a', 'answer with a cached prompt', async (task) => {
      taskId = task.id;
      await task.step('think', (step) => {
        step.usage({
          model: 'gpt-4o-mini',
          provider: 'openai',
          inputTokens: 1000,
          outputTokens: 100,
          cacheReadTokens: 200,
          reasoningTokens: 40,
        });
      });
      await task.step('bill', (step) => {
        step.usage({ model: 'house-model-unlisted', inputTokens: 10, outputTokens: 5, costUsd: 0.25 });
      });
      await task.step('house', (step) => {
        step.usage({ model: 'house-model-unlisted', provider: 'vllm', inputTokens: 10, outputTokens: 5 });
      });
    });
    await client.flush();

    const { body } = await readTask(taskId);
    expect(
      body.nodes.map((node: any) => [
        node.node_name,
        node.model,
        node.provider,
        node.cache_read_tokens,
        node.reasoning_tokens,
        node.estimated_cost,
      ]),
    ).toEqual([
      // gpt-4o-mini: 800 x 0.15 + 200 cached x 0.075 + 100 x 0.6 per million.
      ['think', 'gpt-4o-mini', 'openai', 200, 40, 0.000195],
      // A cost the step reports is kept; an unpriced model's stays unknown.
      ['bill', 'house-model-unlisted', null, null, null, 0.25],
      ['house', 'house-model-unlisted', 'vllm', null, null, null],
    ]);
    expect(errors).toEqual([]);
    await client.close();
  });

  it('marks a task failed when its function throws, re-throws the error, and keeps the failed step', async () => {
    const { client } = createClient();
    let taskId = '';
    const thrown = new RangeError('the tool timed out');
    await expect(
      client.task('agent_b', 'book a flight', async (task) => {
        taskId = task.id;
        await task.step('search flights', () => 'two options');
        await task.step('pay', () => {
          throw thrown;
        });
      }),
    ).rejects.toBe(thrown);
    await client.flush();

    const { body } = await readTask(taskId);
    expect(body).toMatchObject({ status: 'failed', error: 'RangeError: the tool timed out', result: null });
    expect(body.nodes.map((node: any) => [node.node_name, node.success, node.error])).toEqual([
      ['search flights', true, null],
      ['pay', false, 'RangeError: the tool timed out'],
    ]);
    // No usage was reported: the figures stay unknown, not 0.
    expect(body.prompt_tokens).toBeNull();
    expect(body.total_tokens).toBeNull();
    await client.close();
  });

  it('sends tasks in batches of maxBatchSize', async () => {
    let requests = 0;
    const { client } = createClient({
      maxBatchSize: 10,
      flushIntervalMs: 60_000,
      fetch: (input, init) => {
        requests += 1;
        return fetch(input, init);
      },
    });
    const ids: string[] = [];
    for (let index = 0; index < 25; index += 1) {
      await client.task('agent_c', `batch command ${index}`, (task) => {
        ids.push(task.id);
        return 'done';
      });
    }
    await client.flush();
    expect(requests).toBe(3);
    expect(await countTaskRows(ids)).toBe(25);
    expect(client.stats()).toMatchObject({ sentTasks: 25, duplicateTasks: 0 });
    await client.close();
  });

  it('retries a 503 with Retry-After and records the task once', async () => {
    const proxy = await startProxy(server.url, ['answer-503', 'answer-503']);
    const { client, errors } = createClient({ baseUrl: proxy.url });
    const id = await client.task('agent_a', 'retry me', (task) => task.id);
    await client.flush();
    expect(proxy.seen).toEqual(['POST /api/tasks/batch', 'POST /api/tasks/batch', 'POST /api/tasks/batch']);
    expect(client.stats()).toMatchObject({ retries: 2, sentTasks: 1, failed: 0 });
    expect(errors).toEqual([]);
    expect(await countTaskRows([id])).toBe(1);
    await client.close();
    await proxy.close();
  });

  it('does not duplicate a batch whose answer was lost and that was sent again', async () => {
    const proxy = await startProxy(server.url, ['forward-then-503']);
    const { client } = createClient({ baseUrl: proxy.url });
    const ids: string[] = [];
    for (const command of ['first', 'second', 'third']) {
      ids.push(await client.task('agent_d', command, (task) => task.id));
    }
    await client.flush();
    expect(proxy.seen).toHaveLength(2);
    expect(client.stats()).toMatchObject({ retries: 1, sentTasks: 0, duplicateTasks: 3, failed: 0 });
    expect(await countTaskRows(ids)).toBe(3);
    await client.close();
    await proxy.close();
  });

  it('never retries a 4xx: a wrong key fails once and is reported', async () => {
    let requests = 0;
    const { client, errors } = createClient({
      apiKey: generateKeySecret().secret,
      fetch: (input, init) => {
        requests += 1;
        return fetch(input, init);
      },
    });
    const id = await client.task('agent_a', 'with a wrong key', (task) => task.id);
    await client.flush();
    expect(requests).toBe(1);
    expect(errors).toHaveLength(1);
    expect(errors[0]?.details).toMatchObject({ status: 401, code: 'unauthorized' });
    expect(client.stats()).toMatchObject({ failed: 1, retries: 0, sentTasks: 0 });
    expect(await countTaskRows([id])).toBe(0);
    await client.close();
  });

  it('gives up after maxAttempts when Merit cannot be reached', async () => {
    const { client, errors } = createClient({ baseUrl: 'http://127.0.0.1:9', maxAttempts: 3 });
    await client.task('agent_a', 'nobody listens', () => 'ok');
    await client.flush();
    expect(client.stats()).toMatchObject({ retries: 2, failed: 1, queued: 0 });
    expect(errors[0]?.details.status).toBeUndefined();
  });

  it('sets aside a task Merit refuses and sends the rest of its batch', async () => {
    const { client, errors } = createClient({ flushIntervalMs: 60_000 });
    const ids: string[] = [];
    ids.push(await client.task('agent_a', 'good one', (task) => task.id));
    // An agent id this project does not have: 400 naming tasks.1.agent_id.
    ids.push(await client.task('no_such_agent', 'unknown agent', (task) => task.id));
    ids.push(await client.task('agent_a', 'good two', (task) => task.id));
    await client.flush();
    expect(errors).toHaveLength(1);
    expect(errors[0]?.details).toMatchObject({ status: 400, code: 'validation_failed' });
    expect(errors[0]?.details.items).toHaveLength(1);
    expect(errors[0]?.message).toContain("no agent with id 'no_such_agent'");
    expect((errors[0]!.details.items[0] as any).body.agent_id).toBe('no_such_agent');
    expect(await countTaskRows([ids[0]!, ids[2]!])).toBe(2);
    expect(await countTaskRows([ids[1]!])).toBe(0);
    await client.close();
  });

  it('close() gives up on what it cannot send before its deadline, and later records are only counted', async () => {
    // A server that takes requests and never answers.
    const silent = http.createServer(() => {});
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { client, errors } = createClient({
      baseUrl: `http://127.0.0.1:${(silent.address() as AddressInfo).port}`,
      flushIntervalMs: 60_000,
    });
    await client.task('agent_a', 'never answered one', () => 'ok');
    await client.task('agent_a', 'never answered two', () => 'ok');
    const started = Date.now();
    await client.close(300);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(client.stats()).toMatchObject({ failed: 2, queued: 0, sentTasks: 0 });
    expect(errors.flatMap((error) => error.details.items)).toHaveLength(2);
    // The host's task still succeeds after close(); its record is dropped and counted.
    expect(await client.task('agent_a', 'after close', () => 'fine')).toBe('fine');
    expect(client.stats().dropped).toBe(1);
    silent.closeAllConnections();
    await new Promise<void>((resolve) => silent.close(() => resolve()));
  });

  it("sends a batch larger than Merit's body limit in parts instead of losing it", async () => {
    // 12 results of 400,000 characters: about 4.8 MB in one batch, over Merit's 4 MiB body limit. Merit
    // answered 413 and every task of the batch was given up before.
    let requests = 0;
    const { client, errors } = createClient({
      flushIntervalMs: 60_000,
      fetch: (input, init) => {
        requests += 1;
        return fetch(input, init);
      },
    });
    const ids: string[] = [];
    for (let index = 0; index < 12; index += 1) {
      await client.task('agent_e', `long report ${index}`, (task) => {
        ids.push(task.id);
        return `${index} ${'x'.repeat(400_000)}`;
      });
    }
    await client.flush();
    expect(errors).toEqual([]);
    expect(client.stats()).toMatchObject({ sentTasks: 12, failed: 0, queued: 0 });
    expect(await countTaskRows(ids)).toBe(12);
    // Under 3 MiB each (maxBatchBytes): two requests, none refused.
    expect(requests).toBe(2);

    // A server with a smaller limit than maxBatchBytes answers 413: the batch is halved until it fits.
    const small = createClient({ flushIntervalMs: 60_000, maxBatchBytes: 64 * 1024 * 1024 });
    const more: string[] = [];
    for (let index = 0; index < 12; index += 1) {
      await small.client.task('agent_e', `long memo ${index}`, (task) => {
        more.push(task.id);
        return 'y'.repeat(400_000);
      });
    }
    await small.client.flush();
    expect(small.errors).toEqual([]);
    expect(small.client.stats()).toMatchObject({ sentTasks: 12, failed: 0 });
    expect(await countTaskRows(more)).toBe(12);
    await client.close();
    await small.client.close();
  });

  it('keeps at most maxQueueBytes of recorded tasks, dropping the oldest and counting them', async () => {
    const { client } = createClient({ maxQueueBytes: 1024 * 1024, flushIntervalMs: 60_000 });
    const ids: string[] = [];
    for (let index = 0; index < 5; index += 1) {
      await client.task('agent_e', `big ${index}`, (task) => {
        ids.push(task.id);
        return 'z'.repeat(300_000);
      });
    }
    // About 300 KB each: three fit in 1 MiB, the two oldest are dropped.
    expect(client.stats()).toMatchObject({ queued: 3, dropped: 2 });
    await client.flush();
    expect(await countTaskRows(ids.slice(0, 2))).toBe(0);
    expect(await countTaskRows(ids.slice(2))).toBe(3);
    await client.close();
  });

  it('keeps at most maxQueueSize items, dropping the oldest and counting them', async () => {
    const { client } = createClient({ maxQueueSize: 5, flushIntervalMs: 60_000 });
    const ids: string[] = [];
    for (let index = 0; index < 8; index += 1) {
      ids.push(await client.task('agent_e', `queued ${index}`, (task) => task.id));
    }
    expect(client.stats()).toMatchObject({ queued: 5, dropped: 3 });
    await client.flush();
    expect(await countTaskRows(ids.slice(0, 3))).toBe(0);
    expect(await countTaskRows(ids.slice(3))).toBe(5);
    expect(client.stats()).toMatchObject({ queued: 0, sentTasks: 5, dropped: 3 });
    await client.close();
  });

  it('answers CORS preflights for feedback and ingest routes only, and allows the origin only for a key that does', async () => {
    const origin = 'https://shop.example.com';
    const preflight = (path: string, method: string) =>
      fetch(`${server.url}${path}`, {
        method: 'OPTIONS',
        headers: {
          origin,
          'access-control-request-method': method,
          'access-control-request-headers': 'authorization, content-type',
        },
      });
    const feedbackPreflight = await preflight(`/api/tasks/${crypto.randomUUID()}/feedback`, 'POST');
    expect(feedbackPreflight.status).toBe(204);
    expect(feedbackPreflight.headers.get('access-control-allow-origin')).toBe(origin);
    expect(feedbackPreflight.headers.get('access-control-allow-methods')).toBe('POST');
    expect(feedbackPreflight.headers.get('access-control-allow-headers')).toContain('Authorization');
    expect(feedbackPreflight.headers.get('access-control-allow-credentials')).toBeNull();
    expect((await preflight('/api/tasks/batch', 'POST')).status).toBe(204);
    for (const [path, method] of [
      ['/api/tasks', 'GET'],
      ['/api/keys', 'POST'],
      ['/api/tasks/batch', 'DELETE'],
    ] as const) {
      const refused = await preflight(path, method);
      expect(refused.headers.get('access-control-allow-origin'), `${method} ${path}`).toBeNull();
    }

    const allowedKey = await (async () => {
      const secret = generateKeySecret();
      await insertApiKey(server.services.ctx.db, {
        projectId: DEFAULT_PROJECT_ID,
        name: 'browser ingest',
        prefix: secret.prefix,
        secretHash: secret.secretHash,
        scopes: ['ingest', 'read'],
        allowedOrigins: [origin],
        createdBy: 'test',
        createdByAccountId: null,
      });
      return secret.secret;
    })();
    const post = (key: string) =>
      fetch(`${server.url}/api/tasks/batch`, {
        method: 'POST',
        headers: { origin, 'content-type': 'application/json', authorization: `Bearer ${key}` },
        body: JSON.stringify({ tasks: [{ agent_id: 'agent_a', command: 'from a browser', result: 'ok' }] }),
      });
    const allowed = await post(allowedKey);
    expect(allowed.status).toBe(201);
    expect(allowed.headers.get('access-control-allow-origin')).toBe(origin);
    expect(allowed.headers.get('vary')).toContain('Origin');
    // writeKey allows no browser origin: refused, and the page may not even read why.
    const refused = await post(writeKey);
    expect(refused.status).toBe(403);
    expect(refused.headers.get('access-control-allow-origin')).toBeNull();
    // A read route stays closed to other origins even with a key that allows the origin.
    const read = await fetch(`${server.url}/api/tasks`, {
      headers: { origin, authorization: `Bearer ${allowedKey}` },
    });
    expect(read.status).toBe(200);
    expect(read.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('serves the widget script at a stable URL', async () => {
    const response = await fetch(`${server.url}/widget/merit-feedback.js`);
    if (response.status === 404) {
      // Not built in this checkout: the answer says how to build it.
      expect(((await response.json()) as any).error.message).toContain('npm run build');
      return;
    }
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(await response.text()).toContain('data-merit-feedback');
  });

  it('runs the examples: the SDK one records its tasks and rating, the OpenTelemetry one exports an agent run', async () => {
    const key = await createKey(['ingest', 'feedback']);
    // Asynchronously: the live server runs in this process and must keep answering.
    const run = (file: string, env: Record<string, string>) =>
      new Promise<string>((resolve, reject) => {
        execFile(
          path.join(ROOT, 'node_modules', '.bin', 'tsx'),
          [file],
          { cwd: ROOT, env: { ...process.env, ...env }, encoding: 'utf8' },
          (error, stdout, stderr) =>
            error ? reject(new Error(`${file}: ${stderr}`, { cause: error })) : resolve(stdout),
        );
      });
    const sdkOutput = await run('examples/sdk-basic.ts', { MERIT_URL: server.url, MERIT_API_KEY: key });
    const taskId = /Task ([0-9a-f-]{36}) completed/.exec(sdkOutput)?.[1];
    expect(taskId).toBeDefined();
    const { body } = await readTask(taskId!);
    expect(body).toMatchObject({ status: 'completed', agent_id: 'agent_a', model: 'gpt-4o-mini' });
    expect(body.nodes.map((node: any) => node.node_name)).toEqual(['fetch release notes', 'draft summary']);
    expect(body.score).toMatchObject({ user_rating: 5, user_feedback: 'Short and accurate' });
    expect(sdkOutput).toContain('Task failed as expected: payment provider timed out');

    const otelOutput = await run('examples/otel-node.ts', {
      OTEL_EXPORTER_OTLP_ENDPOINT: server.url,
      OTEL_EXPORTER_OTLP_HEADERS: `Authorization=Bearer ${key}`,
    });
    expect(otelOutput).toMatch(/Exported trace [0-9a-f]{32}/);
    const readTasks = async () => {
      const response = await fetch(`${server.url}/api/tasks?q=morning%20flight`, {
        headers: { authorization: `Bearer ${readKey}` },
      });
      return ((await response.json()) as { tasks: { id: string; status: string }[] }).tasks;
    };
    let found = await readTasks();
    for (let wait = 0; found.length === 0 && wait < 40; wait += 1) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      found = await readTasks();
    }
    expect(found).toHaveLength(1);
    const { body: agentRun } = await readTask(found[0]!.id);
    expect(agentRun).toMatchObject({ status: 'completed', result: 'TP 1234 leaves at 9:05.' });
    expect(agentRun.nodes).toHaveLength(2);
  }, 90_000);

  it('is usable from a plain Node ESM program through the package export, and flushes on exit', async () => {
    execFileSync(path.join(ROOT, 'node_modules', '.bin', 'tsc'), ['-p', 'tsconfig.sdk.json'], { cwd: ROOT });
    const dir = path.join(ROOT, 'test-artifacts', 'sdk-consumer');
    fs.mkdirSync(dir, { recursive: true });
    const script = path.join(dir, 'consumer.mjs');
    // No flush() or close(): the beforeExit hook must send the task before the process ends.
    fs.writeFileSync(
      script,
      [
        "import { MeritClient } from 'merit/sdk';",
        'const client = new MeritClient({ baseUrl: process.env.MERIT_URL, apiKey: process.env.MERIT_KEY, flushIntervalMs: 60000 });',
        "const id = await client.task('agent_f', 'from a plain node program', async (task) => {",
        "  await task.step('only step', () => 'fine');",
        '  return task.id;',
        '});',
        'console.log(id);',
      ].join('\n'),
    );
    const child = spawn(process.execPath, [script], {
      cwd: dir,
      env: { ...process.env, MERIT_URL: server.url, MERIT_KEY: writeKey },
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(code).toBe(0);
    const id = output.trim();
    const { body } = await readTask(id);
    expect(body).toMatchObject({ status: 'completed', agent_id: 'agent_f', result: id });
    expect(body.nodes.map((node: any) => node.node_name)).toEqual(['only step']);

    // SIGTERM with no handler of the host's: the task is sent, then the process ends by the signal as before.
    const serverScript = path.join(dir, 'long-running.mjs');
    fs.writeFileSync(
      serverScript,
      [
        "import { MeritClient } from 'merit/sdk';",
        'const client = new MeritClient({ baseUrl: process.env.MERIT_URL, apiKey: process.env.MERIT_KEY, flushIntervalMs: 60000 });',
        "console.log(await client.task('agent_f', 'stopped by SIGTERM', (task) => task.id));",
        'setInterval(() => {}, 1000);',
      ].join('\n'),
    );
    const running = spawn(process.execPath, [serverScript], {
      cwd: dir,
      env: { ...process.env, MERIT_URL: server.url, MERIT_KEY: writeKey },
    });
    const runningId = await new Promise<string>((resolve) =>
      running.stdout.once('data', (chunk: Buffer) => resolve(chunk.toString().trim())),
    );
    const exit = new Promise<NodeJS.Signals | null>((resolve) =>
      running.on('close', (_code, signal) => resolve(signal)),
    );
    running.kill('SIGTERM');
    expect(await exit).toBe('SIGTERM');
    expect((await readTask(runningId)).body).toMatchObject({
      status: 'completed',
      command: 'stopped by SIGTERM',
    });

    // The React component export renders in a plain Node program too (server-side rendering).
    const widgetScript = path.join(dir, 'widget.mjs');
    fs.writeFileSync(
      widgetScript,
      [
        "import { createElement } from 'react';",
        "import { renderToString } from 'react-dom/server';",
        "import { MeritFeedbackWidget } from 'merit/widget';",
        "console.log(renderToString(createElement(MeritFeedbackWidget, { taskId: 'a', baseUrl: 'http://merit.test', apiKey: 'k' })));",
      ].join('\n'),
    );
    const html = execFileSync(process.execPath, [widgetScript], { cwd: dir, encoding: 'utf8' });
    expect(html).toContain('How good was this result?');
    expect(html.match(/type="radio"/g)).toHaveLength(5);
  }, 90_000);
});
