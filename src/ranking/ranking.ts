/**
 * Leaderboard math with confidence: how good an agent is, how sure we are, and which agents are clearly
 * ahead of which. Pure functions of plain data (no database, no HTTP).
 *
 * Terminology: rating = a user's 1-5 stars; score = a 0-1 quality figure; reward = one task's blended 0-1
 * figure (ratings, judge and peer scores combined; a failed task is worth 0).
 */
import { ValidationError } from '../errors.js';

/** A posterior summary: central estimate, a credible interval, and how many observations it rests on. */
export interface Estimate {
  /** The posterior mean: the figure [lower, upper] qualifies (not a plain average, which can lie outside). */
  mean: number;
  lower: number;
  upper: number;
  n: number;
}

/** A Beta posterior over a 0-1 quantity, with the parameters so callers can update or sample it. */
export interface BetaEstimate extends Estimate {
  alpha: number;
  beta: number;
}

export interface IntervalOptions {
  /** Two-sided credible level of [lower, upper]; 0.9 means the 5% and 95% posterior quantiles. */
  level?: number;
}

export interface StarRatingOptions extends IntervalOptions {
  /** Pseudo-count added to every star (Dirichlet prior); 1 is Evan Miller's choice. */
  priorCount?: number;
}

export interface ScoreOptions extends IntervalOptions {
  /** Beta prior pseudo-successes and pseudo-failures; 1 and 1 is the uniform (weak) prior. */
  priorAlpha?: number;
  priorBeta?: number;
}

export const DEFAULT_LEVEL = 0.9;
export const STAR_VALUES = [1, 2, 3, 4, 5] as const;

/** Weights of the reward components; a user's rating counts most because it is the ground truth we serve. */
export const RATING_WEIGHT = 0.5;
export const JUDGE_WEIGHT = 0.3;
export const PEER_WEIGHT = 0.2;

// ---------------------------------------------------------------------------------------------------
// Special functions

const LANCZOS_COEFFICIENTS = [
  57.15623566586292, -59.59796035547549, 14.136097974741746, -0.4919138160976202, 0.00003399464998481189,
  0.00004652362892704858, -0.00009837447530487956, 0.0001580887032249125, -0.00021026444172410488,
  0.00021743961811521265, -0.0001643181065367639, 0.00008441822398385275, -0.000026190838401581408,
  0.0000036899182659531625,
];

/** ln Γ(x) for x > 0 (Lanczos approximation, Numerical Recipes 3rd ed., ~1e-15 relative error). */
export function logGamma(x: number): number {
  let y = x;
  let tmp = x + 5.2421875;
  tmp = (x + 0.5) * Math.log(tmp) - tmp;
  let series = 0.9999999999999971;
  for (const coefficient of LANCZOS_COEFFICIENTS) {
    y += 1;
    series += coefficient / y;
  }
  return tmp + Math.log((2.5066282746310007 * series) / x);
}

const ACKLAM_A = [
  -3.969683028665376e1, 2.209460984245205e2, -2.759285104469687e2, 1.38357751867269e2, -3.066479806614716e1,
  2.506628277459239,
];
const ACKLAM_B = [
  -5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1, -1.328068155288572e1,
];
const ACKLAM_C = [
  -7.784894002430293e-3, -3.223964580411365e-1, -2.400758277161838, -2.549732539343734, 4.374664141464968,
  2.938163982698783,
];
const ACKLAM_D = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416];

/** Evaluates a polynomial with coefficients from the highest power down (Horner). */
function evaluatePolynomial(coefficients: readonly number[], x: number): number {
  return coefficients.reduce((sum, coefficient) => sum * x + coefficient, 0);
}

/** The standard normal quantile Φ⁻¹(p) (Acklam's rational approximation, relative error < 1.2e-9). */
export function normalQuantile(p: number): number {
  if (p <= 0) return Number.NEGATIVE_INFINITY;
  if (p >= 1) return Number.POSITIVE_INFINITY;
  const tail = 0.02425;
  if (p < tail || p > 1 - tail) {
    const q = Math.sqrt(-2 * Math.log(Math.min(p, 1 - p)));
    const x = evaluatePolynomial(ACKLAM_C, q) / (evaluatePolynomial(ACKLAM_D, q) * q + 1);
    return p < tail ? x : -x;
  }
  const q = p - 0.5;
  const r = q * q;
  return (evaluatePolynomial(ACKLAM_A, r) * q) / (evaluatePolynomial(ACKLAM_B, r) * r + 1);
}

/** Continued fraction for the incomplete beta function (modified Lentz, Numerical Recipes `betacf`). */
function evaluateBetaContinuedFraction(a: number, b: number, x: number): number {
  const tiny = 1e-300;
  const clampTiny = (value: number) => (Math.abs(value) < tiny ? tiny : value);
  let c = 1;
  let d = 1 / clampTiny(1 - ((a + b) * x) / (a + 1));
  let h = d;
  // Converges in O(sqrt(max(a, b))) steps; the cap covers posteriors with tens of thousands of observations.
  for (let m = 1; m <= 2000; m++) {
    const m2 = 2 * m;
    const even = (m * (b - m) * x) / ((a - 1 + m2) * (a + m2));
    d = 1 / clampTiny(1 + even * d);
    c = clampTiny(1 + even / c);
    h *= d * c;
    const odd = (-(a + m) * (a + b + m) * x) / ((a + m2) * (a + 1 + m2));
    d = 1 / clampTiny(1 + odd * d);
    c = clampTiny(1 + odd / c);
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) < 1e-15) break;
  }
  return h;
}

/** The Beta(a, b) cumulative distribution, i.e. the regularized incomplete beta function I_x(a, b). */
export function betaCdf(x: number, a: number, b: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const logFront = logGamma(a + b) - logGamma(a) - logGamma(b) + a * Math.log(x) + b * Math.log1p(-x);
  const front = Math.exp(logFront);
  // The continued fraction converges fast only on one side of the mean; use the symmetry I_x(a,b) = 1 - I_{1-x}(b,a).
  if (x < (a + 1) / (a + b + 2)) return (front * evaluateBetaContinuedFraction(a, b, x)) / a;
  return 1 - (front * evaluateBetaContinuedFraction(b, a, 1 - x)) / b;
}

/** A starting point for the Beta quantile search (Numerical Recipes `invbetai`). */
function guessBetaQuantile(p: number, a: number, b: number): number {
  if (a >= 1 && b >= 1) {
    const pp = p < 0.5 ? p : 1 - p;
    const t = Math.sqrt(-2 * Math.log(pp));
    let x = (2.30753 + t * 0.27061) / (1 + t * (0.99229 + t * 0.04481)) - t;
    if (p < 0.5) x = -x;
    const al = (x * x - 3) / 6;
    const h = 2 / (1 / (2 * a - 1) + 1 / (2 * b - 1));
    const w = (x * Math.sqrt(al + h)) / h - (1 / (2 * b - 1) - 1 / (2 * a - 1)) * (al + 5 / 6 - 2 / (3 * h));
    return a / (a + b * Math.exp(2 * w));
  }
  const t = Math.exp(a * Math.log(a / (a + b))) / a;
  const u = Math.exp(b * Math.log(b / (a + b))) / b;
  const w = t + u;
  return p < t / w ? (a * w * p) ** (1 / a) : 1 - (b * w * (1 - p)) ** (1 / b);
}

/** The Beta(a, b) quantile: the x with I_x(a, b) = p (Halley iterations from a close first guess). */
export function betaQuantile(p: number, a: number, b: number): number {
  if (p <= 0) return 0;
  if (p >= 1) return 1;
  const logNormalizer = logGamma(a + b) - logGamma(a) - logGamma(b);
  let x = guessBetaQuantile(p, a, b);
  for (let iteration = 0; iteration < 12; iteration++) {
    if (x <= 0 || x >= 1) return x;
    const error = betaCdf(x, a, b) - p;
    const density = Math.exp((a - 1) * Math.log(x) + (b - 1) * Math.log1p(-x) + logNormalizer);
    const u = error / density;
    const step = u / (1 - 0.5 * Math.min(1, u * ((a - 1) / x - (b - 1) / (1 - x))));
    x -= step;
    // Halley can overshoot the unit interval; step back halfway inside it instead.
    if (x <= 0) x = 0.5 * (x + step);
    if (x >= 1) x = 0.5 * (x + step + 1);
    if (Math.abs(step) < 1e-10 * x && iteration > 0) break;
  }
  return x;
}

// ---------------------------------------------------------------------------------------------------
// Posterior summaries

/** The equal-tailed credible interval of a Beta(alpha, beta) posterior at the given level. */
export function computeBetaInterval(alpha: number, beta: number, level = DEFAULT_LEVEL): [number, number] {
  const tail = (1 - level) / 2;
  return [betaQuantile(tail, alpha, beta), betaQuantile(1 - tail, alpha, beta)];
}

/**
 * Summarises 0-1 scores as a Beta posterior, treating each score as a fractional success
 * (alpha += score, beta += 1 - score) on top of a weak prior.
 */
export function summarizeScores(scores: readonly number[], options: ScoreOptions = {}): BetaEstimate {
  const { priorAlpha = 1, priorBeta = 1, level = DEFAULT_LEVEL } = options;
  for (const score of scores) assertScore('score', score);
  const sum = scores.reduce((total, score) => total + score, 0);
  return summarizeBetaPosterior(priorAlpha + sum, priorBeta + scores.length - sum, scores.length, level);
}

/**
 * Summarises a Beta(alpha, beta) posterior that rests on n observations. With alpha, beta >= 1 (any data
 * on the default prior) the density is log-concave, so its mean lies between the 1/e and 1 - 1/e
 * quantiles, hence inside every equal-tailed interval of level 0.27 or more.
 */
export function summarizeBetaPosterior(
  alpha: number,
  beta: number,
  n: number,
  level = DEFAULT_LEVEL,
): BetaEstimate {
  const [lower, upper] = computeBetaInterval(alpha, beta, level);
  return { mean: alpha / (alpha + beta), lower, upper, n, alpha, beta };
}

/** Counts ratings per star (index 0 = one star); rejects anything that is not an integer 1-5. */
export function countStarRatings(ratings: readonly number[]): number[] {
  const counts = STAR_VALUES.map(() => 0);
  for (const rating of ratings) {
    assertRating(rating);
    counts[rating - 1] = (counts[rating - 1] ?? 0) + 1;
  }
  return counts;
}

/**
 * Summarises 1-5 star ratings with a Dirichlet posterior (Evan Miller, "Ranking items with star ratings"):
 * mean = posterior mean of the expected star value, lower/upper = mean ∓ z · posterior sd of it, so the
 * interval always contains `mean`. With few ratings `mean` sits well below or above the plain average (one
 * 5-star rating gives 10/3), because the prior adds one pseudo-rating per star.
 */
export function summarizeStarRatings(ratings: readonly number[], options: StarRatingOptions = {}): Estimate {
  return summarizeStarCounts(countStarRatings(ratings), options);
}

/**
 * The same Dirichlet summary from per-star counts (index 0 = one star), as statistics tables store them;
 * `n` is the number of ratings counted.
 */
export function summarizeStarCounts(counts: readonly number[], options: StarRatingOptions = {}): Estimate {
  const { priorCount = 1, level = DEFAULT_LEVEL } = options;
  if (counts.length !== STAR_VALUES.length || counts.some((count) => !Number.isFinite(count) || count < 0)) {
    throw new ValidationError('ratings', 'must be five non-negative counts, one per star');
  }
  const withPrior = counts.map((count) => count + priorCount);
  const total = withPrior.reduce((sum, count) => sum + count, 0);
  const mean = STAR_VALUES.reduce((sum, star, i) => sum + (star * (withPrior[i] ?? 0)) / total, 0);
  const meanOfSquares = STAR_VALUES.reduce(
    (sum, star, i) => sum + (star * star * (withPrior[i] ?? 0)) / total,
    0,
  );
  const sd = Math.sqrt(Math.max(0, meanOfSquares - mean * mean) / (total + 1));
  const z = normalQuantile(1 - (1 - level) / 2);
  const n = counts.reduce((sum, count) => sum + count, 0);
  return { mean, lower: Math.max(1, mean - z * sd), upper: Math.min(5, mean + z * sd), n };
}

// ---------------------------------------------------------------------------------------------------
// Leaderboard

export interface RankableEntry {
  agentId: string;
  lower: number;
  upper: number;
  n: number;
}

export type RankedEntry<T extends RankableEntry> = T & { rank: number | null; provisional: boolean };

/** Orders by lower bound, then upper bound, then id, so equal entries always list the same way. */
function compareByLowerBound(left: RankableEntry, right: RankableEntry): number {
  return right.lower - left.lower || right.upper - left.upper || left.agentId.localeCompare(right.agentId);
}

/**
 * Ranks agents Chatbot-Arena style: rank = 1 + the number of confident agents whose lower bound is above
 * this agent's upper bound, so agents whose intervals overlap share a rank. Agents with fewer than
 * `minSample` observations are provisional: no rank, listed after the ranked ones.
 */
export function rankWithConfidence<T extends RankableEntry>(
  entries: readonly T[],
  options: { minSample: number },
): RankedEntry<T>[] {
  const confident = entries.filter((entry) => entry.n >= options.minSample).sort(compareByLowerBound);
  const provisional = entries.filter((entry) => entry.n < options.minSample).sort(compareByLowerBound);
  const ranked = confident.map((entry) => ({
    ...entry,
    rank: 1 + confident.filter((other) => other.lower > entry.upper).length,
    provisional: false,
  }));
  return [...ranked, ...provisional.map((entry) => ({ ...entry, rank: null, provisional: true }))];
}

// ---------------------------------------------------------------------------------------------------
// Task reward

export interface RewardInputs {
  userRating?: number | null;
  judgeScore?: number | null;
  peerScore?: number | null;
  failed: boolean;
}

/** Maps a 1-5 star rating onto the 0-1 score scale. */
export function mapRatingToScore(rating: number): number {
  assertRating(rating);
  return (rating - 1) / 4;
}

/**
 * One task's reward in 0-1: 0 when it failed, otherwise the weighted mean of the components present
 * (weights RATING_WEIGHT, JUDGE_WEIGHT, PEER_WEIGHT, renormalised); null when nothing is known yet.
 */
export function blendTaskReward(inputs: RewardInputs): number | null {
  if (inputs.failed) return 0;
  const parts: [number, number][] = [];
  if (inputs.userRating != null) parts.push([mapRatingToScore(inputs.userRating), RATING_WEIGHT]);
  if (inputs.judgeScore != null) parts.push([assertScore('judgeScore', inputs.judgeScore), JUDGE_WEIGHT]);
  if (inputs.peerScore != null) parts.push([assertScore('peerScore', inputs.peerScore), PEER_WEIGHT]);
  if (parts.length === 0) return null;
  const weightSum = parts.reduce((sum, [, weight]) => sum + weight, 0);
  return parts.reduce((sum, [value, weight]) => sum + value * weight, 0) / weightSum;
}

/**
 * A task's reward as `agent_performance_scores.reward` stores it (migration 019: the same blend as a
 * generated column, to 3 decimals, so every writer and the statistics rebuild read one value; a unit test
 * holds the column and this function equal).
 */
export function storedReward(inputs: RewardInputs): number | null {
  const reward = blendTaskReward({ ...inputs, failed: false });
  if (reward === null) return null;
  // PostgreSQL rounds the exact decimal half away from zero (0.2625 -> 0.263); the binary double of such
  // a value may sit just below the half (0.26249999...), so round to 1e-9 first, then to 3 decimals.
  const nanos = Math.round(reward * 1e9);
  return Math.round(nanos / 1e6) / 1000;
}

function assertRating(rating: number): void {
  if (!Number.isInteger(rating) || rating < 1 || rating > 5) {
    throw new ValidationError('rating', `must be an integer from 1 to 5, got ${rating}`);
  }
}

function assertScore(field: string, score: number): number {
  if (!Number.isFinite(score) || score < 0 || score > 1) {
    throw new ValidationError(field, `must be a number from 0 to 1, got ${score}`);
  }
  return score;
}
