/**
 * Pure pieces of routing around the router itself: rolling pair statistics up to
 * agents, picking the posterior-best agent of a decision, and summarising routing quality over time.
 *
 * Terminology: reward = one task's blended 0-1 figure (`blendTaskReward`; a failed task is worth 0);
 * pair = one (agent, category) combination; decision = one routing choice, stored with its reasons.
 */
import type { RoutingObjectivesTable } from '../db/database.js';
import { ValidationError } from '../errors.js';
import { blendTaskReward } from '../ranking/ranking.js';
import type {
  AgentEvaluation,
  AgentStats,
  Decision,
  DecisionReason,
  ExclusionReason,
  PairStats,
  RoutingCandidate,
  RoutingObjective,
} from './router.js';
import { DEFAULT_MIN_PROBABILITY, type ObjectiveKind } from './router.js';

/** One (agent, category) row of the router's statistics query, with the counts behind its means. */
export interface PairStatsRow extends PairStats {
  rewardSquareSum: number;
  /** Completed tasks with a known cost / duration (the weights of `meanCost` / `meanDurationMs`). */
  costCount: number;
  durationCount: number;
}

/** Sums pair statistics into per-agent statistics; means are weighted by how many tasks stand behind them. */
export function combineAgentStats(pairs: readonly PairStatsRow[]): AgentStats[] {
  const byAgent = new Map<
    string,
    {
      n: number;
      rewardSum: number;
      squares: number;
      failures: number;
      unscored: number;
      cost: number;
      costs: number;
      ms: number;
      durations: number;
    }
  >();
  for (const pair of pairs) {
    const total = byAgent.get(pair.agentId) ?? {
      n: 0,
      rewardSum: 0,
      squares: 0,
      failures: 0,
      unscored: 0,
      cost: 0,
      costs: 0,
      ms: 0,
      durations: 0,
    };
    total.n += pair.n;
    total.rewardSum += pair.rewardSum;
    total.squares += pair.rewardSquareSum;
    total.failures += pair.failures ?? 0;
    total.unscored += pair.unscored ?? 0;
    total.cost += (pair.meanCost ?? 0) * pair.costCount;
    total.costs += pair.costCount;
    total.ms += (pair.meanDurationMs ?? 0) * pair.durationCount;
    total.durations += pair.durationCount;
    byAgent.set(pair.agentId, total);
  }
  return [...byAgent.entries()]
    .sort(([left], [right]) => left.localeCompare(right))
    .map(([agentId, total]) => ({
      agentId,
      n: total.n,
      rewardSum: total.rewardSum,
      rewardSquareSum: total.squares,
      failures: total.failures,
      unscored: total.unscored,
      meanCost: total.costs > 0 ? total.cost / total.costs : null,
      meanDurationMs: total.durations > 0 ? total.ms / total.durations : null,
    }));
}

/**
 * Adds to each candidate's declared specialisations the categories whose template recommends it: both
 * are claims made before any record, and the router treats them alike (see `computeSpecialtyMean`).
 */
export function addRecommendedSpecialties(
  candidates: readonly RoutingCandidate[],
  templates: readonly { category: string; recommended_agents: readonly string[] }[],
): RoutingCandidate[] {
  return candidates.map((candidate) => {
    const recommended = templates
      .filter((template) => template.recommended_agents.includes(candidate.agentId))
      .map((template) => template.category);
    return { ...candidate, specialties: [...new Set([...(candidate.specialties ?? []), ...recommended])] };
  });
}

/** The eligible agent with the highest posterior mean: who a purely greedy router would have picked. */
export function findPosteriorBest(decision: Decision): AgentEvaluation | null {
  const all = [decision, ...decision.runnersUp].filter((entry) => entry.excludedBecause === undefined);
  return (
    all.sort(
      (left, right) => right.expectedScore - left.expectedScore || left.agentId.localeCompare(right.agentId),
    )[0] ?? null
  );
}

/** One stored decision with whatever is known of its task's outcome. */
export interface DecisionOutcome {
  createdAt: Date;
  reason: DecisionReason;
  chosenAgentId: string;
  bestAgentId: string | null;
  taskId: string | null;
  taskStatus: 'queued' | 'running' | 'completed' | 'failed' | null;
  userRating: number | null;
  judgeScore: number | null;
  peerScore: number | null;
}

/** A decision's outcome reward: null until its task finished and has feedback (a failure is 0 at once). */
export function computeOutcomeReward(outcome: DecisionOutcome): number | null {
  if (outcome.taskStatus === 'failed') return 0;
  if (outcome.taskStatus !== 'completed') return null;
  return blendTaskReward({
    failed: false,
    userRating: outcome.userRating,
    judgeScore: outcome.judgeScore,
    peerScore: outcome.peerScore,
  });
}

export interface QualityPoint {
  /** UTC day, YYYY-MM-DD. */
  day: string;
  decisions: number;
  /** Decisions the router made itself (not mentions). */
  routed: number;
  /** Routed decisions whose task has an outcome reward. */
  rewarded: number;
  meanReward: number | null;
  /** Share of routed decisions that went to the agent with the best posterior mean at the time. */
  bestAgentShare: number | null;
}

function round(value: number, decimals: number): number {
  return Math.round(value * 10 ** decimals) / 10 ** decimals;
}

/** A group of decisions counted for routing quality (a day, an hour, a whole window). */
export interface QualitySums {
  decisions: number;
  /** Decisions the router made itself (not mentions). */
  routed: number;
  /** Routed decisions whose task has an outcome reward, and the sum of those rewards. */
  rewarded: number;
  rewardSum: number;
  /** Routed decisions that knew the posterior-best agent, and those that went to it. */
  withBest: number;
  toBest: number;
}

/** Counts decision outcomes as routing quality sums (what routing_quality_hourly holds per hour). */
export function countQualitySums(outcomes: readonly DecisionOutcome[]): QualitySums {
  const routed = outcomes.filter((outcome) => outcome.reason !== 'mention');
  const rewards = routed.map(computeOutcomeReward).filter((reward): reward is number => reward !== null);
  const withBest = routed.filter((outcome) => outcome.bestAgentId !== null);
  return {
    decisions: outcomes.length,
    routed: routed.length,
    rewarded: rewards.length,
    rewardSum: rewards.reduce((sum, reward) => sum + reward, 0),
    withBest: withBest.length,
    toBest: withBest.filter((outcome) => outcome.chosenAgentId === outcome.bestAgentId).length,
  };
}

function toQualityPoint(day: string, sums: QualitySums): QualityPoint {
  return {
    day,
    decisions: sums.decisions,
    routed: sums.routed,
    rewarded: sums.rewarded,
    meanReward: sums.rewarded > 0 ? round(sums.rewardSum / sums.rewarded, 4) : null,
    bestAgentShare: sums.withBest > 0 ? round(sums.toBest / sums.withBest, 4) : null,
  };
}

/**
 * Routing quality per UTC day (oldest first) and over the whole period from each day's sums: how many
 * decisions, the mean outcome reward of routed tasks, and how often the router chose the posterior-best
 * agent (the rest is exploration). Mentions count as decisions but not as routed.
 */
export function summarizeQualityDays(days: readonly (QualitySums & { day: string })[]): {
  days: QualityPoint[];
  overall: Omit<QualityPoint, 'day'>;
} {
  const sorted = [...days].filter((day) => day.decisions > 0).sort((a, b) => a.day.localeCompare(b.day));
  const total: QualitySums = { decisions: 0, routed: 0, rewarded: 0, rewardSum: 0, withBest: 0, toBest: 0 };
  for (const day of sorted) {
    total.decisions += day.decisions;
    total.routed += day.routed;
    total.rewarded += day.rewarded;
    total.rewardSum += day.rewardSum;
    total.withBest += day.withBest;
    total.toBest += day.toBest;
  }
  const { day: _day, ...overall } = toQualityPoint('', total);
  return { days: sorted.map((day) => toQualityPoint(day.day, day)), overall };
}

/** Routing quality of decision outcomes (see summarizeQualityDays), grouped by their UTC day. */
export function summarizeRoutingQuality(outcomes: readonly DecisionOutcome[]): {
  days: QualityPoint[];
  overall: Omit<QualityPoint, 'day'>;
} {
  const byDay = new Map<string, DecisionOutcome[]>();
  for (const outcome of outcomes) {
    const day = outcome.createdAt.toISOString().slice(0, 10);
    const group = byDay.get(day);
    if (group) group.push(outcome);
    else byDay.set(day, [outcome]);
  }
  return summarizeQualityDays([...byDay].map(([day, group]) => ({ day, ...countQualitySums(group) })));
}

/** An agent's evaluation as the API and the stored decision show it (snake_case, rounded). */
export interface EvaluationView {
  agent_id: string;
  nickname: string;
  expected_score: number;
  interval: { lower: number; upper: number };
  sampled_score: number | null;
  adjusted_score: number | null;
  observations: number;
  specialist: boolean;
  expected_cost: number | null;
  charged_cost: number | null;
  expected_duration_ms: number | null;
  load: number;
  utility: number | null;
  target_probability: number | null;
  excluded_because: ExclusionReason | null;
}

export function toEvaluationView(evaluation: AgentEvaluation): EvaluationView {
  return {
    agent_id: evaluation.agentId,
    nickname: evaluation.nickname,
    expected_score: round(evaluation.expectedScore, 4),
    interval: { lower: round(evaluation.interval[0], 4), upper: round(evaluation.interval[1], 4) },
    sampled_score: evaluation.sampledScore === null ? null : round(evaluation.sampledScore, 4),
    adjusted_score: evaluation.adjustedScore === null ? null : round(evaluation.adjustedScore, 4),
    observations: evaluation.observations,
    specialist: evaluation.specialist,
    expected_cost: evaluation.expectedCost === null ? null : round(evaluation.expectedCost, 6),
    charged_cost: evaluation.chargedCost === null ? null : round(evaluation.chargedCost, 6),
    expected_duration_ms:
      evaluation.expectedDurationMs === null ? null : Math.round(evaluation.expectedDurationMs),
    load: evaluation.load,
    utility: evaluation.utility === null ? null : round(evaluation.utility, 4),
    target_probability: evaluation.targetProbability === null ? null : round(evaluation.targetProbability, 4),
    excluded_because: evaluation.excludedBecause ?? null,
  };
}

/** An objective as the API and the stored decision show it (snake_case). */
export interface ObjectiveView {
  kind: RoutingObjective['kind'];
  usd_per_quality: number | null;
  target_quality: number | null;
  min_probability: number | null;
}

export function toObjectiveView(objective: RoutingObjective): ObjectiveView {
  return {
    kind: objective.kind,
    usd_per_quality: objective.kind === 'value' ? objective.usdPerQuality : null,
    target_quality: objective.kind === 'cheapest_meeting' ? objective.targetQuality : null,
    min_probability: objective.kind === 'cheapest_meeting' ? objective.minProbability : null,
  };
}

/** A project's stored default objective (migration 014), as the router needs it. */
export type StoredObjective = Pick<
  RoutingObjectivesTable,
  'objective' | 'usd_per_quality' | 'target_quality' | 'min_probability'
>;

/** What one request asks of the objective: any of the kind and knobs, the rest from the project. */
export interface ObjectiveRequest {
  kind?: ObjectiveKind | undefined;
  usdPerQuality?: number | undefined;
  targetQuality?: number | undefined;
  minProbability?: number | undefined;
}

/**
 * The objective one decision uses: the request's kind and knobs over the project's stored ones, over
 * `quality`. Knobs of another kind are ignored. A `value` or `cheapest_meeting` without its knob anywhere
 * is refused naming the field (Merit never invents a price of quality or a target).
 */
export function resolveRoutingObjective(
  stored: StoredObjective | undefined,
  requested: ObjectiveRequest = {},
): RoutingObjective {
  const kind = requested.kind ?? stored?.objective ?? 'quality';
  if (kind === 'quality') return { kind };
  if (kind === 'value') {
    const usdPerQuality = requested.usdPerQuality ?? stored?.usd_per_quality ?? null;
    if (usdPerQuality === null)
      throw new ValidationError(
        'objective.usd_per_quality',
        'is required by the value objective (the request names none and the project sets none)',
      );
    return { kind, usdPerQuality };
  }
  const targetQuality = requested.targetQuality ?? stored?.target_quality ?? null;
  if (targetQuality === null)
    throw new ValidationError(
      'objective.target_quality',
      'is required by the cheapest_meeting objective (the request names none and the project sets none)',
    );
  const minProbability = requested.minProbability ?? stored?.min_probability ?? DEFAULT_MIN_PROBABILITY;
  return { kind, targetQuality, minProbability };
}
