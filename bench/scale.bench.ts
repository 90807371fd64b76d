/**
 * Scale-out figures (issue 12), with real Merit processes (`merit start --role api`) on one database:
 *   1. tasks/s through POST /api/tasks/batch with 1 API process, then with 2 (the same database, the
 *      clients spread round robin): the ratio says what a second process adds on this machine;
 *   2. event latency across processes: a task completed through process B, seen on an SSE stream of
 *      process A (from the completing request's send: an upper bound of commit-to-delivery), p50/p99.
 *      Aim: p99 < 1 s.
 * Usage: npm run bench:scale [-- --batches 60 --batch-size 100 --concurrency 8 --events 200]
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { DEFAULT_USER_ID } from '../src/config.js';
import { startEmbeddedServer } from '../src/db/embedded-server.js';
import { createProgress } from '../src/lib/progress.js';
import { measureRate, percentile, printBarChart } from './support.js';
import { makeTask, post } from './workload.js';

const { values } = parseArgs({
  options: {
    batches: { type: 'string', default: '60' },
    'batch-size': { type: 'string', default: '100' },
    concurrency: { type: 'string', default: '8' },
    events: { type: 'string', default: '200' },
  },
});
const BATCHES = Number(values.batches);
const BATCH_SIZE = Number(values['batch-size']);
const CONCURRENCY = Number(values.concurrency);
const EVENTS = Number(values.events);
const progressMode = process.stderr.isTTY ? 'bar' : 'lines';
const ROOT = path.resolve(import.meta.dirname, '..');

interface ApiProcess {
  url: string;
  stop(): Promise<void>;
}

/** `merit start --role api` on the bench database, on a port of its own; resolves once it serves. */
function startApi(databaseUrl: string, port: number): Promise<ApiProcess> {
  const child = spawn(process.execPath, [path.join(ROOT, 'bin', 'merit.js'), 'start', '--role', 'api'], {
    cwd: ROOT,
    env: {
      ...process.env,
      DATABASE_URL: databaseUrl,
      PORT: String(port),
      MERIT_LOG_LEVEL: 'error',
      MERIT_MAX_BODY_BYTES: String(64 * 1024 * 1024),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  return new Promise((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /Merit is running at (http:\/\/\S+)/.exec(output);
      if (match?.[1])
        resolve({
          url: match[1],
          stop: async () => {
            child.kill('SIGTERM');
            await new Promise((done) => child.once('exit', done));
          },
        });
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code) => reject(new Error(`merit exited (${code}) before serving:\n${output}`)));
  });
}

async function measureBatchRate(urls: readonly string[], label: string): Promise<number> {
  const progress = createProgress(label, BATCHES, progressMode);
  let offset = 0;
  let done = 0;
  const rate = await measureRate(BATCHES, CONCURRENCY, async (index) => {
    const start = offset;
    offset += BATCH_SIZE;
    const tasks = Array.from({ length: BATCH_SIZE }, (_, n) => makeTask(start + n));
    await post(urls[index % urls.length] as string, '/api/tasks/batch', { tasks });
    progress.update(++done);
  });
  progress.finish();
  return rate * BATCH_SIZE;
}

/** Completes EVENTS tasks through `writer`, each awaited on an SSE stream of `reader`; latencies in ms. */
async function measureEventLatency(reader: string, writer: string): Promise<number[]> {
  const controller = new AbortController();
  const response = await fetch(`${reader}/api/events?user_id=${DEFAULT_USER_ID}`, {
    signal: controller.signal,
  });
  const body = (response.body as ReadableStream<Uint8Array>).getReader();
  const waiting = new Map<string, (at: number) => void>();
  let ready: () => void = () => {};
  const isReady = new Promise<void>((resolve) => {
    ready = resolve;
  });
  const decoder = new TextDecoder();
  let buffer = '';
  const reading = (async () => {
    for (;;) {
      const { value, done } = await body.read().catch(() => ({ value: undefined, done: true }));
      if (done) return;
      buffer += decoder.decode(value, { stream: true });
      for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        if (/^event: ready$/m.test(block)) ready();
        const data = /^event: task$/m.test(block) ? /^data: (.*)$/m.exec(block)?.[1] : undefined;
        if (!data) continue;
        const task = JSON.parse(data) as { id: string; status: string };
        if (task.status === 'completed') waiting.get(task.id)?.(Date.now());
      }
    }
  })();
  await isReady;
  const progress = createProgress('event latency (B -> A)', EVENTS, progressMode);
  const latencies: number[] = [];
  for (let i = 0; i < EVENTS; i++) {
    const task = { ...makeTask(i), id: crypto.randomUUID() };
    const created = await fetch(`${writer}/api/tasks?user_id=${DEFAULT_USER_ID}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ id: task.id, agent_id: task.agent_id, command: task.command }),
    });
    if (created.status !== 201) throw new Error(`POST /api/tasks answered ${created.status}`);
    await created.arrayBuffer();
    const seen = new Promise<number>((resolve) => waiting.set(task.id, resolve));
    const sentAt = Date.now();
    const completed = await fetch(`${writer}/api/tasks/${task.id}/complete?user_id=${DEFAULT_USER_ID}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ result: task.result, duration_ms: task.duration_ms }),
    });
    if (completed.status !== 200) throw new Error(`complete answered ${completed.status}`);
    await completed.arrayBuffer();
    const at = await Promise.race([
      seen,
      new Promise<number>((_, reject) =>
        setTimeout(() => reject(new Error(`task ${task.id} never arrived`)), 10_000),
      ),
    ]);
    waiting.delete(task.id);
    latencies.push(at - sentAt);
    progress.update(i + 1);
  }
  progress.finish();
  controller.abort();
  await reading;
  return latencies;
}

async function main(): Promise<void> {
  let dataDir: string | undefined;
  let stopServer = async () => {};
  let adminUrl = process.env.DATABASE_URL;
  if (!adminUrl) {
    dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'merit-bench-'));
    await fs.chmod(dataDir, 0o755);
    const embedded = await startEmbeddedServer({ dataDir, preferredPort: 54350 });
    adminUrl = embedded.url;
    stopServer = () => embedded.stop();
  }
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query('DROP DATABASE IF EXISTS merit_bench_scale WITH (FORCE)');
  await admin.query('CREATE DATABASE merit_bench_scale');
  await admin.end();
  const url = new URL(adminUrl);
  url.pathname = '/merit_bench_scale';
  const apis: ApiProcess[] = [];
  try {
    console.log(
      `Database: ${url.hostname}:${url.port}/merit_bench_scale; CPUs: ${os.cpus().length}, load ${os.loadavg()[0]?.toFixed(1)}`,
    );
    apis.push(await startApi(url.toString(), 18_101));
    const [a] = apis as [ApiProcess];
    // Warm-up (connections, prepared statements, caches) outside the measurement.
    await post(a.url, '/api/tasks/batch', {
      tasks: Array.from({ length: BATCH_SIZE }, (_, n) => makeTask(n)),
    });
    const one = await measureBatchRate([a.url], '1 API process');
    apis.push(await startApi(url.toString(), 18_102));
    const [, b] = apis as [ApiProcess, ApiProcess];
    await post(b.url, '/api/tasks/batch', {
      tasks: Array.from({ length: BATCH_SIZE }, (_, n) => makeTask(n)),
    });
    const two = await measureBatchRate([a.url, b.url], '2 API processes');
    const latencies = (await measureEventLatency(a.url, b.url)).sort((x, y) => x - y);

    printBarChart(`POST /api/tasks/batch, ${BATCHES} batches of ${BATCH_SIZE}, ${CONCURRENCY} clients`, [
      { label: '1 API process', value: one, unit: 'tasks/s' },
      { label: '2 API processes', value: two, unit: 'tasks/s' },
    ]);
    console.log(
      `ratio 2 processes / 1 process: ${(two / one).toFixed(2)}x (the database and ${os.cpus().length} CPUs shared)`,
    );
    const p50 = percentile(latencies, 50);
    const p99 = percentile(latencies, 99);
    console.log(
      `\nEvent latency across processes (complete through B -> SSE on A, ${latencies.length} tasks): p50 ${p50} ms, p99 ${p99} ms, max ${latencies.at(-1)} ms (aim: p99 < 1000 ms: ${p99 < 1000 ? 'met' : 'NOT met'})`,
    );
  } finally {
    for (const api of apis) await api.stop();
    await stopServer();
    if (dataDir) await fs.rm(dataDir, { recursive: true, force: true });
  }
}

await main();
