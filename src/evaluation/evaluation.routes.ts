import { createRoute, z } from '@hono/zod-openapi';
import type { AppContext } from '../app-context.js';
import { NotFoundError } from '../errors.js';
import type { MeritApp } from '../http/app.js';
import { errorResponses, jsonContent, taskIdParams } from '../http/schemas.js';
import { userQuery } from '../http/user.js';
import { findOtelScoresForTask } from '../otel/otel.queries.js';
import { agreementFromSums, NO_AGREEMENT_PAIRS } from '../reviews/peer-review.js';
import {
  findActiveAgentIds,
  findReviewerWindowStats,
  findReviewsForTask,
} from '../reviews/reviews.queries.js';
import { resolveReadWindow, windowQuery } from '../stats/read-window.js';
import { findScoreForTask, findTaskInScope } from '../tasks/tasks.queries.js';
import {
  describeEvaluators,
  type EvaluationState,
  type EvaluatorState,
  type SpendTotals,
  summarizeReviewStates,
} from './evaluation.js';
import { findEvaluationsForTask, findEvaluatorSpend, findJobsForTask } from './evaluation.queries.js';

const nullableNumber = z.number().nullable();

const jobStateSchema = z
  .object({
    status: z.enum(['pending', 'done', 'failed', 'not_scheduled']),
    reason: z.string().nullable(),
    attempts: z.number(),
    next_attempt_at: z.string().nullable(),
  })
  .openapi('EvaluationState');

const spendSchema = z
  .object({
    prompt_tokens: nullableNumber,
    completion_tokens: nullableNumber,
    estimated_cost: nullableNumber,
  })
  .openapi('EvaluatorSpend', {
    description:
      "The evaluator's own usage over every attempt, failed ones included (never charged to the agent); null while nothing is stored, when the provider did not report usage (or a call ended without an answer), and for the offline evaluators, which make no LLM call; the cost also when the model has no price",
  });

const spendTotalsSchema = z
  .object({
    prompt_tokens: nullableNumber.openapi({
      description: 'Summed over the records whose usage is known; null when none is',
    }),
    completion_tokens: nullableNumber,
    cost: nullableNumber.openapi({ description: 'USD, summed over the records whose cost is known' }),
    unpriced_calls: z
      .number()
      .int()
      .openapi({ description: 'Evaluations or reviews with known tokens whose model has no price' }),
    unmetered_calls: z.number().int().openapi({
      description:
        'Evaluations or reviews by an LLM whose usage is unknown (left out of the sums): the provider reported none, or a call ended without an answer',
    }),
  })
  .openapi('SpendTotals', {
    description:
      'What an evaluator spent over every task: the known part summed, the unknown part counted. Offline evaluators make no call and count nowhere.',
  });

const evaluatorStateSchema = z
  .object({
    evaluator: z.string().openapi({ description: "'judge' or 'heuristic', or the reviewer's agent id" }),
    role: z.enum(['evaluation', 'peer_review']),
    reviewer_agent_id: z.string().nullable(),
    status: z.enum(['pending', 'done', 'failed', 'not_scheduled']),
    reason: z.string().nullable().openapi({ description: 'The last error (pending or failed), else null' }),
    attempts: z.number().int(),
    next_attempt_at: z.string().nullable(),
    spend: spendSchema,
  })
  .openapi('EvaluatorState');

const scoreEntrySchema = z
  .object({
    value: nullableNumber,
    source: z.string().nullable(),
    version: z.string().nullable(),
  })
  .openapi('ScoreWithSource');

const taskEvaluationSchema = z
  .object({
    task_id: z.guid(),
    evaluation: jobStateSchema,
    peer_review: jobStateSchema.openapi({
      description:
        'All reviewers together: pending while any is, failed when every one failed, else done; attempts add up',
    }),
    evaluators: z.array(evaluatorStateSchema).openapi({
      description:
        'Each evaluator (the judge or offline evaluator, each reviewer) with its own state and spend',
    }),
    scores: z.object({
      accuracy: scoreEntrySchema,
      relevance: scoreEntrySchema,
      completeness: scoreEntrySchema,
      efficiency: scoreEntrySchema,
      peer: scoreEntrySchema,
      user_rating: scoreEntrySchema,
      overall: scoreEntrySchema,
    }),
    evaluations: z.array(
      z.object({
        kind: z.enum(['judge', 'heuristic']),
        status: z.enum(['done', 'failed']),
        accuracy_score: nullableNumber,
        relevance_score: nullableNumber,
        completeness_score: nullableNumber,
        reasoning: z.string(),
        source: z.string(),
        evaluator_version: z.string(),
        failure_reason: z.string().nullable(),
        attempts: z.number(),
        usage: z
          .object({
            model: z.string().nullable(),
            prompt_tokens: nullableNumber,
            completion_tokens: nullableNumber,
            estimated_cost: nullableNumber,
          })
          .openapi({
            description:
              "The evaluator's own usage over every attempt (never charged to the agent); null when unknown or when no LLM call was made",
          }),
        created_at: z.string(),
      }),
    ),
    peer_reviews: z.array(
      z.object({
        reviewer_agent_id: z.string(),
        reviewer_nickname: z.string(),
        perspective: z.string(),
        status: z.enum(['done', 'failed']),
        failure_reason: z.string().nullable(),
        attempts: z.number().int(),
        score: z.number().nullable(),
        reviewer_weight: z.number(),
        strengths: z.array(z.string()),
        weaknesses: z.array(z.string()),
        suggestions: z.array(z.string()),
        review_text: z.string(),
        source: z.string(),
        evaluator_version: z.string(),
        usage: z
          .object({
            prompt_tokens: nullableNumber,
            completion_tokens: nullableNumber,
            estimated_cost: nullableNumber,
          })
          .openapi({
            description:
              "The review's usage over every attempt; null when unknown or when no LLM call was made (heuristic reviews)",
          }),
        created_at: z.string().nullable(),
      }),
    ),
    external_scores: z
      .array(
        z.object({
          name: z.string().openapi({ description: 'gen_ai.evaluation.name' }),
          value: nullableNumber.openapi({ description: 'As reported, on the evaluator’s own scale' }),
          label: z.string().nullable(),
          explanation: z.string().nullable(),
          source: z.string().openapi({ example: 'otel' }),
          evaluated_at: z.string(),
        }),
      )
      .openapi({
        description:
          'Scores the agent’s own evaluators reported (OpenTelemetry gen_ai.evaluation.result events), shown beside the judge’s; they do not enter the overall score',
      }),
    rewards: z.object({
      points: z.number(),
      applied: z.array(z.object({ rule: z.string(), points: z.number(), reason: z.string() })),
    }),
  })
  .openapi('TaskEvaluation');

const reviewerSchema = z
  .object({
    agent_id: z.string(),
    nickname: z.string(),
    perspective: z.string().nullable(),
    configured: z.boolean(),
    reviews: z.number(),
    n: z.number().openapi({ description: 'Reviews of tasks the user also rated' }),
    correlation: nullableNumber,
    mean_abs_error: nullableNumber,
    weight: z.number(),
    spend: spendTotalsSchema.openapi({
      description:
        "What this agent's reviews cost, failed ones included (reviewing is never charged to its tasks)",
    }),
  })
  .openapi('ReviewerAgreement');

const evaluatorSpendSchema = z
  .object({
    evaluator: z.enum(['judge', 'heuristic']),
    model: z.string().nullable(),
    evaluations: z.number().int().openapi({ description: 'Records, failed ones included' }),
    spend: spendTotalsSchema,
  })
  .openapi('EvaluatorSpendTotals');

export function registerEvaluationRoutes(app: MeritApp, ctx: AppContext): void {
  const { db } = ctx;
  const reviewers = ctx.config.evaluation.peerReviewers;

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/tasks/{task_id}/evaluation',
      tags: ['Evaluation'],
      summary:
        "A task's scores with their sources and versions, the evaluator's verdicts and usage, peer reviews, rewards and job states",
      request: { params: taskIdParams, query: z.object(userQuery) },
      responses: { 200: jsonContent(taskEvaluationSchema, 'Evaluation'), ...errorResponses },
    }),
    async (c) => {
      const { task_id } = c.req.valid('param');
      const task = await findTaskInScope(db, c.get('principal'), task_id);
      if (!task) throw new NotFoundError('task_not_found', `Task ${task_id} not found`);
      const [score, evaluations, reviews, jobs, externalScores] = await Promise.all([
        findScoreForTask(db, task_id),
        findEvaluationsForTask(db, task_id),
        findReviewsForTask(db, task_id),
        findJobsForTask(db, task_id),
        findOtelScoresForTask(db, task.project_id, task_id),
      ]);
      const evaluationRecord = evaluations.find((row) => row.status === 'done') ?? evaluations[0] ?? null;
      const evaluators = describeEvaluators({
        evaluationKind: evaluationRecord?.kind ?? (ctx.config.llm ? 'judge' : 'heuristic'),
        evaluation: evaluationRecord,
        reviews,
        dueReviewers: reviewers
          .map((reviewer) => reviewer.agentId)
          .filter((agentId) => agentId !== task.agent_id),
        jobs,
      });
      const notScheduled: EvaluationState = {
        status: 'not_scheduled',
        reason: null,
        attempts: 0,
        next_attempt_at: null,
      };
      const sources = score?.score_sources ?? {};
      const entry = (key: string, value: number | null | undefined) => ({
        value: value ?? null,
        source: sources[key]?.source ?? null,
        version: sources[key]?.version ?? null,
      });
      return c.json(
        {
          task_id,
          evaluation: toJobState(evaluators.find((state) => state.role === 'evaluation')) ?? notScheduled,
          peer_review: summarizeReviewStates(evaluators.filter((state) => state.role === 'peer_review')),
          evaluators,
          scores: {
            accuracy: entry('accuracy', score?.accuracy_score),
            relevance: entry('relevance', score?.relevance_score),
            completeness: entry('completeness', score?.completeness_score),
            efficiency: entry('efficiency', score?.efficiency_score),
            peer: entry('peer', score?.peer_score),
            user_rating: entry('user_rating', score?.user_rating),
            overall: entry('overall', score?.overall_score),
          },
          // A failed row whose evaluator is still pending holds the usage of attempts its job retries: it
          // shows in `evaluators` (state and spend), not as a verdict.
          evaluations: evaluations
            .filter((row) => !isInFlight(row, stateOf(evaluators, null)))
            .map((row) => ({
              kind: row.kind,
              status: row.status,
              accuracy_score: row.accuracy_score,
              relevance_score: row.relevance_score,
              completeness_score: row.completeness_score,
              reasoning: row.reasoning,
              source: row.source,
              evaluator_version: row.evaluator_version,
              failure_reason: row.failure_reason,
              attempts: row.attempts,
              usage: {
                model: row.model,
                prompt_tokens: row.prompt_tokens,
                completion_tokens: row.completion_tokens,
                estimated_cost: row.estimated_cost,
              },
              created_at: row.created_at.toISOString(),
            })),
          peer_reviews: reviews
            .filter((row) => !isInFlight(row, stateOf(evaluators, row.reviewer_agent_id)))
            .map((row) => ({
              reviewer_agent_id: row.reviewer_agent_id,
              reviewer_nickname: row.reviewer_nickname,
              perspective: row.perspective,
              status: row.status,
              failure_reason: row.failure_reason,
              attempts: row.attempts,
              score: row.score === null ? null : Number(row.score),
              reviewer_weight: Number(row.reviewer_weight),
              strengths: row.strengths,
              weaknesses: row.weaknesses,
              suggestions: row.suggestions,
              review_text: row.review_text,
              source: row.source,
              evaluator_version: row.evaluator_version,
              usage: {
                prompt_tokens: row.prompt_tokens,
                completion_tokens: row.completion_tokens,
                estimated_cost: row.estimated_cost,
              },
              created_at: row.created_at ? row.created_at.toISOString() : null,
            })),
          external_scores: externalScores.map((row) => ({
            name: row.name,
            value: row.score_value,
            label: row.score_label,
            explanation: row.explanation,
            source: row.source,
            evaluated_at: row.evaluated_at.toISOString(),
          })),
          rewards: { points: score?.reward_points ?? 0, applied: score?.reward_rules ?? [] },
        },
        200,
      );
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/reviewers',
      tags: ['Evaluation'],
      summary:
        "Each reviewer's agreement with users' ratings (pairs, correlation, mean absolute error), the weight its reviews get and what its reviews cost; what the judge and the offline evaluator cost",
      request: { query: z.object({ ...userQuery, ...windowQuery() }) },
      responses: {
        200: jsonContent(
          z.object({
            reviewers: z.array(reviewerSchema),
            evaluators: z.array(evaluatorSpendSchema).openapi({
              description:
                'The task evaluators (the judge per model, the offline evaluator) with their spend',
            }),
            window: z.object({ since: z.string().nullable(), until: z.string().nullable() }).openapi({
              description:
                'The reviews and evaluations counted: made since (inclusive) and before until (exclusive); null: unbounded',
            }),
          }),
          'Reviewers',
        ),
        ...errorResponses,
      },
    }),
    async (c) => {
      const range = resolveReadWindow(c.req.valid('query'));
      const projectId = c.get('principal').projectId;
      const [windowStats, nicknames, evaluatorSpend] = await Promise.all([
        findReviewerWindowStats(db, projectId, range),
        findActiveAgentIds(db, projectId),
        findEvaluatorSpend(db, projectId, range),
      ]);
      const ids = [
        ...reviewers.map((reviewer) => reviewer.agentId).filter((id) => nicknames.has(id)),
        ...windowStats.map((row) => row.reviewer_agent_id),
      ];
      const result = [...new Set(ids)].map((agentId) => {
        const configured = reviewers.find((reviewer) => reviewer.agentId === agentId);
        const stats = windowStats.find((row) => row.reviewer_agent_id === agentId);
        const agreement = agreementFromSums(stats?.agreement ?? NO_AGREEMENT_PAIRS);
        return {
          agent_id: agentId,
          nickname: nicknames.get(agentId) ?? agentId,
          perspective: configured?.perspective ?? null,
          configured: configured !== undefined,
          reviews: stats?.reviews ?? 0,
          n: agreement.n,
          correlation: agreement.correlation,
          mean_abs_error: agreement.meanAbsError,
          weight: agreement.weight,
          spend: toSpendTotals(stats),
        };
      });
      const evaluators = evaluatorSpend.map((row) => ({
        evaluator: row.kind,
        model: row.model,
        evaluations: row.evaluations,
        spend: toSpendTotals(row),
      }));
      return c.json(
        {
          reviewers: result,
          evaluators,
          window: { since: range.since?.toISOString() ?? null, until: range.until?.toISOString() ?? null },
        },
        200,
      );
    },
  );
}

const NO_SPEND_TOTALS: SpendTotals = {
  prompt_tokens: null,
  completion_tokens: null,
  cost: null,
  unpriced_calls: 0,
  unmetered_calls: 0,
};

function toSpendTotals(row: SpendTotals | undefined): SpendTotals {
  if (!row) return NO_SPEND_TOTALS;
  return {
    prompt_tokens: row.prompt_tokens,
    completion_tokens: row.completion_tokens,
    cost: row.cost,
    unpriced_calls: row.unpriced_calls,
    unmetered_calls: row.unmetered_calls,
  };
}

// The evaluation's state (reviewer null) or a reviewer's.
function stateOf(states: readonly EvaluatorState[], reviewerAgentId: string | null) {
  return states.find((state) =>
    reviewerAgentId === null ? state.role === 'evaluation' : state.reviewer_agent_id === reviewerAgentId,
  );
}

/**
 * A failed row its own job is still retrying: the job has made at least the attempts the row records
 * (a job queued afresh has made none, and leaves an earlier final failure standing).
 */
function isInFlight(
  row: { status: 'done' | 'failed'; attempts: number },
  state: EvaluatorState | undefined,
): boolean {
  return row.status === 'failed' && state?.status === 'pending' && state.attempts >= row.attempts;
}

function toJobState(state: EvaluationState | undefined): EvaluationState | undefined {
  if (!state) return undefined;
  return {
    status: state.status,
    reason: state.reason,
    attempts: state.attempts,
    next_attempt_at: state.next_attempt_at,
  };
}
