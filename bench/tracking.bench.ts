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
import pg from 'pg';
import { DEFAULT_USER_ID } from '../src/config.js';
import { createProgress } from '../src/lib/progress.js';
import { runStatsRecompute } from '../src/stats/stats.jobs.js';
import { measureRate, openBenchEnvironment, percentile, printBarChart } from './support.js';

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

const AGENTS = ['agent_a', 'agent_b', 'agent_c', 'agent_d', 'agent_e', 'agent_f', 'agent_chat'];
const CATEGORIES = [
  'research',
  'analysis',
  'writing',
  'planning',
  'compliance',
  'coding',
  'data',
  'chat',
  'review',
  'general',
];

const NODE_NAMES = ['plan', 'research', 'respond'];

function makeTask(index: number) {
  return {
    id: crypto.randomUUID(),
    agent_id: AGENTS[index % AGENTS.length] as string,
    command: `benchmark command number ${index}`,
    objective_category: CATEGORIES[index % CATEGORIES.length] as string,
    result: `Result of task ${index}: a short answer with a few words.`,
    model: 'gpt-4o-mini',
    prompt_tokens: 800 + (index % 400),
    completion_tokens: 300 + (index % 200),
    duration_ms: 5000 + (index % 3000),
    nodes: NODE_NAMES.map((node_name, n) => ({
      node_name,
      duration_ms: 1000 + n * 500,
      total_tokens: 300 + n * 50,
    })),
  };
}
type BenchTask = ReturnType<typeof makeTask>;

/** The rows Merit stores for one finished task (task, score, nodes), as plain INSERT statements. */
function rawStatements(
  tasks: readonly BenchTask[],
  includeDependents: boolean,
): { text: string; values: unknown[] }[] {
  const taskValues: unknown[] = [];
  const taskRows = tasks.map((task, i) => {
    taskValues.push(
      task.id,
      DEFAULT_USER_ID,
      task.agent_id,
      task.command,
      task.objective_category,
      task.result,
      task.model,
    );
    taskValues.push(
      task.prompt_tokens,
      task.completion_tokens,
      task.prompt_tokens + task.completion_tokens,
      task.duration_ms,
    );
    const p = (n: number) => `$${i * 11 + n}`;
    return `(${p(1)}, ${p(2)}, ${p(3)}, ${p(4)}, ${p(5)}, 'completed', ${p(6)}, ${p(7)}, ${p(8)}, ${p(9)}, ${p(10)}, ${p(11)}, now(), now())`;
  });
  const statements = [
    {
      text: `INSERT INTO tasks (id, user_id, agent_id, command, objective_category, status, result, model, prompt_tokens, completion_tokens, total_tokens, duration_ms, started_at, completed_at) VALUES ${taskRows.join(', ')}`,
      values: taskValues,
    },
  ];
  if (!includeDependents) return statements;
  const scoreValues: unknown[] = [];
  const scoreRows = tasks.map((task, i) => {
    scoreValues.push(
      task.id,
      task.agent_id,
      DEFAULT_USER_ID,
      task.objective_category,
      0.5,
      0.5,
      task.prompt_tokens + task.completion_tokens,
    );
    const p = (n: number) => `$${i * 7 + n}`;
    return `(${p(1)}, ${p(2)}, ${p(3)}, ${p(4)}, ${p(5)}, ${p(6)}, ${p(7)})`;
  });
  statements.push({
    text: `INSERT INTO agent_performance_scores (task_id, agent_id, user_id, objective_category, efficiency_score, overall_score, total_tokens) VALUES ${scoreRows.join(', ')}`,
    values: scoreValues,
  });
  const nodeValues: unknown[] = [];
  const nodeRows = tasks.flatMap((task) =>
    task.nodes.map((node, sequence) => {
      const base = nodeValues.length;
      nodeValues.push(task.id, task.agent_id, node.node_name, sequence, node.duration_ms, node.total_tokens);
      return `($${base + 1}, $${base + 2}, $${base + 3}, $${base + 4}, $${base + 5}, $${base + 6})`;
    }),
  );
  statements.push({
    text: `INSERT INTO agent_node_performance (task_id, agent_id, node_name, sequence, duration_ms, total_tokens) VALUES ${nodeRows.join(', ')}`,
    values: nodeValues,
  });
  return statements;
}

/** Single-row INSERTs (autocommit) of one task's rows: the task row alone, or every row Merit stores for it. */
async function insertRawSingle(raw: pg.Pool, task: BenchTask, allRows: boolean): Promise<void> {
  if (!allRows) {
    const [statement] = rawStatements([task], false);
    await raw.query(statement as { text: string; values: unknown[] });
    return;
  }
  const [taskRow, scoreRow] = rawStatements([task], true);
  await raw.query(taskRow as { text: string; values: unknown[] });
  await raw.query(scoreRow as { text: string; values: unknown[] });
  for (const [sequence, node] of task.nodes.entries()) {
    await raw.query(
      'INSERT INTO agent_node_performance (task_id, agent_id, node_name, sequence, duration_ms, total_tokens) VALUES ($1, $2, $3, $4, $5, $6)',
      [task.id, task.agent_id, node.node_name, sequence, node.duration_ms, node.total_tokens],
    );
  }
}

async function post(baseUrl: string, path: string, body: unknown): Promise<void> {
  const response = await fetch(`${baseUrl}${path}?user_id=${DEFAULT_USER_ID}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (response.status !== 201)
    throw new Error(`${path} answered ${response.status}: ${await response.text()}`);
  await response.arrayBuffer();
}

interface Rates {
  merit: number;
  rawTaskRows: number;
  rawAllRows: number;
}

async function runRate(
  label: string,
  total: number,
  concurrency: number,
  operation: (i: number) => Promise<void>,
  scale = 1,
) {
  const progress = createProgress(label, total, progressMode);
  const rate = await measureRate(total, concurrency, operation, (done) => progress.update(done));
  progress.finish();
  return rate * scale;
}

async function benchSingle(
  env: Awaited<ReturnType<typeof openBenchEnvironment>>,
  raw: pg.Pool,
): Promise<Rates> {
  const tasks = (n: number) => Array.from({ length: SINGLE }, (_, i) => makeTask(n * SINGLE + i));
  const [a, b, c] = [tasks(0), tasks(1), tasks(2)];
  const rawTaskRows = await runRate('raw INSERT, task row', SINGLE, CONCURRENCY, (i) =>
    insertRawSingle(raw, a[i] as BenchTask, false),
  );
  const rawAllRows = await runRate('raw INSERTs, task+score+nodes', SINGLE, CONCURRENCY, (i) =>
    insertRawSingle(raw, b[i] as BenchTask, true),
  );
  const merit = await runRate('POST /api/tasks/completed', SINGLE, CONCURRENCY, (i) =>
    post(env.baseUrl, '/api/tasks/completed', c[i]),
  );
  return { merit, rawTaskRows, rawAllRows };
}

async function benchBatch(
  env: Awaited<ReturnType<typeof openBenchEnvironment>>,
  raw: pg.Pool,
): Promise<Rates> {
  const batches = (n: number) =>
    Array.from({ length: BATCHES }, (_, b) =>
      Array.from({ length: BATCH_SIZE }, (_, i) => makeTask((n * BATCHES + b) * BATCH_SIZE + i)),
    );
  const [a, b, c] = [batches(10), batches(11), batches(12)];
  const rawTaskRows = await runRate(
    'raw batched INSERT, task rows',
    BATCHES,
    BATCH_CONCURRENCY,
    async (i) => {
      for (const statement of rawStatements(a[i] as BenchTask[], false)) await raw.query(statement);
    },
    BATCH_SIZE,
  );
  const rawAllRows = await runRate(
    'raw batched INSERTs, all rows',
    BATCHES,
    BATCH_CONCURRENCY,
    async (i) => {
      for (const statement of rawStatements(b[i] as BenchTask[], true)) await raw.query(statement);
    },
    BATCH_SIZE,
  );
  const merit = await runRate(
    'POST /api/tasks/batch',
    BATCHES,
    BATCH_CONCURRENCY,
    (i) => post(env.baseUrl, '/api/tasks/batch', { tasks: c[i] }),
    BATCH_SIZE,
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
         INSERT INTO tasks (user_id, agent_id, command, objective_category, status, result, model, prompt_tokens,
           completion_tokens, total_tokens, estimated_cost, duration_ms, created_at, started_at, completed_at)
         SELECT $1::uuid, (ARRAY[${AGENTS.map((a) => `'${a}'`).join(',')}])[1 + i % ${AGENTS.length}],
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

async function measureLeaderboard(baseUrl: string): Promise<{ p50: number; p99: number }> {
  const url = `${baseUrl}/api/agents/leaderboard?user_id=${DEFAULT_USER_ID}`;
  for (let i = 0; i < 200; i++) await (await fetch(url)).arrayBuffer();
  const samples: number[] = [];
  for (let i = 0; i < REQUESTS; i++) {
    const started = process.hrtime.bigint();
    const response = await fetch(url);
    await response.arrayBuffer();
    samples.push(Number(process.hrtime.bigint() - started) / 1e6);
  }
  samples.sort((a, b) => a - b);
  return { p50: percentile(samples, 50), p99: percentile(samples, 99) };
}

async function main(): Promise<void> {
  console.log('Merit tracking benchmark');
  const env = await openBenchEnvironment('merit_bench');
  console.log(`Database: ${env.label}; ${CONCURRENCY} concurrent clients; Node ${process.version}`);
  const raw = new pg.Pool({ connectionString: env.handle.url, max: CONCURRENCY });
  try {
    const single = await benchSingle(env, raw);
    const batch = await benchBatch(env, raw);

    const lb = await openBenchEnvironment('merit_bench_leaderboard');
    let small: { p50: number; p99: number };
    let big: { p50: number; p99: number };
    try {
      await fillScoredTasks(lb.handle.pool, 0, SMALL, `fill ${SMALL} scored tasks`);
      await runStatsRecompute(lb.handle.db);
      small = await measureLeaderboard(lb.baseUrl);
      await fillScoredTasks(lb.handle.pool, SMALL, BIG - SMALL, `fill to ${BIG} scored tasks`);
      await runStatsRecompute(lb.handle.db);
      big = await measureLeaderboard(lb.baseUrl);
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
    const latencyRatio = big.p99 / small.p99;
    console.log(
      `  leaderboard ${SMALL} tasks    : p50 ${small.p50.toFixed(2)} ms, p99 ${small.p99.toFixed(2)} ms`,
    );
    console.log(
      `  leaderboard ${BIG} tasks  : p50 ${big.p50.toFixed(2)} ms, p99 ${big.p99.toFixed(2)} ms (${latencyRatio.toFixed(2)}x the ${SMALL} figure; aim p99 < 5 ms and <= 1.5x) ${big.p99 < 5 && latencyRatio <= 1.5 ? 'MET' : 'NOT MET'}`,
    );
    printBarChart('Throughput (tasks/s)', [
      { label: 'raw single-row INSERT, task row only', value: single.rawTaskRows, unit: 'tasks/s' },
      { label: 'raw single-row INSERTs, same rows', value: single.rawAllRows, unit: 'tasks/s' },
      { label: 'Merit single endpoint', value: single.merit, unit: 'tasks/s' },
      { label: 'raw batched INSERT, task rows only', value: batch.rawTaskRows, unit: 'tasks/s' },
      { label: 'raw batched INSERTs, same rows', value: batch.rawAllRows, unit: 'tasks/s' },
      { label: 'Merit batch endpoint', value: batch.merit, unit: 'tasks/s' },
    ]);
    printBarChart('Leaderboard p99 latency (ms)', [
      { label: `${SMALL} tasks`, value: small.p99, unit: 'ms' },
      { label: `${BIG} tasks`, value: big.p99, unit: 'ms' },
    ]);
  } finally {
    await raw.end();
    await env.close();
  }
}

await main();
