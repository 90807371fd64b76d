import { describe, expect, it } from 'vitest';
import {
  computeDaysActive,
  diffContributions,
  EMPTY_CONTRIBUTION,
  isEmptyDelta,
  type TaskContribution,
} from '../../src/stats/stats.js';

const completed: TaskContribution = {
  status: 'completed',
  overallScore: 0.8,
  userRating: null,
  totalTokens: 1200,
  estimatedCost: 0.01,
  durationMs: 9000,
  rewardPoints: 0,
  reward: null,
  finishedAt: new Date('2026-11-20T10:00:00Z'),
};

describe('statistics deltas', () => {
  it('counts a completed task once with its score, tokens, cost and duration', () => {
    const delta = diffContributions(EMPTY_CONTRIBUTION, completed);
    expect(delta).toMatchObject({
      tasks: 1,
      successful: 1,
      failed: 0,
      scored: 1,
      sumOverall: 0.8,
      tokens: 1200,
      cost: 0.01,
      durationMs: 9000,
      rated: 0,
    });
    expect(delta.sumSqOverall).toBeCloseTo(0.64, 10);
  });

  it('moves a rating from 2 to 4 stars without counting the task again', () => {
    const before = { ...completed, userRating: 2, overallScore: 0.5 };
    const after = { ...completed, userRating: 4, overallScore: 0.7 };
    const delta = diffContributions(before, after);
    expect(delta).toMatchObject({ tasks: 0, successful: 0, scored: 0, rated: 0, sumRating: 2, tokens: 0 });
    expect(delta.sumOverall).toBeCloseTo(0.2, 10);
    expect(delta.ratingCounts).toEqual([0, -1, 0, 1, 0]);
  });

  it('counts a failed task as finished but not successful, without a score', () => {
    const delta = diffContributions(EMPTY_CONTRIBUTION, {
      ...completed,
      status: 'failed',
      overallScore: null,
    });
    expect(delta).toMatchObject({ tasks: 1, successful: 0, failed: 1, scored: 0 });
  });

  it("keeps the router's sums: a failure is a reward of 0, a completed task is unscored until its reward is known", () => {
    const unscored = diffContributions(EMPTY_CONTRIBUTION, completed);
    expect(unscored).toMatchObject({
      rewarded: 0,
      sumReward: 0,
      unscored: 1,
      completedPriced: 1,
      completedCost: 0.01,
      completedTimed: 1,
      completedDurationMs: 9000,
    });
    const scored = diffContributions(completed, { ...completed, reward: 0.75 });
    expect(scored).toMatchObject({
      tasks: 0,
      rewarded: 1,
      sumReward: 0.75,
      sumSqReward: 0.5625,
      unscored: -1,
    });
    expect(isEmptyDelta(scored)).toBe(false);
    // A failed task counts as rewarded with 0 (whatever its score row says), and its cost and duration
    // stay out of the completed tasks' means.
    const failed = diffContributions(EMPTY_CONTRIBUTION, { ...completed, status: 'failed', reward: 0.9 });
    expect(failed).toMatchObject({
      rewarded: 1,
      sumReward: 0,
      sumSqReward: 0,
      unscored: 0,
      completedPriced: 0,
      completedCost: 0,
      completedTimed: 0,
      completedDurationMs: 0,
    });
    // Unknown cost and duration are not counted as zeros.
    const unknown = diffContributions(EMPTY_CONTRIBUTION, {
      ...completed,
      estimatedCost: null,
      durationMs: null,
    });
    expect(unknown).toMatchObject({ completedPriced: 0, completedTimed: 0, completedCost: 0 });
  });

  it('knows an empty change', () => {
    expect(isEmptyDelta(diffContributions(completed, completed))).toBe(true);
    expect(isEmptyDelta(diffContributions(EMPTY_CONTRIBUTION, completed))).toBe(false);
  });

  it('counts active days from the first to the last finished task, both included', () => {
    expect(computeDaysActive(null, null)).toBe(0);
    expect(computeDaysActive(new Date('2026-11-20T23:00:00Z'), new Date('2026-11-21T01:00:00Z'))).toBe(2);
    expect(computeDaysActive(new Date('2026-11-20T01:00:00Z'), new Date('2026-11-20T23:00:00Z'))).toBe(1);
  });
});
