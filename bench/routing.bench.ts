/**
 * Routing benchmark: Merit's Thompson router versus the old greedy rule versus random choice, on a
 * simulated team.
 *
 *   npx tsx bench/routing.bench.ts [--agents 6 --categories 8 --tasks 3000 --seeds 100]
 *                                  [--declare none|informative|random --specialty-strength 2]
 *
 * The simulation: every (agent, category) pair has a hidden quality (an agent-wide skill plus a pair
 * effect). A task's outcome is a failure (reward 0, known at once) or a noisy rating and judge score
 * blended by `blendTaskReward`; that feedback exists for only part of the tasks and arrives some tasks
 * later. Every policy sees exactly the same feedback stream and none sees the hidden quality. Regret is
 * measured on expected rewards: best pair in the category minus the chosen pair, summed over tasks.
 * Loads are zero (no concurrency in the simulation), so only learning is compared.
 *
 * Declared specialties (`--declare`): each agent declares two categories, its two best by hidden quality
 * (`informative`) or two at random (`random`, claims worth nothing); only Merit's router reads them, as
 * the prior it gives declared pairs (`--specialty-strength` pseudo-observations).
 */
import { parseArgs } from 'node:util';
import { createRng, hashSeed, sampleNormal } from '../src/lib/random.js';
import { blendTaskReward } from '../src/ranking/ranking.js';
import type { AgentStats, PairStats, RoutingCandidate, RoutingRequest } from '../src/routing/router.js';
import { chooseAgent, chooseGreedy, chooseRandomly, DEFAULT_ROUTER_OPTIONS } from '../src/routing/router.js';

type Declarations = 'none' | 'informative' | 'random';

interface BenchConfig {
  declare: Declarations;
  specialtyStrength: number;
  agents: number;
  categories: number;
  tasks: number;
  seeds: number;
  feedbackRate: number;
  maxFeedbackDelay: number;
}

/** Hidden truth of one simulated team. */
interface Team {
  quality: number[][];
  failureRate: number[][];
  expectedReward: number[][];
  categoryWeights: number[];
  /** Per agent, the categories it declares (indexes). */
  specialties: number[][];
}

/** Everything random about one task, drawn before any policy acts so all policies face the same task. */
interface TaskDraw {
  category: number;
  failureDraw: number;
  qualityNoise: number;
  ratingNoise: number;
  judgeNoise: number;
  feedbackDraw: number;
  delay: number;
}

type PolicyName = 'merit' | 'greedy' | 'random';
type Policy = (request: RoutingRequest) => string;

const POLICIES: Record<PolicyName, (config: BenchConfig) => Policy> = {
  merit: (config) => (request) =>
    chooseAgent(request, { specialtyPriorStrength: config.specialtyStrength }).agentId,
  greedy: () => (request) => chooseGreedy(request).agentId,
  random: () => (request) => chooseRandomly(request).agentId,
};
const DECLARED_PER_AGENT = 2;
const POLICY_NAMES = Object.keys(POLICIES) as PolicyName[];
const CHART_SYMBOLS: Record<PolicyName, string> = { merit: 'M', greedy: 'G', random: 'R' };

function clamp(value: number, low: number, high: number): number {
  return Math.min(high, Math.max(low, value));
}

const USAGE = `Usage: npm run bench:routing -- [options]
  --agents N              agents in the simulated team (default 6)
  --categories N          categories (default 8)
  --tasks N               tasks per seed (default 3000)
  --seeds N               simulated teams (default 100)
  --declare MODE          none | informative (each agent declares its 2 best categories) | random (2 any)
  --specialty-strength N  pseudo-observations a declared specialty adds (default ${DEFAULT_ROUTER_OPTIONS.specialtyPriorStrength})`;

function readConfig(): BenchConfig {
  const { values } = parseArgs({
    options: {
      agents: { type: 'string', default: '6' },
      categories: { type: 'string', default: '8' },
      tasks: { type: 'string', default: '3000' },
      seeds: { type: 'string', default: '100' },
      help: { type: 'boolean', default: false },
      declare: { type: 'string', default: 'none' },
      'specialty-strength': {
        type: 'string',
        default: String(DEFAULT_ROUTER_OPTIONS.specialtyPriorStrength),
      },
    },
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  if (!['none', 'informative', 'random'].includes(values.declare))
    throw new Error('--declare takes none, informative or random');
  return {
    declare: values.declare as Declarations,
    specialtyStrength: Number(values['specialty-strength']),
    agents: Number(values.agents),
    categories: Number(values.categories),
    tasks: Number(values.tasks),
    seeds: Number(values.seeds),
    feedbackRate: 0.6,
    maxFeedbackDelay: 60,
  };
}

// ---------------------------------------------------------------------------------------------------
// Simulated world

/** The blended reward of a task that did not fail, from its hidden quality and the task's noise draws. */
function simulateReward(
  quality: number,
  draw: Pick<TaskDraw, 'qualityNoise' | 'ratingNoise' | 'judgeNoise'>,
) {
  const trueScore = clamp(quality + 0.15 * draw.qualityNoise, 0, 1);
  const userRating = clamp(Math.round(1 + 4 * trueScore + 0.6 * draw.ratingNoise), 1, 5);
  const judgeScore = clamp(trueScore + 0.1 * draw.judgeNoise, 0, 1);
  return blendTaskReward({ userRating, judgeScore, failed: false }) ?? 0;
}

/** Expected reward of a pair by Monte Carlo, since rounding and clamping bend the mean away from quality. */
function estimateExpectedReward(quality: number, failureRate: number, random: () => number): number {
  const draws = 4000;
  let sum = 0;
  for (let i = 0; i < draws; i++) {
    const draw = {
      qualityNoise: sampleNormal(random),
      ratingNoise: sampleNormal(random),
      judgeNoise: sampleNormal(random),
    };
    sum += simulateReward(quality, draw);
  }
  return (1 - failureRate) * (sum / draws);
}

function createTeam(config: BenchConfig, random: () => number): Team {
  const skills = Array.from({ length: config.agents }, () => 0.35 + 0.35 * random());
  const quality = skills.map((skill) =>
    Array.from({ length: config.categories }, () => clamp(skill + 0.12 * sampleNormal(random), 0.05, 0.95)),
  );
  const failureRate = quality.map((row) => row.map((q) => 0.02 + 0.12 * (1 - q)));
  const expectedReward = quality.map((row, a) =>
    row.map((q, c) => estimateExpectedReward(q, failureRate[a]?.[c] ?? 0, random)),
  );
  // Zipf-like demand: a few categories are common, the rest rare.
  const categoryWeights = Array.from({ length: config.categories }, (_, c) => 1 / (c + 1));
  return { quality, failureRate, expectedReward, categoryWeights, specialties: [] };
}

/** The categories one agent declares: its best by hidden quality, or any, or none. */
function declareSpecialties(config: BenchConfig, quality: readonly number[], random: () => number): number[] {
  const count = Math.min(DECLARED_PER_AGENT, config.categories);
  const indexes = quality.map((_, c) => c);
  const shuffled = indexes
    .map((c) => ({ c, key: random() }))
    .sort((left, right) => left.key - right.key)
    .map((entry) => entry.c);
  if (config.declare === 'none') return [];
  if (config.declare === 'random') return shuffled.slice(0, count);
  return [...indexes].sort((left, right) => (quality[right] ?? 0) - (quality[left] ?? 0)).slice(0, count);
}

function pickCategory(weights: readonly number[], random: () => number): number {
  const total = weights.reduce((sum, weight) => sum + weight, 0);
  let threshold = random() * total;
  for (let c = 0; c < weights.length; c++) {
    threshold -= weights[c] ?? 0;
    if (threshold <= 0) return c;
  }
  return weights.length - 1;
}

function drawTasks(config: BenchConfig, team: Team, random: () => number): TaskDraw[] {
  return Array.from({ length: config.tasks }, () => ({
    category: pickCategory(team.categoryWeights, random),
    failureDraw: random(),
    qualityNoise: sampleNormal(random),
    ratingNoise: sampleNormal(random),
    judgeNoise: sampleNormal(random),
    feedbackDraw: random(),
    delay: 1 + Math.floor(random() * config.maxFeedbackDelay),
  }));
}

// ---------------------------------------------------------------------------------------------------
// One policy on one seed

interface Feedback {
  agent: number;
  category: number;
  reward: number;
}

/** What a policy has learned so far: observed rewards per pair and per agent. */
class Ledger {
  readonly pairs: PairStats[][];
  readonly agents: AgentStats[];

  constructor(config: BenchConfig, agentIds: readonly string[]) {
    this.pairs = agentIds.map((agentId) =>
      Array.from({ length: config.categories }, (_, c) => ({
        agentId,
        category: `c${c}`,
        n: 0,
        rewardSum: 0,
        rewardSquareSum: 0,
      })),
    );
    this.agents = agentIds.map((agentId) => ({ agentId, n: 0, rewardSum: 0, rewardSquareSum: 0 }));
  }

  record(feedback: Feedback): void {
    const pair = this.pairs[feedback.agent]?.[feedback.category];
    const agent = this.agents[feedback.agent];
    if (pair === undefined || agent === undefined) return;
    pair.n += 1;
    pair.rewardSum += feedback.reward;
    pair.rewardSquareSum = (pair.rewardSquareSum ?? 0) + feedback.reward ** 2;
    agent.n += 1;
    agent.rewardSum += feedback.reward;
    agent.rewardSquareSum = (agent.rewardSquareSum ?? 0) + feedback.reward ** 2;
  }
}

/** Feedback for a task, if any: failures are known at once, ratings only sometimes and later. */
function observeOutcome(team: Team, config: BenchConfig, agent: number, draw: TaskDraw, task: number) {
  const failed = draw.failureDraw < (team.failureRate[agent]?.[draw.category] ?? 0);
  if (failed) return { at: task + 1, feedback: { agent, category: draw.category, reward: 0 } };
  if (draw.feedbackDraw >= config.feedbackRate) return null;
  const reward = simulateReward(team.quality[agent]?.[draw.category] ?? 0, draw);
  return { at: task + draw.delay, feedback: { agent, category: draw.category, reward } };
}

/** Cumulative regret after every task. */
function runPolicy(
  policy: Policy,
  config: BenchConfig,
  team: Team,
  draws: TaskDraw[],
  seed: number,
): Float64Array {
  const agentIds = Array.from({ length: config.agents }, (_, a) => `agent_${a}`);
  const candidates: RoutingCandidate[] = agentIds.map((agentId, a) => ({
    agentId,
    nickname: agentId,
    active: true,
    load: 0,
    specialties: (team.specialties[a] ?? []).map((c) => `c${c}`),
  }));
  const ledger = new Ledger(config, agentIds);
  const pending = new Map<number, Feedback[]>();
  const random = createRng(seed);
  const regret = new Float64Array(draws.length);
  let cumulative = 0;
  draws.forEach((draw, task) => {
    for (const feedback of pending.get(task) ?? []) ledger.record(feedback);
    pending.delete(task);
    const category = `c${draw.category}`;
    const chosen = policy({
      category,
      candidates,
      pairStats: ledger.pairs.flat(),
      agentStats: ledger.agents,
      random,
    });
    const agent = agentIds.indexOf(chosen);
    const rewards = team.expectedReward.map((row) => row[draw.category] ?? 0);
    cumulative += Math.max(...rewards) - (rewards[agent] ?? 0);
    regret[task] = cumulative;
    const outcome = observeOutcome(team, config, agent, draw, task);
    if (outcome !== null) pending.set(outcome.at, [...(pending.get(outcome.at) ?? []), outcome.feedback]);
  });
  return regret;
}

// ---------------------------------------------------------------------------------------------------
// Reporting

function computeQuantile(values: readonly number[], q: number): number {
  const sorted = [...values].sort((left, right) => left - right);
  const position = (sorted.length - 1) * q;
  const below = sorted[Math.floor(position)] ?? 0;
  const above = sorted[Math.ceil(position)] ?? below;
  return below + (above - below) * (position - Math.floor(position));
}

function computeMean(values: readonly number[]): number {
  return values.reduce((sum, value) => sum + value, 0) / values.length;
}

function renderProgress(done: number, total: number, startedAt: number): void {
  const width = 30;
  const filled = Math.round((done / total) * width);
  const seconds = ((performance.now() - startedAt) / 1000).toFixed(1);
  process.stderr.write(
    `\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] seed ${done}/${total}  ${seconds}s`,
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

function main(): void {
  const config = readConfig();
  const startedAt = performance.now();
  const finals: Record<PolicyName, number[]> = { merit: [], greedy: [], random: [] };
  const curves = Object.fromEntries(
    POLICY_NAMES.map((name) => [name, new Float64Array(config.tasks)]),
  ) as Record<PolicyName, Float64Array>;
  for (let seed = 1; seed <= config.seeds; seed++) {
    const worldRandom = createRng(hashSeed(`world-${seed}`));
    const team = createTeam(config, worldRandom);
    const draws = drawTasks(config, team, worldRandom);
    // A stream of its own, so every --declare mode faces the same teams and tasks.
    const declareRandom = createRng(hashSeed(`declare-${seed}`));
    team.specialties = team.quality.map((row) => declareSpecialties(config, row, declareRandom));
    for (const name of POLICY_NAMES) {
      const regret = runPolicy(POLICIES[name](config), config, team, draws, hashSeed(`${name}-${seed}`));
      finals[name].push(regret[config.tasks - 1] ?? 0);
      regret.forEach((value, task) => {
        curves[name][task] = (curves[name][task] ?? 0) + value / config.seeds;
      });
    }
    renderProgress(seed, config.seeds, startedAt);
  }
  const rows = POLICY_NAMES.map((name) => {
    const mean = computeMean(finals[name]);
    const p90 = computeQuantile(finals[name], 0.9);
    return `${name.padEnd(8)} ${mean.toFixed(1).padStart(10)} ${p90.toFixed(1).padStart(10)}`;
  });
  const ratio = (q: (values: number[]) => number) => (q(finals.merit) / q(finals.greedy)).toFixed(2);
  const p90Of = (values: number[]) => computeQuantile(values, 0.9);
  console.log(
    `\nRouting benchmark: ${config.agents} agents, ${config.categories} categories, ${config.tasks} tasks, ` +
      `${config.seeds} seeds; feedback for ${config.feedbackRate * 100}% of tasks, delayed 1-${config.maxFeedbackDelay} tasks; ` +
      `declared specialties: ${config.declare} (prior strength ${config.specialtyStrength})\n`,
  );
  console.log(`policy   ${'mean'.padStart(10)} ${'p90'.padStart(10)}   (cumulative regret at the last task)`);
  console.log(rows.join('\n'));
  console.log(`\nmerit/greedy: mean ${ratio(computeMean)} (aim <= 0.80), p90 ${ratio(p90Of)} (aim <= 0.70)`);
  console.log(`\nMean cumulative regret over tasks:\n${renderChart(curves, config.tasks)}`);
  console.log(`\n${renderCheckpoints(curves, config.tasks)}`);
  console.log(`\nTook ${((performance.now() - startedAt) / 1000).toFixed(1)} s`);
}

main();
