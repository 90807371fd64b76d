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
