import { describe, expect, it } from 'vitest';
import {
  bootstrapKappaInterval,
  describeEvaluatorCalibrations,
  findJudgedDimensions,
  judgeReliabilityFactor,
  MIN_CALIBRATION_TASKS,
  measureCalibration,
  quadraticWeightedKappa,
  rankWithTies,
  scoreToRating,
  spearmanCorrelation,
  spearmanInterval,
} from '../../src/evaluation/calibration.js';
import { createRng } from '../../src/lib/random.js';

// Reference values below come from scipy 1.x (scipy.stats.rankdata, scipy.stats.spearmanr) and from
// Cohen's quadratic weighted kappa computed by hand (the same as sklearn.metrics.cohen_kappa_score(a, b,
// labels=[1, 2, 3, 4, 5], weights='quadratic')).

describe('rankWithTies', () => {
  it('gives tied values the average of their ranks (scipy.stats.rankdata)', () => {
    // rankdata([3,1,4,1,5,9,2,6,5,3]) = [4.5 1.5 6 1.5 7.5 10 3 9 7.5 4.5]
    expect(rankWithTies([3, 1, 4, 1, 5, 9, 2, 6, 5, 3])).toEqual([4.5, 1.5, 6, 1.5, 7.5, 10, 3, 9, 7.5, 4.5]);
  });
});

describe('spearmanCorrelation', () => {
  it('matches scipy.stats.spearmanr with ties on both sides', () => {
    // spearmanr([0.1,0.4,0.35,0.8,0.8,0.6,0.2,0.9], [1,3,2,4,5,3,2,5]).statistic = 0.9695842965755979
    const r = spearmanCorrelation([0.1, 0.4, 0.35, 0.8, 0.8, 0.6, 0.2, 0.9], [1, 3, 2, 4, 5, 3, 2, 5]);
    expect(r).toBeCloseTo(0.9695842965755979, 12);
    // spearmanr([1,2,3,4,5], [5,6,7,8,7]).statistic = 0.8207826816681233
    expect(spearmanCorrelation([1, 2, 3, 4, 5], [5, 6, 7, 8, 7])).toBeCloseTo(0.8207826816681233, 12);
  });

  it('is 1 for any increasing relation and -1 for any decreasing one', () => {
    const random = createRng(7);
    for (let trial = 0; trial < 50; trial++) {
      const xs = Array.from({ length: 5 + trial }, () => random());
      expect(
        spearmanCorrelation(
          xs,
          xs.map((x) => x ** 3 + 2),
        ),
      ).toBeCloseTo(1, 12);
      expect(
        spearmanCorrelation(
          xs,
          xs.map((x) => -Math.exp(x)),
        ),
      ).toBeCloseTo(-1, 12);
    }
  });

  it('is unknown (null) when one side does not vary or with fewer than 3 pairs', () => {
    expect(spearmanCorrelation([0.2, 0.4, 0.6], [3, 3, 3])).toBeNull();
    expect(spearmanCorrelation([0.5, 0.5, 0.5], [1, 2, 3])).toBeNull();
    expect(spearmanCorrelation([0.1, 0.9], [1, 5])).toBeNull();
  });
});

describe('spearmanInterval', () => {
  it('uses Fisher z with the Bonett-Wright standard error', () => {
    // r = 0.6, n = 20: z = atanh(0.6) = 0.6931, se = sqrt((1 + 0.18) / 17) = 0.2635,
    // tanh(0.6931 -/+ 1.96 x 0.2635) = 0.17495428673116206, 0.836535896606277
    const interval = spearmanInterval(0.6, 20);
    expect(interval.lower).toBeCloseTo(0.17495428673116206, 10);
    expect(interval.upper).toBeCloseTo(0.836535896606277, 10);
  });

  it('contains the estimate, inside [-1, 1], and narrows as n grows', () => {
    const random = createRng(11);
    for (let trial = 0; trial < 200; trial++) {
      const r = random() * 2 - 1;
      const n = 4 + Math.floor(random() * 500);
      const { lower, upper } = spearmanInterval(r, n);
      expect(lower).toBeLessThanOrEqual(r);
      expect(upper).toBeGreaterThanOrEqual(r);
      expect(lower).toBeGreaterThanOrEqual(-1);
      expect(upper).toBeLessThanOrEqual(1);
      const wider = spearmanInterval(r, n + 100);
      expect(wider.upper - wider.lower).toBeLessThan(upper - lower);
    }
    expect(spearmanInterval(1, 10)).toEqual({ lower: 1, upper: 1 });
    expect(spearmanInterval(-1, 10)).toEqual({ lower: -1, upper: -1 });
  });
});

describe('quadraticWeightedKappa', () => {
  it('matches hand-computed values', () => {
    // a = [1,2,3,4,5,3], b = [1,2,4,4,5,2]: sum (i-j)^2 over the pairs = 0+0+1+0+0+1 = 2;
    // marginals a {1:1,2:1,3:2,4:1,5:1}, b {1:1,2:2,4:2,5:1}: sum (i-j)^2 a_i b_j = 132;
    // kappa = 1 - (2 / 6) / (132 / 36) = 1 - 12/132 = 0.9090909...
    expect(quadraticWeightedKappa([1, 2, 3, 4, 5, 3], [1, 2, 4, 4, 5, 2])).toBeCloseTo(10 / 11, 12);
    // a = [1,1,2,2,3,3], b = [2,1,3,2,3,1]: sum (i-j)^2 = 1+0+1+0+0+4 = 6; marginals 2,2,2 on both
    // sides: 4 x (0+1+4+1+0+1+4+1+0) = 48; kappa = 1 - 6 x 6 / 48 = 0.25
    expect(quadraticWeightedKappa([1, 1, 2, 2, 3, 3], [2, 1, 3, 2, 3, 1])).toBeCloseTo(0.25, 12);
  });

  it('is 1 for identical ratings and negative for reversed ones', () => {
    const ratings = [1, 2, 3, 4, 5, 2, 4, 3];
    expect(quadraticWeightedKappa(ratings, ratings)).toBe(1);
    // Reversing a symmetric spread gives the full disagreement: -1.
    expect(quadraticWeightedKappa([1, 2, 3, 4, 5], [5, 4, 3, 2, 1])).toBeCloseTo(-1, 12);
    expect(
      quadraticWeightedKappa(
        ratings,
        ratings.map((r) => 6 - r),
      ),
    ).toBeLessThan(0);
  });

  it('is unknown when chance alone agrees perfectly, and rejects ratings off the scale', () => {
    expect(quadraticWeightedKappa([3, 3, 3], [3, 3, 3])).toBeNull();
    expect(() => quadraticWeightedKappa([0, 1], [1, 1])).toThrow(RangeError);
    expect(() => quadraticWeightedKappa([1.5, 1], [1, 1])).toThrow(RangeError);
  });
});

describe('bootstrapKappaInterval', () => {
  const a = [1, 2, 3, 4, 5, 3, 2, 4, 5, 1, 3, 4];
  const b = [1, 3, 3, 4, 4, 2, 2, 5, 5, 2, 3, 3];

  it('is reproducible: the same pairs and seed give the same interval', () => {
    expect(bootstrapKappaInterval(a, b)).toEqual(bootstrapKappaInterval(a, b));
    expect(bootstrapKappaInterval(a, b, { seed: 1 })).not.toEqual(bootstrapKappaInterval(a, b, { seed: 2 }));
  });

  it('contains the estimate for random data', () => {
    const random = createRng(3);
    for (let trial = 0; trial < 30; trial++) {
      const n = 10 + Math.floor(random() * 40);
      const xs = Array.from({ length: n }, () => 1 + Math.floor(random() * 5));
      const ys = xs.map((x) => Math.min(5, Math.max(1, x + Math.floor(random() * 5) - 2)));
      const kappa = quadraticWeightedKappa(xs, ys);
      const interval = bootstrapKappaInterval(xs, ys, { rounds: 200 });
      if (kappa === null) continue;
      expect(interval?.lower).toBeLessThanOrEqual(kappa);
      expect(interval?.upper).toBeGreaterThanOrEqual(kappa);
    }
  });
});

describe('scoreToRating', () => {
  it('inverts (rating - 1) / 4 to the nearest star, halves up', () => {
    expect([0, 0.1, 0.125, 0.25, 0.5, 0.62, 0.625, 0.875, 1].map(scoreToRating)).toEqual([
      1, 1, 2, 2, 3, 3, 4, 5, 5,
    ]);
  });
});

describe('measureCalibration', () => {
  it('reports too few tasks as unknown, never 0', () => {
    const pairs = Array.from({ length: MIN_CALIBRATION_TASKS - 1 }, (_, i) => ({
      score: (i % 5) / 4,
      rating: (i % 5) + 1,
    }));
    expect(measureCalibration(pairs)).toEqual({ n: 9, spearman: null, qwk: null, reason: 'too few tasks' });
    expect(measureCalibration([])).toEqual({ n: 0, spearman: null, qwk: null, reason: 'too few tasks' });
  });

  it('gives 1 for an evaluator that agrees exactly and negative figures for a reversed one', () => {
    const ratings = [1, 2, 3, 4, 5, 1, 2, 3, 4, 5, 3, 4];
    const agreeing = measureCalibration(ratings.map((rating) => ({ score: (rating - 1) / 4, rating })));
    expect(agreeing).toEqual({
      n: 12,
      spearman: { value: 1, lower: 1, upper: 1 },
      qwk: { value: 1, lower: 1, upper: 1 },
      reason: null,
    });
    const reversed = measureCalibration(ratings.map((rating) => ({ score: (5 - rating) / 4, rating })));
    expect(reversed.spearman?.value).toBe(-1);
    expect(reversed.qwk?.value).toBeLessThan(0);
    expect(reversed.qwk?.upper).toBeLessThan(0);
  });

  it('keeps each estimate inside its interval for noisy evaluators', () => {
    const random = createRng(5);
    for (let trial = 0; trial < 20; trial++) {
      const pairs = Array.from({ length: 10 + trial * 7 }, () => {
        const rating = 1 + Math.floor(random() * 5);
        const score = Math.min(1, Math.max(0, (rating - 1) / 4 + (random() - 0.5) * trial * 0.1));
        return { score, rating };
      });
      const calibration = measureCalibration(pairs, { rounds: 200 });
      for (const estimate of [calibration.spearman, calibration.qwk]) {
        expect(estimate).not.toBeNull();
        expect(estimate?.lower).toBeLessThanOrEqual(estimate?.value ?? Number.NaN);
        expect(estimate?.upper).toBeGreaterThanOrEqual(estimate?.value ?? Number.NaN);
      }
    }
  });

  it('says why a figure is unknown when there is no variation', () => {
    const pairs = Array.from({ length: 12 }, (_, i) => ({ score: 0.7, rating: 1 + (i % 5) }));
    const calibration = measureCalibration(pairs);
    expect(calibration.spearman).toBeNull();
    expect(calibration.reason).toBe('no variation: the evaluator gave every task the same score');
    // The kappa is defined (0: the stars carry no information about the ratings).
    expect(calibration.qwk?.value).toBe(0);
  });
});

describe('judgeReliabilityFactor', () => {
  it('is 1 while the correlation is unknown', () => {
    expect(judgeReliabilityFactor({ n: 4, spearman: null })).toBe(1);
  });

  it('gives full weight from a lower bound of 0.5 and shrinks towards 1 with few tasks', () => {
    expect(judgeReliabilityFactor({ n: 400, spearman: { value: 0.7, lower: 0.62, upper: 0.76 } })).toBe(1);
    // agreement = 0.2 / 0.5 = 0.4; (100 x 0.4 + 10) / 110 = 0.4545
    expect(judgeReliabilityFactor({ n: 100, spearman: { value: 0.37, lower: 0.2, upper: 0.52 } })).toBe(
      0.455,
    );
    // A judge that disagrees with users: agreement 0; (1000 x 0 + 10) / 1010 = 0.0099
    expect(judgeReliabilityFactor({ n: 1000, spearman: { value: -0.3, lower: -0.35, upper: -0.24 } })).toBe(
      0.01,
    );
    // At the minimum n the factor cannot drop below a half.
    expect(judgeReliabilityFactor({ n: 10, spearman: { value: 0.1, lower: -0.5, upper: 0.6 } })).toBe(0.5);
  });
});

describe('findJudgedDimensions', () => {
  const judge = { source: 'judge' as const, version: 'judge-1:m' };
  const heuristic = { source: 'heuristic' as const, version: 'heuristic-2' };

  it("names the dimensions that hold the judge's figures after a change", () => {
    const before = {
      accuracy_score: null,
      relevance_score: 0.5,
      completeness_score: 0.4,
      score_sources: { relevance: heuristic, completeness: judge },
    };
    // The judge's new accuracy, the offline relevance kept, the judge's completeness kept.
    expect(findJudgedDimensions(before, { accuracy: 0.9, sources: { accuracy: judge } })).toEqual([
      'accuracy',
      'completeness',
    ]);
    // A rating changes no dimension: the judged one stays judged.
    expect(findJudgedDimensions(before, { sources: {} })).toEqual(['completeness']);
    expect(
      findJudgedDimensions({ ...before, score_sources: { relevance: heuristic } }, { sources: {} }),
    ).toEqual([]);
  });
});

describe('describeEvaluatorCalibrations', () => {
  it('lists the judge, its dimensions, the offline evaluator and each reviewer, unknown below 10 tasks', () => {
    const judge = [1, 2, 3, 4, 5, 1, 2, 3, 4, 5].map((rating) => ({
      accuracy: null,
      relevance: (rating - 1) / 4,
      completeness: (rating - 1) / 4,
      rating,
    }));
    const result = describeEvaluatorCalibrations({
      judge,
      offline: [],
      reviews: [{ reviewerAgentId: 'agent_e', score: 0.5, rating: 3 }],
      reviewerIds: ['agent_d'],
      reviewerWeight: (pairs) => (pairs.length === 0 ? 1 : 0.8),
    });
    expect(result.map((entry) => [entry.evaluator, entry.n, entry.weight, entry.reason])).toEqual([
      ['judge', 10, 1, null],
      // The judge's accuracy was never scored: no tasks.
      ['judge.accuracy', 0, 1, 'too few tasks'],
      ['judge.relevance', 10, 1, null],
      ['judge.completeness', 10, 1, null],
      ['offline', 0, 1, 'too few tasks'],
      ['reviewer:agent_d', 0, 1, 'too few tasks'],
      ['reviewer:agent_e', 1, 0.8, 'too few tasks'],
    ]);
    expect(result[0]?.spearman).toEqual({ value: 1, lower: 1, upper: 1 });
    expect(result[5]?.spearman).toBeNull();
  });
});
