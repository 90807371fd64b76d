/**
 * The scoring of a finished task, when its score row is created: efficiency against its category's
 * baseline, the overall score, the sources of each figure, the failure penalty of the reward rules, and
 * the task's contribution to its agent's statistics. Pure functions of plain data: the tracker loads
 * the baseline, calls them, and saves. Later evaluations, reviews and ratings rescore the row through
 * src/evaluation/rescore.ts.
 */
import type { NewScore, ScoreSource, TaskRow, TemplateRow } from '../db/database.js';
import { REWARDS_VERSION } from '../evaluation/evaluation.js';
import { combineOverallScore, type OverallWeights } from '../evaluation/scores.js';
import { storedReward } from '../ranking/ranking.js';
import {
  type AppliedReward,
  applyRewardRules,
  type RewardConfig,
  type RewardOutcome,
} from '../rewards/reward-rules.js';
import { diffContributions, EMPTY_CONTRIBUTION, type StatsDelta } from '../stats/stats.js';
import { computeEfficiencyScore, type EfficiencyBaseline } from './efficiency.js';
import { describeContribution } from './tasks.js';

export const EFFICIENCY_VERSION = 'efficiency-1';

/** A category's expected work when it has no template. */
export const DEFAULT_TYPICAL_WORK = Object.freeze({ tokens: 1500, durationMs: 20_000 });

export interface ScoringRules {
  weights: OverallWeights;
  rewards: RewardConfig;
}

/** What the scoring of a finished task reads of it. */
export interface FinishedTaskFacts {
  status: 'completed' | 'failed';
  totalTokens: number | null;
  durationMs: number | null;
  /** A 1-5 rating reported with the task (batch reports); a failed task's is ignored. */
  userRating: number | null;
}

/** The work a task's category expects: efficiency is measured against it. */
export interface EfficiencyReference {
  baseline: EfficiencyBaseline;
  typical: { tokens: number; durationMs: number };
}

/** A finished task's first score figures, before any evaluator, reviewer or later rating. */
export interface FinishedTaskScore {
  efficiencyScore: number | null;
  overallScore: number | null;
  userRating: number | null;
  rewardPoints: number;
  rewardRules: AppliedReward[];
  sources: Record<string, ScoreSource>;
}

/** The typical tokens and duration of a category, from its template (defaults without one). */
export function readTypicalWork(
  template: Pick<TemplateRow, 'typical_tokens' | 'typical_duration_ms'> | undefined,
): { tokens: number; durationMs: number } {
  if (!template) return { ...DEFAULT_TYPICAL_WORK };
  return { tokens: template.typical_tokens, durationMs: template.typical_duration_ms };
}

/**
 * Scores a task as it finishes. A completed task gets its efficiency (against `reference`; unknown
 * without it or without its tokens) and an overall score, which needs a quality signal (here only a
 * reported rating: efficiency alone never makes one). A failed task gets no quality figures and the
 * failure penalty of the reward rules; a completed task's rewards wait for its evaluation.
 */
export function scoreFinishedTask(
  task: FinishedTaskFacts,
  reference: EfficiencyReference | undefined,
  rules: ScoringRules,
): FinishedTaskScore {
  if (task.status === 'failed') {
    const penalty = computeFailurePenalty(rules.rewards);
    return {
      efficiencyScore: null,
      overallScore: null,
      userRating: null,
      rewardPoints: penalty.netPoints,
      rewardRules: penalty.applied,
      sources: { reward_points: { source: 'formula', version: REWARDS_VERSION } },
    };
  }
  const efficiency = reference
    ? computeEfficiencyScore(
        { totalTokens: task.totalTokens, durationMs: task.durationMs },
        reference.baseline,
        reference.typical,
      )
    : null;
  const sources: Record<string, ScoreSource> = {};
  if (efficiency !== null) sources.efficiency = { source: 'formula', version: EFFICIENCY_VERSION };
  if (task.userRating !== null) sources.user_rating = { source: 'user', version: 'user-1' };
  return {
    efficiencyScore: efficiency,
    overallScore: combineOverallScore({ efficiency, userRating: task.userRating }, rules.weights),
    userRating: task.userRating,
    rewardPoints: 0,
    rewardRules: [],
    sources,
  };
}

/** The reward rules' outcome for a failed task: the failure penalty alone (no bonus can offset it). */
export function computeFailurePenalty(rewards: RewardConfig): RewardOutcome {
  return applyRewardRules(
    {
      overallScore: null,
      efficiencyScore: null,
      userRating: null,
      durationMs: null,
      categoryMedianDurationMs: null,
      totalTokens: null,
      categoryMedianTokens: null,
      failed: true,
      isFirstSuccessInCategory: false,
      recentScores: [],
    },
    rewards,
  );
}

/** What a finished task adds to its agent's statistics (it had contributed nothing before). */
export function computeFinishedContribution(
  task: Pick<TaskRow, 'status' | 'total_tokens' | 'estimated_cost' | 'duration_ms' | 'completed_at'>,
  score: Pick<FinishedTaskScore, 'overallScore' | 'userRating' | 'rewardPoints'> | null,
): StatsDelta {
  return diffContributions(
    EMPTY_CONTRIBUTION,
    describeContribution(
      task,
      score && {
        overall_score: score.overallScore,
        user_rating: score.userRating,
        reward_points: score.rewardPoints,
        // What the score row's generated column will hold: a finished task has no judge or peer score yet.
        reward: storedReward({ failed: false, userRating: score.userRating }),
      },
    ),
  );
}

/** The score row of a task finished through the API (completion or failure). */
export function toNewScore(
  task: Pick<
    TaskRow,
    | 'id'
    | 'agent_id'
    | 'user_id'
    | 'objective_category'
    | 'model'
    | 'duration_ms'
    | 'total_tokens'
    | 'estimated_cost'
  >,
  score: FinishedTaskScore,
): NewScore {
  return {
    task_id: task.id,
    agent_id: task.agent_id,
    user_id: task.user_id,
    objective_category: task.objective_category,
    model: task.model,
    duration_ms: task.duration_ms,
    total_tokens: task.total_tokens,
    estimated_cost: task.estimated_cost,
    efficiency_score: score.efficiencyScore,
    overall_score: score.overallScore,
    user_rating: score.userRating,
    reward_points: score.rewardPoints,
    reward_rules: JSON.stringify(score.rewardRules),
    score_sources: JSON.stringify(score.sources),
  };
}
