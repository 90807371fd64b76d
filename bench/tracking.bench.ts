/**
 * Tracking throughput and leaderboard latency, each beside a baseline measured in the same run on the
 * same database:
 *   1. completed tasks/s through the single endpoint (POST /api/tasks/completed, concurrent clients)
 *      vs raw single-row INSERTs of the same rows (task, score, nodes) at the same concurrency (aim:
 *      >= 40% of raw), and, for transparency, vs a raw INSERT of the task row alone;
 *   2. tasks/s through the batch endpoint vs plain multi-row INSERTs of the same batches (aim: >= 50%);
 *   3. leaderboard latency p50/p99 with 10,000 and with 1,000,000 scored tasks (aim: p99 < 5 ms, and
 *      the 1,000,000 figure within 1.5x of the 10,000 one).
 * Usage: npm run bench [-- --single 4000 --concurrency 16 --batches 40 --batch-size 500 --big 1000000]
 */
import { parseArgs } from 'node:util';
import { Worker } from 'node:worker_threads';
import type pg from 'pg';
import { DEFAULT_USER_ID } from '../src/config.js';
import { createProgress } from '../src/lib/progress.js';
import { runStatsRecompute } from '../src/stats/stats.jobs.js';
import type { LoadSpec } from './load-worker.js';
import { openBenchEnvironment, percentile, printBarChart } from './support.js';
import { AGENTS, CATEGORIES } from './workload.js';

const { values } = parseArgs({
  options: {
    single: { type: 'string', default: '4000' },
    concurrency: { type: 'string', default: '16' },
    batches: { type: 'string', default: '40' },
    'batch-size': { type: 'string', default: '500' },
    'batch-concurrency': { type: 'string', default: '4' },
    small: { type: 'string', default: '10000' },
    big: { type: 'string', default: '1000000' },
    requests: { type: 'string', default: '2000' },
  },
});
const SINGLE = Number(values.single);
const CONCURRENCY = Number(values.concurrency);
const BATCHES = Number(values.batches);
const BATCH_SIZE = Number(values['batch-size']);
const BATCH_CONCURRENCY = Number(values['batch-concurrency']);
const SMALL = Number(values.small);
const BIG = Number(values.big);
const REQUESTS = Number(values.requests);
const progressMode = process.stderr.isTTY ? 'bar' : 'lines';

interface Rates {
  merit: number;
  rawTaskRows: number;
  rawAllRows: number;
}

function startLoadWorker(spec: LoadSpec): Worker {
  return new Worker(new URL('./load-worker.mjs', import.meta.url), { workerData: spec });
}

/** Runs one load in a worker thread (its own event loop, like an external client) and returns tasks/s. */
function runRate(label: string, spec: LoadSpec, units: number): Promise<number> {
  const progress = createProgress(label, units, progressMode);
  const worker = startLoadWorker(spec);
  return new Promise((resolve, reject) => {
    worker.on('message', (message: { done?: number; rate?: number }) => {
      if (message.done !== undefined) progress.update(message.done);
      if (message.rate !== undefined) {
        progress.finish();
        resolve(message.rate);
      }
    });
    worker.on('error', reject);
    worker.on('exit', (code) => {
      if (code !== 0) reject(new Error(`load worker exited with ${code}`));
    });
  });
}

async function benchSingle(env: Awaited<ReturnType<typeof openBenchEnvironment>>): Promise<Rates> {
  const base = {
    total: SINGLE,
    concurrency: CONCURRENCY,
    batchSize: 1,
    baseUrl: env.baseUrl,
    databaseUrl: env.handle.url,
  };
  const rawTaskRows = await runRate(
    'raw INSERT, task row',
    { ...base, mode: 'raw-task-row', offset: 0 },
    SINGLE,
  );
  const rawAllRows = await runRate(
    'raw INSERTs, task+score+nodes',
    { ...base, mode: 'raw-all-rows', offset: SINGLE },
    SINGLE,
  );
  const merit = await runRate(
    'POST /api/tasks/completed',
    { ...base, mode: 'merit', offset: 2 * SINGLE },
    SINGLE,
  );
  return { merit, rawTaskRows, rawAllRows };
}

async function benchBatch(env: Awaited<ReturnType<typeof openBenchEnvironment>>): Promise<Rates> {
  const total = BATCHES * BATCH_SIZE;
  const base = {
    total: BATCHES,
    concurrency: BATCH_CONCURRENCY,
    batchSize: BATCH_SIZE,
    baseUrl: env.baseUrl,
    databaseUrl: env.handle.url,
  };
  const offset = 3 * SINGLE;
  const rawTaskRows = await runRate(
    'raw batched INSERT, task rows',
    { ...base, mode: 'raw-task-row', offset },
    BATCHES,
  );
  const rawAllRows = await runRate(
    'raw batched INSERTs, all rows',
    { ...base, mode: 'raw-all-rows', offset: offset + total },
    BATCHES,
  );
  const merit = await runRate(
    'POST /api/tasks/batch',
    { ...base, mode: 'merit', offset: offset + 2 * total },
    BATCHES,
  );
  return { merit, rawTaskRows, rawAllRows };
}

/** Adds `count` completed, scored tasks with SQL (fast), then rebuilds statistics from them. */
async function fillScoredTasks(pool: pg.Pool, from: number, count: number, label: string): Promise<void> {
  const chunk = 50_000;
  const progress = createProgress(label, count, progressMode);
  for (let done = 0; done < count; done += chunk) {
    const size = Math.min(chunk, count - done);
    await pool.query(
      `WITH inserted AS (
         INSERT INTO tasks (project_id, user_id, agent_id, command, objective_category, status, result, model, prompt_tokens,
           completion_tokens, total_tokens, estimated_cost, duration_ms, created_at, started_at, completed_at)
         SELECT '00000000-0000-0000-0000-000000000000', $1::uuid, (ARRAY[${AGENTS.map((a) => `'${a}'`).join(',')}])[1 + i % ${AGENTS.length}],
           'filled task ' || i, (ARRAY[${CATEGORIES.map((c) => `'${c}'`).join(',')}])[1 + i % ${CATEGORIES.length}],
           'completed', 'result', 'gpt-4o-mini', 900, 400, 1300, 0.000375, 4000 + i % 5000,
           now() - make_interval(secs => i), now() - make_interval(secs => i), now() - make_interval(secs => i)
         FROM generate_series($2::int, $3::int) AS i
         RETURNING id, agent_id, user_id, objective_category, total_tokens, estimated_cost, duration_ms)
       INSERT INTO agent_performance_scores (task_id, agent_id, user_id, objective_category, efficiency_score,
         overall_score, user_rating, total_tokens, estimated_cost, duration_ms)
       SELECT id, agent_id, user_id, objective_category, round(random()::numeric, 2), round(random()::numeric, 2),
         CASE WHEN random() < 0.4 THEN 1 + floor(random() * 5)::int END, total_tokens, estimated_cost, duration_ms
       FROM inserted`,
      [DEFAULT_USER_ID, from + done, from + done + size - 1],
    );
    progress.update(done + size);
  }
  progress.finish();
}

/** After a bulk fill: what autovacuum and the checkpointer would do, so they do not run during timing. */
async function settleDatabase(pool: pg.Pool): Promise<void> {
  await pool.query('VACUUM ANALYZE');
  await pool.query('CHECKPOINT');
}

/** Leaderboard latency from a client in its own thread: sequential requests after a warm-up. */
interface Latency {
  p50: number;
  p99: number;
}

async function measureLeaderboard(baseUrl: string, label: string, bypassCache = false): Promise<Latency> {
  const progress = createProgress(label, REQUESTS, progressMode);
  const worker = startLoadWorker({
    mode: 'latency',
    total: REQUESTS,
    concurrency: 1,
    batchSize: 1,
    offset: 0,
    baseUrl,
    databaseUrl: '',
    path: `/api/agents/leaderboard?user_id=${DEFAULT_USER_ID}`,
    warmup: 500,
    bypassCache,
  });
  const latencies = await new Promise<number[]>((resolve, reject) => {
    worker.on('message', (message: { done?: number; latencies?: number[] }) => {
      if (message.done !== undefined) progress.update(message.done);
      if (message.latencies) resolve(message.latencies);
    });
    worker.on('error', reject);
  });
  progress.finish();
  return { p50: percentile(latencies, 50), p99: percentile(latencies, 99) };
}

async function main(): Promise<void> {
  console.log('Merit tracking benchmark');
  const env = await openBenchEnvironment('merit_bench');
  console.log(`Database: ${env.label}; ${CONCURRENCY} concurrent clients; Node ${process.version}`);
  try {
    const single = await benchSingle(env);
    const batch = await benchBatch(env);

    const lb = await openBenchEnvironment('merit_bench_leaderboard');
    let small: Latency;
    let big: Latency;
    let smallComputed: Latency;
    let bigComputed: Latency;
    try {
      await fillScoredTasks(lb.handle.pool, 0, SMALL, `fill ${SMALL} scored tasks`);
      await runStatsRecompute(lb.handle.db);
      await settleDatabase(lb.handle.pool);
      small = await measureLeaderboard(lb.baseUrl, `leaderboard at ${SMALL} tasks`);
      smallComputed = await measureLeaderboard(lb.baseUrl, `leaderboard at ${SMALL} tasks, uncached`, true);
      await fillScoredTasks(lb.handle.pool, SMALL, BIG - SMALL, `fill to ${BIG} scored tasks`);
      await runStatsRecompute(lb.handle.db);
      await settleDatabase(lb.handle.pool);
      big = await measureLeaderboard(lb.baseUrl, `leaderboard at ${BIG} tasks`);
      bigComputed = await measureLeaderboard(lb.baseUrl, `leaderboard at ${BIG} tasks, uncached`, true);
    } finally {
      await lb.close();
    }

    console.log(
      '\nResults (each task: 1 task row, 1 score row, 3 node rows; Merit also updates statistics and enqueues its evaluation jobs)',
    );
    const describeRates = (name: string, rates: Rates, aim: number) => {
      const ratio = rates.merit / rates.rawAllRows;
      console.log(
        `  ${name}: ${rates.merit.toFixed(0)} tasks/s; raw INSERTs of the same rows ${rates.rawAllRows.toFixed(0)} tasks/s -> ${(ratio * 100).toFixed(1)}% (aim >= ${aim * 100}%) ${ratio >= aim ? 'MET' : 'NOT MET'}; raw INSERT of the task row alone ${rates.rawTaskRows.toFixed(0)}/s -> ${((rates.merit / rates.rawTaskRows) * 100).toFixed(1)}%`,
      );
    };
    describeRates('single endpoint', single, 0.4);
    describeRates('batch endpoint ', batch, 0.5);
    // As served (repeated reads answered from the leaderboard cache until statistics change) and with
    // every answer computed from the statistics tables; the aim is judged on both.
    for (const [name, lower, upper] of [
      ['as served', small, big],
      ['computed each time', smallComputed, bigComputed],
    ] as const) {
      const ratio = upper.p99 / lower.p99;
      const met = upper.p99 < 5 && lower.p99 < 5 && ratio <= 1.5;
      console.log(
        `  leaderboard, ${name}: ${SMALL} tasks p50 ${lower.p50.toFixed(2)} ms p99 ${lower.p99.toFixed(2)} ms; ${BIG} tasks p50 ${upper.p50.toFixed(2)} ms p99 ${upper.p99.toFixed(2)} ms (${ratio.toFixed(2)}x; aim p99 < 5 ms and <= 1.5x) ${met ? 'MET' : 'NOT MET'}`,
      );
    }
    printBarChart('Throughput (tasks/s)', [
      { label: 'raw single-row INSERT, task row only', value: single.rawTaskRows, unit: 'tasks/s' },
      { label: 'raw single-row INSERTs, same rows', value: single.rawAllRows, unit: 'tasks/s' },
      { label: 'Merit single endpoint', value: single.merit, unit: 'tasks/s' },
      { label: 'raw batched INSERT, task rows only', value: batch.rawTaskRows, unit: 'tasks/s' },
      { label: 'raw batched INSERTs, same rows', value: batch.rawAllRows, unit: 'tasks/s' },
      { label: 'Merit batch endpoint', value: batch.merit, unit: 'tasks/s' },
    ]);
    printBarChart('Leaderboard p99 latency (ms)', [
      { label: `${SMALL} tasks, as served`, value: small.p99, unit: 'ms' },
      { label: `${BIG} tasks, as served`, value: big.p99, unit: 'ms' },
      { label: `${SMALL} tasks, computed`, value: smallComputed.p99, unit: 'ms' },
      { label: `${BIG} tasks, computed`, value: bigComputed.p99, unit: 'ms' },
    ]);
  } finally {
    await env.close();
  }
}

await main();
