/**
 * Memory of list endpoints over large results (issue 8, item 6): RSS of a Merit process serving ten
 * concurrent `GET /api/tasks?limit=200` over tasks whose results are 1 MB each, beside the baseline of
 * the same calls answered the way Merit did before previews (whole rows, texts in full), in the same run
 * on the same database. Each side runs in a fresh server process (bench/list-memory-server.ts).
 * The default of 20 tasks keeps the baseline within reach: from about 50, its ten answers of 50 MB each
 * outlast the statement timeout and the server drops connections mid-answer.
 * Usage: npx tsx bench/list-memory.bench.ts [--tasks 20 --result-bytes 1000000 --concurrency 10 --rounds 3]
 */
import { type ChildProcess, fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { DEFAULT_USER_ID } from '../src/config.js';
import { openBenchEnvironment } from './support.js';

const { values } = parseArgs({
  options: {
    tasks: { type: 'string', default: '20' },
    'result-bytes': { type: 'string', default: '1000000' },
    concurrency: { type: 'string', default: '10' },
    rounds: { type: 'string', default: '3' },
  },
});
const TASKS = Number(values.tasks);
const RESULT_BYTES = Number(values['result-bytes']);
const CONCURRENCY = Number(values.concurrency);
const ROUNDS = Number(values.rounds);
const MB = 1024 * 1024;

interface Figures {
  idleRss: number;
  peakRss: number;
  afterRss: number;
  bytesPerCall: number;
}

function ask<T>(child: ChildProcess, type: string): Promise<T> {
  return new Promise((resolve) => {
    child.once('message', (message) => resolve(message as T));
    child.send({ type });
  });
}

/** Starts a fresh server process, sends the calls, and returns its RSS figures. */
async function measure(databaseUrl: string, path: string): Promise<Figures> {
  const child = fork(new URL('./list-memory-server.ts', import.meta.url), {
    execArgv: ['--import', 'tsx'],
    env: { ...process.env, BENCH_DATABASE_URL: databaseUrl },
  });
  const { port } = await new Promise<{ port: number }>((resolve) => child.once('message', resolve as never));
  try {
    return await sendCalls(child, `http://127.0.0.1:${port}`, path);
  } finally {
    child.send({ type: 'stop' });
    await new Promise((resolve) => child.once('exit', resolve));
  }
}

async function sendCalls(child: ChildProcess, origin: string, path: string): Promise<Figures> {
  const url = `${origin}${path}`;
  // One small call first, so that idle RSS includes a warmed-up app and connection.
  await (await fetch(`${origin}/api/tasks?user_id=${DEFAULT_USER_ID}&limit=1`)).text();
  const idle = await ask<{ rss: number }>(child, 'report');
  await ask(child, 'reset');
  let bytesPerCall = 0;
  for (let round = 0; round < ROUNDS; round++) {
    const sizes = await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        const response = await fetch(url);
        if (!response.ok) throw new Error(`${path} answered ${response.status}`);
        return (await response.arrayBuffer()).byteLength;
      }),
    );
    bytesPerCall = Math.max(...sizes);
  }
  const report = await ask<{ rss: number; peakRss: number }>(child, 'report');
  return { idleRss: idle.rss, peakRss: report.peakRss, afterRss: report.rss, bytesPerCall };
}

async function seed(env: Awaited<ReturnType<typeof openBenchEnvironment>>): Promise<void> {
  // Hex text: compressible about as much as model output, so TOAST does not make it unrealistically small.
  for (let done = 0; done < TASKS; done += 10) {
    const count = Math.min(10, TASKS - done);
    const results = Array.from({ length: count }, () => randomBytes(RESULT_BYTES / 2).toString('hex'));
    await env.handle.pool.query(
      `INSERT INTO tasks (project_id, user_id, agent_id, command, status, result, completed_at)
       SELECT '00000000-0000-0000-0000-000000000000', $1, 'agent_a', 'write a long report', 'completed', r, now() FROM unnest($2::text[]) AS r`,
      [DEFAULT_USER_ID, results],
    );
  }
}

const env = await openBenchEnvironment('merit_bench_list_memory');
try {
  process.stderr.write(`Seeding ${TASKS} tasks with ${RESULT_BYTES.toLocaleString()}-byte results...\n`);
  await seed(env);
  const query = `user_id=${DEFAULT_USER_ID}&limit=${TASKS}`;
  const previews = await measure(env.handle.url, `/api/tasks?${query}`);
  const whole = await measure(env.handle.url, `/bench/whole-list?${query}`);
  const row = (label: string, f: Figures) =>
    `${label.padEnd(34)} ${(f.idleRss / MB).toFixed(0).padStart(8)} ${(f.peakRss / MB).toFixed(0).padStart(8)} ${((f.peakRss - f.idleRss) / MB).toFixed(0).padStart(8)} ${(f.afterRss / MB).toFixed(0).padStart(8)} ${(f.bytesPerCall / MB).toFixed(2).padStart(10)}`;
  console.log(
    `\n${CONCURRENCY} concurrent list calls x ${ROUNDS} rounds, ${TASKS} tasks of ${(RESULT_BYTES / MB).toFixed(2)} MB results (${env.label})\n`,
  );
  console.log(
    `${'RSS in MB'.padEnd(34)} ${'idle'.padStart(8)} ${'peak'.padStart(8)} ${'growth'.padStart(8)} ${'after'.padStart(8)} ${'MB/answer'.padStart(10)}`,
  );
  console.log(row('GET /api/tasks (previews)', previews));
  console.log(row('baseline: whole rows (before)', whole));
  const growth = (f: Figures) => Math.max(f.peakRss - f.idleRss, 1);
  console.log(
    `\npeak RSS: ${(previews.peakRss / whole.peakRss).toFixed(3)}x the baseline; growth over idle: ${(growth(previews) / growth(whole)).toFixed(3)}x; answer size: ${(previews.bytesPerCall / whole.bytesPerCall).toFixed(4)}x`,
  );
} finally {
  await env.close();
}
