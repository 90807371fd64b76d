import type { JobHelpers, Task } from 'graphile-worker';
import type { Kysely } from 'kysely';
import { z } from 'zod';
import type { Config } from '../config.js';
import type { Database, EvaluationKind, ScoreSource } from '../db/database.js';
import { LlmError } from '../errors.js';
import type { EventBus } from '../events/event-bus.js';
import { runTransactionWithEvents } from '../events/transactional-events.js';
import { createConfiguredLlmProvider, type LlmLog, type LlmProvider, spendOfError } from '../llm/provider.js';
import { hasSpend, priceSpend } from '../llm/usage.js';
import { buildReviewJobKey, type Reviewer, selectReviewers } from '../reviews/peer-review.js';
import type { FinishedTaskJobPlanner } from '../tasks/execution-tracker.js';
import type { TaskJobSpec } from '../tasks/tasks.queries.js';
import {
  buildJobKey,
  decideFailure,
  EVALUATE_TASK_JOB,
  EVALUATION_MAX_ATTEMPTS,
  EVALUATION_RATE_LIMIT,
  isTaskSampled,
  REVIEW_TASK_JOB,
  type ScoreChange,
} from './evaluation.js';
import {
  findEvaluation,
  findTaskForEvaluation,
  saveEvaluation,
  takeRateLimitToken,
} from './evaluation.queries.js';
import { judgeOutput } from './judge.js';
import { evaluateOffline } from './offline-evaluator.js';
import { applyScoreChange, lockTask, type RescoreOptions } from './rescore.js';

/** Everything the evaluation and review jobs need, built once from the configuration. */
export interface EvaluationDeps extends RescoreOptions {
  db: Kysely<Database>;
  /** The judge and reviewers' model; undefined without an LLM (offline evaluators are used). */
  provider: LlmProvider | undefined;
  reviewers: readonly Reviewer[];
  ratePerMinute: number;
  /**
   * This process's bus: a job that changes a task's scores (and so its agent's statistics) announces it
   * in the same transaction, to every process.
   */
  events?: EventBus;
}

export function buildEvaluationDeps(config: Config, db: Kysely<Database>, log?: LlmLog): EvaluationDeps {
  const llm = config.llm;
  return {
    db,
    // The judge and reviewers share the provider, and so its retry policy for transient failures.
    provider: llm ? createConfiguredLlmProvider(llm, { model: llm.judgeModel, log }) : undefined,
    weights: config.evaluation.weights,
    rewards: config.evaluation.rewards,
    reviewers: config.evaluation.peerReviewers,
    ratePerMinute: config.evaluation.ratePerMinute,
  };
}

/**
 * Plans the evaluation and peer review jobs of finished tasks; the tracker enqueues them in the same
 * statement or transaction that finishes the tasks, so the jobs exist exactly when the write committed.
 * Nothing is planned when evaluation is switched off; only the sampled share of completed tasks is.
 * Each reviewer gets a job of its own (keyed by task and reviewer), so one reviewer's failures never
 * use up another's attempts.
 */
export function planEvaluationJobs(evaluation: Config['evaluation']): FinishedTaskJobPlanner {
  const reviewers = evaluation.peerReviewers;
  return (tasks) => {
    if (!evaluation.enabled) return [];
    return tasks
      .filter((task) => task.status === 'completed' && isTaskSampled(task.id, evaluation.sampleRate))
      .flatMap((task) => [
        planTaskJob(
          task.id,
          EVALUATE_TASK_JOB,
          { task_id: task.id },
          buildJobKey(EVALUATE_TASK_JOB, task.id),
        ),
        ...planReviewJobs(task.id, task.agent_id, reviewers),
      ]);
  };
}

/** One review job per reviewer due for the task (never its own agent). */
export function planReviewJobs(
  taskId: string,
  taskAgentId: string,
  reviewers: readonly Reviewer[],
  alreadyReviewedBy: string[] = [],
): TaskJobSpec[] {
  return selectReviewers(reviewers, taskAgentId, alreadyReviewedBy).map((reviewer) =>
    planTaskJob(
      taskId,
      REVIEW_TASK_JOB,
      { task_id: taskId, reviewer_agent_id: reviewer.agentId },
      buildReviewJobKey(taskId, reviewer.agentId),
    ),
  );
}

function planTaskJob(
  taskId: string,
  identifier: typeof EVALUATE_TASK_JOB | typeof REVIEW_TASK_JOB,
  payload: Record<string, unknown>,
  jobKey: string,
): TaskJobSpec {
  return {
    task_id: taskId,
    identifier,
    payload,
    max_attempts: EVALUATION_MAX_ATTEMPTS,
    job_key: jobKey,
    queue_name: null,
    run_at: null,
  };
}

export type JobOutcome =
  | { status: 'done' }
  | { status: 'failed'; reason: string }
  | { status: 'skipped'; reason: string }
  | { status: 'rate_limited'; retryInMs: number };

export interface JobAttempt {
  /** This attempt's number, counting from 1 (graphile-worker's job.attempts while the job runs). */
  attempts: number;
  maxAttempts: number;
}

/**
 * Evaluates one completed task: the LLM judge when one is configured, else the offline evaluator.
 * Transient LLM failures are thrown (graphile-worker retries with exponential backoff) until the last
 * attempt; a permanent failure is recorded as 'failed' with its reason and the score row is left alone.
 * A task that already has a finished evaluation is never evaluated again. Every paid call is recorded,
 * whatever the outcome: an attempt that spent something before a transient failure leaves a 'failed'
 * row with that usage (its job still retries, and the next run adds to it).
 */
export async function evaluateTask(
  deps: EvaluationDeps,
  taskId: string,
  attempt: JobAttempt,
): Promise<JobOutcome> {
  const task = await findTaskForEvaluation(deps.db, taskId);
  if (task?.status !== 'completed') return { status: 'skipped', reason: 'the task is not completed' };
  const kind: EvaluationKind = deps.provider ? 'judge' : 'heuristic';
  const existing = await findEvaluation(deps.db, taskId, kind);
  if (existing?.status === 'done') return { status: 'skipped', reason: 'the task is already evaluated' };

  let verdict: Verdict;
  if (deps.provider) {
    const waitMs = await takeRateLimitToken(deps.db, EVALUATION_RATE_LIMIT, deps.ratePerMinute);
    if (waitMs > 0) return { status: 'rate_limited', retryInMs: waitMs };
    try {
      const judged = await judgeOutput(deps.provider, {
        command: task.command,
        output: task.result ?? '',
        category: task.objective_category,
        criteria: task.evaluation_criteria,
      });
      verdict = {
        accuracy: judged.accuracy,
        relevance: judged.relevance,
        completeness: judged.completeness,
        reasoning: judged.reasoning,
        version: judged.evaluatorVersion,
        model: deps.provider.model,
        promptTokens: judged.usage.promptTokens,
        completionTokens: judged.usage.completionTokens,
        cost: judged.usage.cost,
        spent: hasSpend(judged.usage.spend),
      };
    } catch (error) {
      if (!(error instanceof LlmError)) throw error;
      const decision = decideFailure(error, attempt);
      const spend = spendOfError(error);
      // A retry that spent nothing leaves no row: the job's own state says it is pending.
      if (!decision.retry || hasSpend(spend)) {
        const priced = priceSpend(deps.provider.model, spend);
        const model = deps.provider.model;
        // The task's evaluation status turns 'failed' in the stream: announce it with the row.
        await runTransactionWithEvents(deps.db, deps.events, async (trx, emit) => {
          await saveEvaluation(
            trx,
            {
              task_id: taskId,
              kind,
              status: 'failed',
              accuracy_score: null,
              relevance_score: null,
              completeness_score: null,
              reasoning: '',
              evaluator_version: `judge:${model}`,
              model,
              prompt_tokens: priced.promptTokens,
              completion_tokens: priced.completionTokens,
              estimated_cost: priced.cost,
              failure_reason: decision.reason,
              attempts: attempt.attempts,
            },
            { spent: hasSpend(spend) },
          );
          emit({ type: 'task', projectId: task.project_id, userId: task.user_id, taskId });
        });
      }
      if (decision.retry) throw error;
      return { status: 'failed', reason: decision.reason };
    }
  } else {
    const offline = evaluateOffline({
      command: task.command,
      result: task.result,
      status: 'completed',
      category: task.objective_category,
    });
    verdict = {
      accuracy: offline.accuracy,
      relevance: offline.relevance,
      completeness: offline.completeness,
      reasoning: offline.reasoning,
      version: offline.evaluatorVersion,
      model: null,
      // The offline evaluator makes no LLM call: there is no usage to know (null, not a measured 0).
      promptTokens: null,
      completionTokens: null,
      cost: null,
      spent: false,
    };
  }

  return runTransactionWithEvents(deps.db, deps.events, async (trx, emit) => {
    const locked = await lockTask(trx, taskId);
    if (!locked) return { status: 'skipped', reason: 'the task was deleted' } as const;
    const saved = await saveEvaluation(
      trx,
      {
        task_id: taskId,
        kind,
        status: 'done',
        accuracy_score: verdict.accuracy,
        relevance_score: verdict.relevance,
        completeness_score: verdict.completeness,
        reasoning: verdict.reasoning,
        evaluator_version: verdict.version,
        model: verdict.model,
        prompt_tokens: verdict.promptTokens,
        completion_tokens: verdict.completionTokens,
        estimated_cost: verdict.cost,
        failure_reason: null,
        attempts: attempt.attempts,
      },
      { spent: verdict.spent },
    );
    // Another run (a job re-run after a crash) finished first: its scores stand.
    if (!saved) return { status: 'skipped', reason: 'the task is already evaluated' } as const;
    await applyScoreChange(trx, locked, toScoreChange(kind, verdict), deps);
    emit({ type: 'leaderboard', projectId: locked.project_id, agentIds: [locked.agent_id] });
    // The stream shows the task's score and evaluation status: it changed too.
    emit({ type: 'task', projectId: locked.project_id, userId: locked.user_id, taskId });
    return { status: 'done' } as const;
  });
}

interface Verdict {
  accuracy: number | null;
  relevance: number | null;
  completeness: number | null;
  reasoning: string;
  version: string;
  model: string | null;
  /** Null when unknown, or when no paid call was made (`spent` false). */
  promptTokens: number | null;
  completionTokens: number | null;
  cost: number | null;
  spent: boolean;
}

// A dimension the evaluator could not measure (null) keeps its earlier value and source.
function toScoreChange(kind: EvaluationKind, verdict: Verdict): ScoreChange {
  const source: ScoreSource = { source: kind, version: verdict.version };
  const change: ScoreChange = { sources: {} };
  if (verdict.accuracy !== null) {
    change.accuracy = verdict.accuracy;
    change.sources.accuracy = source;
  }
  if (verdict.relevance !== null) {
    change.relevance = verdict.relevance;
    change.sources.relevance = source;
  }
  if (verdict.completeness !== null) {
    change.completeness = verdict.completeness;
    change.sources.completeness = source;
  }
  return change;
}

const taskPayload = z.object({ task_id: z.guid() });

/** Runs a task-level job body and turns its outcome into graphile-worker behaviour (reschedule, log). */
export async function runTaskJob(
  identifier: typeof EVALUATE_TASK_JOB | typeof REVIEW_TASK_JOB,
  payload: unknown,
  helpers: JobHelpers,
  body: (taskId: string, attempt: JobAttempt) => Promise<JobOutcome>,
): Promise<void> {
  const parsed = taskPayload.safeParse(payload);
  if (!parsed.success) {
    helpers.logger.error(`${identifier}: ignoring a job without a task id`);
    return;
  }
  const taskId = parsed.data.task_id;
  const outcome = await body(taskId, readJobAttempt(helpers));
  await settleJobOutcome(
    helpers,
    { identifier, payload: { task_id: taskId }, jobKey: buildJobKey(identifier, taskId), label: taskId },
    outcome,
  );
}

export function readJobAttempt(helpers: JobHelpers): JobAttempt {
  return { attempts: helpers.job.attempts, maxAttempts: helpers.job.max_attempts };
}

/** A rate-limited job is re-queued under its own key (same payload); every outcome is logged. */
export async function settleJobOutcome(
  helpers: JobHelpers,
  job: { identifier: string; payload: Record<string, unknown>; jobKey: string; label: string },
  outcome: JobOutcome,
): Promise<void> {
  if (outcome.status === 'rate_limited') {
    // The running job is locked, so this creates its successor under the same key.
    await helpers.addJob(job.identifier, job.payload, {
      jobKey: job.jobKey,
      runAt: new Date(Date.now() + outcome.retryInMs),
      maxAttempts: helpers.job.max_attempts,
    });
  }
  helpers.logger.info(`${job.identifier} ${job.label}: ${outcome.status}`);
}

export function createEvaluationJobs(deps: EvaluationDeps): Record<string, Task> {
  return {
    [EVALUATE_TASK_JOB]: (payload, helpers) =>
      runTaskJob(EVALUATE_TASK_JOB, payload, helpers, (taskId, attempt) =>
        evaluateTask(deps, taskId, attempt),
      ),
  };
}
