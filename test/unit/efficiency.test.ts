import { describe, expect, it } from 'vitest';
import {
  buildPriorBaseline,
  computeEfficiencyScore,
  computeLogWork,
  computeMedian,
  fitBaseline,
} from '../../src/tasks/efficiency.js';

const typical = { tokens: 1000, durationMs: 10_000 };

describe('efficiency score', () => {
  it('scores a task at the category median 0.5, cheaper and faster higher', () => {
    const baseline = { median: computeLogWork(1000, 10_000), scale: 1, sampleSize: 100 };
    expect(computeEfficiencyScore({ totalTokens: 1000, durationMs: 10_000 }, baseline, typical)).toBe(0.5);
    // ln(500) + ln(5000) is ln(4) below the median: 1 / (1 + e^-1.386) = 0.8.
    expect(computeEfficiencyScore({ totalTokens: 500, durationMs: 5000 }, baseline, typical)).toBe(0.8);
    expect(computeEfficiencyScore({ totalTokens: 2000, durationMs: 20_000 }, baseline, typical)).toBe(0.2);
  });

  it('uses the typical duration when it is missing and gives no score when the tokens are unknown', () => {
    const baseline = buildPriorBaseline(1000, 10_000);
    expect(computeEfficiencyScore({ totalTokens: 1000, durationMs: null }, baseline, typical)).toBe(0.5);
    expect(computeEfficiencyScore({ totalTokens: null, durationMs: null }, baseline, typical)).toBeNull();
    // Unknown usage is neither free (1.0) nor typical: the task has no efficiency score.
    expect(computeEfficiencyScore({ totalTokens: null, durationMs: 10_000 }, baseline, typical)).toBeNull();
  });

  it('keeps its scale when one outlier joins the history', () => {
    const history = Array.from({ length: 99 }, (_, i) => 16 + (i % 10) * 0.1);
    const calm = fitBaseline(history, buildPriorBaseline(1000, 10_000));
    const withOutlier = fitBaseline([...history, 60], buildPriorBaseline(1000, 10_000));
    expect(Math.abs(withOutlier.median - calm.median)).toBeLessThan(0.1);
    expect(Math.abs(withOutlier.scale - calm.scale)).toBeLessThan(0.1);
  });

  it('starts from the template and moves to the history as samples accumulate', () => {
    const prior = buildPriorBaseline(1000, 10_000);
    expect(fitBaseline([], prior)).toEqual(prior);
    const few = fitBaseline([20, 20], prior);
    const many = fitBaseline(
      Array.from({ length: 2000 }, () => 20),
      prior,
    );
    // 2 samples weigh 2 / 22 against the prior; 2000 weigh 2000 / 2020.
    expect(few.median).toBeCloseTo((2 / 22) * 20 + (20 / 22) * prior.median, 10);
    expect(many.median).toBeCloseTo((2000 / 2020) * 20 + (20 / 2020) * prior.median, 10);
  });

  it('computes medians of odd and even lists', () => {
    expect(computeMedian([3, 1, 2])).toBe(2);
    expect(computeMedian([4, 1, 3, 2])).toBe(2.5);
    expect(() => computeMedian([])).toThrow();
  });
});
