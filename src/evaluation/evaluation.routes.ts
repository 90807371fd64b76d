import { createRoute, z } from '@hono/zod-openapi';
import { NotFoundError } from '../errors.js';
import type { MeritApp } from '../http/app.js';
import type { AppContext } from '../http/context.js';
import { errorResponses, jsonContent, taskIdParams } from '../http/schemas.js';
import { userQuery } from '../http/user.js';
import { DEFAULT_REVIEWERS, measureReviewerAgreement, parseReviewersConfig } from '../reviews/peer-review.js';
import {
  findActiveAgentIds,
  findReviewerActivity,
  findReviewerRatingPairs,
  findReviewsForTask,
} from '../reviews/reviews.queries.js';
import { findScoreForTask, findTaskForUser } from '../tasks/tasks.queries.js';
import { describeEvaluators, type EvaluationState, summarizeReviewStates } from './evaluation.js';
import { findEvaluationsForTask, findJobsForTask } from './evaluation.queries.js';

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
      "The evaluator's own stored usage (never charged to the agent); null while nothing is stored",
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
            prompt_tokens: z.number(),
            completion_tokens: z.number(),
            estimated_cost: nullableNumber,
          })
          .openapi({ description: "The evaluator's own usage; never charged to the agent" }),
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
        usage: z.object({
          prompt_tokens: z.number(),
          completion_tokens: z.number(),
          estimated_cost: z.number(),
        }),
        created_at: z.string().nullable(),
      }),
    ),
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
  })
  .openapi('ReviewerAgreement');

export function registerEvaluationRoutes(app: MeritApp, ctx: AppContext): void {
  const { db } = ctx;
  const reviewers =
    ctx.config.evaluation.reviewers === undefined
      ? DEFAULT_REVIEWERS
      : parseReviewersConfig(ctx.config.evaluation.reviewers);

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
      const task = await findTaskForUser(db, c.get('userId'), task_id);
      if (!task) throw new NotFoundError('task_not_found', `Task ${task_id} not found`);
      const [score, evaluations, reviews, jobs] = await Promise.all([
        findScoreForTask(db, task_id),
        findEvaluationsForTask(db, task_id),
        findReviewsForTask(db, task_id),
        findJobsForTask(db, task_id),
      ]);
      const evaluationRecord = evaluations.find((row) => row.status === 'done') ?? evaluations[0] ?? null;
      const evaluators = describeEvaluators({
        evaluationKind: evaluationRecord?.kind ?? (ctx.config.llm ? 'judge' : 'heuristic'),
        evaluation: evaluationRecord,
        reviews: reviews.map((row) => ({ ...row, estimated_cost: Number(row.estimated_cost) })),
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
          evaluations: evaluations.map((row) => ({
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
          peer_reviews: reviews.map((row) => ({
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
              estimated_cost: Number(row.estimated_cost),
            },
            created_at: row.created_at ? row.created_at.toISOString() : null,
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
        "Each reviewer's agreement with users' ratings (pairs, correlation, mean absolute error) and the weight its reviews get",
      request: { query: z.object(userQuery) },
      responses: {
        200: jsonContent(z.object({ reviewers: z.array(reviewerSchema) }), 'Reviewers'),
        ...errorResponses,
      },
    }),
    async (c) => {
      const [activity, pairs, nicknames] = await Promise.all([
        findReviewerActivity(db),
        findReviewerRatingPairs(db),
        findActiveAgentIds(db),
      ]);
      const ids = [
        ...reviewers.map((reviewer) => reviewer.agentId).filter((id) => nicknames.has(id)),
        ...activity.map((row) => row.agent_id),
      ];
      const result = [...new Set(ids)].map((agentId) => {
        const configured = reviewers.find((reviewer) => reviewer.agentId === agentId);
        const agreement = measureReviewerAgreement(
          pairs
            .filter((pair) => pair.reviewer_agent_id === agentId)
            .map((pair) => ({ peerScore: pair.score, userRating: pair.user_rating })),
        );
        return {
          agent_id: agentId,
          nickname: nicknames.get(agentId) ?? agentId,
          perspective: configured?.perspective ?? null,
          configured: configured !== undefined,
          reviews: activity.find((row) => row.agent_id === agentId)?.reviews ?? 0,
          n: agreement.n,
          correlation: agreement.correlation,
          mean_abs_error: agreement.meanAbsError,
          weight: agreement.weight,
        };
      });
      return c.json({ reviewers: result }, 200);
    },
  );
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
