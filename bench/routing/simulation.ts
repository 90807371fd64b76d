/**
 * The routing simulation behind `npm run bench:routing` and the shape experiments: a hidden team, a
 * stream of tasks, and each policy's cumulative regret on it.
 *
 * Every (agent, category) pair has a hidden quality (an agent-wide skill plus a pair effect). A task's
 * outcome is a failure (reward 0, known at once) or a noisy rating and judge score blended by
 * `blendTaskReward`; that feedback exists for only part of the tasks and arrives some tasks later. Policies
 * see what the router's statistics query reports (`findPairRewardStats`): rewards, how many are failures,
 * and completed tasks still unscored. Every policy sees exactly the same feedback stream and none sees the
 * hidden quality. Regret is measured on
 * expected rewards: best pair in the category minus the chosen pair, summed over tasks.
 */
import { createRng, hashSeed, sampleNormal } from '../../src/lib/random.js';
import { blendTaskReward } from '../../src/ranking/ranking.js';
import type { AgentStats, PairStats, RoutingCandidate, RoutingRequest } from '../../src/routing/router.js';

export type Declarations = 'none' | 'informative' | 'random';

export interface SimulationConfig {
  declare: Declarations;
  agents: number;
  categories: number;
  tasks: number;
  feedbackRate: number;
  maxFeedbackDelay: number;
}

/** Hidden truth of one simulated team. */
export interface Team {
  quality: number[][];
  failureRate: number[][];
  expectedReward: number[][];
  categoryWeights: number[];
  /** Per agent, the categories it declares (indexes). */
  specialties: number[][];
}

/** Everything random about one task, drawn before any policy acts so all policies face the same task. */
export interface TaskDraw {
  category: number;
  failureDraw: number;
  qualityNoise: number;
  ratingNoise: number;
  judgeNoise: number;
  feedbackDraw: number;
  delay: number;
}

/** A routing rule under test: the agent id it picks. */
export type Policy = (request: RoutingRequest) => string;

const DECLARED_PER_AGENT = 2;

function clamp(value: number, low: number, high: number): number {
  return Math.min(high, Math.max(low, value));
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

export function createTeam(config: SimulationConfig, random: () => number): Team {
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
export function declareSpecialties(
  config: SimulationConfig,
  quality: readonly number[],
  random: () => number,
): number[] {
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

export function drawTasks(config: SimulationConfig, team: Team, random: () => number): TaskDraw[] {
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

/** What reaches the router's statistics: a task ends (failed, or completed awaiting its score), or a score arrives. */
interface Feedback {
  agent: number;
  category: number;
  kind: 'failed' | 'completed' | 'scored';
  reward: number;
}

/**
 * What a policy has learned so far, as the router's statistics query reports it: per pair and per agent
 * the scored rewards (failures as 0), how many of them are failures, and completed tasks still unscored.
 */
class Ledger {
  readonly pairs: PairStats[][];
  readonly agents: AgentStats[];

  constructor(config: SimulationConfig, agentIds: readonly string[]) {
    this.pairs = agentIds.map((agentId) =>
      Array.from({ length: config.categories }, (_, c) => ({
        agentId,
        category: `c${c}`,
        n: 0,
        rewardSum: 0,
        rewardSquareSum: 0,
        failures: 0,
        unscored: 0,
      })),
    );
    this.agents = agentIds.map((agentId) => ({
      agentId,
      n: 0,
      rewardSum: 0,
      rewardSquareSum: 0,
      failures: 0,
      unscored: 0,
    }));
  }

  record(feedback: Feedback): void {
    const pair = this.pairs[feedback.agent]?.[feedback.category];
    const agent = this.agents[feedback.agent];
    if (pair === undefined || agent === undefined) return;
    for (const stats of [pair, agent]) {
      if (feedback.kind === 'completed') {
        stats.unscored = (stats.unscored ?? 0) + 1;
        continue;
      }
      if (feedback.kind === 'failed') stats.failures = (stats.failures ?? 0) + 1;
      else stats.unscored = (stats.unscored ?? 0) - 1;
      stats.n += 1;
      stats.rewardSum += feedback.reward;
      stats.rewardSquareSum = (stats.rewardSquareSum ?? 0) + feedback.reward ** 2;
    }
  }
}

/**
 * What a task reports and when: a failure at once; a success ends at once awaiting its score, which
 * arrives some tasks later for only part of the tasks.
 */
function observeOutcome(
  team: Team,
  config: SimulationConfig,
  agent: number,
  draw: TaskDraw,
  task: number,
): { at: number; feedback: Feedback }[] {
  const category = draw.category;
  const failed = draw.failureDraw < (team.failureRate[agent]?.[category] ?? 0);
  if (failed) return [{ at: task + 1, feedback: { agent, category, kind: 'failed', reward: 0 } }];
  const completed = { at: task + 1, feedback: { agent, category, kind: 'completed' as const, reward: 0 } };
  if (draw.feedbackDraw >= config.feedbackRate) return [completed];
  const reward = simulateReward(team.quality[agent]?.[category] ?? 0, draw);
  return [completed, { at: task + draw.delay, feedback: { agent, category, kind: 'scored', reward } }];
}

/** Cumulative regret after every task. */
export function runPolicy(
  policy: Policy,
  config: SimulationConfig,
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
    for (const event of observeOutcome(team, config, agent, draw, task))
      pending.set(event.at, [...(pending.get(event.at) ?? []), event.feedback]);
  });
  return regret;
}

/** One seed's team and task stream (the same for every policy), declarations drawn from their own stream. */
export function createWorld(config: SimulationConfig, seed: number): { team: Team; draws: TaskDraw[] } {
  const worldRandom = createRng(hashSeed(`world-${seed}`));
  const team = createTeam(config, worldRandom);
  const draws = drawTasks(config, team, worldRandom);
  // A stream of its own, so every --declare mode faces the same teams and tasks.
  const declareRandom = createRng(hashSeed(`declare-${seed}`));
  team.specialties = team.quality.map((row) => declareSpecialties(config, row, declareRandom));
  return { team, draws };
}
