/**
 * Merit's intelligent router: picks the agent for a task of a given category by Thompson sampling over
 * Beta posteriors of each (agent, category) reward, honouring mentions, activity, cost/duration limits and
 * current load. Pure: callers load the statistics, call `chooseAgent`, and save the decision.
 *
 * Terminology: reward = one task's blended 0-1 figure (see `blendTaskReward`; a failed task is worth 0);
 * pair = one (agent, category) combination.
 *
 * Hierarchical shrinkage: a pair's prior is the agent's record in the *other* categories, scaled to at most
 * `pairPriorStrength` pseudo-observations; that record itself starts from the team-wide mean reward with
 * `agentPriorStrength` pseudo-observations. So a new pair starts near what the agent does elsewhere, and a
 * new agent starts near the team average, with wide enough posteriors to be tried.
 *
 * Declared specialties: a pair the agent declares (its roster specialisations) or a category template
 * recommends it for gets `specialtyPriorStrength` more pseudo-observations at the team's mean reward on
 * declared pairs (itself starting at 1, what a declaration claims). So at cold start specialists are
 * preferred, a team whose declarations prove no better than the rest loses the advantage, and an agent's
 * own record in the category soon outweighs both.
 *
 * Exploration (docs/ROUTING.md, "Why 12x12 missed"): draws are tempered more in a category whose share of
 * the traffic per candidate is small (`computeExplorationConcentration`: exploring there cannot be repaid),
 * and among the agents whose draw is within `satisficingMargin` of the best, the best expected one wins
 * (satisficing Thompson sampling: near-equal agents are not worth telling apart).
 *
 * Pending scores (docs/ROUTING.md, "Pending scores"): a failure is known when its task ends, a success's
 * score only later or never, so records are corrected (`correctForPendingScores`): each completed task still
 * unscored counts as a success at the agent's mean scored success in the category.
 *
 * Objectives (see `RoutingObjective`, docs/ROUTING.md): `quality` compares the load-penalised draws;
 * `value` subtracts each agent's expected cost priced at the caller's dollars per quality point; and
 * `cheapest_meeting` takes the cheapest agent whose posterior probability of reaching a target quality is
 * high enough. A cost nobody recorded is never taken as free: `cheapest_meeting` charges it as the highest
 * expected cost known among the candidates, `value` as the lowest, so that it tries the agent and learns
 * its cost (`chargeUnknownCosts`).
 *
 * The orchestrator routes; it never takes a routed task (only an explicit mention reaches it). External
 * agents (measured by Merit, run elsewhere) are never routed to.
 */
import { MeritError, NotFoundError } from '../errors.js';
import { sampleNormal } from '../lib/random.js';
import { betaCdf, computeBetaInterval, DEFAULT_LEVEL } from '../ranking/ranking.js';

export interface RoutingCandidate {
  agentId: string;
  nickname: string;
  active: boolean;
  /** Tasks this agent has in flight right now. */
  load: number;
  /** Categories the agent declares or a category template recommends it for (its prior, not its record). */
  specialties?: readonly string[];
  /** The orchestrator only takes tasks that mention it. */
  isOrchestrator?: boolean;
  /** Runs outside Merit (agents.origin = 'external'): measured, never routed to nor run. */
  external?: boolean;
}

/** Observed rewards (failed tasks included as 0) and mean cost/duration of finished tasks. */
export interface RewardStats {
  n: number;
  rewardSum: number;
  /** Sum of squared rewards; lets the router learn how noisy rewards are (see `estimateEvidenceWeight`). */
  rewardSquareSum?: number;
  /** Failed tasks among `n` (each a reward of 0, known as soon as the task ends). */
  failures?: number;
  /**
   * Completed tasks (not failed) whose reward has not arrived yet, not counted in `n`: known successes whose
   * score is pending (see `correctForPendingScores`).
   */
  unscored?: number;
  meanCost?: number | null;
  meanDurationMs?: number | null;
}

export interface PairStats extends RewardStats {
  agentId: string;
  category: string;
}

export interface AgentStats extends RewardStats {
  agentId: string;
}

export interface RoutingConstraints {
  maxCost?: number | null;
  maxDurationMs?: number | null;
}

/**
 * What the router optimises among the agents within the hard limits:
 * - `quality`: the highest (load-penalised) Thompson draw of quality;
 * - `value`: the highest draw minus the agent's expected cost divided by `usdPerQuality`, the dollars one
 *   whole point of quality (the 0-1 scale) is worth per task: +0.1 quality is worth 0.1 × usdPerQuality;
 * - `cheapest_meeting`: the cheapest agent whose posterior probability of an expected reward of at least
 *   `targetQuality` is `minProbability` or more; if none, the agent most likely to reach it.
 */
export type RoutingObjective =
  | { kind: 'quality' }
  | { kind: 'value'; usdPerQuality: number }
  | { kind: 'cheapest_meeting'; targetQuality: number; minProbability: number };

export type ObjectiveKind = RoutingObjective['kind'];

export const QUALITY_OBJECTIVE: RoutingObjective = { kind: 'quality' };

/** The probability `cheapest_meeting` asks for when the caller names none. */
export const DEFAULT_MIN_PROBABILITY = 0.8;

export interface RouterOptions {
  /** Pseudo-observations of the team-wide mean in every agent's prior. */
  agentPriorStrength: number;
  /** Upper bound on pseudo-observations a pair borrows from the agent's other categories. */
  pairPriorStrength: number;
  /** Pseudo-observations a declared specialty adds, at the team's mean reward on declared pairs. */
  specialtyPriorStrength: number;
  /** Sampled score is divided by (1 + loadPenalty × load): each in-flight task costs about this fraction. */
  loadPenalty: number;
  /** Pseudo-observations of Bernoulli-like spread behind the reward-noise estimate. */
  noisePriorStrength: number;
  /** Credible level of the reported intervals. */
  level: number;
  /**
   * Draws come from Beta(c·α, c·β): the posterior's mean with 1/c of its variance ("tempered" Thompson
   * sampling, which explores less). On `npm run bench:routing` over 100 seeds, c = 1.5 cut mean regret
   * from 0.87x to 0.78x greedy's (p90 0.60x to 0.58x); the reported intervals are the untempered posterior's.
   */
  samplingConcentration: number;
  /**
   * Exploration scaled to what it can repay: a category whose share of the team's recorded tasks, per
   * candidate, is below this reference is drawn with a proportionally higher concentration
   * (`computeExplorationConcentration`). 0 turns the scaling off.
   */
  explorationShare: number;
  /** How steeply the concentration grows as the share per candidate falls below `explorationShare`. */
  explorationExponent: number;
  /**
   * Satisficing Thompson sampling: among the agents whose draw is within this margin (on the 0-1 quality
   * scale) of the best draw, the one with the best expected figure wins. 0 is plain Thompson sampling.
   */
  satisficingMargin: number;
  /** How pending scores are corrected for (`correctForPendingScores`). */
  pendingCorrection: PendingCorrection;
}

/**
 * `none`: rewards as recorded. `downweight`: failures count only as often as successes are scored.
 * `impute`: each unscored success counts as one observation at the agent's smoothed mean scored success.
 */
export type PendingCorrection = 'none' | 'downweight' | 'impute';

export const DEFAULT_ROUTER_OPTIONS: RouterOptions = {
  agentPriorStrength: 3,
  pairPriorStrength: 6,
  specialtyPriorStrength: 2,
  loadPenalty: 0.1,
  noisePriorStrength: 3,
  level: DEFAULT_LEVEL,
  samplingConcentration: 1.5,
  explorationShare: 0.01,
  explorationExponent: 1,
  satisficingMargin: 0.03,
  pendingCorrection: 'impute',
};

export interface RoutingRequest {
  category: string;
  candidates: readonly RoutingCandidate[];
  /** Stats per (agent, category): this category's pairs drive the choice, all pairs the noise estimate. */
  pairStats: readonly PairStats[];
  /** Stats per agent over all categories. */
  agentStats: readonly AgentStats[];
  mentionedAgentId?: string | null;
  constraints?: RoutingConstraints;
  /** Defaults to `quality`. */
  objective?: RoutingObjective;
  random: () => number;
}

export type ExclusionReason = 'inactive' | 'over_cost' | 'over_duration';
export type DecisionReason =
  | 'mention'
  | 'thompson'
  | 'fallback_constraints'
  | 'cheapest_meeting'
  | 'target_unmet';

export interface AgentEvaluation {
  agentId: string;
  nickname: string;
  /** Posterior mean reward for this category. */
  expectedScore: number;
  /** Equal-tailed posterior credible interval of the reward. */
  interval: [number, number];
  /** The Thompson draw from the posterior (null for agents not in the draw). */
  sampledScore: number | null;
  /** The draw after the load penalty: the figure agents are compared on. */
  adjustedScore: number | null;
  /** Rewards observed for this pair. */
  observations: number;
  /** True when the agent declares the category or its template recommends the agent (a prior, not a record). */
  specialist: boolean;
  expectedCost: number | null;
  /**
   * The cost the objective charges: `expectedCost`, or when that is unknown the highest expected cost
   * known among the candidates (never free); null when no candidate's cost is known.
   */
  chargedCost: number | null;
  expectedDurationMs: number | null;
  load: number;
  /** The figure the objective compares drawn agents on (`quality`: the adjusted draw; `value`: minus the priced cost). */
  utility: number | null;
  /** `cheapest_meeting` only: posterior probability that the agent's expected reward reaches the target. */
  targetProbability: number | null;
  excludedBecause?: ExclusionReason;
}

export interface AppliedConstraints {
  maxCost: number | null;
  maxDurationMs: number | null;
  loadPenalty: number;
  excludedAgentIds: string[];
}

export interface Decision extends AgentEvaluation {
  reason: DecisionReason;
  category: string;
  objective: RoutingObjective;
  runnersUp: AgentEvaluation[];
  constraints: AppliedConstraints;
}

export interface BaselineChoice {
  agentId: string;
  reason: 'mention' | 'greedy' | 'random';
  /** The greedy figure (mean reward) of the chosen agent; null for mentions and random picks. */
  score: number | null;
}

/**
 * A command addressed to an external agent: Merit measures it but cannot run it (409 `agent_external`,
 * naming the `command` field).
 */
export class ExternalAgentError extends MeritError {
  readonly nickname: string;

  constructor(nickname: string) {
    super(
      'agent_external',
      `command: @${nickname} is an external agent (it runs outside Merit and is only measured here); ` +
        'Merit neither runs nor routes to it',
      { details: { field: 'command' } },
    );
    this.name = 'ExternalAgentError';
    this.nickname = nickname;
  }
}

interface BetaParameters {
  alpha: number;
  beta: number;
}

// ---------------------------------------------------------------------------------------------------
// Sampling

/** A Gamma(shape, 1) draw (Marsaglia-Tsang; boosted through shape + 1 when shape < 1). */
export function sampleGamma(shape: number, random: () => number): number {
  if (shape < 1) return sampleGamma(shape + 1, random) * Math.max(random(), Number.EPSILON) ** (1 / shape);
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    const x = sampleNormal(random);
    const v = (1 + c * x) ** 3;
    if (v <= 0) continue;
    const u = Math.max(random(), Number.EPSILON);
    if (u < 1 - 0.0331 * x ** 4 || Math.log(u) < 0.5 * x * x + d * (1 - v + Math.log(v))) return d * v;
  }
}

/** A Beta(alpha, beta) draw as the ratio of two Gamma draws. */
export function sampleBeta(alpha: number, beta: number, random: () => number): number {
  const x = sampleGamma(alpha, random);
  const y = sampleGamma(beta, random);
  return x / (x + y);
}

// ---------------------------------------------------------------------------------------------------
// Posteriors

/** The team-wide mean reward, itself smoothed by one pseudo-success and one pseudo-failure. */
export function computeGlobalMeanReward(agentStats: readonly AgentStats[]): number {
  const rewardSum = agentStats.reduce((sum, stats) => sum + stats.rewardSum, 0);
  const n = agentStats.reduce((sum, stats) => sum + stats.n, 0);
  return (rewardSum + 1) / (n + 2);
}

/** The team's mean reward over scored tasks that did not fail (0.5 before any). */
export function computeTeamSuccessMean(agentStats: readonly RewardStats[]): number {
  let scored = 0;
  let rewardSum = 0;
  for (const stats of agentStats) {
    scored += Math.max(0, stats.n - (stats.failures ?? 0));
    rewardSum += stats.rewardSum;
  }
  return scored > 0 ? rewardSum / scored : 0.5;
}

/**
 * Rewards corrected for scores still pending. A failure is known as soon as its task ends, a success's
 * score only later (or never), so a record read while scores are pending holds too many failures.
 * `downweight` counts the failures at the rate successes are scored: with F failures, S scored successes
 * and U unscored ones, F × (S + 1) / (S + U + 1) failures (the +1 keeps some of the failures' evidence
 * while no success is scored yet). `impute` adds the U unscored successes at the record's mean scored
 * success, smoothed by one observation at `successPrior`. Records without `failures` or `unscored` are
 * returned as they are.
 */
export function correctForPendingScores<T extends RewardStats>(
  stats: T,
  mode: PendingCorrection,
  successPrior = 0.5,
): T {
  const failures = stats.failures ?? 0;
  const unscored = stats.unscored ?? 0;
  if (mode === 'none' || unscored <= 0) return stats;
  const scored = Math.max(0, stats.n - failures);
  if (mode === 'downweight') {
    const counted = (failures * (scored + 1)) / (scored + unscored + 1);
    return { ...stats, n: scored + counted, failures: counted };
  }
  const successMean = (stats.rewardSum + successPrior) / (scored + 1);
  return { ...stats, n: stats.n + unscored, rewardSum: stats.rewardSum + unscored * successMean };
}

/**
 * The team's mean reward on declared pairs (see `RoutingCandidate.specialties`), starting from
 * `strength` pseudo-observations of 1: what a declaration claims until the team's record says otherwise.
 */
export function computeSpecialtyMean(
  pairStats: readonly PairStats[],
  candidates: readonly RoutingCandidate[],
  strength = DEFAULT_ROUTER_OPTIONS.specialtyPriorStrength,
): number {
  const specialties = new Map(
    candidates.map((candidate) => [candidate.agentId, candidate.specialties ?? []]),
  );
  let n = strength;
  let rewardSum = strength;
  for (const stats of pairStats) {
    if (!specialties.get(stats.agentId)?.includes(stats.category)) continue;
    n += stats.n;
    rewardSum += stats.rewardSum;
  }
  return n > 0 ? rewardSum / n : 1;
}

/**
 * The Beta posterior of one pair's reward, shrunk toward the agent's record in other categories, which is
 * itself shrunk toward the team-wide mean; a declared specialty (`specialtyMean` not null) adds
 * `specialtyPriorStrength` pseudo-observations at that mean.
 */
export function computePairPosterior(
  pair: RewardStats | undefined,
  agent: RewardStats | undefined,
  globalMean: number,
  options: Pick<RouterOptions, 'agentPriorStrength' | 'pairPriorStrength'> &
    Partial<Pick<RouterOptions, 'specialtyPriorStrength'>> = DEFAULT_ROUTER_OPTIONS,
  specialtyMean: number | null = null,
): BetaParameters {
  const pairN = pair?.n ?? 0;
  const pairSum = pair?.rewardSum ?? 0;
  // Leave the pair's own rewards out of the agent record so they are not counted twice.
  const otherN = Math.max(0, (agent?.n ?? 0) - pairN);
  const otherSum = Math.min(otherN, Math.max(0, (agent?.rewardSum ?? 0) - pairSum));
  const agentAlpha = options.agentPriorStrength * globalMean + otherSum;
  const agentBeta = options.agentPriorStrength * (1 - globalMean) + otherN - otherSum;
  const agentMean = agentAlpha / (agentAlpha + agentBeta);
  // Never borrow more certainty than the agent's record has.
  const strength = Math.min(options.pairPriorStrength, agentAlpha + agentBeta);
  const specialty =
    specialtyMean === null
      ? 0
      : (options.specialtyPriorStrength ?? DEFAULT_ROUTER_OPTIONS.specialtyPriorStrength);
  const claimed = specialty * (specialtyMean ?? 0);
  return {
    alpha: strength * agentMean + claimed + pairSum,
    beta: strength * (1 - agentMean) + (specialty - claimed) + pairN - pairSum,
  };
}

/**
 * How many Bernoulli trials one reward is worth: m(1 - m) / (pooled within-group variance). Fractional
 * rewards vary less than 0/1 outcomes, so a Beta posterior counting each as one trial would be too wide
 * (moment matching). The variance estimate starts at the Bernoulli value with `noisePriorStrength`
 * pseudo-observations; groups (pairs or agents) without `rewardSquareSum` contribute nothing.
 */
export function estimateEvidenceWeight(
  groups: readonly RewardStats[],
  globalMean: number,
  noisePriorStrength = DEFAULT_ROUTER_OPTIONS.noisePriorStrength,
): number {
  const bernoulliVariance = globalMean * (1 - globalMean);
  let squares = noisePriorStrength * bernoulliVariance;
  let degrees = noisePriorStrength;
  for (const stats of groups) {
    if (stats.rewardSquareSum === undefined || stats.n < 2) continue;
    squares += Math.max(0, stats.rewardSquareSum - (stats.rewardSum * stats.rewardSum) / stats.n);
    degrees += stats.n - 1;
  }
  const variance = Math.max(squares / degrees, 1e-6);
  return Math.max(1, bernoulliVariance / variance);
}

// ---------------------------------------------------------------------------------------------------
// Evaluation of candidates

/** What posteriors depend on: the category, the candidates and their statistics. */
export type PosteriorRequest = Pick<RoutingRequest, 'category' | 'candidates' | 'pairStats' | 'agentStats'>;

interface RoutingContext {
  request: PosteriorRequest;
  options: RouterOptions;
  globalMean: number;
  /** Mean reward a declared specialty stands for (`computeSpecialtyMean`). */
  specialtyMean: number;
  evidenceWeight: number;
  /** The concentration of this request's draws (`computeExplorationConcentration`). */
  concentration: number;
  /** This category's pairs, corrected for pending scores (`correctForPendingScores`). */
  pairs: Map<string, PairStats>;
  /** Rewards observed per agent in this category, as recorded. */
  observations: Map<string, number>;
  agents: Map<string, AgentStats>;
}

/**
 * The share of the team's recorded tasks that fall in `category`, smoothed by one task per category seen
 * (so a category nobody has worked on yet counts as one of them, not as zero).
 */
export function computeCategoryShare(pairStats: readonly PairStats[], category: string): number {
  const categories = new Set([category, ...pairStats.map((stats) => stats.category)]);
  let total = 0;
  let inCategory = 0;
  for (const stats of pairStats) {
    total += stats.n;
    if (stats.category === category) inCategory += stats.n;
  }
  return (inCategory + 1) / (total + categories.size);
}

/**
 * The concentration of the Thompson draws for one request. Exploring pays only through the later tasks of
 * the same category, and they are split among the candidates: when the category's share of the traffic per
 * candidate (`share / candidates`) is below `explorationShare`, the draws are tempered by the ratio
 * (to the power `explorationExponent`), so a rare category among many agents leans on what the posteriors
 * already say instead of trying every agent there. Frequent categories keep `samplingConcentration`.
 */
export function computeExplorationConcentration(
  share: number,
  candidates: number,
  options: Pick<RouterOptions, 'samplingConcentration' | 'explorationShare' | 'explorationExponent'>,
): number {
  if (options.explorationShare <= 0 || candidates < 2) return options.samplingConcentration;
  const ratio = (options.explorationShare * candidates) / share;
  return options.samplingConcentration * Math.max(1, ratio) ** options.explorationExponent;
}

function createRoutingContext(request: PosteriorRequest, options: RouterOptions): RoutingContext {
  const successPrior = computeTeamSuccessMean(request.agentStats);
  const correct = <T extends RewardStats>(stats: T) =>
    correctForPendingScores(stats, options.pendingCorrection, successPrior);
  const categoryPairs = request.pairStats.filter((stats) => stats.category === request.category);
  const pairs = new Map(categoryPairs.map((stats) => [stats.agentId, correct(stats)]));
  const observations = new Map(categoryPairs.map((stats) => [stats.agentId, stats.n]));
  const agentStats = request.agentStats.map(correct);
  const agents = new Map(agentStats.map((stats) => [stats.agentId, stats]));
  const globalMean = computeGlobalMeanReward(agentStats);
  // Within-pair spread is the purest noise estimate; agents' spread also holds differences between categories.
  const pairsWithSquares = request.pairStats.filter((stats) => stats.rewardSquareSum !== undefined);
  const noiseGroups = pairsWithSquares.length > 0 ? pairsWithSquares : request.agentStats;
  const evidenceWeight = estimateEvidenceWeight(noiseGroups, globalMean, options.noisePriorStrength);
  const specialtyMean = computeSpecialtyMean(
    request.pairStats,
    request.candidates,
    options.specialtyPriorStrength,
  );
  const drawn = request.candidates.filter(
    (candidate) => candidate.active && candidate.external !== true && candidate.isOrchestrator !== true,
  ).length;
  const concentration = computeExplorationConcentration(
    computeCategoryShare(request.pairStats, request.category),
    drawn,
    options,
  );
  return {
    request,
    options,
    globalMean,
    specialtyMean,
    evidenceWeight,
    concentration,
    pairs,
    observations,
    agents,
  };
}

/** The pair's observed figure, else the agent's overall one, else unknown. */
function pickExpectedFigure(pairValue: number | null | undefined, agentValue: number | null | undefined) {
  return pairValue ?? agentValue ?? null;
}

/** True when a known figure is over a set limit; unknown figures and absent limits never exclude. */
function exceedsLimit(value: number | null, limit: number | null | undefined): boolean {
  return value !== null && limit != null && value > limit;
}

/** Why an agent cannot take the task, or undefined when it can. */
function findExclusionReason(
  evaluation: AgentEvaluation,
  active: boolean,
  constraints: RoutingConstraints,
): ExclusionReason | undefined {
  if (!active) return 'inactive';
  if (exceedsLimit(evaluation.expectedCost, constraints.maxCost)) return 'over_cost';
  if (exceedsLimit(evaluation.expectedDurationMs, constraints.maxDurationMs)) return 'over_duration';
  return undefined;
}

/** A candidate's posterior reward in the request's category (spread matched to reward noise), not yet drawn. */
function estimateCandidate(
  context: RoutingContext,
  candidate: RoutingCandidate,
): AgentEvaluation & { alpha: number; beta: number } {
  const pair = context.pairs.get(candidate.agentId);
  const agent = context.agents.get(candidate.agentId);
  const specialist = candidate.specialties?.includes(context.request.category) ?? false;
  const prior = computePairPosterior(
    pair,
    agent,
    context.globalMean,
    context.options,
    specialist ? context.specialtyMean : null,
  );
  // Same mean, spread narrowed to the observed reward noise.
  const alpha = prior.alpha * context.evidenceWeight;
  const beta = prior.beta * context.evidenceWeight;
  return {
    agentId: candidate.agentId,
    nickname: candidate.nickname,
    expectedScore: alpha / (alpha + beta),
    interval: computeBetaInterval(alpha, beta, context.options.level),
    sampledScore: null,
    adjustedScore: null,
    observations: context.observations.get(candidate.agentId) ?? 0,
    specialist,
    expectedCost: pickExpectedFigure(pair?.meanCost, agent?.meanCost),
    chargedCost: null,
    expectedDurationMs: pickExpectedFigure(pair?.meanDurationMs, agent?.meanDurationMs),
    load: candidate.load,
    utility: null,
    targetProbability: null,
    alpha,
    beta,
  };
}

/** Posterior probability that a Beta(alpha, beta) reward mean is at least `target`. */
export function computeTargetProbability(alpha: number, beta: number, target: number): number {
  return 1 - betaCdf(target, alpha, beta);
}

/**
 * How an unknown cost is charged; never as free. `highest`: as the dearest known cost among the
 * candidates, so an agent nobody has priced is never preferred for being cheap (`cheapest_meeting`, and
 * the fallback's ordering). `lowest`: as the cheapest known cost, the optimism that lets `value` try the
 * agent and learn its cost (one finished task prices it) instead of never finding out it is cheap.
 */
export type UnknownCostCharge = 'highest' | 'lowest';

/** The charge each objective makes for an unknown cost (see `UnknownCostCharge`). */
export function chooseUnknownCostCharge(objective: RoutingObjective): UnknownCostCharge {
  return objective.kind === 'value' ? 'lowest' : 'highest';
}

/**
 * Each evaluation's charged cost: its expected cost, or for an unknown one the highest (or lowest) expected
 * cost known among the evaluations. An unknown cost never excludes an agent (running it is how its cost
 * becomes known). Null for all when no cost is known.
 */
export function chargeUnknownCosts<T extends Pick<AgentEvaluation, 'expectedCost' | 'chargedCost'>>(
  evaluations: readonly T[],
  charge: UnknownCostCharge = 'highest',
): T[] {
  const known = evaluations.map((e) => e.expectedCost).filter((cost): cost is number => cost !== null);
  const fill = known.length === 0 ? null : charge === 'highest' ? Math.max(...known) : Math.min(...known);
  return evaluations.map((evaluation) => ({ ...evaluation, chargedCost: evaluation.expectedCost ?? fill }));
}

/** The figure `quality` and `value` compare: the adjusted draw, less the charged cost at the objective's price. */
export function computeUtility(
  adjustedScore: number,
  chargedCost: number | null,
  objective: RoutingObjective,
): number {
  if (objective.kind !== 'value') return adjustedScore;
  return adjustedScore - (chargedCost ?? 0) / objective.usdPerQuality;
}

/** Posterior, Thompson draw and constraint check for one candidate. */
function evaluateCandidate(
  context: RoutingContext,
  request: RoutingRequest,
  candidate: RoutingCandidate,
): AgentEvaluation {
  const { alpha, beta, ...evaluation } = estimateCandidate(context, candidate);
  const objective = request.objective ?? QUALITY_OBJECTIVE;
  if (objective.kind === 'cheapest_meeting')
    evaluation.targetProbability = computeTargetProbability(alpha, beta, objective.targetQuality);
  const excludedBecause = findExclusionReason(evaluation, candidate.active, request.constraints ?? {});
  if (excludedBecause !== undefined) evaluation.excludedBecause = excludedBecause;
  // Every active agent is drawn, so how much randomness is used does not depend on the limits.
  if (candidate.active) {
    const concentration = context.concentration;
    const sampledScore = sampleBeta(alpha * concentration, beta * concentration, request.random);
    evaluation.sampledScore = sampledScore;
    evaluation.adjustedScore = sampledScore / (1 + context.options.loadPenalty * Math.max(0, candidate.load));
  }
  return evaluation;
}

/** Best first: eligible agents by the objective's figure of their draw, then excluded ones by posterior mean. */
function compareEvaluations(left: AgentEvaluation, right: AgentEvaluation): number {
  const leftExcluded = left.excludedBecause !== undefined;
  const rightExcluded = right.excludedBecause !== undefined;
  if (leftExcluded !== rightExcluded) return leftExcluded ? 1 : -1;
  return (
    (right.utility ?? Number.NEGATIVE_INFINITY) - (left.utility ?? Number.NEGATIVE_INFINITY) ||
    right.expectedScore - left.expectedScore ||
    left.agentId.localeCompare(right.agentId)
  );
}

/**
 * The order every listing of a decision uses (runners-up, the explanation's table and its "next best"):
 * eligible agents by posterior mean, then excluded ones.
 */
export function compareByExpectedScore(left: AgentEvaluation, right: AgentEvaluation): number {
  const leftExcluded = left.excludedBecause !== undefined;
  const rightExcluded = right.excludedBecause !== undefined;
  if (leftExcluded !== rightExcluded) return leftExcluded ? 1 : -1;
  return right.expectedScore - left.expectedScore || left.agentId.localeCompare(right.agentId);
}

/**
 * Whether the router may give this candidate the task: never an external agent; the orchestrator only
 * when mentioned.
 */
function isRoutable(candidate: RoutingCandidate, mentionedAgentId: string | null | undefined): boolean {
  if (candidate.external === true) return false;
  return candidate.isOrchestrator !== true || candidate.agentId === mentionedAgentId;
}

/** Ascending; an unknown figure sorts after every known one (never taken as free or instant). */
function compareKnownFirst(left: number | null, right: number | null): number {
  if (left === null || right === null) return (left === null ? 1 : 0) - (right === null ? 1 : 0);
  return left - right;
}

/** Cheapest by charged cost when a cost limit is set, else fastest; unknown figures sort last. */
function compareByCheapness(left: AgentEvaluation, right: AgentEvaluation, constraints: RoutingConstraints) {
  const byCost = compareKnownFirst(left.chargedCost, right.chargedCost);
  const byDuration = compareKnownFirst(left.expectedDurationMs, right.expectedDurationMs);
  const primary = constraints.maxCost != null ? byCost || byDuration : byDuration || byCost;
  return primary || left.agentId.localeCompare(right.agentId);
}

/**
 * `cheapest_meeting`: the cheapest eligible agent (charged cost, then higher expected score) whose
 * probability of reaching the target is high enough; else the one most likely to reach it.
 */
function selectCheapestMeeting(
  eligible: AgentEvaluation[],
  minProbability: number,
): [AgentEvaluation, DecisionReason] | undefined {
  const meeting = eligible.filter((evaluation) => (evaluation.targetProbability ?? 0) >= minProbability);
  const cheapest = meeting.sort(
    (left, right) =>
      compareKnownFirst(left.chargedCost, right.chargedCost) ||
      right.expectedScore - left.expectedScore ||
      left.agentId.localeCompare(right.agentId),
  )[0];
  if (cheapest !== undefined) return [cheapest, 'cheapest_meeting'];
  const likeliest = eligible.sort(
    (left, right) =>
      (right.targetProbability ?? 0) - (left.targetProbability ?? 0) ||
      compareKnownFirst(left.chargedCost, right.chargedCost) ||
      left.agentId.localeCompare(right.agentId),
  )[0];
  return likeliest === undefined ? undefined : [likeliest, 'target_unmet'];
}

/** The figure the objective compares, from the posterior mean instead of the draw. */
function computeExpectedUtility(
  evaluation: AgentEvaluation,
  objective: RoutingObjective,
  options: RouterOptions,
): number {
  const adjusted = evaluation.expectedScore / (1 + options.loadPenalty * Math.max(0, evaluation.load));
  return computeUtility(adjusted, evaluation.chargedCost, objective);
}

/**
 * Satisficing Thompson sampling: of the agents whose draw comes within `satisficingMargin` of the best
 * draw, the one with the best expected figure. Exploration then only separates agents that may be better
 * by more than the margin; telling near-equal agents apart would cost more tasks than it can gain.
 */
function settleWithinMargin(
  ranked: readonly AgentEvaluation[],
  best: AgentEvaluation,
  objective: RoutingObjective,
  options: RouterOptions,
): AgentEvaluation {
  const margin = options.satisficingMargin;
  if (margin <= 0 || best.utility === null) return best;
  const threshold = best.utility - margin;
  let chosen = best;
  let chosenFigure = computeExpectedUtility(best, objective, options);
  for (const evaluation of ranked) {
    if (evaluation.utility === null || evaluation.utility < threshold) break;
    const figure = computeExpectedUtility(evaluation, objective, options);
    if (figure > chosenFigure) {
      chosen = evaluation;
      chosenFigure = figure;
    }
  }
  return chosen;
}

function selectWinner(
  evaluations: AgentEvaluation[],
  request: RoutingRequest,
  options: RouterOptions,
): [AgentEvaluation, DecisionReason] {
  const mentioned = evaluations.find((evaluation) => evaluation.agentId === request.mentionedAgentId);
  if (mentioned !== undefined) return [mentioned, 'mention'];
  const eligible = evaluations.filter((evaluation) => evaluation.excludedBecause === undefined);
  const objective = request.objective ?? QUALITY_OBJECTIVE;
  if (objective.kind === 'cheapest_meeting') {
    const choice = selectCheapestMeeting(eligible, objective.minProbability);
    if (choice !== undefined) return choice;
  }
  const best = eligible.sort(compareEvaluations)[0];
  if (best !== undefined) return [settleWithinMargin(eligible, best, objective, options), 'thompson'];
  const constraints = request.constraints ?? {};
  const active = evaluations.filter((evaluation) => evaluation.excludedBecause !== 'inactive');
  const cheapest = active.sort((left, right) => compareByCheapness(left, right, constraints))[0];
  if (cheapest === undefined)
    throw new NotFoundError('agent_not_found', 'no active agent can take this task');
  return [cheapest, 'fallback_constraints'];
}

function assertMentionIsCandidate(request: RoutingRequest): void {
  const mention = request.mentionedAgentId;
  if (mention == null) return;
  const mentioned = request.candidates.find((candidate) => candidate.agentId === mention);
  if (mentioned === undefined) {
    throw new MeritError('unknown_agent_mention', `mentioned agent ${mention} is not a candidate`, {
      details: { agentId: mention },
    });
  }
  if (mentioned.external === true) throw new ExternalAgentError(mentioned.nickname);
}

/**
 * Chooses the agent for one task. An explicit mention always wins; otherwise the active agents within the
 * cost/duration limits compete on a load-penalised Thompson draw; if none fits the limits, the cheapest
 * active agent is chosen (reason `fallback_constraints`). The orchestrator is left out unless mentioned.
 * Runners-up are listed by posterior mean (`compareByExpectedScore`).
 */
export function chooseAgent(request: RoutingRequest, options: Partial<RouterOptions> = {}): Decision {
  assertMentionIsCandidate(request);
  const context = createRoutingContext(request, { ...DEFAULT_ROUTER_OPTIONS, ...options });
  // Sorted by id so the same inputs in any order consume the random stream identically.
  const candidates = request.candidates
    .filter((candidate) => isRoutable(candidate, request.mentionedAgentId))
    .sort((left, right) => left.agentId.localeCompare(right.agentId));
  const objective = request.objective ?? QUALITY_OBJECTIVE;
  const evaluations = chargeUnknownCosts(
    candidates.map((candidate) => evaluateCandidate(context, request, candidate)),
    chooseUnknownCostCharge(objective),
  ).map((evaluation) =>
    evaluation.adjustedScore === null
      ? evaluation
      : {
          ...evaluation,
          utility: computeUtility(evaluation.adjustedScore, evaluation.chargedCost, objective),
        },
  );
  const [winner, reason] = selectWinner([...evaluations], request, context.options);
  return {
    ...winner,
    reason,
    category: request.category,
    objective,
    runnersUp: evaluations.filter((evaluation) => evaluation !== winner).sort(compareByExpectedScore),
    constraints: {
      maxCost: request.constraints?.maxCost ?? null,
      maxDurationMs: request.constraints?.maxDurationMs ?? null,
      loadPenalty: context.options.loadPenalty,
      excludedAgentIds: evaluations.filter((e) => e.excludedBecause !== undefined).map((e) => e.agentId),
    },
  };
}

/**
 * Every candidate's posterior reward in the request's category, exactly as the router sees it but without
 * a draw, limits or a winner: the figures behind capability and best-agent listings.
 */
export function estimateCandidates(
  request: PosteriorRequest,
  options: Partial<RouterOptions> = {},
): AgentEvaluation[] {
  const context = createRoutingContext(request, { ...DEFAULT_ROUTER_OPTIONS, ...options });
  return request.candidates.map((candidate) => {
    const { alpha: _alpha, beta: _beta, ...evaluation } = estimateCandidate(context, candidate);
    return evaluation;
  });
}

/** The router with its tuning fixed once, for callers that route many tasks. */
export class IntelligentRouter {
  readonly options: RouterOptions;

  constructor(options: Partial<RouterOptions> = {}) {
    this.options = { ...DEFAULT_ROUTER_OPTIONS, ...options };
  }

  route(request: RoutingRequest): Decision {
    return chooseAgent(request, this.options);
  }
}

// ---------------------------------------------------------------------------------------------------
// Baselines for comparison

/** Active candidates other than the orchestrator and external agents: what both baselines choose from. */
function findBaselinePool(request: RoutingRequest): RoutingCandidate[] {
  const pool = request.candidates.filter(
    (candidate) => candidate.active && !candidate.isOrchestrator && candidate.external !== true,
  );
  if (pool.length === 0) throw new NotFoundError('agent_not_found', 'no active agent can take this task');
  return [...pool].sort((left, right) => left.agentId.localeCompare(right.agentId));
}

/** Picks uniformly among the given items. */
function pickUniformly<T>(items: readonly T[], random: () => number): T {
  const item = items[Math.min(items.length - 1, Math.floor(random() * items.length))];
  if (item === undefined) throw new NotFoundError('agent_not_found', 'no active agent can take this task');
  return item;
}

/**
 * The old rule: the best average score × success rate in the category. Failed tasks count as reward 0,
 * so that product is the mean reward. No exploration: a pair with no feedback yet scores as the team-wide
 * mean reward; ties are broken at random.
 */
export function chooseGreedy(request: RoutingRequest): BaselineChoice {
  assertMentionIsCandidate(request);
  if (request.mentionedAgentId != null)
    return { agentId: request.mentionedAgentId, reason: 'mention', score: null };
  const observed = request.agentStats.reduce((sum, stats) => sum + stats.n, 0);
  const globalMean =
    observed === 0 ? 0 : request.agentStats.reduce((sum, stats) => sum + stats.rewardSum, 0) / observed;
  const pairs = request.pairStats.filter((stats) => stats.category === request.category);
  const scored = findBaselinePool(request).map((candidate) => {
    const pair = pairs.find((stats) => stats.agentId === candidate.agentId);
    return {
      agentId: candidate.agentId,
      score: pair !== undefined && pair.n > 0 ? pair.rewardSum / pair.n : globalMean,
    };
  });
  const bestScore = Math.max(...scored.map((entry) => entry.score));
  const best = pickUniformly(
    scored.filter((entry) => entry.score === bestScore),
    request.random,
  );
  return { agentId: best.agentId, reason: 'greedy', score: best.score };
}

/** Picks an active agent uniformly at random (the no-information baseline). */
export function chooseRandomly(request: RoutingRequest): BaselineChoice {
  assertMentionIsCandidate(request);
  if (request.mentionedAgentId != null)
    return { agentId: request.mentionedAgentId, reason: 'mention', score: null };
  return {
    agentId: pickUniformly(findBaselinePool(request), request.random).agentId,
    reason: 'random',
    score: null,
  };
}
