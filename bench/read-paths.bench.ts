/**
 * Read paths at scale (issue 12): p50/p99 of every read endpoint through the real HTTP server, on a
 * database of 10k tasks (`--small`) and one of `--tasks` (default 1M), and the ratio of the two. Tasks have
 * 3 nodes each, a score row when completed (some with a star rating) with two peer reviews and a judge
 * evaluation, and a routing decision, and are spread over 90 days across the project's agents and
 * categories; they are generated in SQL (INSERT ... SELECT generate_series) in chunks. Each endpoint is
 * measured as Mission Control asks for it (the default window, 30 days) and, as the baseline, over the
 * whole history (`window=all`, the shape the endpoints had before windows). The two databases are called
 * alternately, so a busy machine slows both series alike. Aim: p99 < 30 ms at 1M and <= 1.5x the 10k
 * figure. Each shape gets `--requests` calls per database or `--budget` seconds, whichever ends first
 * (at least 5 calls).
 * Usage: npm run bench:reads [-- --tasks 100000 --requests 100 --budget 20]
 * `--reuse` keeps the large database an earlier run seeded (1M tasks take 10-30 minutes to seed) and
 * runs any newer migrations on it; the small one is seeded afresh.
 */
import { parseArgs } from 'node:util';
import { sql } from 'kysely';
import { DEFAULT_USER_ID } from '../src/config.js';
import { DEFAULT_PROJECT_ID } from '../src/identity/scope.js';
import { createProgress } from '../src/lib/progress.js';
import { runStatsRecompute } from '../src/stats/stats.jobs.js';
import { seedHistory } from './seed-history.js';
import { type BenchEnvironment, openBenchEnvironment, percentile, printBarChart } from './support.js';

const { values } = parseArgs({
  options: {
    tasks: { type: 'string', default: '1000000' },
    small: { type: 'string', default: '10000' },
    // p99 of 1,000 calls is their 10th slowest; of 200 (the earlier default) the 2nd, which a single
    // stray pause of the machine decided for the 1-4 ms endpoints.
    requests: { type: 'string', default: '1000' },
    budget: { type: 'string', default: '30' },
    chunk: { type: 'string', default: '50000' },
    reuse: { type: 'boolean', default: false },
  },
});
const LARGE = Number(values.tasks);
const SMALL = Math.min(Number(values.small), LARGE);
const REQUESTS = Number(values.requests);
/** Seconds one endpoint shape is measured at most (a whole-history aggregate at 1M takes seconds a call). */
const BUDGET_MS = Number(values.budget) * 1000;
const CHUNK = Number(values.chunk);
const progressMode = process.stderr.isTTY ? 'bar' : 'lines';

/** Adds tasks numbered [from, to) (see seedHistory), then rebuilds the statistics and analyzes. */
async function seedTasks(env: BenchEnvironment, from: number, to: number): Promise<void> {
  const db = env.handle.db;
  const progress = createProgress(`seeding tasks ${from}-${to}`, to - from, progressMode);
  await seedHistory(db, from, to, { chunk: CHUNK, onChunk: (added) => progress.update(added) });
  progress.finish();
  process.stderr.write('rebuilding statistics, vacuuming and analyzing...\n');
  await runStatsRecompute(db);
  // The whole database: the bulk seeding rewrites each trigger-kept rollup row once per review, rating,
  // decision and finish of its hour (~100 dead versions per reviewer-hour row at 1M tasks), which
  // autovacuum clears as they come in a running Merit (and is off on some servers, this machine's included).
  await sql`VACUUM ANALYZE`.execute(db);
}

interface Endpoint {
  name: string;
  path: string;
}

/** The read endpoints as Mission Control asks for them (default window) and over the whole history. */
async function listEndpoints(env: BenchEnvironment): Promise<{ windowed: Endpoint[]; all: Endpoint[] }> {
  const agent = 'agent_a';
  const category = (
    await sql<{ category: string }>`
      SELECT category FROM objective_templates WHERE project_id = ${DEFAULT_PROJECT_ID} ORDER BY category LIMIT 1
    `.execute(env.handle.db)
  ).rows[0]?.category;
  const secondPage = async (path: string, sep: string) => {
    const response = await fetch(`${env.baseUrl}${withUser(path)}`);
    const body = (await response.json()) as { next_cursor?: string | null };
    return body.next_cursor ? `${path}${sep}cursor=${encodeURIComponent(body.next_cursor)}` : path;
  };
  const shapes = async (window: string): Promise<Endpoint[]> => {
    const w = window === '' ? '' : `window=${window}`;
    const q = (path: string) => (w === '' ? path : `${path}${path.includes('?') ? '&' : '?'}${w}`);
    return [
      {
        name: 'leaderboard',
        path: window === '' ? '/api/agents/leaderboard?window=30d' : q('/api/agents/leaderboard'),
      },
      { name: 'performance', path: q(`/api/agents/${agent}/performance`) },
      { name: 'performance p2', path: await secondPage(q(`/api/agents/${agent}/performance?limit=20`), '&') },
      { name: 'nodes', path: q(`/api/agents/${agent}/nodes`) },
      { name: 'trend', path: q(`/api/agents/${agent}/trend`) },
      { name: 'capabilities', path: q(`/api/agents/${agent}/capabilities`) },
      { name: 'best agents', path: q(`/api/categories/${category}/best-agents`) },
      { name: 'tasks', path: q('/api/tasks?limit=50') },
      { name: 'tasks p2', path: await secondPage(q('/api/tasks?limit=50'), '&') },
      { name: 'routing decisions', path: q('/api/routing/decisions?limit=50') },
      { name: 'routing quality', path: q('/api/routing/quality') },
      { name: 'reviewers', path: q('/api/reviewers') },
    ];
  };
  return { windowed: await shapes(''), all: await shapes('all') };
}

interface Figures {
  p50: number;
  p99: number;
  /** Calls measured (fewer than --requests when the budget ran out: p99 is then the slowest of them). */
  n: number;
}

function summarize(times: number[]): Figures {
  const sorted = [...times].sort((a, b) => a - b);
  return { p50: percentile(sorted, 50), p99: percentile(sorted, 99), n: sorted.length };
}

async function timeCall(env: BenchEnvironment, endpoint: Endpoint): Promise<number> {
  const started = process.hrtime.bigint();
  const response = await fetch(`${env.baseUrl}${withUser(endpoint.path)}`);
  const body = await response.text();
  if (response.status !== 200) throw new Error(`${endpoint.path}: ${response.status} ${body}`);
  return Number(process.hrtime.bigint() - started) / 1e6;
}

/**
 * One endpoint shape on both databases, the calls alternating (small, large, small, ...): whatever else
 * the machine does weighs on both series alike, so their ratio is the cost of the larger history.
 */
async function measurePair(
  small: BenchEnvironment,
  large: BenchEnvironment,
  endpoints: { small: Endpoint; large: Endpoint },
): Promise<{ small: Figures; large: Figures }> {
  for (let i = 0; i < 3; i++) {
    await timeCall(small, endpoints.small);
    await timeCall(large, endpoints.large);
  }
  const started = Date.now();
  const times = { small: [] as number[], large: [] as number[] };
  while (times.large.length < REQUESTS && (times.large.length < 5 || Date.now() - started < BUDGET_MS)) {
    times.small.push(await timeCall(small, endpoints.small));
    times.large.push(await timeCall(large, endpoints.large));
  }
  return { small: summarize(times.small), large: summarize(times.large) };
}

type Measured = Map<
  string,
  { windowed: { small: Figures; large: Figures }; all: { small: Figures; large: Figures } }
>;

async function measureAll(small: BenchEnvironment, large: BenchEnvironment): Promise<Measured> {
  const [smallShapes, largeShapes] = [await listEndpoints(small), await listEndpoints(large)];
  const results: Measured = new Map();
  const progress = createProgress('measuring', smallShapes.windowed.length, progressMode);
  for (const [index, endpoint] of smallShapes.windowed.entries()) {
    const pick = (list: Endpoint[]) => list[index] as Endpoint;
    const figures = {
      windowed: await measurePair(small, large, { small: endpoint, large: pick(largeShapes.windowed) }),
      all: await measurePair(small, large, { small: pick(smallShapes.all), large: pick(largeShapes.all) }),
    };
    results.set(endpoint.name, figures);
    progress.update(index + 1, endpoint.name);
    // Printed as measured, so a long run shows its figures before it ends.
    const w = figures.windowed;
    process.stderr.write(
      `  ${endpoint.name}: window p50/p99 ${w.small.p50.toFixed(1)}/${w.small.p99.toFixed(1)} ms at ${SMALL}, ${w.large.p50.toFixed(1)}/${w.large.p99.toFixed(1)} ms at ${LARGE} (${w.large.n} calls each)\n`,
    );
  }
  progress.finish();
  return results;
}

/** Local mode names the user in every request. */
function withUser(path: string): string {
  return `${path}${path.includes('?') ? '&' : '?'}user_id=${DEFAULT_USER_ID}`;
}

const fmt = (ms: number) => ms.toFixed(1).padStart(7);

async function countTasks(env: BenchEnvironment): Promise<number> {
  const result = await sql<{ n: number }>`SELECT count(*)::int AS n FROM tasks`.execute(env.handle.db);
  return Number(result.rows[0]?.n ?? 0);
}

async function main(): Promise<void> {
  // The baseline is a database of its own, seeded afresh each run (seconds); the large one is seeded, or
  // with --reuse kept from an earlier run (its newer migrations run on it).
  const small = await openBenchEnvironment('merit_bench_reads_small');
  const large = await openBenchEnvironment('merit_bench_reads', { reuse: values.reuse });
  try {
    await seedTasks(small, 0, SMALL);
    let largeTasks = await countTasks(large);
    if (values.reuse && largeTasks > 0) {
      process.stderr.write(`--reuse: the ${largeTasks} tasks an earlier run seeded in merit_bench_reads\n`);
      await sql`VACUUM ANALYZE`.execute(large.handle.db);
    } else {
      await seedTasks(large, 0, LARGE);
      largeTasks = await countTasks(large);
    }
    console.log(
      `Read paths: ${SMALL} and ${largeTasks} tasks on ${large.label.replace(/\/[^/]*$/, '')}, up to ${REQUESTS} calls per endpoint and database, alternating`,
    );
    const figures = await measureAll(small, large);
    const head = `${'endpoint'.padEnd(18)} | ${'window (default 30d)'.padEnd(44)} | whole history (window=all, before)`;
    console.log(`\n${head}`);
    console.log(
      `${''.padEnd(18)} | p50 small p99 small p50 big  p99 big  p99 ratio | p99 small p99 big  ratio`,
    );
    const chart: { label: string; value: number; unit: string }[] = [];
    let pass = 0;
    for (const [name, { windowed, all }] of figures) {
      const ratio = windowed.large.p99 / windowed.small.p99;
      const allRatio = all.large.p99 / all.small.p99;
      const ok = windowed.large.p99 < 30 && ratio <= 1.5;
      if (ok) pass++;
      console.log(
        `${name.padEnd(18)} | ${fmt(windowed.small.p50)}  ${fmt(windowed.small.p99)}  ${fmt(windowed.large.p50)}  ${fmt(windowed.large.p99)}  ${ratio.toFixed(2).padStart(6)}x ${ok ? 'ok ' : 'MISS'} | ${fmt(all.small.p99)}  ${fmt(all.large.p99)}  ${allRatio.toFixed(2).padStart(5)}x`,
      );
      chart.push({ label: `${name} (window)`, value: windowed.large.p99, unit: 'ms' });
      chart.push({ label: `${name} (all)`, value: all.large.p99, unit: 'ms' });
    }
    console.log(
      `\n${pass} of ${figures.size} endpoints meet p99 < 30 ms at ${largeTasks} and <= 1.5x the ${SMALL} figure`,
    );
    printBarChart(`p99 at ${largeTasks} tasks (ms), default window against window=all`, chart);
  } finally {
    await small.close();
    await large.close();
  }
}

await main();
