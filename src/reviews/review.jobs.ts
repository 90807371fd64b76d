import type { Task } from 'graphile-worker';
import { z } from 'zod';
import { LlmError } from '../errors.js';
import {
  type EvaluationDeps,
  type JobAttempt,
  type JobOutcome,
  planReviewJobs,
  readJobAttempt,
  settleJobOutcome,
} from '../evaluation/evaluation.jobs.js';
import { decideFailure, EVALUATION_RATE_LIMIT, REVIEW_TASK_JOB } from '../evaluation/evaluation.js';
import { findTaskForEvaluation, takeRateLimitToken } from '../evaluation/evaluation.queries.js';
import { applyScoreChange, lockTask } from '../evaluation/rescore.js';
import { roundTo } from '../evaluation/scores.js';
import { runTransactionWithEvents } from '../events/transactional-events.js';
import { spendOfError } from '../llm/provider.js';
import { hasSpend, priceSpend } from '../llm/usage.js';
import { enqueueJobs } from '../tasks/tasks.queries.js';
import {
  agreementFromSums,
  buildReviewJobKey,
  LLM_PEER_REVIEW_VERSION,
  type PeerReview,
  type Reviewer,
  reviewOffline,
  reviewWithLlm,
  selectReviewers,
  weightedPeerScore,
} from './peer-review.js';
import {
  findActiveAgentIds,
  findReviewerAgreementSums,
  findReviewsForTask,
  savePeerReview,
} from './reviews.queries.js';

/**
 * Whether a stored review settles the reviewer's part for a job at `attempt`: a done review does, and so
 * does a failed one, unless an earlier attempt of this same job left it (it failed transiently after
 * paid calls, and stored their usage while its job retried).
 */
export function isReviewSettled(
  review: { status: 'done' | 'failed'; attempts: number },
  attempt: Pick<JobAttempt, 'attempts'>,
): boolean {
  return review.status === 'done' || review.attempts >= attempt.attempts;
}

/**
 * Peer-reviews one completed task by every configured reviewer still due (never the task's own agent,
 * never twice), one after the other, in this process: for the demo seeding and tests. The worker runs
 * one job per reviewer instead (reviewTaskBy). A transient failure of one reviewer does not stop the
 * others; it is thrown once they have run, so the caller can retry.
 */
export async function reviewTask(
  deps: EvaluationDeps,
  taskId: string,
  attempt: JobAttempt,
): Promise<JobOutcome> {
  const task = await findTaskForEvaluation(deps.db, taskId);
  if (task?.status !== 'completed') return { status: 'skipped', reason: 'the task is not completed' };
  const existing = await findReviewsForTask(deps.db, taskId);
  const due = selectReviewers(
    deps.reviewers,
    task.agent_id,
    existing.filter((review) => isReviewSettled(review, attempt)).map((review) => review.reviewer_agent_id),
  );
  const failures: string[] = [];
  let transient: unknown;
  let done = 0;
  for (const reviewer of due) {
    let outcome: JobOutcome;
    try {
      outcome = await reviewTaskBy(deps, taskId, reviewer.agentId, attempt);
    } catch (error) {
      transient ??= error;
      continue;
    }
    if (outcome.status === 'rate_limited') return outcome;
    if (outcome.status === 'failed') failures.push(`${reviewer.nickname}: ${outcome.reason}`);
    if (outcome.status === 'done') done += 1;
  }
  if (transient !== undefined) throw transient;
  if (failures.length > 0) return { status: 'failed', reason: failures.join('; ') };
  return done > 0 ? { status: 'done' } : { status: 'skipped', reason: 'no reviewer is due' };
}

/**
 * One reviewer's review of one completed task, with the LLM when one is configured, else offline. The
 * review is stored with the reviewer's current weight (agreement with users' ratings), and the task's
 * peer score, overall score, rewards and statistics follow in the same transaction. A reviewer whose
 * review exists already, who is inactive, unconfigured or the task's own agent, is skipped. Transient
 * LLM failures are thrown for a retry of this reviewer's job only; a permanent one is recorded.
 */
export async function reviewTaskBy(
  deps: EvaluationDeps,
  taskId: string,
  reviewerAgentId: string,
  attempt: JobAttempt,
): Promise<JobOutcome> {
  const task = await findTaskForEvaluation(deps.db, taskId);
  if (task?.status !== 'completed') return { status: 'skipped', reason: 'the task is not completed' };
  const reviewer = deps.reviewers.find((candidate) => candidate.agentId === reviewerAgentId);
  if (!reviewer) return { status: 'skipped', reason: `${reviewerAgentId} is not a configured reviewer` };
  if (reviewer.agentId === task.agent_id) {
    return { status: 'skipped', reason: 'an agent never reviews its own task' };
  }
  const agents = await findActiveAgentIds(deps.db, task.project_id);
  if (!agents.has(reviewer.agentId))
    return { status: 'skipped', reason: `${reviewer.nickname} is not active` };
  const existing = await findReviewsForTask(deps.db, taskId);
  const stored = existing.find((review) => review.reviewer_agent_id === reviewer.agentId);
  if (stored && isReviewSettled(stored, attempt)) {
    return { status: 'skipped', reason: `${reviewer.nickname} already reviewed the task` };
  }
  const input = {
    command: task.command,
    output: task.result,
    category: task.objective_category,
    criteria: task.evaluation_criteria,
    status: 'completed' as const,
  };
  let review: PeerReview;
  if (deps.provider) {
    const waitMs = await takeRateLimitToken(deps.db, EVALUATION_RATE_LIMIT, deps.ratePerMinute);
    if (waitMs > 0) return { status: 'rate_limited', retryInMs: waitMs };
    try {
      review = await reviewWithLlm(deps.provider, reviewer, input);
    } catch (error) {
      if (!(error instanceof LlmError)) throw error;
      const decision = decideFailure(error, attempt);
      const spend = spendOfError(error);
      // Recorded with its reason (and no score), so the review is neither lost nor retried forever; a
      // transient failure is recorded only when its calls may have cost something, and its job retries.
      if (!decision.retry || hasSpend(spend)) {
        const priced = priceSpend(deps.provider.model, spend);
        await savePeerReview(
          deps.db,
          {
            task_id: taskId,
            evaluated_agent_id: task.agent_id,
            reviewer_agent_id: reviewer.agentId,
            perspective: reviewer.perspective,
            status: 'failed',
            failure_reason: decision.reason,
            score: null,
            strengths: [],
            weaknesses: [],
            suggestions: [],
            review_text: '',
            source: 'llm',
            evaluator_version: `${LLM_PEER_REVIEW_VERSION}:${deps.provider.model}`,
            reviewer_weight: 1,
            prompt_tokens: priced.promptTokens,
            completion_tokens: priced.completionTokens,
            estimated_cost: priced.cost,
            attempts: attempt.attempts,
          },
          { spent: hasSpend(spend) },
        );
      }
      if (decision.retry) throw error;
      return { status: 'failed', reason: decision.reason };
    }
  } else {
    review = reviewOffline(reviewer, input);
  }
  await storeReview(deps, task, reviewer, review, attempt.attempts);
  return { status: 'done' };
}

async function storeReview(
  deps: EvaluationDeps,
  task: { id: string; project_id: string; agent_id: string },
  reviewer: Reviewer,
  review: PeerReview,
  attempts: number,
): Promise<void> {
  const agreement = agreementFromSums(
    await findReviewerAgreementSums(deps.db, task.project_id, reviewer.agentId),
  );
  await runTransactionWithEvents(deps.db, deps.events, async (trx, emit) => {
    const locked = await lockTask(trx, task.id);
    if (!locked) return;
    const inserted = await savePeerReview(
      trx,
      {
        task_id: task.id,
        evaluated_agent_id: task.agent_id,
        reviewer_agent_id: reviewer.agentId,
        perspective: reviewer.perspective,
        status: 'done',
        failure_reason: null,
        score: review.score,
        strengths: review.strengths,
        weaknesses: review.weaknesses,
        suggestions: review.suggestions,
        review_text: review.reviewText,
        source: review.source,
        evaluator_version: review.evaluatorVersion,
        reviewer_weight: roundTo(agreement.weight, 2),
        // A heuristic review makes no LLM call: its usage is null (nothing to know), never a measured 0.
        prompt_tokens: review.usage?.promptTokens ?? null,
        completion_tokens: review.usage?.completionTokens ?? null,
        estimated_cost: review.usage?.cost ?? null,
        attempts,
      },
      { spent: review.usage !== null && hasSpend(review.usage.spend) },
    );
    // A concurrent run stored this reviewer's review first: the task's figures already include it.
    if (!inserted) return;
    const reviews = await findReviewsForTask(trx, task.id);
    const peer = weightedPeerScore(
      reviews
        .filter((row) => row.score !== null)
        .map((row) => ({ score: Number(row.score), reviewerWeight: Number(row.reviewer_weight) })),
    );
    await applyScoreChange(
      trx,
      locked,
      { peer, sources: { peer: { source: 'peer', version: review.evaluatorVersion } } },
      deps,
    );
    emit({ type: 'leaderboard', projectId: locked.project_id, agentIds: [locked.agent_id] });
    emit({ type: 'task', projectId: locked.project_id, userId: locked.user_id, taskId: locked.id });
  });
}

/**
 * Replaces a review job of the shape queued before reviews had one job per reviewer ({ task_id } only)
 * with one job per reviewer still due; returns how many were queued.
 */
export async function fanOutReviewJobs(deps: EvaluationDeps, taskId: string): Promise<number> {
  const task = await findTaskForEvaluation(deps.db, taskId);
  if (task?.status !== 'completed') return 0;
  const existing = await findReviewsForTask(deps.db, taskId);
  const jobs = planReviewJobs(
    taskId,
    task.agent_id,
    deps.reviewers,
    existing.map((review) => review.reviewer_agent_id),
  );
  await enqueueJobs(deps.db, jobs);
  return jobs.length;
}

// reviewer_agent_id is absent in jobs queued by earlier versions (one job for all reviewers).
const reviewPayload = z.object({ task_id: z.guid(), reviewer_agent_id: z.string().min(1).optional() });

export function createReviewJobs(deps: EvaluationDeps): Record<string, Task> {
  return {
    [REVIEW_TASK_JOB]: async (payload, helpers) => {
      const parsed = reviewPayload.safeParse(payload);
      if (!parsed.success) {
        helpers.logger.error(`${REVIEW_TASK_JOB}: ignoring a job without a task id`);
        return;
      }
      const { task_id: taskId, reviewer_agent_id: reviewerAgentId } = parsed.data;
      if (reviewerAgentId === undefined) {
        const queued = await fanOutReviewJobs(deps, taskId);
        helpers.logger.info(`${REVIEW_TASK_JOB} ${taskId}: split into ${queued} reviewer jobs`);
        return;
      }
      const outcome = await reviewTaskBy(deps, taskId, reviewerAgentId, readJobAttempt(helpers));
      await settleJobOutcome(
        helpers,
        {
          identifier: REVIEW_TASK_JOB,
          payload: { task_id: taskId, reviewer_agent_id: reviewerAgentId },
          jobKey: buildReviewJobKey(taskId, reviewerAgentId),
          label: `${taskId} by ${reviewerAgentId}`,
        },
        outcome,
      );
    },
  };
}
