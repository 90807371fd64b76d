/**
 * Arena ratings: a Bradley-Terry model fitted to head-to-head battles, as FastChat's `compute_mle_elo`
 * fits it (a logistic regression without intercept in which a tie counts as half a win for each side,
 * both tie kinds alike), reported on the Elo-like scale `400 * theta / ln 10` and centred so the mean
 * rating is 1000. 95% intervals come from a seeded bootstrap over battles; an agent's rank is 1 + the
 * number of agents whose lower bound is above its upper bound (FastChat's "rank (UB)").
 *
 * Terminology: a battle is one command answered by two agents (A and B) with a winner; a rating is
 * the Arena figure computed here (not a user's 1-5 stars, which the rest of Merit calls a rating).
 */
import { createRng, hashSeed } from '../lib/random.js';

export type ArenaOutcome = 'model_a' | 'model_b' | 'tie' | 'tie (bothbad)';

export const ARENA_OUTCOMES: readonly ArenaOutcome[] = ['model_a', 'model_b', 'tie', 'tie (bothbad)'];

export interface ArenaBattle {
  agentA: string;
  agentB: string;
  winner: ArenaOutcome;
}

export interface ArenaRating {
  agentId: string;
  /** Maximum-likelihood rating on all battles (mean 1000). */
  rating: number;
  /** Bootstrap percentile interval; null when no bootstrap round contained the agent. */
  lower: number | null;
  upper: number | null;
  /** 1 + the number of agents whose lower bound is above this one's upper bound. */
  rank: number;
  battles: number;
}

export interface PairRecord {
  battles: number;
  /** Battles the row agent won. */
  wins: number;
  ties: number;
  /** (wins + ties / 2) / battles: the row agent's share of the points against the column agent. */
  winRate: number;
}

export interface ArenaLeaderboard {
  /** Best rating first. */
  ratings: ArenaRating[];
  /** Row agent against column agent; absent when the two never met. */
  pairs: Record<string, Record<string, PairRecord>>;
  totalBattles: number;
  bootstrapRounds: number;
  seed: number;
  level: number;
}

export interface ArenaFitOptions {
  /**
   * Ridge on theta (natural scale), in battles' worth of evidence: keeps the fit finite for an agent that
   * never lost (or never won) and pins the translation the model leaves free. Small enough that a
   * well-observed agent's rating moves by hundredths of a point.
   */
  ridge?: number;
  maxIterations?: number;
  /** Newton stops when no theta moves by more than this. */
  tolerance?: number;
}

export interface ArenaLeaderboardOptions extends ArenaFitOptions {
  /** Bootstrap rounds (FastChat uses 100 to 1000). */
  rounds?: number;
  seed?: number;
  /** Interval level, 0.95 by default. */
  level?: number;
}

export const ARENA_SCALE = 400;
export const ARENA_MEAN_RATING = 1000;
export const DEFAULT_RIDGE = 1e-4;
export const DEFAULT_BOOTSTRAP_ROUNDS = 200;
export const MIN_BOOTSTRAP_ROUNDS = 100;
export const MAX_BOOTSTRAP_ROUNDS = 2000;
export const DEFAULT_ARENA_SEED = hashSeed('merit-arena-bootstrap');
const DEFAULT_LEVEL = 0.95;
const DEFAULT_MAX_ITERATIONS = 100;
const DEFAULT_TOLERANCE = 1e-10;

/** Battles with their agents as indexes into `agents` (sorted ids, so the fit is order-independent). */
interface IndexedBattles {
  agents: string[];
  a: Int32Array;
  b: Int32Array;
  /** Points won by A: 1, 0 or 0.5 (a tie of either kind). */
  scoreA: Float64Array;
}

function indexBattles(battles: readonly ArenaBattle[]): IndexedBattles {
  const agents = [...new Set(battles.flatMap((battle) => [battle.agentA, battle.agentB]))].sort();
  const position = new Map(agents.map((agent, index) => [agent, index]));
  const a = new Int32Array(battles.length);
  const b = new Int32Array(battles.length);
  const scoreA = new Float64Array(battles.length);
  battles.forEach((battle, index) => {
    if (battle.agentA === battle.agentB) throw new Error(`battle ${index}: an agent cannot battle itself`);
    a[index] = position.get(battle.agentA) as number;
    b[index] = position.get(battle.agentB) as number;
    scoreA[index] = scoreOfOutcome(battle.winner);
  });
  return { agents, a, b, scoreA };
}

/** A's points in a battle: a tie of either kind is half a win for each side. */
export function scoreOfOutcome(winner: ArenaOutcome): number {
  if (winner === 'model_a') return 1;
  if (winner === 'model_b') return 0;
  return 0.5;
}

/** points[i * k + j]: what agent i scored against agent j, summed over the chosen battles. */
function tallyPoints(indexed: IndexedBattles, picks: ArrayLike<number> | null): Float64Array {
  const k = indexed.agents.length;
  const points = new Float64Array(k * k);
  const count = picks === null ? indexed.a.length : picks.length;
  for (let n = 0; n < count; n++) {
    const index = picks === null ? n : (picks[n] as number);
    const i = indexed.a[index] as number;
    const j = indexed.b[index] as number;
    const score = indexed.scoreA[index] as number;
    points[i * k + j] = (points[i * k + j] as number) + score;
    points[j * k + i] = (points[j * k + i] as number) + 1 - score;
  }
  return points;
}

const logistic = (x: number) => (x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x)));
// log(1 + e^-x) without overflow.
const softplusOfMinus = (x: number) => (x >= 0 ? Math.log1p(Math.exp(-x)) : -x + Math.log1p(Math.exp(x)));

/** The penalised negative log-likelihood the fit minimises. */
function objective(points: Float64Array, k: number, theta: Float64Array, ridge: number): number {
  let total = 0;
  for (let i = 0; i < k; i++) {
    total += (ridge / 2) * (theta[i] as number) ** 2;
    for (let j = 0; j < k; j++) {
      const won = points[i * k + j] as number;
      if (won > 0) total += won * softplusOfMinus((theta[i] as number) - (theta[j] as number));
    }
  }
  return total;
}

/**
 * Bradley-Terry thetas (natural scale: P(i beats j) = logistic(theta_i - theta_j)) by Newton's method
 * with a ridge and step halving, so every step lowers a strictly convex objective: it converges from
 * any data, an agent that never lost included.
 */
export function fitThetas(points: Float64Array, k: number, options: ArenaFitOptions = {}): Float64Array {
  const ridge = options.ridge ?? DEFAULT_RIDGE;
  const maxIterations = options.maxIterations ?? DEFAULT_MAX_ITERATIONS;
  const tolerance = options.tolerance ?? DEFAULT_TOLERANCE;
  let theta = new Float64Array(k);
  let current = objective(points, k, theta, ridge);
  for (let iteration = 0; iteration < maxIterations; iteration++) {
    const gradient = new Float64Array(k);
    const hessian = new Float64Array(k * k);
    for (let i = 0; i < k; i++) {
      gradient[i] = ridge * (theta[i] as number);
      hessian[i * k + i] = ridge;
    }
    for (let i = 0; i < k; i++) {
      for (let j = i + 1; j < k; j++) {
        const wonByI = points[i * k + j] as number;
        const games = wonByI + (points[j * k + i] as number);
        if (games === 0) continue;
        const p = logistic((theta[i] as number) - (theta[j] as number));
        const residual = wonByI - games * p;
        gradient[i] = (gradient[i] as number) - residual;
        gradient[j] = (gradient[j] as number) + residual;
        const curvature = games * p * (1 - p);
        hessian[i * k + i] = (hessian[i * k + i] as number) + curvature;
        hessian[j * k + j] = (hessian[j * k + j] as number) + curvature;
        hessian[i * k + j] = (hessian[i * k + j] as number) - curvature;
        hessian[j * k + i] = (hessian[j * k + i] as number) - curvature;
      }
    }
    const step = solveSymmetricPositiveDefinite(hessian, gradient, k);
    let scale = 1;
    let next = theta;
    let value = current;
    // Halve the step until the objective does not rise (Newton can overshoot far from the optimum).
    for (let halvings = 0; halvings < 60; halvings++) {
      next = theta.map((value, index) => value - scale * (step[index] as number));
      value = objective(points, k, next, ridge);
      if (value <= current + 1e-12 * Math.abs(current)) break;
      scale /= 2;
    }
    const moved = step.reduce((largest, delta) => Math.max(largest, Math.abs(scale * delta)), 0);
    theta = next;
    current = value;
    if (moved < tolerance) break;
  }
  return theta;
}

/** Solves H x = g for a symmetric positive definite H (Cholesky). */
function solveSymmetricPositiveDefinite(h: Float64Array, g: Float64Array, k: number): Float64Array {
  const l = new Float64Array(k * k);
  for (let i = 0; i < k; i++) {
    for (let j = 0; j <= i; j++) {
      let sum = h[i * k + j] as number;
      for (let m = 0; m < j; m++) sum -= (l[i * k + m] as number) * (l[j * k + m] as number);
      l[i * k + j] = i === j ? Math.sqrt(Math.max(sum, 1e-300)) : sum / (l[j * k + j] as number);
    }
  }
  const y = new Float64Array(k);
  for (let i = 0; i < k; i++) {
    let sum = g[i] as number;
    for (let m = 0; m < i; m++) sum -= (l[i * k + m] as number) * (y[m] as number);
    y[i] = sum / (l[i * k + i] as number);
  }
  const x = new Float64Array(k);
  for (let i = k - 1; i >= 0; i--) {
    let sum = y[i] as number;
    for (let m = i + 1; m < k; m++) sum -= (l[m * k + i] as number) * (x[m] as number);
    x[i] = sum / (l[i * k + i] as number);
  }
  return x;
}

/** Thetas to ratings: `400 * theta / ln 10`, shifted so the mean over `present` agents is 1000. */
function toRatings(theta: Float64Array, present: (index: number) => boolean): Float64Array {
  const ratings = theta.map((value) => (ARENA_SCALE * value) / Math.LN10);
  let sum = 0;
  let count = 0;
  ratings.forEach((value, index) => {
    if (present(index)) {
      sum += value;
      count++;
    }
  });
  const shift = count === 0 ? 0 : ARENA_MEAN_RATING - sum / count;
  return ratings.map((value, index) => (present(index) ? value + shift : Number.NaN));
}

/** Maximum-likelihood ratings of every agent in the battles (mean 1000). */
export function fitArenaRatings(
  battles: readonly ArenaBattle[],
  options: ArenaFitOptions = {},
): Map<string, number> {
  const indexed = indexBattles(battles);
  const k = indexed.agents.length;
  const ratings = toRatings(fitThetas(tallyPoints(indexed, null), k, options), () => true);
  return new Map(indexed.agents.map((agent, index) => [agent, ratings[index] as number]));
}

/** The q-quantile of sorted values with linear interpolation (pandas' and numpy's default). */
export function quantileOfSorted(sorted: readonly number[], q: number): number | null {
  if (sorted.length === 0) return null;
  const position = (sorted.length - 1) * q;
  const below = Math.floor(position);
  const above = Math.ceil(position);
  const low = sorted[below] as number;
  const high = sorted[above] as number;
  return low + (high - low) * (position - below);
}

/** Rank = 1 + the number of agents whose lower bound is above this one's upper bound. */
export function rankByIntervals(
  intervals: readonly { lower: number | null; upper: number | null }[],
): number[] {
  return intervals.map((mine) =>
    mine.upper === null
      ? 1
      : 1 + intervals.filter((other) => other.lower !== null && other.lower > (mine.upper as number)).length,
  );
}

/** Battles, wins and ties of each agent against each other it met. */
export function tallyPairs(battles: readonly ArenaBattle[]): Record<string, Record<string, PairRecord>> {
  const pairs: Record<string, Record<string, PairRecord>> = {};
  const add = (row: string, column: string, score: number) => {
    const byColumn = pairs[row] ?? {};
    pairs[row] = byColumn;
    const record = byColumn[column] ?? { battles: 0, wins: 0, ties: 0, winRate: 0 };
    byColumn[column] = record;
    record.battles++;
    if (score === 1) record.wins++;
    else if (score === 0.5) record.ties++;
  };
  for (const battle of battles) {
    const score = scoreOfOutcome(battle.winner);
    add(battle.agentA, battle.agentB, score);
    add(battle.agentB, battle.agentA, 1 - score);
  }
  for (const byColumn of Object.values(pairs)) {
    for (const record of Object.values(byColumn))
      record.winRate = (record.wins + record.ties / 2) / record.battles;
  }
  return pairs;
}

/**
 * The Arena leaderboard of a set of battles: the maximum-likelihood rating of every agent, a bootstrap
 * percentile interval (battles drawn with replacement, `rounds` times, from a generator seeded with
 * `seed`: the same battles and seed give the same figures), ranks from the intervals, and the pairwise
 * records. In a round that drew no battle of an agent, that agent has no rating (it is left out of the
 * round's centring and of its interval).
 */
export function computeArenaLeaderboard(
  battles: readonly ArenaBattle[],
  options: ArenaLeaderboardOptions = {},
): ArenaLeaderboard {
  const rounds = options.rounds ?? DEFAULT_BOOTSTRAP_ROUNDS;
  const seed = options.seed ?? DEFAULT_ARENA_SEED;
  const level = options.level ?? DEFAULT_LEVEL;
  if (!Number.isInteger(rounds) || rounds < 1) throw new RangeError('rounds must be a positive integer');
  if (!(level > 0 && level < 1)) throw new RangeError('level must be between 0 and 1');
  const indexed = indexBattles(battles);
  const k = indexed.agents.length;
  const n = battles.length;
  const point = toRatings(fitThetas(tallyPoints(indexed, null), k, options), () => true);
  const samples: number[][] = indexed.agents.map(() => []);
  const random = createRng(seed);
  const picks = new Int32Array(n);
  for (let round = 0; round < rounds && n > 0; round++) {
    const seen = new Uint8Array(k);
    for (let draw = 0; draw < n; draw++) {
      const index = Math.min(n - 1, Math.floor(random() * n));
      picks[draw] = index;
      seen[indexed.a[index] as number] = 1;
      seen[indexed.b[index] as number] = 1;
    }
    const ratings = toRatings(
      fitThetas(tallyPoints(indexed, picks), k, options),
      (index) => seen[index] === 1,
    );
    ratings.forEach((value, index) => {
      if (Number.isFinite(value)) samples[index]?.push(value);
    });
  }
  const tail = (1 - level) / 2;
  const intervals = samples.map((values) => {
    const sorted = [...values].sort((x, y) => x - y);
    return { lower: quantileOfSorted(sorted, tail), upper: quantileOfSorted(sorted, 1 - tail) };
  });
  const ranks = rankByIntervals(intervals);
  const pairs = tallyPairs(battles);
  const ratings: ArenaRating[] = indexed.agents.map((agentId, index) => ({
    agentId,
    rating: point[index] as number,
    lower: intervals[index]?.lower ?? null,
    upper: intervals[index]?.upper ?? null,
    rank: ranks[index] as number,
    battles: Object.values(pairs[agentId] ?? {}).reduce((sum, record) => sum + record.battles, 0),
  }));
  ratings.sort((x, y) => y.rating - x.rating || x.agentId.localeCompare(y.agentId));
  return { ratings, pairs, totalBattles: n, bootstrapRounds: rounds, seed, level };
}
