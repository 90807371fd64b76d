/**
 * Routing benchmark, two modes.
 *
 * Simulation (default): Merit's Thompson router versus the old greedy rule versus random choice on simulated
 * teams of several shapes (agents x categories), the same teams and task streams for every policy (see
 * bench/routing/simulation.ts). Prints cumulative regret per shape, merit/greedy ratios against the aims
 * (mean <= 0.80, p90 <= 0.70), and a summary over shapes.
 *
 *   npm run bench:routing -- [--shapes 6x8,8x5,4x10,12x12 --tasks 3000 --seeds 100 --first-seed 1]
 *                            [--declare none|informative|random --specialty-strength 2]
 *
 * Replay: recorded outcomes (CSV `prompt,category,agent,score,cost`) replayed through the real router with
 * feedback only for the chosen agent, sweeping the `value` objective's price of quality (see
 * src/routing/replay.ts). Prints the quality-cost curve (table and ASCII chart), APGR and the cost of 50%
 * and 80% of the quality gap for merit, greedy, random, each agent alone and the per-category oracle.
 *
 *   npm run bench:routing -- --replay bench/routing/replay-6x5.csv [--shuffle --seed 1]
 *
 * Example files: `npx tsx bench/routing/generate-replay.ts` (seeded).
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { hashSeed } from '../src/lib/random.js';
import {
  buildPriceGrid,
  type CurveSummary,
  categoryOraclePoint,
  findAnchors,
  greedyPolicy,
  meritPolicy,
  parseReplayCsv,
  type ReplayAnchors,
  type ReplayData,
  type ReplayPoint,
  randomPolicy,
  replayPolicy,
  shufflePrompts,
  singleAgentPoint,
  summarizeCurve,
} from '../src/routing/replay.js';
import { chooseAgent, chooseGreedy, chooseRandomly, DEFAULT_ROUTER_OPTIONS } from '../src/routing/router.js';
import {
  createWorld,
  type Declarations,
  type Policy,
  runPolicy,
  type SimulationConfig,
} from './routing/simulation.js';
import { computeMean, computeQuantile } from './support.js';

interface BenchConfig extends SimulationConfig {
  specialtyStrength: number;
  seeds: number;
  firstSeed: number;
}

type PolicyName = 'merit' | 'greedy' | 'random';

const POLICIES: Record<PolicyName, (config: BenchConfig) => Policy> = {
  merit: (config) => (request) =>
    chooseAgent(request, { specialtyPriorStrength: config.specialtyStrength }).agentId,
  greedy: () => (request) => chooseGreedy(request).agentId,
  random: () => (request) => chooseRandomly(request).agentId,
};
const POLICY_NAMES = Object.keys(POLICIES) as PolicyName[];
const CHART_SYMBOLS: Record<PolicyName, string> = { merit: 'M', greedy: 'G', random: 'R' };
const DEFAULT_SHAPES = '6x8,8x5,4x10,12x12';
const AIM_MEAN = 0.8;
const AIM_P90 = 0.7;

const USAGE = `Usage: npm run bench:routing -- [options]
Simulation:
  --shapes AxC,...        team shapes, agents x categories (default ${DEFAULT_SHAPES})
  --tasks N               tasks per seed (default 3000)
  --seeds N               simulated teams per shape (default 100)
  --first-seed N          first seed (default 1; other seeds validate choices made on these)
  --declare MODE          none | informative (each agent declares its 2 best categories) | random (2 any)
  --specialty-strength N  pseudo-observations a declared specialty adds (default ${DEFAULT_ROUTER_OPTIONS.specialtyPriorStrength})
Replay:
  --replay FILE.csv       recorded outcomes: prompt,category,agent,score,cost
  --shuffle               replay the prompts in a seeded random order (else file order)
  --seed N                the shuffle's and the router's seed (default 1)`;

// ---------------------------------------------------------------------------------------------------
// Reporting

function renderProgress(label: string, done: number, total: number, startedAt: number): void {
  const width = 30;
  const filled = Math.round((done / total) * width);
  const seconds = ((performance.now() - startedAt) / 1000).toFixed(1);
  process.stderr.write(
    `\r${label}[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total}  ${seconds}s`,
  );
  if (done === total) process.stderr.write('\n');
}

/** An ASCII line chart of mean cumulative regret over tasks, one symbol per policy. */
function renderChart(curves: Record<PolicyName, Float64Array>, tasks: number): string {
  const width = 60;
  const height = 14;
  const top = Math.max(...POLICY_NAMES.map((name) => curves[name][tasks - 1] ?? 0)) || 1;
  const grid = Array.from({ length: height }, () => Array.from({ length: width }, () => ' '));
  // Merit is drawn last so it stays visible where the lines cross.
  for (const name of [...POLICY_NAMES].reverse()) {
    for (let x = 0; x < width; x++) {
      const value = curves[name][Math.min(tasks - 1, Math.round(((x + 1) / width) * tasks) - 1)] ?? 0;
      const y = height - 1 - Math.min(height - 1, Math.floor((value / top) * (height - 1)));
      const row = grid[y];
      if (row !== undefined) row[x] = CHART_SYMBOLS[name];
    }
  }
  const lines = grid.map((row, y) => {
    const label = y === 0 ? top.toFixed(0).padStart(6) : y === height - 1 ? '0'.padStart(6) : ''.padStart(6);
    return `${label} |${row.join('')}`;
  });
  const legend = POLICY_NAMES.map((name) => `${CHART_SYMBOLS[name]} = ${name}`).join('   ');
  return [
    ...lines,
    `${''.padStart(6)} +${'-'.repeat(width)}`,
    `${''.padStart(8)}0 tasks${String(tasks).padStart(width - 7)}`,
    `${''.padStart(8)}${legend}`,
  ].join('\n');
}

/** Mean cumulative regret at six evenly spaced points, as a table. */
function renderCheckpoints(curves: Record<PolicyName, Float64Array>, tasks: number): string {
  const points = [1, 2, 3, 4, 5, 6].map((i) => Math.round((i * tasks) / 6));
  const header = `${'task'.padEnd(8)}${points.map((point) => String(point).padStart(8)).join('')}`;
  const rows = POLICY_NAMES.map(
    (name) =>
      `${name.padEnd(8)}${points.map((point) => (curves[name][point - 1] ?? 0).toFixed(1).padStart(8)).join('')}`,
  );
  return [header, ...rows].join('\n');
}

/** Parses "6x8,8x5" into [agents, categories] pairs. */
function parseShapes(text: string): [number, number][] {
  return text.split(',').map((shape) => {
    const match = /^(\d+)x(\d+)$/.exec(shape.trim());
    if (!match) throw new Error(`--shapes: '${shape}' is not AGENTSxCATEGORIES`);
    return [Number(match[1]), Number(match[2])];
  });
}

interface ShapeResult {
  shape: string;
  finals: Record<PolicyName, number[]>;
}

function runShape(config: BenchConfig, startedAt: number): ShapeResult {
  const finals: Record<PolicyName, number[]> = { merit: [], greedy: [], random: [] };
  const curves = Object.fromEntries(
    POLICY_NAMES.map((name) => [name, new Float64Array(config.tasks)]),
  ) as Record<PolicyName, Float64Array>;
  const shape = `${config.agents}x${config.categories}`;
  for (let i = 0; i < config.seeds; i++) {
    const seed = config.firstSeed + i;
    const { team, draws } = createWorld(config, seed);
    for (const name of POLICY_NAMES) {
      const regret = runPolicy(POLICIES[name](config), config, team, draws, hashSeed(`${name}-${seed}`));
      finals[name].push(regret[config.tasks - 1] ?? 0);
      regret.forEach((value, task) => {
        curves[name][task] = (curves[name][task] ?? 0) + value / config.seeds;
      });
    }
    renderProgress(`${shape} `, i + 1, config.seeds, startedAt);
  }
  const rows = POLICY_NAMES.map((name) => {
    const mean = computeMean(finals[name]);
    const p90 = computeQuantile(finals[name], 0.9);
    return `${name.padEnd(8)} ${mean.toFixed(1).padStart(10)} ${p90.toFixed(1).padStart(10)}`;
  });
  console.log(
    `\n${shape}: ${config.agents} agents, ${config.categories} categories, ${config.tasks} tasks, ` +
      `seeds ${config.firstSeed}-${config.firstSeed + config.seeds - 1}; feedback for ${config.feedbackRate * 100}% of tasks, ` +
      `delayed 1-${config.maxFeedbackDelay} tasks; declared specialties: ${config.declare}\n`,
  );
  console.log(`policy   ${'mean'.padStart(10)} ${'p90'.padStart(10)}   (cumulative regret at the last task)`);
  console.log(rows.join('\n'));
  const ratios = computeRatios(finals);
  console.log(
    `\nmerit/greedy: mean ${ratios.mean.toFixed(2)} (aim <= ${AIM_MEAN.toFixed(2)}), p90 ${ratios.p90.toFixed(2)} (aim <= ${AIM_P90.toFixed(2)})`,
  );
  console.log(`\n${renderCheckpoints(curves, config.tasks)}`);
  if (config.seeds > 0 && config.tasks > 0)
    console.log(`\nMean cumulative regret over tasks:\n${renderChart(curves, config.tasks)}`);
  return { shape, finals };
}

function computeRatios(finals: Record<PolicyName, number[]>) {
  return {
    mean: computeMean(finals.merit) / computeMean(finals.greedy),
    p90: computeQuantile(finals.merit, 0.9) / computeQuantile(finals.greedy, 0.9),
  };
}

function runSimulation(values: Record<string, string | boolean | undefined>): void {
  if (!['none', 'informative', 'random'].includes(String(values.declare)))
    throw new Error('--declare takes none, informative or random');
  const startedAt = performance.now();
  const results = parseShapes(String(values.shapes)).map(([agents, categories]) =>
    runShape(
      {
        declare: values.declare as Declarations,
        specialtyStrength: Number(values['specialty-strength']),
        agents,
        categories,
        tasks: Number(values.tasks),
        seeds: Number(values.seeds),
        firstSeed: Number(values['first-seed']),
        feedbackRate: 0.6,
        maxFeedbackDelay: 60,
      },
      startedAt,
    ),
  );
  console.log('\nSummary, merit/greedy cumulative regret at the last task:');
  console.log(
    `${'shape'.padEnd(8)}${'mean'.padStart(8)}${'p90'.padStart(8)}   aims: mean <= ${AIM_MEAN}, p90 <= ${AIM_P90}`,
  );
  for (const result of results) {
    const ratios = computeRatios(result.finals);
    const verdict = ratios.mean <= AIM_MEAN && ratios.p90 <= AIM_P90 ? 'meets both' : 'misses';
    console.log(
      `${result.shape.padEnd(8)}${ratios.mean.toFixed(2).padStart(8)}${ratios.p90.toFixed(2).padStart(8)}   ${verdict}`,
    );
  }
  console.log(`\nTook ${((performance.now() - startedAt) / 1000).toFixed(1)} s`);
}

// ---------------------------------------------------------------------------------------------------
// Replay

interface ReplayLine extends ReplayPoint {
  name: string;
  symbol: string;
  summary: CurveSummary;
}

function formatUsd(value: number | null): string {
  return value === null ? 'never' : `$${value.toPrecision(3)}`;
}

/** An ASCII scatter of quality against cost per prompt; later lines are drawn over earlier ones. */
function renderCurveChart(series: { symbol: string; points: ReplayPoint[] }[]): string {
  const width = 64;
  const height = 18;
  const all = series.flatMap((entry) => entry.points);
  const [minCost, maxCost] = [Math.min(...all.map((p) => p.cost)), Math.max(...all.map((p) => p.cost))];
  const [minQuality, maxQuality] = [
    Math.min(...all.map((p) => p.quality)),
    Math.max(...all.map((p) => p.quality)),
  ];
  const grid = Array.from({ length: height }, () => Array.from({ length: width }, () => ' '));
  for (const entry of series) {
    for (const point of entry.points) {
      const x = Math.round(((point.cost - minCost) / (maxCost - minCost || 1)) * (width - 1));
      const y =
        height -
        1 -
        Math.round(((point.quality - minQuality) / (maxQuality - minQuality || 1)) * (height - 1));
      const row = grid[y];
      if (row !== undefined) row[x] = entry.symbol;
    }
  }
  const lines = grid.map((row, y) => {
    const label = y === 0 ? maxQuality.toFixed(3) : y === height - 1 ? minQuality.toFixed(3) : '';
    return `${label.padStart(7)} |${row.join('')}`;
  });
  return [
    ...lines,
    `${''.padStart(7)} +${'-'.repeat(width)}`,
    `${''.padStart(9)}${formatUsd(minCost)}${'mean cost per prompt'.padStart(width / 2)}${formatUsd(maxCost).padStart(width / 2 - 10)}`,
  ].join('\n');
}

function runReplay(file: string, shuffle: boolean, seed: number): void {
  const startedAt = performance.now();
  const data: ReplayData = parseReplayCsv(readFileSync(file, 'utf8'));
  const prompts = shuffle ? shufflePrompts(data.prompts, seed) : data.prompts;
  const anchors: ReplayAnchors = findAnchors(data);
  const prices = buildPriceGrid(anchors);
  console.log(
    `Replay of ${file}: ${data.prompts.length} prompts, ${data.agents.length} agents, ${data.categories.length} categories; ` +
      `${shuffle ? `shuffled with seed ${seed}` : 'in file order'}; feedback only for the chosen agent\n` +
      `always-cheapest: ${anchors.cheapest.agent} (${anchors.cheapest.quality.toFixed(3)} at ${formatUsd(anchors.cheapest.cost)}), ` +
      `always-best: ${anchors.best.agent} (${anchors.best.quality.toFixed(3)} at ${formatUsd(anchors.best.cost)})\n`,
  );
  const meritPoints: (ReplayPoint & { price: number })[] = [];
  prices.forEach((price, i) => {
    const point = replayPolicy(data, prompts, meritPolicy({ kind: 'value', usdPerQuality: price }), seed);
    meritPoints.push({ ...point, price });
    renderProgress('merit sweep ', i + 1, prices.length + 1, startedAt);
  });
  const meritQuality = replayPolicy(data, prompts, meritPolicy({ kind: 'quality' }), seed);
  meritPoints.push({ ...meritQuality, price: Number.POSITIVE_INFINITY });
  renderProgress('merit sweep ', prices.length + 1, prices.length + 1, startedAt);
  const oraclePoints = [...prices, Number.POSITIVE_INFINITY].map((price) => categoryOraclePoint(data, price));
  const greedy = replayPolicy(data, prompts, greedyPolicy, seed);
  const random = replayPolicy(data, prompts, randomPolicy, seed);
  const line = (name: string, symbol: string, points: ReplayPoint[]): ReplayLine => {
    const best = [...points].sort((left, right) => right.quality - left.quality)[0] as ReplayPoint;
    return { name, symbol, ...best, summary: summarizeCurve(points, anchors) };
  };
  const lines: ReplayLine[] = [
    line('merit (value sweep)', 'M', meritPoints),
    line('greedy', 'G', [greedy]),
    line('random', 'R', [random]),
    line('oracle (per category)', 'O', oraclePoints),
    ...data.agents.map((agent, i) =>
      line(`only ${agent}`, String.fromCharCode(97 + (i % 26)), [singleAgentPoint(data, agent)]),
    ),
  ];
  console.log('\nmerit, value objective, by price of quality (USD per quality point):');
  console.log(`${'usd/quality'.padStart(12)}${'quality'.padStart(10)}${'cost/prompt'.padStart(14)}`);
  for (const point of meritPoints)
    console.log(
      `${(Number.isFinite(point.price) ? point.price.toPrecision(3) : 'quality').padStart(12)}${point.quality.toFixed(4).padStart(10)}${formatUsd(point.cost).padStart(14)}`,
    );
  console.log(
    `\n${'policy'.padEnd(24)}${'quality'.padStart(9)}${'cost'.padStart(11)}${'APGR'.padStart(7)}${'cost@50%'.padStart(11)}${'cost@80%'.padStart(11)}   (quality, cost: its best point)`,
  );
  for (const entry of lines)
    console.log(
      `${`${entry.symbol} ${entry.name}`.padEnd(24)}${entry.quality.toFixed(4).padStart(9)}${formatUsd(entry.cost).padStart(11)}` +
        `${entry.summary.apgr.toFixed(3).padStart(7)}${formatUsd(entry.summary.costFor50).padStart(11)}${formatUsd(entry.summary.costFor80).padStart(11)}`,
    );
  console.log('\nQuality against mean cost per prompt (letters: single agents):');
  console.log(
    renderCurveChart([
      ...data.agents.map((agent, i) => ({
        symbol: String.fromCharCode(97 + (i % 26)),
        points: [singleAgentPoint(data, agent)],
      })),
      { symbol: 'R', points: [random] },
      { symbol: 'G', points: [greedy] },
      { symbol: 'O', points: oraclePoints },
      { symbol: 'M', points: meritPoints },
    ]),
  );
  console.log(
    '\nAPGR: mean share of the quality gap between always-cheapest and always-best recovered over budgets between ' +
      'their costs (mixing settings allowed); cost@X%: least mean cost per prompt recovering X% of the gap.',
  );
  console.log(`\nTook ${((performance.now() - startedAt) / 1000).toFixed(1)} s`);
}

function main(): void {
  const { values } = parseArgs({
    options: {
      shapes: { type: 'string', default: DEFAULT_SHAPES },
      tasks: { type: 'string', default: '3000' },
      seeds: { type: 'string', default: '100' },
      'first-seed': { type: 'string', default: '1' },
      help: { type: 'boolean', default: false },
      declare: { type: 'string', default: 'none' },
      'specialty-strength': {
        type: 'string',
        default: String(DEFAULT_ROUTER_OPTIONS.specialtyPriorStrength),
      },
      replay: { type: 'string' },
      shuffle: { type: 'boolean', default: false },
      seed: { type: 'string', default: '1' },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  if (values.replay !== undefined) runReplay(values.replay, values.shuffle, Number(values.seed));
  else runSimulation(values);
}

main();
