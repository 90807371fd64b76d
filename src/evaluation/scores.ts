/**
 * The overall score of a task: one 0-1 figure from the components that are known.
 * Glossary: rating = a user's 1-5 stars; score = a 0-1 quality figure.
 */
import { ValidationError } from '../errors.js';

export type OverallScoreParts = {
  accuracy?: number | null;
  relevance?: number | null;
  completeness?: number | null;
  efficiency?: number | null;
  /** The user's 1-5 rating. */
  userRating?: number | null;
  /** The (reliability-weighted) peer review score. */
  peer?: number | null;
};

export type OverallWeights = {
  userRating: number;
  accuracy: number;
  relevance: number;
  completeness: number;
  peer: number;
  efficiency: number;
  /**
   * Multipliers in [0, 1] of dimensions' weights for how far their evaluator agrees with users' ratings
   * (the judge's reliability factor, src/evaluation/calibration.ts); 1 where absent. Not configurable:
   * set per score from the evaluator's calibration.
   */
  reliability?: Partial<Record<JudgedDimension, number>>;
};

/** The dimensions an evaluator (the LLM judge or the offline evaluator) scores. */
export type JudgedDimension = 'accuracy' | 'relevance' | 'completeness';
export const JUDGED_DIMENSIONS: readonly JudgedDimension[] = ['accuracy', 'relevance', 'completeness'];

/**
 * Why these weights: the user who asked is the only judge of whether the task helped, so the rating
 * counts most (0.4). The three quality dimensions share 0.45 equally: evaluators are useful but fallible.
 * Peer reviews (0.1) are a second opinion from other agents, discounted by their agreement with users.
 * Efficiency (0.05) only breaks ties: a cheap wrong answer must never outrank a good one.
 * Missing components are left out and the rest re-normalised, so an unrated task is not punished; but
 * efficiency alone is no verdict on quality, so a task without any quality signal has no overall score.
 */
export const DEFAULT_OVERALL_WEIGHTS: Readonly<OverallWeights> = Object.freeze({
  userRating: 0.4,
  accuracy: 0.15,
  relevance: 0.15,
  completeness: 0.15,
  peer: 0.1,
  efficiency: 0.05,
});

const WEIGHT_KEYS = ['userRating', 'accuracy', 'relevance', 'completeness', 'peer', 'efficiency'] as const;

/** The components that say how good the output was (a rating, a judge's dimension, a peer review). */
const QUALITY_KEYS = ['userRating', 'accuracy', 'relevance', 'completeness', 'peer'] as const;

// Config strings say "rating"; the code says userRating. Both (and snake_case) are accepted.
const CONFIG_KEY_ALIASES: Record<string, keyof OverallWeights> = {
  rating: 'userRating',
  user_rating: 'userRating',
  userrating: 'userRating',
  accuracy: 'accuracy',
  relevance: 'relevance',
  completeness: 'completeness',
  peer: 'peer',
  efficiency: 'efficiency',
};

/**
 * Weighted mean of the present components in [0, 1], rounded to 2 decimals. Null (not evaluated yet)
 * unless a quality signal with a positive weight is present: a user rating, a judge's dimension or a
 * peer score. Efficiency alone never makes an overall score.
 *
 * A dimension's weight is multiplied by its reliability factor (weights.reliability, 1 when absent), and
 * efficiency's weight by the same share the quality weights kept (effective / nominal), so the factors
 * move weight between quality signals (the judge against the rating and the peers) while efficiency keeps
 * its configured share: a distrusted judge never hands the score to efficiency.
 */
export function combineOverallScore(
  parts: OverallScoreParts,
  weights: OverallWeights = DEFAULT_OVERALL_WEIGHTS,
): number | null {
  let weightedSum = 0;
  let qualityWeight = 0;
  let nominalQualityWeight = 0;
  let efficiency: number | null = null;
  for (const key of WEIGHT_KEYS) {
    const value = normaliseComponent(key, parts[key]);
    if (value === null || weights[key] === 0) continue;
    if (key === 'efficiency') {
      efficiency = value;
      continue;
    }
    const effective = weights[key] * readReliability(weights, key);
    weightedSum += value * effective;
    qualityWeight += effective;
    nominalQualityWeight += weights[key];
  }
  if (qualityWeight === 0) return null;
  let totalWeight = qualityWeight;
  if (efficiency !== null) {
    const efficiencyWeight = (weights.efficiency * qualityWeight) / nominalQualityWeight;
    weightedSum += efficiency * efficiencyWeight;
    totalWeight += efficiencyWeight;
  }
  return roundTo(weightedSum / totalWeight, 2);
}

function readReliability(weights: OverallWeights, key: (typeof QUALITY_KEYS)[number]): number {
  if (key !== 'accuracy' && key !== 'relevance' && key !== 'completeness') return 1;
  const factor = weights.reliability?.[key];
  if (factor === undefined) return 1;
  if (!(factor >= 0 && factor <= 1)) throw new ValidationError('reliability', 'must be between 0 and 1');
  return factor;
}

/** The weights with the given dimensions' weights multiplied by `factor` (their evaluator's reliability). */
export function withReliability(
  weights: OverallWeights,
  dimensions: readonly JudgedDimension[],
  factor: number,
): OverallWeights {
  const reliability = { ...weights.reliability };
  for (const dimension of dimensions) reliability[dimension] = factor;
  return { ...weights, reliability };
}

/** Maps a 1-5 rating onto the 0-1 score scale: 1 -> 0, 3 -> 0.5, 5 -> 1. */
export function ratingToScore(rating: number): number {
  return (rating - 1) / 4;
}

/**
 * Parses "rating=0.4,accuracy=0.15,..." into weights. Keys left out keep their default weight; write
 * "peer=0" to switch a component off. Weights need not sum to 1 (the mean is re-normalised).
 */
export function parseOverallWeights(text: string): OverallWeights {
  const weights: OverallWeights = { ...DEFAULT_OVERALL_WEIGHTS };
  const entries = text
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry.length > 0);
  for (const entry of entries) {
    const [rawKey, rawValue, ...rest] = entry.split('=').map((part) => part.trim());
    const key = CONFIG_KEY_ALIASES[(rawKey ?? '').toLowerCase()];
    if (key === undefined || rawValue === undefined || rest.length > 0) {
      throw new ValidationError('overall_weights', `cannot read "${entry}" (expected e.g. rating=0.4)`);
    }
    const value = Number(rawValue);
    if (rawValue === '' || !Number.isFinite(value) || value < 0) {
      throw new ValidationError('overall_weights', `${rawKey} must be a non-negative number`);
    }
    weights[key] = value;
  }
  // Efficiency alone never makes an overall score, so weights without a quality component score nothing.
  if (QUALITY_KEYS.every((key) => weights[key] === 0)) {
    throw new ValidationError(
      'overall_weights',
      'at least one of rating, accuracy, relevance, completeness or peer must have a positive weight',
    );
  }
  return weights;
}

function normaliseComponent(key: keyof OverallWeights, value: number | null | undefined): number | null {
  if (value === null || value === undefined) return null;
  if (key === 'userRating') {
    if (!Number.isFinite(value) || value < 1 || value > 5) {
      throw new ValidationError('userRating', 'must be between 1 and 5');
    }
    return ratingToScore(value);
  }
  if (!Number.isFinite(value) || value < 0 || value > 1)
    throw new ValidationError(key, 'must be between 0 and 1');
  return value;
}

/** Rounds half up at `decimals` places; toPrecision first, so 1.005 (stored as 1.00499...) gives 1.01. */
export function roundTo(value: number, decimals: number): number {
  const factor = 10 ** decimals;
  return Math.round(Number((value * factor).toPrecision(12))) / factor;
}
