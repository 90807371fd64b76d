/**
 * Calibration of the automatic evaluators: how far an evaluator's 0-1 scores agree with users' 1-5
 * ratings of the same tasks, as a rank correlation (Spearman) and a chance-corrected agreement
 * (quadratic weighted kappa), each with an interval; and the reliability factor that discounts the
 * judge's dimensions in the overall score when it disagrees with users.
 * Glossary: rating = a user's 1-5 stars; score = a 0-1 quality figure; task = one command of one agent.
 */

import type { ScoreSource } from '../db/database.js';
import { createRng, hashSeed } from '../lib/random.js';
import { JUDGED_DIMENSIONS, type JudgedDimension, roundTo } from './scores.js';

/** Below this many tasks scored by both an evaluator and the user, agreement figures are unknown (null). */
export const MIN_CALIBRATION_TASKS = 10;
/** Bootstrap resamples of the kappa interval. */
export const KAPPA_BOOTSTRAP_ROUNDS = 1000;
/** Fixed seed of the kappa bootstrap: the same pairs always give the same interval. */
export const KAPPA_BOOTSTRAP_SEED = hashSeed('merit-calibration-qwk');
/** Normal quantile of a two-sided 95% interval. */
const Z_95 = 1.959963984540054;
const RATING_CATEGORIES = 5;
const TOO_FEW_TASKS = 'too few tasks';

export interface Estimate {
  value: number;
  lower: number;
  upper: number;
}

/** One task scored by an evaluator (0-1) and rated by its user (1-5 stars). */
export interface CalibrationPair {
  score: number;
  rating: number;
}

export interface Calibration {
  /** Tasks scored by both the evaluator and the user. */
  n: number;
  spearman: Estimate | null;
  qwk: Estimate | null;
  /** Why a figure is null ("too few tasks", no variation), else null. */
  reason: string | null;
}

/**
 * Ranks from 1, ties sharing the average of the ranks they span (as scipy.stats.rankdata's 'average').
 */
export function rankWithTies(values: readonly number[]): number[] {
  const order = values.map((value, index) => ({ value, index })).sort((a, b) => a.value - b.value);
  const ranks = new Array<number>(values.length);
  let start = 0;
  while (start < order.length) {
    let end = start;
    while (end + 1 < order.length && order[end + 1]?.value === order[start]?.value) end += 1;
    // Positions start..end (0-based) hold ranks start+1..end+1, whose mean is (start + end) / 2 + 1.
    const rank = (start + end) / 2 + 1;
    for (let i = start; i <= end; i++) ranks[order[i]?.index ?? 0] = rank;
    start = end + 1;
  }
  return ranks;
}

/**
 * Spearman's rank correlation: Pearson's correlation of the average ranks (equal to
 * scipy.stats.spearmanr). Null with fewer than 3 pairs or when either side does not vary.
 */
export function spearmanCorrelation(xs: readonly number[], ys: readonly number[]): number | null {
  assertSameLength(xs, ys);
  if (xs.length < 3) return null;
  return pearsonCorrelation(rankWithTies(xs), rankWithTies(ys));
}

/**
 * The interval of a Spearman correlation r from n pairs: Fisher's z = atanh(r), with the standard error
 * of Bonett and Wright (2000), sqrt((1 + r^2 / 2) / (n - 3)), back-transformed with tanh. It always
 * contains r (tanh is increasing); r = 1 or -1 gives a zero-width interval at r.
 */
export function spearmanInterval(r: number, n: number, z = Z_95): { lower: number; upper: number } {
  if (!(r >= -1 && r <= 1)) throw new RangeError('r must be between -1 and 1');
  if (!(n > 3)) throw new RangeError('n must be greater than 3');
  const center = Math.atanh(r);
  const standardError = Math.sqrt((1 + (r * r) / 2) / (n - 3));
  return { lower: Math.tanh(center - z * standardError), upper: Math.tanh(center + z * standardError) };
}

/**
 * Cohen's kappa with quadratic weights between two ratings of the same items on the integer scale
 * 1..categories (as sklearn.metrics.cohen_kappa_score(a, b, labels=[1..k], weights='quadratic')):
 * 1 - sum(w x observed) / sum(w x expected), w = (i - j)^2 / (k - 1)^2, expected from the marginals.
 * Null when chance alone predicts perfect agreement (both sides one and the same category).
 */
export function quadraticWeightedKappa(
  a: readonly number[],
  b: readonly number[],
  categories = RATING_CATEGORIES,
): number | null {
  assertSameLength(a, b);
  for (const value of [...a, ...b]) {
    if (!Number.isInteger(value) || value < 1 || value > categories) {
      throw new RangeError(`ratings must be integers from 1 to ${categories}`);
    }
  }
  const counts = new Float64Array(categories * categories);
  for (let i = 0; i < a.length; i++) {
    const cell = ((a[i] ?? 1) - 1) * categories + (b[i] ?? 1) - 1;
    counts[cell] = (counts[cell] ?? 0) + 1;
  }
  return kappaOfCounts(counts, categories);
}

/**
 * Percentile bootstrap interval of the quadratic weighted kappa: tasks are resampled with replacement
 * `rounds` times from a seeded generator (same input, same interval). Resamples where kappa is undefined
 * are skipped; the interval is widened to contain the full-sample estimate if resampling skewed it away.
 */
export function bootstrapKappaInterval(
  a: readonly number[],
  b: readonly number[],
  options: { rounds?: number; seed?: number; categories?: number; confidence?: number } = {},
): { lower: number; upper: number } | null {
  const rounds = options.rounds ?? KAPPA_BOOTSTRAP_ROUNDS;
  const categories = options.categories ?? RATING_CATEGORIES;
  const confidence = options.confidence ?? 0.95;
  const estimate = quadraticWeightedKappa(a, b, categories);
  if (estimate === null) return null;
  const random = createRng(options.seed ?? KAPPA_BOOTSTRAP_SEED);
  const n = a.length;
  // Each task as its cell of the categories x categories table: a resample only counts cells.
  const cells = new Uint16Array(n);
  for (let i = 0; i < n; i++) cells[i] = ((a[i] ?? 1) - 1) * categories + (b[i] ?? 1) - 1;
  const counts = new Float64Array(categories * categories);
  const kappas: number[] = [];
  for (let round = 0; round < rounds; round++) {
    counts.fill(0);
    for (let i = 0; i < n; i++) {
      const cell = cells[Math.floor(random() * n)] ?? 0;
      counts[cell] = (counts[cell] ?? 0) + 1;
    }
    const kappa = kappaOfCounts(counts, categories);
    if (kappa !== null) kappas.push(kappa);
  }
  if (kappas.length === 0) return { lower: estimate, upper: estimate };
  kappas.sort((x, y) => x - y);
  const tail = (1 - confidence) / 2;
  return {
    lower: Math.min(estimate, quantileOfSorted(kappas, tail)),
    upper: Math.max(estimate, quantileOfSorted(kappas, 1 - tail)),
  };
}

/**
 * A 0-1 score as 1-5 stars: the inverse of ratingToScore ((rating - 1) / 4, the mapping reviewer
 * agreement uses), rounded to the nearest star, halves up (0.125 -> 2, 0.5 -> 3).
 */
export function scoreToRating(score: number): number {
  if (!(score >= 0 && score <= 1)) throw new RangeError('score must be between 0 and 1');
  return Math.min(RATING_CATEGORIES, Math.max(1, Math.floor(roundTo(1 + 4 * score, 6) + 0.5)));
}

/**
 * An evaluator's agreement with users' ratings over the tasks both scored: Spearman's correlation of
 * the 0-1 scores with the ratings (ties by average ranks, interval by Fisher z with Bonett-Wright's
 * standard error) and the quadratic weighted kappa of the scores as stars (scoreToRating) against the
 * ratings (seeded bootstrap interval). Below MIN_CALIBRATION_TASKS both are null, "too few tasks";
 * figures are rounded to 4 decimals.
 */
export function measureCalibration(
  pairs: readonly CalibrationPair[],
  options: { rounds?: number; seed?: number } = {},
): Calibration {
  const rank = measureRankAgreement(pairs);
  if (rank.n < MIN_CALIBRATION_TASKS) return { ...rank, qwk: null };
  const stars = pairs.map((pair) => scoreToRating(pair.score));
  const ratings = pairs.map((pair) => pair.rating);
  const kappa = quadraticWeightedKappa(stars, ratings);
  const kappaInterval = bootstrapKappaInterval(stars, ratings, options);
  if (kappa === null || kappaInterval === null) {
    const reason = 'no variation: the evaluator and the users gave every task the same stars';
    return { ...rank, qwk: null, reason: rank.reason ?? reason };
  }
  return { ...rank, qwk: roundEstimate({ value: kappa, ...kappaInterval }) };
}

/**
 * The Spearman half of measureCalibration (no bootstrap: cheap enough for every judged score). Its
 * reason covers Spearman only.
 */
export function measureRankAgreement(pairs: readonly CalibrationPair[]): Omit<Calibration, 'qwk'> {
  for (const pair of pairs) assertPair(pair);
  const n = pairs.length;
  if (n < MIN_CALIBRATION_TASKS) return { n, spearman: null, reason: TOO_FEW_TASKS };
  const scores = pairs.map((pair) => pair.score);
  const ratings = pairs.map((pair) => pair.rating);
  const r = spearmanCorrelation(scores, ratings);
  if (r === null) return { n, spearman: null, reason: describeNoVariation(scores, ratings) };
  return { n, spearman: roundEstimate({ value: r, ...spearmanInterval(r, n) }), reason: null };
}

/** One task's judge or offline evaluation beside its user's rating. */
export interface EvaluationRatingRow {
  accuracy: number | null;
  relevance: number | null;
  completeness: number | null;
  rating: number;
}

/** An evaluator's mean score of a task: the mean of the dimensions it scored; null if none. */
export function meanOfDimensions(row: Omit<EvaluationRatingRow, 'rating'>): number | null {
  const values = [row.accuracy, row.relevance, row.completeness].filter(
    (value): value is number => value !== null,
  );
  return values.length === 0 ? null : values.reduce((sum, value) => sum + value, 0) / values.length;
}

export type EvaluatorName =
  | 'judge'
  | 'judge.accuracy'
  | 'judge.relevance'
  | 'judge.completeness'
  | 'offline'
  | `reviewer:${string}`;

export interface EvaluatorCalibration extends Calibration {
  evaluator: EvaluatorName;
  /** How much the evaluator's scores count in overall scores now, in [0, 1] (1: not discounted). */
  weight: number;
}

/**
 * Every automatic evaluator's calibration: the judge's mean and each of its dimensions (all weighted by
 * the judge's reliability factor), the offline evaluator (its mean; not discounted) and each reviewer
 * (weighted by measureReviewerAgreement, as its reviews are). Reviewers in `reviewerIds` without rated
 * tasks are listed with n = 0.
 */
export function describeEvaluatorCalibrations(input: {
  judge: readonly EvaluationRatingRow[];
  offline: readonly EvaluationRatingRow[];
  reviews: readonly { reviewerAgentId: string; score: number; rating: number }[];
  reviewerIds: readonly string[];
  reviewerWeight: (pairs: readonly CalibrationPair[]) => number;
  options?: { rounds?: number; seed?: number };
}): EvaluatorCalibration[] {
  const measure = (pairs: readonly CalibrationPair[]) => measureCalibration(pairs, input.options);
  const judgeMean = measure(toMeanPairs(input.judge));
  const judgeWeight = judgeReliabilityFactor(judgeMean);
  const result: EvaluatorCalibration[] = [{ evaluator: 'judge', ...judgeMean, weight: judgeWeight }];
  for (const dimension of ['accuracy', 'relevance', 'completeness'] as const) {
    const pairs = input.judge.flatMap((row) => {
      const score = row[dimension];
      return score === null ? [] : [{ score, rating: row.rating }];
    });
    result.push({ evaluator: `judge.${dimension}`, ...measure(pairs), weight: judgeWeight });
  }
  result.push({ evaluator: 'offline', ...measure(toMeanPairs(input.offline)), weight: 1 });
  const reviewerIds = [
    ...new Set([...input.reviewerIds, ...input.reviews.map((review) => review.reviewerAgentId)]),
  ].sort();
  for (const reviewerId of reviewerIds) {
    const pairs = input.reviews
      .filter((review) => review.reviewerAgentId === reviewerId)
      .map((review) => ({ score: review.score, rating: review.rating }));
    result.push({
      evaluator: `reviewer:${reviewerId}`,
      ...measure(pairs),
      weight: input.reviewerWeight(pairs),
    });
  }
  return result;
}

/** Each row's mean score (meanOfDimensions) beside its rating; rows without a score are left out. */
export function toMeanPairs(rows: readonly EvaluationRatingRow[]): CalibrationPair[] {
  return rows.flatMap((row) => {
    const score = meanOfDimensions(row);
    return score === null ? [] : [{ score, rating: row.rating }];
  });
}

/** Correlations at or above this lower bound give the judge its full weight. */
export const JUDGE_FULL_WEIGHT_SPEARMAN = 0.5;
/** Pseudo-tasks of full reliability the factor is shrunk towards (as reviewers' weights are). */
export const JUDGE_RELIABILITY_PRIOR_TASKS = 10;

/**
 * How much the judge's dimensions count, in (0, 1], from the calibration of its mean score:
 *   agreement = clamp(lower 95% bound of Spearman / 0.5, 0, 1)
 *   factor    = (n x agreement + 10) / (n + 10), rounded to 3 decimals
 * and 1 while the correlation is unknown (fewer than MIN_CALIBRATION_TASKS tasks, or no variation).
 * The lower bound, not the estimate, so a judge earns its weight with evidence; a lower bound of 0.5
 * is enough for full weight because users' ratings are themselves noisy; the shrinkage towards 1 (ten
 * pseudo-tasks, like the reviewers' AGREEMENT_PRIOR_STRENGTH) keeps the factor from jumping from 1 to
 * a wide interval's lower bound at the tenth task.
 */
export function judgeReliabilityFactor(calibration: Pick<Calibration, 'n' | 'spearman'>): number {
  if (calibration.spearman === null) return 1;
  const agreement = clamp(calibration.spearman.lower / JUDGE_FULL_WEIGHT_SPEARMAN, 0, 1);
  const n = calibration.n;
  return roundTo((n * agreement + JUDGE_RELIABILITY_PRIOR_TASKS) / (n + JUDGE_RELIABILITY_PRIOR_TASKS), 3);
}

/** Kappa from the table of counts, counts[(i - 1) x categories + (j - 1)] = items rated i and j. */
function kappaOfCounts(counts: Float64Array, categories: number): number | null {
  const histA = new Float64Array(categories);
  const histB = new Float64Array(categories);
  let n = 0;
  let observed = 0;
  for (let i = 0; i < categories; i++) {
    for (let j = 0; j < categories; j++) {
      const count = counts[i * categories + j] ?? 0;
      histA[i] = (histA[i] ?? 0) + count;
      histB[j] = (histB[j] ?? 0) + count;
      observed += (i - j) * (i - j) * count;
      n += count;
    }
  }
  if (n === 0) return null;
  let expected = 0;
  for (let i = 0; i < categories; i++) {
    for (let j = 0; j < categories; j++) expected += (i - j) * (i - j) * (histA[i] ?? 0) * (histB[j] ?? 0);
  }
  // observed / n against expected / n^2 (the common (k - 1)^2 divisor of the weights cancels).
  if (expected === 0) return null;
  return 1 - (observed * n) / expected;
}

function quantileOfSorted(sorted: readonly number[], p: number): number {
  // Linear interpolation between closest ranks (numpy's default).
  const position = (sorted.length - 1) * p;
  const below = Math.floor(position);
  const above = Math.ceil(position);
  const low = sorted[below] ?? 0;
  const high = sorted[above] ?? low;
  return low + (high - low) * (position - below);
}

const VARIANCE_EPSILON = 1e-12;

function pearsonCorrelation(xs: readonly number[], ys: readonly number[]): number | null {
  const meanX = xs.reduce((sum, x) => sum + x, 0) / xs.length;
  const meanY = ys.reduce((sum, y) => sum + y, 0) / ys.length;
  let covariance = 0;
  let varianceX = 0;
  let varianceY = 0;
  for (let i = 0; i < xs.length; i++) {
    const dx = (xs[i] ?? meanX) - meanX;
    const dy = (ys[i] ?? meanY) - meanY;
    covariance += dx * dy;
    varianceX += dx * dx;
    varianceY += dy * dy;
  }
  if (varianceX < VARIANCE_EPSILON || varianceY < VARIANCE_EPSILON) return null;
  // Rounding can push |r| a hair past 1 for perfectly monotone data.
  return clamp(covariance / Math.sqrt(varianceX * varianceY), -1, 1);
}

function describeNoVariation(scores: readonly number[], ratings: readonly number[]): string {
  const constantScores = scores.every((score) => score === scores[0]);
  const constantRatings = ratings.every((rating) => rating === ratings[0]);
  if (constantScores && constantRatings) return 'no variation: one score and one rating for every task';
  if (constantScores) return 'no variation: the evaluator gave every task the same score';
  return 'no variation: the users gave every task the same rating';
}

function roundEstimate(estimate: Estimate): Estimate {
  return {
    value: roundTo(estimate.value, 4),
    lower: roundTo(estimate.lower, 4),
    upper: roundTo(estimate.upper, 4),
  };
}

function assertSameLength(a: readonly unknown[], b: readonly unknown[]): void {
  if (a.length !== b.length) throw new RangeError('both sides must have one value per task');
}

function assertPair(pair: CalibrationPair): void {
  if (!(pair.score >= 0 && pair.score <= 1)) throw new RangeError('score must be between 0 and 1');
  if (!Number.isInteger(pair.rating) || pair.rating < 1 || pair.rating > 5) {
    throw new RangeError('rating must be an integer from 1 to 5');
  }
}

function clamp(value: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, value));
}

export const JUDGE_RELIABILITY_VERSION = 'judge-reliability-1';

/** The judge reliability factor a score used, stored in its score_sources as `judge_reliability`. */
export interface JudgeReliabilitySource extends ScoreSource {
  source: 'formula';
  factor: number;
  /** Tasks the judge and users both scored when the factor was computed. */
  n: number;
  /** The lower 95% bound of the judge's Spearman correlation; null while unknown (factor 1). */
  spearman_lower: number | null;
}

export function describeJudgeReliability(
  calibration: Pick<Calibration, 'n' | 'spearman'>,
): JudgeReliabilitySource {
  return {
    source: 'formula',
    version: JUDGE_RELIABILITY_VERSION,
    factor: judgeReliabilityFactor(calibration),
    n: calibration.n,
    spearman_lower: calibration.spearman?.lower ?? null,
  };
}

/**
 * The dimensions of a score row that hold the LLM judge's figures after a change: a value present and
 * its source 'judge' (a dimension the change leaves out keeps its earlier value and source).
 */
export function findJudgedDimensions(
  before: {
    accuracy_score: number | null;
    relevance_score: number | null;
    completeness_score: number | null;
    score_sources: Readonly<Record<string, ScoreSource>>;
  },
  change: Partial<Record<JudgedDimension, number | null>> & {
    sources: Readonly<Record<string, ScoreSource>>;
  },
): JudgedDimension[] {
  return JUDGED_DIMENSIONS.filter((dimension) => {
    const value = change[dimension] === undefined ? before[`${dimension}_score`] : change[dimension];
    const source = change.sources[dimension] ?? before.score_sources[dimension];
    return value !== null && value !== undefined && source?.source === 'judge';
  });
}
