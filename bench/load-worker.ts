/**
 * A load generator in a worker thread: concurrent clients on their own event loop, so the server under
 * test does not share its thread with the clients (as with an external load tool). Used for Merit's
 * endpoints and for the raw INSERT baselines alike.
 */
import { parentPort, workerData } from 'node:worker_threads';
import pg from 'pg';
import { measureRate } from './support.js';
import { type BenchTask, insertRawSingle, makeTask, post, rawStatements } from './workload.js';

export interface LoadSpec {
  /** Write loads (Merit's endpoints, raw INSERTs), or sequential GETs of `path` timed one by one. */
  mode: 'merit' | 'raw-task-row' | 'raw-all-rows' | 'latency';
  /** Operations (requests, or transactions of the raw baseline) to run. */
  total: number;
  concurrency: number;
  /** Tasks per operation: 1 for the single endpoint, N for the batch endpoint. */
  batchSize: number;
  /** First task index, so that every load writes new rows. */
  offset: number;
  baseUrl: string;
  databaseUrl: string;
  /** For `latency`: the path to GET, and how many untimed requests to send first. */
  path?: string;
  warmup?: number;
  /** For `latency`: give each request its own `min_sample`, so no answer comes from the leaderboard cache. */
  bypassCache?: boolean;
}

const spec = workerData as LoadSpec;
const tasksOf = (operation: number): BenchTask[] =>
  Array.from({ length: spec.batchSize }, (_, i) => makeTask(spec.offset + operation * spec.batchSize + i));

async function run(): Promise<number> {
  const pool = new pg.Pool({ connectionString: spec.databaseUrl, max: spec.concurrency });
  try {
    const operation = async (index: number): Promise<void> => {
      const tasks = tasksOf(index);
      if (spec.mode === 'merit') {
        await (spec.batchSize === 1
          ? post(spec.baseUrl, '/api/tasks/completed', tasks[0])
          : post(spec.baseUrl, '/api/tasks/batch', { tasks }));
      } else if (spec.batchSize === 1) {
        await insertRawSingle(pool, tasks[0] as BenchTask, spec.mode === 'raw-all-rows');
      } else {
        for (const statement of rawStatements(tasks, spec.mode === 'raw-all-rows'))
          await pool.query(statement);
      }
    };
    const rate = await measureRate(spec.total, spec.concurrency, operation, (done) =>
      parentPort?.postMessage({ done }),
    );
    return rate * spec.batchSize;
  } finally {
    await pool.end();
  }
}

/** Sequential GETs, each timed; returns the sorted latencies in milliseconds. */
async function measureLatencies(): Promise<number[]> {
  const urlOf = (i: number) =>
    `${spec.baseUrl}${spec.path}${spec.bypassCache ? `&min_sample=${1 + (i % 1000)}` : ''}`;
  for (let i = 0; i < (spec.warmup ?? 0); i++) await (await fetch(urlOf(i))).arrayBuffer();
  const samples: number[] = [];
  for (let i = 0; i < spec.total; i++) {
    const url = urlOf(spec.total + i);
    const started = process.hrtime.bigint();
    const response = await fetch(url);
    await response.arrayBuffer();
    samples.push(Number(process.hrtime.bigint() - started) / 1e6);
    if (i % 100 === 0) parentPort?.postMessage({ done: i });
  }
  return samples.sort((a, b) => a - b);
}

if (spec.mode === 'latency') parentPort?.postMessage({ latencies: await measureLatencies() });
else parentPort?.postMessage({ rate: await run() });
