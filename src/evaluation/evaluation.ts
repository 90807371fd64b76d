/**
 * The evaluation engine's pure rules: which tasks are evaluated (a deterministic sample), how a score
 * row changes when an evaluator or a peer review reports, and which reward rules then apply.
 * Glossary: task = one command executed by one agent; job = background work; score = a 0-1 figure.
 */
import type { AppliedRewardRule, ScoreRow, ScoreSource } from '../db/database.js';
import { hashSeed } from '../lib/random.js';
import { applyRewardRules, type RewardConfig } from '../rewards/reward-rules.js';
import { combineOverallScore, type OverallWeights } from './scores.js';

export const EVALUATE_TASK_JOB = 'evaluate_task';
export const REVIEW_TASK_JOB = 'review_task';
/**
 * Calls in all per job, counting the first. graphile-worker waits exp(min(attempts, 10)) seconds before
 * each retry (about 3 s, 7 s, 20 s, 55 s, 2.5 min), so a provider outage of up to ~4 minutes loses nothing.
 */
export const EVALUATION_MAX_ATTEMPTS = 6;
export const EVALUATION_RATE_LIMIT = 'llm_evaluations';
export const REWARDS_VERSION = 'rewards-1';

/**
 * Whether a task is in the evaluated share: its id hashed (FNV-1a) onto [0, 1) and compared with the
 * rate, so a task is either always or never sampled, whichever process asks.
 */
export function isTaskSampled(taskId: string, sampleRate: number): boolean {
  if (sampleRate >= 1) return true;
  if (sampleRate <= 0) return false;
  return hashSeed(taskId) / 2 ** 32 < sampleRate;
}

/** The job key that keeps one job per task and kind: a re-sent completion cannot enqueue twice. */
export function buildJobKey(job: typeof EVALUATE_TASK_JOB | typeof REVIEW_TASK_JOB, taskId: string): string {
  return `${job}:${taskId}`;
}

export type ScoreComponents = Pick<
  ScoreRow,
  | 'accuracy_score'
  | 'relevance_score'
  | 'completeness_score'
  | 'efficiency_score'
  | 'peer_score'
  | 'user_rating'
  | 'overall_score'
  | 'reward_points'
  | 'score_sources'
>;

/** What an evaluator, the peer reviews or the user's rating report for one task. */
export type ScoreChange = {
  accuracy?: number | null;
  relevance?: number | null;
  completeness?: number | null;
  peer?: number | null;
  userRating?: number | null;
  sources: Record<string, ScoreSource>;
};

/** The task's figures the reward rules compare against (from the database). */
export type RewardContext = {
  durationMs: number | null;
  totalTokens: number | null;
  categoryMedianDurationMs: number | null;
  categoryMedianTokens: number | null;
  isFirstSuccessInCategory: boolean;
  recentScores: number[];
  /** Par for the reward rules: the team's recent evaluated overall scores. */
  teamScores?: readonly number[];
};

export type RescoredFields = {
  user_rating: number | null;
  accuracy_score: number | null;
  relevance_score: number | null;
  completeness_score: number | null;
  peer_score: number | null;
  overall_score: number | null;
  reward_points: number;
  reward_rules: AppliedRewardRule[];
  score_sources: Record<string, ScoreSource>;
};

/**
 * The score row after a change: the reported dimensions replace the old ones, the overall score is
 * recombined from every known component (user rating and peer score included), and the reward rules
 * are applied again to the new figures.
 */
export function rescoreTask(
  before: ScoreComponents,
  change: ScoreChange,
  context: RewardContext,
  options: { weights: OverallWeights; rewards: RewardConfig },
): RescoredFields {
  const pick = (value: number | null | undefined, old: number | null) => (value === undefined ? old : value);
  const accuracy = pick(change.accuracy, before.accuracy_score);
  const relevance = pick(change.relevance, before.relevance_score);
  const completeness = pick(change.completeness, before.completeness_score);
  const peer = pick(change.peer, before.peer_score);
  const userRating = pick(change.userRating, before.user_rating);
  const overall = combineOverallScore(
    {
      accuracy,
      relevance,
      completeness,
      peer,
      efficiency: before.efficiency_score,
      userRating,
    },
    options.weights,
  );
  const outcome = applyRewardRules(
    {
      overallScore: overall,
      efficiencyScore: before.efficiency_score,
      userRating,
      durationMs: context.durationMs,
      categoryMedianDurationMs: context.categoryMedianDurationMs,
      totalTokens: context.totalTokens,
      categoryMedianTokens: context.categoryMedianTokens,
      failed: false,
      isFirstSuccessInCategory: context.isFirstSuccessInCategory,
      recentScores: context.recentScores,
      teamScores: context.teamScores ?? null,
    },
    options.rewards,
  );
  return {
    user_rating: userRating,
    accuracy_score: accuracy,
    relevance_score: relevance,
    completeness_score: completeness,
    peer_score: peer,
    overall_score: overall,
    reward_points: outcome.netPoints,
    reward_rules: outcome.applied,
    score_sources: {
      ...before.score_sources,
      ...change.sources,
      overall: { source: 'formula', version: 'overall-1' },
      reward_points: { source: 'formula', version: REWARDS_VERSION },
    },
  };
}

/** A job attempt's failure: retry while attempts remain and the error is transient, else record it. */
export function decideFailure(
  error: unknown,
  attempt: { attempts: number; maxAttempts: number },
): { retry: boolean; reason: string } {
  const reason = error instanceof Error ? error.message : String(error);
  const retryable =
    typeof error === 'object' && error !== null && (error as { retryable?: unknown }).retryable === true;
  return { retry: retryable && attempt.attempts < attempt.maxAttempts, reason };
}

export type EvaluationStatus = 'pending' | 'done' | 'failed' | 'not_scheduled';

export interface EvaluationState {
  status: EvaluationStatus;
  reason: string | null;
  attempts: number;
  next_attempt_at: string | null;
}

/** What an evaluator's calls cost (its own usage, never charged to the agent); null while unknown. */
export interface EvaluatorSpend {
  prompt_tokens: number | null;
  completion_tokens: number | null;
  estimated_cost: number | null;
}

/**
 * What an evaluator spent over many tasks, honestly: the tokens and cost of the records whose usage is
 * known, summed (null when none is), and counted apart the records of LLM calls whose usage is unknown
 * (unmetered: a provider that reported none, or a call cut off without an answer) and those whose tokens
 * are known but whose model has no price (unpriced). A "call" here is one evaluation or review record
 * (all the attempts it took). The offline evaluators make no call and count in none of these.
 */
export interface SpendTotals {
  prompt_tokens: number | null;
  completion_tokens: number | null;
  cost: number | null;
  unpriced_calls: number;
  unmetered_calls: number;
}

/** One evaluator of one task (the judge or offline evaluator, or one reviewer) and where it stands. */
export interface EvaluatorState extends EvaluationState {
  /** 'judge' or 'heuristic' for the evaluation, the reviewer's agent id for a peer review. */
  evaluator: string;
  role: 'evaluation' | 'peer_review';
  reviewer_agent_id: string | null;
  spend: EvaluatorSpend;
}

/** A finished evaluator's record (task_evaluations or agent_peer_evaluations) as the state needs it. */
export interface EvaluatorRecord {
  status: 'done' | 'failed';
  failure_reason: string | null;
  attempts: number;
  prompt_tokens: number | null;
  completion_tokens: number | null;
  estimated_cost: number | null;
}

export interface EvaluatorJob {
  key: string | null;
  attempts: number;
  max_attempts: number;
  last_error: string | null;
  run_at: Date;
}

/**
 * Which task and reviewer a job key names: `evaluate_task:<task>`, `review_task:<task>` (one job for
 * every reviewer, as queued before reviews had a job each) or `review_task:<task>:<reviewer>`.
 */
export function parseJobKey(key: string): {
  job: typeof EVALUATE_TASK_JOB | typeof REVIEW_TASK_JOB;
  taskId: string;
  reviewerAgentId: string | null;
} | null {
  const [job, taskId, ...rest] = key.split(':');
  if ((job !== EVALUATE_TASK_JOB && job !== REVIEW_TASK_JOB) || !taskId) return null;
  if (job === EVALUATE_TASK_JOB && rest.length > 0) return null;
  return { job, taskId, reviewerAgentId: rest.length > 0 ? rest.join(':') : null };
}

/**
 * Every evaluator of a task with its own state: the evaluation (judge or offline evaluator) and each
 * reviewer that has a record or a queued job. A reviewer still covered by a shared review job (the
 * one-job-for-all shape) has that job's state. Spend is the stored usage of the evaluator's calls, null
 * while nothing is stored.
 */
export function describeEvaluators(input: {
  evaluationKind: 'judge' | 'heuristic';
  evaluation: EvaluatorRecord | null;
  reviews: readonly (EvaluatorRecord & { reviewer_agent_id: string })[];
  /** Reviewers a shared review job would still review (configured, active, not the task's agent). */
  dueReviewers: readonly string[];
  jobs: readonly EvaluatorJob[];
}): EvaluatorState[] {
  const parsed = input.jobs.map((job) => ({ job, key: job.key ? parseJobKey(job.key) : null }));
  const evaluationJob = parsed.find((entry) => entry.key?.job === EVALUATE_TASK_JOB)?.job ?? null;
  const sharedReviewJob =
    parsed.find((entry) => entry.key?.job === REVIEW_TASK_JOB && entry.key.reviewerAgentId === null)?.job ??
    null;
  const reviewJobs = new Map<string, EvaluatorJob>();
  for (const entry of parsed) {
    if (entry.key?.job === REVIEW_TASK_JOB && entry.key.reviewerAgentId !== null) {
      reviewJobs.set(entry.key.reviewerAgentId, entry.job);
    }
  }
  const states: EvaluatorState[] = [];
  if (input.evaluation || evaluationJob) {
    states.push({
      evaluator: input.evaluationKind,
      role: 'evaluation',
      reviewer_agent_id: null,
      ...describeJobState(input.evaluation, evaluationJob),
      spend: toSpend(input.evaluation),
    });
  }
  const reviewers = [
    ...new Set([
      ...input.reviews.map((review) => review.reviewer_agent_id),
      ...reviewJobs.keys(),
      ...(sharedReviewJob ? input.dueReviewers : []),
    ]),
  ];
  for (const reviewer of reviewers) {
    const record = input.reviews.find((review) => review.reviewer_agent_id === reviewer) ?? null;
    const job = reviewJobs.get(reviewer) ?? (record ? null : sharedReviewJob);
    states.push({
      evaluator: reviewer,
      role: 'peer_review',
      reviewer_agent_id: reviewer,
      ...describeJobState(record, job),
      spend: toSpend(record),
    });
  }
  return states;
}

/**
 * The peer reviews as one state: pending while any reviewer is, failed when every reviewer failed (with
 * their reasons), done when at least one review is stored; attempts add up every reviewer's.
 */
export function summarizeReviewStates(reviews: readonly EvaluatorState[]): EvaluationState {
  if (reviews.length === 0)
    return { status: 'not_scheduled', reason: null, attempts: 0, next_attempt_at: null };
  const attempts = reviews.reduce((sum, review) => sum + review.attempts, 0);
  const pending = reviews.filter((review) => review.status === 'pending');
  if (pending.length > 0) {
    const next = pending
      .map((review) => review.next_attempt_at)
      .filter((at): at is string => at !== null)
      .sort()[0];
    const reasons = pending.map((review) => review.reason).filter((reason) => reason !== null);
    return {
      status: 'pending',
      reason: reasons.length > 0 ? reasons.join('; ') : null,
      attempts,
      next_attempt_at: next ?? null,
    };
  }
  if (reviews.every((review) => review.status === 'failed')) {
    return {
      status: 'failed',
      reason: reviews.map((review) => `${review.evaluator}: ${review.reason ?? 'failed'}`).join('; '),
      attempts,
      next_attempt_at: null,
    };
  }
  return { status: 'done', reason: null, attempts, next_attempt_at: null };
}

function toSpend(record: EvaluatorRecord | null): EvaluatorSpend {
  return {
    prompt_tokens: record?.prompt_tokens ?? null,
    completion_tokens: record?.completion_tokens ?? null,
    estimated_cost: record?.estimated_cost ?? null,
  };
}

/**
 * One job's state for the API: a finished record wins; a queued job is pending (with its last error
 * while it waits for a retry) unless graphile-worker gave up on it; no record and no job means the task
 * was never scheduled (evaluation off, not sampled, or not completed).
 */
export function describeJobState(
  record: { status: 'done' | 'failed'; failure_reason: string | null; attempts: number } | null,
  job: { attempts: number; max_attempts: number; last_error: string | null; run_at: Date } | null,
): EvaluationState {
  if (record?.status === 'done') {
    return { status: 'done', reason: null, attempts: record.attempts, next_attempt_at: null };
  }
  if (job) {
    const gaveUp = job.attempts >= job.max_attempts && job.last_error !== null;
    return {
      status: gaveUp ? 'failed' : 'pending',
      reason: job.last_error,
      attempts: job.attempts,
      next_attempt_at: gaveUp ? null : job.run_at.toISOString(),
    };
  }
  if (record) {
    return {
      status: 'failed',
      reason: record.failure_reason,
      attempts: record.attempts,
      next_attempt_at: null,
    };
  }
  return { status: 'not_scheduled', reason: null, attempts: 0, next_attempt_at: null };
}
