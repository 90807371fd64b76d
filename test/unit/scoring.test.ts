import { describe, expect, it } from 'vitest';
import { REWARDS_VERSION } from '../../src/evaluation/evaluation.js';
import { DEFAULT_OVERALL_WEIGHTS } from '../../src/evaluation/scores.js';
import { DEFAULT_REWARD_CONFIG } from '../../src/rewards/reward-rules.js';
import { computeLogWork } from '../../src/tasks/efficiency.js';
import {
  computeFailurePenalty,
  computeFinishedContribution,
  EFFICIENCY_VERSION,
  readTypicalWork,
  scoreFinishedTask,
  toNewScore,
} from '../../src/tasks/scoring.js';

const rules = { weights: DEFAULT_OVERALL_WEIGHTS, rewards: DEFAULT_REWARD_CONFIG };
// A category whose median work is 1000 tokens over 10 s: such a task scores efficiency 0.5.
const reference = {
  baseline: { median: computeLogWork(1000, 10_000), scale: 1, sampleSize: 100 },
  typical: { tokens: 1000, durationMs: 10_000 },
};
const FINISHED_AT = new Date('2026-11-30T03:00:00Z');

describe('scoreFinishedTask', () => {
  it('gives a completed task its efficiency and no overall score without a quality signal', () => {
    const score = scoreFinishedTask(
      { status: 'completed', totalTokens: 1000, durationMs: 10_000, userRating: null },
      reference,
      rules,
    );
    expect(score).toEqual({
      efficiencyScore: 0.5,
      overallScore: null,
      userRating: null,
      rewardPoints: 0,
      rewardRules: [],
      sources: { efficiency: { source: 'formula', version: EFFICIENCY_VERSION } },
    });
  });

  it('combines a reported rating with efficiency into the overall score', () => {
    // Rating 3 is 0.5 on the score scale and efficiency is 0.5: any weighting gives 0.5.
    const score = scoreFinishedTask(
      { status: 'completed', totalTokens: 1000, durationMs: 10_000, userRating: 3 },
      reference,
      rules,
    );
    expect(score.overallScore).toBe(0.5);
    expect(score.userRating).toBe(3);
    expect(score.sources).toEqual({
      efficiency: { source: 'formula', version: EFFICIENCY_VERSION },
      user_rating: { source: 'user', version: 'user-1' },
    });
    // A cheaper, faster task at the same rating scores higher.
    const cheaper = scoreFinishedTask(
      { status: 'completed', totalTokens: 500, durationMs: 5000, userRating: 3 },
      reference,
      rules,
    );
    expect(cheaper.efficiencyScore).toBe(0.8);
    expect(cheaper.overallScore).toBeGreaterThan(0.5);
  });

  it('leaves efficiency unknown when the tokens are unknown or no baseline is given', () => {
    const unknownTokens = scoreFinishedTask(
      { status: 'completed', totalTokens: null, durationMs: 10_000, userRating: null },
      reference,
      rules,
    );
    expect(unknownTokens.efficiencyScore).toBeNull();
    expect(unknownTokens.sources).toEqual({});
    const noReference = scoreFinishedTask(
      { status: 'completed', totalTokens: 1000, durationMs: 10_000, userRating: 4 },
      undefined,
      rules,
    );
    expect(noReference.efficiencyScore).toBeNull();
    expect(noReference.overallScore).toBe(0.75);
  });

  it("gives a failed task the failure penalty only, ignoring a reported rating and its tokens' efficiency", () => {
    const score = scoreFinishedTask(
      { status: 'failed', totalTokens: 1000, durationMs: 10_000, userRating: 5 },
      reference,
      rules,
    );
    expect(score).toEqual({
      efficiencyScore: null,
      overallScore: null,
      userRating: null,
      rewardPoints: -10,
      rewardRules: [{ rule: 'failure', points: -10, reason: 'the task failed' }],
      sources: { reward_points: { source: 'formula', version: REWARDS_VERSION } },
    });
  });

  it('takes the failure penalty from the configured reward rules', () => {
    const rewards = { ...DEFAULT_REWARD_CONFIG, failure: { points: -15 } };
    expect(computeFailurePenalty(rewards).netPoints).toBe(-15);
    const score = scoreFinishedTask(
      { status: 'failed', totalTokens: null, durationMs: null, userRating: null },
      undefined,
      { weights: DEFAULT_OVERALL_WEIGHTS, rewards },
    );
    expect(score.rewardPoints).toBe(-15);
  });
});

describe('readTypicalWork', () => {
  it("uses the template's typical values, and defaults for a category without a template", () => {
    expect(readTypicalWork({ typical_tokens: 800, typical_duration_ms: 9000 })).toEqual({
      tokens: 800,
      durationMs: 9000,
    });
    expect(readTypicalWork(undefined)).toEqual({ tokens: 1500, durationMs: 20_000 });
  });
});

describe('computeFinishedContribution', () => {
  it("adds a completed, rated task's figures to its agent's sums", () => {
    const delta = computeFinishedContribution(
      {
        status: 'completed',
        total_tokens: 1000,
        estimated_cost: 0.01,
        duration_ms: 10_000,
        completed_at: FINISHED_AT,
      },
      { overallScore: 0.5, userRating: 3, rewardPoints: 0 },
    );
    expect(delta).toMatchObject({
      tasks: 1,
      successful: 1,
      failed: 0,
      scored: 1,
      sumOverall: 0.5,
      rated: 1,
      sumRating: 3,
      ratingCounts: [0, 0, 1, 0, 0],
      tokens: 1000,
      metered: 1,
      priced: 1,
      durationMs: 10_000,
      rewardPoints: 0,
      at: FINISHED_AT,
    });
  });

  it("adds a failed task's penalty, and counts unknown usage as neither metered nor priced", () => {
    const delta = computeFinishedContribution(
      {
        status: 'failed',
        total_tokens: null,
        estimated_cost: null,
        duration_ms: 4000,
        completed_at: FINISHED_AT,
      },
      { overallScore: null, userRating: null, rewardPoints: -10 },
    );
    expect(delta).toMatchObject({
      tasks: 1,
      successful: 0,
      failed: 1,
      scored: 0,
      rated: 0,
      tokens: 0,
      metered: 0,
      priced: 0,
      rewardPoints: -10,
    });
  });
});

describe('toNewScore', () => {
  it("writes the score figures beside the task's usage, the rules and sources as JSON", () => {
    const row = toNewScore(
      {
        id: 't1',
        agent_id: 'a1',
        user_id: 'u1',
        objective_category: 'research',
        model: 'gpt-4o-mini',
        duration_ms: 10_000,
        total_tokens: 1000,
        estimated_cost: 0.01,
      },
      scoreFinishedTask(
        { status: 'failed', totalTokens: 1000, durationMs: 10_000, userRating: null },
        undefined,
        rules,
      ),
    );
    expect(row).toMatchObject({
      task_id: 't1',
      agent_id: 'a1',
      objective_category: 'research',
      total_tokens: 1000,
      overall_score: null,
      reward_points: -10,
    });
    expect(JSON.parse(row.reward_rules as string)).toEqual([
      { rule: 'failure', points: -10, reason: 'the task failed' },
    ]);
    expect(JSON.parse(row.score_sources as string)).toEqual({
      reward_points: { source: 'formula', version: REWARDS_VERSION },
    });
  });
});
