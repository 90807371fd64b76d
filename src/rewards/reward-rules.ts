/**
 * The RewardSystem as pure rules: a finished task's figures in, the reward points it earned out.
 * Bonuses reward quality, consistency and thrift; penalties punish poor work, waste and failure.
 * Quality is judged against par, the team's own recent overall scores: a task's standing is the share
 * of them it beats (ties count half, so scores rounded to 0.01 tip neither way); the top quarter earns
 * excellence, the bottom quarter loses as much, so an agent of average quality nets about zero however
 * generous the evaluators are, and a better one earns more. Until the team has TEAM_PAR_MIN_SAMPLE
 * scored tasks, fixed thresholds stand in for par.
 */
import { z } from 'zod';
import { ValidationError } from '../errors.js';

export type RewardRule =
  | 'excellence'
  | 'consistency'
  | 'speed'
  | 'efficiency'
  | 'first_success'
  | 'below_par'
  | 'poor_quality'
  | 'wasteful'
  | 'too_slow'
  | 'failure';

/** How many scored tasks the team needs before its scores are par. */
export const TEAM_PAR_MIN_SAMPLE = 20;

export type RewardInput = {
  overallScore: number | null;
  efficiencyScore: number | null;
  userRating: number | null;
  durationMs: number | null;
  categoryMedianDurationMs: number | null;
  totalTokens: number | null;
  categoryMedianTokens: number | null;
  failed: boolean;
  isFirstSuccessInCategory: boolean;
  /** The agent's previous overall scores in this category, newest first, not counting this task. */
  recentScores: number[];
  /** Par: the team's recent overall scores (any order); fixed thresholds apply while there are too few. */
  teamScores?: readonly number[] | null;
};

export type RewardConfig = {
  /** Overall score in the team's top quarter (standing above 0.75); at least minOverallScore without par. */
  excellence: { minOverallScore: number; points: number };
  /** Overall score in the team's bottom quarter (standing below 0.25); nothing without par. */
  belowPar: { points: number };
  /**
   * A streak of `streak` tasks in the category (this one and the previous streak - 1) all at or above
   * the team's median; at or above minScore while there is no par.
   */
  consistency: { streak: number; minScore: number; points: number };
  speed: { maxDurationRatio: number; points: number };
  efficiency: { minEfficiencyScore: number; points: number };
  firstSuccess: { points: number };
  /** Overall score below belowOverallScore, or a user rating at or below maxUserRating. */
  poorQuality: { belowOverallScore: number; maxUserRating: number; points: number };
  wasteful: { minTokenRatio: number; points: number };
  tooSlow: { minDurationRatio: number; points: number };
  failure: { points: number };
  /** Speed and efficiency bonuses need at least this overall score and par's median: fast garbage earns nothing. */
  bonusMinOverallScore: number;
};

export type AppliedReward = { rule: RewardRule; points: number; reason: string };
export type RewardOutcome = { applied: AppliedReward[]; netPoints: number };

/**
 * Calibrated on `seed-demo` (test/db/seed-demo.test.ts): excellence and below par balance each other
 * for an average agent, and the small bonuses roughly offset failures, so the team's mean is near 0
 * points per task while the best agent earns the most.
 */
export const DEFAULT_REWARD_CONFIG: Readonly<RewardConfig> = Object.freeze({
  excellence: { minOverallScore: 0.9, points: 10 },
  belowPar: { points: -10 },
  consistency: { streak: 5, minScore: 0.75, points: 2 },
  speed: { maxDurationRatio: 0.5, points: 2 },
  efficiency: { minEfficiencyScore: 0.8, points: 1 },
  firstSuccess: { points: 2 },
  poorQuality: { belowOverallScore: 0.4, maxUserRating: 1, points: -5 },
  wasteful: { minTokenRatio: 3, points: -3 },
  tooSlow: { minDurationRatio: 3, points: -3 },
  failure: { points: -10 },
  bonusMinOverallScore: 0.6,
});

/** Applies every rule to one task. A failed task gets only the failure penalty: no bonus can offset it. */
export function applyRewardRules(
  input: RewardInput,
  config: RewardConfig = DEFAULT_REWARD_CONFIG,
): RewardOutcome {
  const applied = input.failed
    ? [{ rule: 'failure' as const, points: config.failure.points, reason: 'the task failed' }]
    : [
        checkExcellence(input, config),
        checkBelowPar(input, config),
        checkConsistency(input, config),
        checkSpeed(input, config),
        checkEfficiency(input, config),
        checkFirstSuccess(input, config),
        checkPoorQuality(input, config),
        checkWasteful(input, config),
        checkTooSlow(input, config),
      ].filter((reward): reward is AppliedReward => reward !== null);
  return { applied, netPoints: applied.reduce((sum, reward) => sum + reward.points, 0) };
}

function checkExcellence(input: RewardInput, config: RewardConfig): AppliedReward | null {
  const { minOverallScore, points } = config.excellence;
  const par = findPar(input);
  if (input.overallScore === null) return null;
  const standing = par ? par.standing(input.overallScore) : null;
  if (standing === null ? input.overallScore < minOverallScore : standing <= 0.75) return null;
  const reason =
    standing === null
      ? `overall score ${input.overallScore} >= ${minOverallScore}`
      : `overall score ${input.overallScore} in the team's top quarter (beats ${formatShare(standing)} of its recent scores)`;
  return { rule: 'excellence', points, reason };
}

function checkBelowPar(input: RewardInput, config: RewardConfig): AppliedReward | null {
  const par = findPar(input);
  if (par === null || input.overallScore === null) return null;
  const standing = par.standing(input.overallScore);
  if (standing >= 0.25) return null;
  return {
    rule: 'below_par',
    points: config.belowPar.points,
    reason: `overall score ${input.overallScore} in the team's bottom quarter (beats ${formatShare(standing)} of its recent scores)`,
  };
}

function checkConsistency(input: RewardInput, config: RewardConfig): AppliedReward | null {
  const { streak, minScore, points } = config.consistency;
  const previous = input.recentScores.slice(0, streak - 1);
  if (input.overallScore === null || previous.length < streak - 1) return null;
  const par = findPar(input);
  const threshold = par ? par.median : minScore;
  if (![input.overallScore, ...previous].every((score) => score >= threshold)) return null;
  const than = par ? `the team's median ${formatScore(threshold)}` : String(threshold);
  return { rule: 'consistency', points, reason: `last ${streak} scores in the category all >= ${than}` };
}

function checkSpeed(input: RewardInput, config: RewardConfig): AppliedReward | null {
  const { maxDurationRatio, points } = config.speed;
  const ratio = ratioToMedian(input.durationMs, input.categoryMedianDurationMs);
  if (ratio === null || ratio > maxDurationRatio || !meetsBonusQuality(input, config)) return null;
  return { rule: 'speed', points, reason: `took ${formatRatio(ratio)} the category's median duration` };
}

function checkEfficiency(input: RewardInput, config: RewardConfig): AppliedReward | null {
  const { minEfficiencyScore, points } = config.efficiency;
  const efficiency = input.efficiencyScore;
  if (efficiency === null || efficiency < minEfficiencyScore || !meetsBonusQuality(input, config))
    return null;
  return { rule: 'efficiency', points, reason: `efficiency score ${efficiency} >= ${minEfficiencyScore}` };
}

function checkFirstSuccess(input: RewardInput, config: RewardConfig): AppliedReward | null {
  if (!input.isFirstSuccessInCategory) return null;
  return {
    rule: 'first_success',
    points: config.firstSuccess.points,
    reason: 'first successful task in the category',
  };
}

function checkPoorQuality(input: RewardInput, config: RewardConfig): AppliedReward | null {
  const { belowOverallScore, maxUserRating, points } = config.poorQuality;
  if (input.overallScore !== null && input.overallScore < belowOverallScore) {
    return {
      rule: 'poor_quality',
      points,
      reason: `overall score ${input.overallScore} < ${belowOverallScore}`,
    };
  }
  // The user's own verdict counts even when the evaluators were generous.
  if (input.userRating !== null && input.userRating <= maxUserRating) {
    return { rule: 'poor_quality', points, reason: `user rating ${input.userRating} <= ${maxUserRating}` };
  }
  return null;
}

function checkWasteful(input: RewardInput, config: RewardConfig): AppliedReward | null {
  const { minTokenRatio, points } = config.wasteful;
  const ratio = ratioToMedian(input.totalTokens, input.categoryMedianTokens);
  if (ratio === null || ratio < minTokenRatio) return null;
  return { rule: 'wasteful', points, reason: `used ${formatRatio(ratio)} the category's median tokens` };
}

function checkTooSlow(input: RewardInput, config: RewardConfig): AppliedReward | null {
  const { minDurationRatio, points } = config.tooSlow;
  const ratio = ratioToMedian(input.durationMs, input.categoryMedianDurationMs);
  if (ratio === null || ratio < minDurationRatio) return null;
  return { rule: 'too_slow', points, reason: `took ${formatRatio(ratio)} the category's median duration` };
}

function meetsBonusQuality(input: RewardInput, config: RewardConfig): boolean {
  const floor = Math.max(config.bonusMinOverallScore, findPar(input)?.median ?? 0);
  return input.overallScore !== null && input.overallScore >= floor;
}

type Par = { median: number; standing: (score: number) => number };

function findPar(input: RewardInput): Par | null {
  const scores = input.teamScores ?? [];
  if (scores.length < TEAM_PAR_MIN_SAMPLE) return null;
  const sorted = [...scores].sort((a, b) => a - b);
  const middle = sorted.length / 2;
  const median =
    sorted.length % 2 === 1
      ? (sorted[Math.floor(middle)] ?? 0)
      : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
  return {
    median,
    // Mid-rank: the share of the team's scores below this one, ties counting half.
    standing: (score) =>
      sorted.reduce((sum, other) => sum + (other < score ? 1 : other === score ? 0.5 : 0), 0) / sorted.length,
  };
}

function formatShare(share: number): string {
  return `${Math.round(share * 100)}%`;
}

function formatScore(score: number): string {
  return String(Math.round(score * 1000) / 1000);
}

// Without a positive median there is nothing to compare against.
function ratioToMedian(value: number | null, median: number | null): number | null {
  if (value === null || median === null || median <= 0) return null;
  return value / median;
}

function formatRatio(ratio: number): string {
  return `${Math.round(ratio * 100) / 100}x`;
}

const score = z.number().min(0).max(1);
const bonus = z.number().min(0);
const penalty = z.number().max(0);
const ratio = z.number().positive();

const rewardConfigOverridesSchema = z
  .object({
    excellence: z.object({ minOverallScore: score, points: bonus }).partial().strict(),
    belowPar: z.object({ points: penalty }).partial().strict(),
    consistency: z
      .object({ streak: z.number().int().min(1), minScore: score, points: bonus })
      .partial()
      .strict(),
    speed: z.object({ maxDurationRatio: ratio, points: bonus }).partial().strict(),
    efficiency: z.object({ minEfficiencyScore: score, points: bonus }).partial().strict(),
    firstSuccess: z.object({ points: bonus }).partial().strict(),
    poorQuality: z
      .object({ belowOverallScore: score, maxUserRating: z.number().min(0).max(5), points: penalty })
      .partial()
      .strict(),
    wasteful: z.object({ minTokenRatio: ratio, points: penalty }).partial().strict(),
    tooSlow: z.object({ minDurationRatio: ratio, points: penalty }).partial().strict(),
    failure: z.object({ points: penalty }).partial().strict(),
    bonusMinOverallScore: score,
  })
  .partial()
  .strict();

/**
 * Reads reward rules from JSON, each section and field optional and merged over DEFAULT_REWARD_CONFIG,
 * e.g. '{"excellence": {"points": 20}, "failure": {"points": -15}}'. Unknown keys are rejected (typos),
 * bonuses must be >= 0 and penalties <= 0. Empty text gives the defaults.
 */
export function parseRewardConfig(json: string): RewardConfig {
  if (json.trim().length === 0) return structuredClone(DEFAULT_REWARD_CONFIG);
  let data: unknown;
  try {
    data = JSON.parse(json);
  } catch (error) {
    throw new ValidationError('reward_config', 'is not valid JSON', { cause: error });
  }
  const result = rewardConfigOverridesSchema.safeParse(data);
  if (!result.success) {
    throw new ValidationError('reward_config', z.prettifyError(result.error), { cause: result.error });
  }
  return mergeRewardConfig(result.data);
}

function mergeRewardConfig(overrides: z.infer<typeof rewardConfigOverridesSchema>): RewardConfig {
  const base = DEFAULT_REWARD_CONFIG;
  return {
    excellence: { ...base.excellence, ...overrides.excellence },
    belowPar: { ...base.belowPar, ...overrides.belowPar },
    consistency: { ...base.consistency, ...overrides.consistency },
    speed: { ...base.speed, ...overrides.speed },
    efficiency: { ...base.efficiency, ...overrides.efficiency },
    firstSuccess: { ...base.firstSuccess, ...overrides.firstSuccess },
    poorQuality: { ...base.poorQuality, ...overrides.poorQuality },
    wasteful: { ...base.wasteful, ...overrides.wasteful },
    tooSlow: { ...base.tooSlow, ...overrides.tooSlow },
    failure: { ...base.failure, ...overrides.failure },
    bonusMinOverallScore: overrides.bonusMinOverallScore ?? base.bonusMinOverallScore,
  };
}
