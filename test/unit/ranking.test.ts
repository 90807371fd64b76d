import { describe, expect, it } from 'vitest';
import { createRng } from '../../src/lib/random.js';
import {
  betaCdf,
  betaQuantile,
  blendTaskReward,
  JUDGE_WEIGHT,
  logGamma,
  normalQuantile,
  PEER_WEIGHT,
  RATING_WEIGHT,
  rankWithConfidence,
  summarizeBetaPosterior,
  summarizeScores,
  summarizeStarCounts,
  summarizeStarRatings,
} from '../../src/ranking/ranking.js';

// Closed form of the Beta(2, 3) CDF: I_x(2, 3) = 6x² - 8x³ + 3x⁴.
const beta23Cdf = (x: number) => 6 * x ** 2 - 8 * x ** 3 + 3 * x ** 4;

describe('special functions', () => {
  it('computes log-gamma at known points', () => {
    expect(logGamma(5)).toBeCloseTo(Math.log(24), 12);
    expect(logGamma(0.5)).toBeCloseTo(0.5 * Math.log(Math.PI), 12);
  });

  it('inverts the standard normal', () => {
    expect(normalQuantile(0.5)).toBeCloseTo(0, 9);
    expect(normalQuantile(0.95)).toBeCloseTo(1.644854, 5);
    expect(normalQuantile(0.975)).toBeCloseTo(1.959964, 5);
    expect(normalQuantile(0.01)).toBeCloseTo(-2.326348, 5);
  });

  it('matches the closed-form Beta(2, 3) CDF', () => {
    for (const x of [0.1, 0.3, 0.5, 0.9]) expect(betaCdf(x, 2, 3)).toBeCloseTo(beta23Cdf(x), 12);
  });

  it('finds Beta(2, 3) quantiles', () => {
    expect(betaQuantile(0.5, 2, 3)).toBeCloseTo(0.3857276, 6);
    expect(betaQuantile(0.05, 2, 3)).toBeCloseTo(0.0976115, 6);
    expect(betaQuantile(0.95, 2, 3)).toBeCloseTo(0.7513954, 6);
    expect(beta23Cdf(betaQuantile(0.05, 2, 3))).toBeCloseTo(0.05, 10);
  });

  it('finds quantiles with closed forms: uniform and Beta(a, 1)', () => {
    expect(betaQuantile(0.3, 1, 1)).toBeCloseTo(0.3, 10);
    expect(betaQuantile(0.25, 3, 1)).toBeCloseTo(0.25 ** (1 / 3), 10);
  });

  it('stays accurate for large posteriors', () => {
    const q = betaQuantile(0.05, 3000, 2000);
    expect(betaCdf(q, 3000, 2000)).toBeCloseTo(0.05, 8);
    expect(q).toBeGreaterThan(0.58);
    expect(q).toBeLessThan(0.6);
  });
});

describe('summarizeStarRatings', () => {
  it('computes the Dirichlet posterior mean and bounds for [5, 5, 4]', () => {
    // Posterior counts 1,1,1,2,3 (total 8): mean 29/8, E[s²] 121/8, sd of mean sqrt((121/8 - (29/8)²) / 9).
    const sd = Math.sqrt((121 / 8 - (29 / 8) ** 2) / 9);
    const estimate = summarizeStarRatings([5, 5, 4]);
    expect(estimate.mean).toBeCloseTo(3.625, 12);
    expect(estimate.lower).toBeCloseTo(3.625 - 1.6448536 * sd, 6);
    expect(estimate.upper).toBeCloseTo(3.625 + 1.6448536 * sd, 6);
    expect(estimate.n).toBe(3);
  });

  it('starts at the prior mean of 3 with no ratings', () => {
    expect(summarizeStarRatings([]).mean).toBe(3);
  });

  it('ranks many good ratings above a few perfect ones by lower bound', () => {
    const few = summarizeStarRatings([5, 5]);
    const many = summarizeStarRatings(Array.from({ length: 40 }, (_, i) => (i % 4 === 0 ? 4 : 5)));
    expect(many.lower).toBeGreaterThan(few.lower);
  });

  it("matches Evan Miller's published lower bound: 60 five-, 80 four-, 75 three-, 20 two-, 25 one-star ratings give 3.3687", () => {
    // The worked example quoted with Miller's formula (stackoverflow.com/q/1411199), z = 1.65, i.e. the level
    // 2·Φ(1.65) - 1 = 0.9010570 (Φ(1.65) = 0.95052853). It prints 3.36870; its own code evaluates to 3.36843.
    // By hand, counts + 1 = [26, 21, 76, 81, 61] (265): mean 925/265, E[s²] 3615/265, sd² = (E[s²] - mean²) / 266.
    const mean = 925 / 265;
    const sd = Math.sqrt((3615 / 265 - mean ** 2) / 266);
    const estimate = summarizeStarCounts([25, 20, 75, 80, 60], { level: 0.901057 });
    expect(estimate.mean).toBeCloseTo(mean, 12);
    expect(estimate.lower).toBeCloseTo(mean - 1.65 * sd, 5);
    expect(estimate.lower).toBeCloseTo(3.3684307, 6);
    expect(estimate.lower).toBeCloseTo(3.3687, 3);
    expect(estimate.upper).toBeCloseTo(mean + 1.65 * sd, 5);
    expect(estimate.n).toBe(260);
  });

  it('puts a 4 and a 5 (plain average 4.5) at the posterior mean 24/7, inside its interval 2.615-4.243', () => {
    // Counts + 1 = [1, 1, 1, 2, 2] (7): mean 24/7, E[s²] 96/7, sd² = (96/7 - (24/7)²) / 8.
    const mean = 24 / 7;
    const sd = Math.sqrt((96 / 7 - mean ** 2) / 8);
    const estimate = summarizeStarRatings([4, 5]);
    expect(estimate.mean).toBeCloseTo(mean, 12);
    expect(estimate.lower).toBeCloseTo(mean - 1.6448536 * sd, 6);
    expect(estimate.upper).toBeCloseTo(mean + 1.6448536 * sd, 6);
    expect(estimate.lower).toBeCloseTo(2.615, 3);
    expect(estimate.upper).toBeCloseTo(4.243, 3);
  });

  it('contains its estimate and stays within 1-5 for 5,000 random rating vectors and levels', () => {
    const random = createRng(20261129);
    for (let trial = 0; trial < 5000; trial++) {
      // Mostly small samples (where the prior matters most), some large and lopsided ones.
      const size = trial % 10 === 0 ? Math.floor(random() * 5000) : Math.floor(random() * 12);
      const favourite = Math.floor(random() * 5);
      const counts = [0, 0, 0, 0, 0];
      for (let i = 0; i < size; i++) {
        const star = random() < 0.6 ? favourite : Math.floor(random() * 5);
        counts[star] = (counts[star] ?? 0) + 1;
      }
      const level = 0.5 + random() * 0.499;
      const estimate = summarizeStarCounts(counts, { level });
      expect(estimate.lower, `counts ${counts} level ${level}`).toBeLessThanOrEqual(estimate.mean);
      expect(estimate.mean, `counts ${counts} level ${level}`).toBeLessThanOrEqual(estimate.upper);
      expect(estimate.lower).toBeGreaterThanOrEqual(1);
      expect(estimate.upper).toBeLessThanOrEqual(5);
    }
  });

  it('rejects a rating outside 1-5', () => {
    expect(() => summarizeStarRatings([6])).toThrow(/rating/);
    expect(() => summarizeStarRatings([2.5])).toThrow(/rating/);
  });
});

describe('summarizeScores', () => {
  it('contains its posterior mean for 5,000 random score sets and levels', () => {
    const random = createRng(1129);
    for (let trial = 0; trial < 5000; trial++) {
      const size = trial % 10 === 0 ? Math.floor(random() * 3000) : Math.floor(random() * 8);
      const centre = random();
      const scores = Array.from({ length: size }, () =>
        random() < 0.3 ? Math.round(random()) : Math.min(1, Math.max(0, centre + (random() - 0.5) * 0.3)),
      );
      const level = 0.3 + random() * 0.699;
      const estimate = summarizeScores(scores, { level });
      expect(estimate.lower, `scores ${scores} level ${level}`).toBeLessThanOrEqual(estimate.mean);
      expect(estimate.mean, `scores ${scores} level ${level}`).toBeLessThanOrEqual(estimate.upper);
    }
    // One perfect score: Beta(2, 1) has mean 2/3 inside [√0.05, √0.95], while the plain average 1 is not.
    const one = summarizeBetaPosterior(2, 1, 1, 0.9);
    expect(one.mean).toBeCloseTo(2 / 3, 12);
    expect(one.upper).toBeCloseTo(Math.sqrt(0.95), 6);
  });

  it('treats scores as fractional successes on a uniform prior', () => {
    const estimate = summarizeScores([1, 0, 0]);
    expect(estimate.alpha).toBe(2);
    expect(estimate.beta).toBe(3);
    expect(estimate.mean).toBeCloseTo(0.4, 12);
    expect(estimate.lower).toBeCloseTo(0.0976115, 6);
    expect(estimate.upper).toBeCloseTo(0.7513954, 6);
  });

  it('adds fractional scores to both parameters', () => {
    const estimate = summarizeScores([0.5, 0.75], { priorAlpha: 1, priorBeta: 1 });
    expect(estimate.alpha).toBeCloseTo(2.25, 12);
    expect(estimate.beta).toBeCloseTo(1.75, 12);
    expect(estimate.mean).toBeCloseTo(0.5625, 12);
  });

  it('narrows the interval as scores accumulate', () => {
    const small = summarizeScores([0.8, 0.6]);
    const large = summarizeScores(Array.from({ length: 50 }, (_, i) => (i % 2 ? 0.8 : 0.6)));
    expect(large.upper - large.lower).toBeLessThan(small.upper - small.lower);
  });

  it('rejects a score outside 0-1', () => {
    expect(() => summarizeScores([1.2])).toThrow(/score/);
  });
});

describe('rankWithConfidence', () => {
  const entry = (agentId: string, lower: number, upper: number, n = 20) => ({ agentId, lower, upper, n });

  it('shares a rank between agents whose intervals overlap', () => {
    const ranked = rankWithConfidence([entry('b', 0.5, 0.7), entry('a', 0.6, 0.8), entry('c', 0.2, 0.4)], {
      minSample: 5,
    });
    expect(ranked.map((row) => [row.agentId, row.rank])).toEqual([
      ['a', 1],
      ['b', 1],
      ['c', 3],
    ]);
  });

  it('counts only the agents clearly above', () => {
    // d (0.3-0.55) is clearly below a (lower 0.6) but overlaps b (lower 0.5): rank 2.
    const ranked = rankWithConfidence([entry('a', 0.6, 0.8), entry('b', 0.5, 0.7), entry('d', 0.3, 0.55)], {
      minSample: 5,
    });
    expect(ranked.find((row) => row.agentId === 'd')?.rank).toBe(2);
  });

  it('lists agents below the minimum sample as provisional, unranked and last', () => {
    const ranked = rankWithConfidence(
      [entry('new', 0.7, 0.99, 2), entry('a', 0.6, 0.8), entry('b', 0.1, 0.3)],
      {
        minSample: 5,
      },
    );
    expect(ranked.map((row) => row.agentId)).toEqual(['a', 'b', 'new']);
    expect(ranked[2]).toMatchObject({ rank: null, provisional: true });
    // The provisional agent's high bounds do not push confident agents down.
    expect(ranked[1]).toMatchObject({ rank: 2, provisional: false });
  });

  it('keeps extra fields of the entries', () => {
    const [row] = rankWithConfidence([{ ...entry('a', 0.1, 0.2), nickname: 'bob' }], { minSample: 1 });
    expect(row?.nickname).toBe('bob');
  });
});

describe('blendTaskReward', () => {
  it('is 0 for a failed task whatever the feedback', () => {
    expect(blendTaskReward({ userRating: 5, judgeScore: 1, failed: true })).toBe(0);
  });

  it('is null when no component is known', () => {
    expect(blendTaskReward({ failed: false })).toBeNull();
    expect(blendTaskReward({ userRating: null, judgeScore: null, failed: false })).toBeNull();
  });

  it('maps a rating alone to (r - 1) / 4', () => {
    expect(blendTaskReward({ userRating: 4, failed: false })).toBeCloseTo(0.75, 12);
  });

  it('weights the rating most', () => {
    expect(RATING_WEIGHT).toBeGreaterThan(JUDGE_WEIGHT);
    expect(RATING_WEIGHT).toBeGreaterThan(PEER_WEIGHT);
    // (0.5·1 + 0.3·0 + 0.2·0.5) / 1 = 0.6
    expect(blendTaskReward({ userRating: 5, judgeScore: 0, peerScore: 0.5, failed: false })).toBeCloseTo(
      0.6,
      12,
    );
  });

  it('renormalises the weights of the components present', () => {
    // (0.3·0.9 + 0.2·0.4) / 0.5 = 0.7
    expect(blendTaskReward({ judgeScore: 0.9, peerScore: 0.4, failed: false })).toBeCloseTo(0.7, 12);
  });

  it('rejects out-of-range inputs', () => {
    expect(() => blendTaskReward({ userRating: 0, failed: false })).toThrow(/rating/);
    expect(() => blendTaskReward({ judgeScore: -0.1, failed: false })).toThrow(/judgeScore/);
  });
});
