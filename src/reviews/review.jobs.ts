import type { Task } from 'graphile-worker';
import { runTransaction } from '../db/transaction.js';
import { LlmError } from '../errors.js';
import {
  type EvaluationDeps,
  type JobAttempt,
  type JobOutcome,
  runTaskJob,
} from '../evaluation/evaluation.jobs.js';
import { decideFailure, EVALUATION_RATE_LIMIT, REVIEW_TASK_JOB } from '../evaluation/evaluation.js';
import { findTaskForEvaluation, takeRateLimitToken } from '../evaluation/evaluation.queries.js';
import { applyScoreChange, lockTask } from '../evaluation/rescore.js';
import { roundTo } from '../evaluation/scores.js';
import {
  LLM_PEER_REVIEW_VERSION,
  measureReviewerAgreement,
  type PeerReview,
  reviewOffline,
  reviewWithLlm,
  selectReviewers,
  weightedPeerScore,
} from './peer-review.js';
import {
  findActiveAgentIds,
  findReviewerRatingPairs,
  findReviewsForTask,
  insertPeerReview,
} from './reviews.queries.js';

/**
 * Peer-reviews one completed task: each configured reviewer (never the task's own agent, never twice)
 * reviews it with the LLM when one is configured, else offline. Each review is stored with the
 * reviewer's current weight (agreement with users' ratings), and the task's peer score, overall score,
 * rewards and statistics follow in the same transaction. Transient LLM failures are thrown for a
 * retry; reviews already stored are kept and not redone.
 */
export async function reviewTask(
  deps: EvaluationDeps,
  taskId: string,
  attempt: JobAttempt,
): Promise<JobOutcome> {
  const task = await findTaskForEvaluation(deps.db, taskId);
  if (task?.status !== 'completed') return { status: 'skipped', reason: 'the task is not completed' };
  const agents = await findActiveAgentIds(deps.db);
  const existing = await findReviewsForTask(deps.db, taskId);
  const due = selectReviewers(
    deps.reviewers.filter((reviewer) => agents.has(reviewer.agentId)),
    task.agent_id,
    existing.map((review) => review.reviewer_agent_id),
  );
  if (due.length === 0) return { status: 'skipped', reason: 'no reviewer is due' };
  const input = {
    command: task.command,
    output: task.result,
    category: task.objective_category,
    criteria: task.evaluation_criteria,
    status: 'completed' as const,
  };
  const failures: string[] = [];
  for (const reviewer of due) {
    let review: PeerReview;
    if (deps.provider) {
      const waitMs = await takeRateLimitToken(deps.db, EVALUATION_RATE_LIMIT, deps.ratePerMinute);
      if (waitMs > 0) return { status: 'rate_limited', retryInMs: waitMs };
      try {
        review = await reviewWithLlm(deps.provider, reviewer, input);
      } catch (error) {
        if (!(error instanceof LlmError)) throw error;
        const decision = decideFailure(error, attempt);
        if (decision.retry) throw error;
        // Recorded with its reason (and no score), so the review is neither lost nor retried forever.
        await insertPeerReview(deps.db, {
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
          prompt_tokens: 0,
          completion_tokens: 0,
          estimated_cost: 0,
        });
        failures.push(`${reviewer.nickname}: ${decision.reason}`);
        continue;
      }
    } else {
      review = reviewOffline(reviewer, input);
    }
    const pairs = await findReviewerRatingPairs(deps.db, [reviewer.agentId]);
    const agreement = measureReviewerAgreement(
      pairs.map((pair) => ({ peerScore: pair.score, userRating: pair.user_rating })),
    );
    await runTransaction(deps.db, async (trx) => {
      const locked = await lockTask(trx, taskId);
      if (!locked) return;
      const inserted = await insertPeerReview(trx, {
        task_id: taskId,
        evaluated_agent_id: task.agent_id,
        reviewer_agent_id: reviewer.agentId,
        perspective: reviewer.perspective,
        score: review.score,
        strengths: review.strengths,
        weaknesses: review.weaknesses,
        suggestions: review.suggestions,
        review_text: review.reviewText,
        source: review.source,
        evaluator_version: review.evaluatorVersion,
        reviewer_weight: roundTo(agreement.weight, 2),
        prompt_tokens: review.usage?.promptTokens ?? 0,
        completion_tokens: review.usage?.completionTokens ?? 0,
        estimated_cost: review.usage?.cost ?? 0,
      });
      // A concurrent run stored this reviewer's review first: the task's figures already include it.
      if (!inserted) return;
      const reviews = await findReviewsForTask(trx, taskId);
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
    });
  }
  return failures.length > 0 ? { status: 'failed', reason: failures.join('; ') } : { status: 'done' };
}

export function createReviewJobs(deps: EvaluationDeps): Record<string, Task> {
  return {
    [REVIEW_TASK_JOB]: (payload, helpers) =>
      runTaskJob(
        REVIEW_TASK_JOB,
        payload,
        helpers,
        (taskId, attempt) => reviewTask(deps, taskId, attempt),
        deps.onStatsChanged,
      ),
  };
}
