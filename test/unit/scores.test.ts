import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../src/errors.js';
import {
  combineOverallScore,
  DEFAULT_OVERALL_WEIGHTS,
  parseOverallWeights,
  ratingToScore,
  roundTo,
  withReliability,
} from '../../src/evaluation/scores.js';

describe('combineOverallScore', () => {
  it('weights the user rating most when every component is present', () => {
    // rating 5 -> 1; 0.4x1 + 0.15x0.8 + 0.15x0.6 + 0.15x0.4 + 0.1x0.5 + 0.05x1 = 0.77 (weights sum to 1)
    const score = combineOverallScore({
      userRating: 5,
      accuracy: 0.8,
      relevance: 0.6,
      completeness: 0.4,
      peer: 0.5,
      efficiency: 1,
    });
    expect(score).toBe(0.77);
  });

  it('re-normalises over the present components only', () => {
    // (0.15x0.9 + 0.15x0.6) / 0.3 = 0.75
    expect(combineOverallScore({ accuracy: 0.9, relevance: 0.6, completeness: null })).toBe(0.75);
  });

  it('maps a 1-5 rating onto 0-1', () => {
    expect(combineOverallScore({ userRating: 1 })).toBe(0);
    expect(combineOverallScore({ userRating: 3 })).toBe(0.5);
    expect(combineOverallScore({ userRating: 4 })).toBe(0.75);
    expect(ratingToScore(2)).toBe(0.25);
  });

  it('lets a poor rating pull down otherwise perfect scores', () => {
    // (0.4x0 + 0.45x1) / 0.85 = 0.5294
    expect(combineOverallScore({ userRating: 1, accuracy: 1, relevance: 1, completeness: 1 })).toBe(0.53);
  });

  it('returns null when no component is present', () => {
    expect(combineOverallScore({})).toBeNull();
    expect(combineOverallScore({ accuracy: null, userRating: null })).toBeNull();
  });

  it('gives no overall score from efficiency alone: without a quality signal the task is not evaluated', () => {
    expect(combineOverallScore({ efficiency: 1 })).toBeNull();
    expect(
      combineOverallScore({
        efficiency: 0.2,
        accuracy: null,
        relevance: null,
        completeness: null,
        peer: null,
        userRating: null,
      }),
    ).toBeNull();
    // A quality signal whose weight is switched off is no signal either.
    expect(
      combineOverallScore({ efficiency: 1, peer: 0.9 }, { ...DEFAULT_OVERALL_WEIGHTS, peer: 0 }),
    ).toBeNull();
  });

  it('counts efficiency beside any one quality signal', () => {
    // (0.4x0.5 + 0.05x1) / 0.45 = 0.5556
    expect(combineOverallScore({ userRating: 3, efficiency: 1 })).toBe(0.56);
    // (0.1x0.5 + 0.05x1) / 0.15 = 0.6667
    expect(combineOverallScore({ peer: 0.5, efficiency: 1 })).toBe(0.67);
    // (0.15x0.6 + 0.05x0) / 0.2 = 0.45
    expect(combineOverallScore({ accuracy: 0.6, efficiency: 0 })).toBe(0.45);
  });

  it('skips components whose weight is zero', () => {
    const weights = { ...DEFAULT_OVERALL_WEIGHTS, peer: 0 };
    expect(combineOverallScore({ peer: 0.2, accuracy: 0.9 }, weights)).toBe(0.9);
    expect(combineOverallScore({ peer: 0.2 }, weights)).toBeNull();
  });

  it('rejects out-of-range inputs', () => {
    expect(() => combineOverallScore({ accuracy: 1.2 })).toThrow(ValidationError);
    expect(() => combineOverallScore({ userRating: 0 })).toThrow(ValidationError);
    expect(() => combineOverallScore({ relevance: Number.NaN })).toThrow(ValidationError);
  });
});

describe('combineOverallScore with a judge reliability factor', () => {
  const judged = ['accuracy', 'relevance', 'completeness'] as const;

  it('counts a distrusted judge less against the user rating', () => {
    const parts = { userRating: 5, accuracy: 0.2, relevance: 0.2, completeness: 0.2 };
    // Full trust: (0.4x1 + 0.45x0.2) / 0.85 = 0.5765
    expect(combineOverallScore(parts)).toBe(0.58);
    // Factor 0.5: (0.4x1 + 0.225x0.2) / 0.625 = 0.712
    expect(combineOverallScore(parts, withReliability(DEFAULT_OVERALL_WEIGHTS, judged, 0.5))).toBe(0.71);
    // Factor 0.1: (0.4x1 + 0.045x0.2) / 0.445 = 0.9191
    expect(combineOverallScore(parts, withReliability(DEFAULT_OVERALL_WEIGHTS, judged, 0.1))).toBe(0.92);
  });

  it('keeps efficiency at its configured share, so a distrusted judge never hands the score to efficiency', () => {
    const parts = { accuracy: 0.2, relevance: 0.2, completeness: 0.2, efficiency: 1 };
    // (0.45x0.2 + 0.05x1) / 0.5 = 0.28 whatever the factor: the judge is the only quality signal.
    expect(combineOverallScore(parts)).toBe(0.28);
    expect(combineOverallScore(parts, withReliability(DEFAULT_OVERALL_WEIGHTS, judged, 0.01))).toBe(0.28);
    // With a rating, efficiency keeps 0.05 of 0.9 nominal: quality part (0.4x0.5 + 0.225x0.2) / 0.625
    // = 0.392, then 0.392 x 0.85/0.9 + 1 x 0.05/0.9 = 0.4258
    expect(
      combineOverallScore({ ...parts, userRating: 3 }, withReliability(DEFAULT_OVERALL_WEIGHTS, judged, 0.5)),
    ).toBe(0.43);
  });

  it('applies a factor only to the dimensions it names and rejects factors outside [0, 1]', () => {
    const weights = withReliability(DEFAULT_OVERALL_WEIGHTS, ['accuracy'], 0);
    // Accuracy drops out: (0.15x0.6 + 0.15x0.4) / 0.3 = 0.5
    expect(combineOverallScore({ accuracy: 1, relevance: 0.6, completeness: 0.4 }, weights)).toBe(0.5);
    expect(combineOverallScore({ accuracy: 1 }, weights)).toBeNull();
    expect(() =>
      combineOverallScore({ accuracy: 1 }, withReliability(DEFAULT_OVERALL_WEIGHTS, judged, 1.5)),
    ).toThrow(ValidationError);
  });
});

describe('parseOverallWeights', () => {
  it('reads a full config string', () => {
    expect(
      parseOverallWeights('rating=0.5, accuracy=0.1,relevance=0.1,completeness=0.1,peer=0.1,efficiency=0.1'),
    ).toEqual({
      userRating: 0.5,
      accuracy: 0.1,
      relevance: 0.1,
      completeness: 0.1,
      peer: 0.1,
      efficiency: 0.1,
    });
  });

  it('keeps defaults for keys left out and returns defaults for empty text', () => {
    expect(parseOverallWeights('peer=0')).toEqual({ ...DEFAULT_OVERALL_WEIGHTS, peer: 0 });
    expect(parseOverallWeights('')).toEqual(DEFAULT_OVERALL_WEIGHTS);
  });

  it('accepts user_rating as an alias of rating', () => {
    expect(parseOverallWeights('user_rating=0.7').userRating).toBe(0.7);
  });

  it('rejects weights that leave only efficiency (it would score nothing)', () => {
    expect(() => parseOverallWeights('rating=0,accuracy=0,relevance=0,completeness=0,peer=0')).toThrow(
      /rating, accuracy, relevance, completeness or peer/,
    );
    expect(parseOverallWeights('rating=0,accuracy=0,relevance=0,completeness=0,peer=0.1').peer).toBe(0.1);
  });

  it('rejects unknown keys, bad numbers and all-zero weights', () => {
    expect(() => parseOverallWeights('speed=0.2')).toThrow(ValidationError);
    expect(() => parseOverallWeights('rating=abc')).toThrow(ValidationError);
    expect(() => parseOverallWeights('rating=')).toThrow(ValidationError);
    expect(() => parseOverallWeights('rating=-0.1')).toThrow(ValidationError);
    expect(() => parseOverallWeights('rating')).toThrow(ValidationError);
    expect(() =>
      parseOverallWeights('rating=0,accuracy=0,relevance=0,completeness=0,peer=0,efficiency=0'),
    ).toThrow(ValidationError);
  });
});

describe('roundTo', () => {
  it('rounds half up despite binary representation', () => {
    expect(roundTo(1.005, 2)).toBe(1.01);
    expect(roundTo(0.125, 2)).toBe(0.13);
    expect(roundTo(0.7749999, 2)).toBe(0.77);
  });
});
