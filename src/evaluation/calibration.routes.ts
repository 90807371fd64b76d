import { createRoute, z } from '@hono/zod-openapi';
import type { AppContext } from '../app-context.js';
import type { MeritApp } from '../http/app.js';
import { errorResponses, jsonContent } from '../http/schemas.js';
import { userQuery } from '../http/user.js';
import { measureReviewerAgreement } from '../reviews/peer-review.js';
import { describeEvaluatorCalibrations, MIN_CALIBRATION_TASKS } from './calibration.js';
import {
  findEvaluationRatingRows,
  findProjectReviewerIds,
  findReviewRatingRows,
} from './calibration.queries.js';

const estimateSchema = z
  .object({
    value: z.number(),
    lower: z.number().openapi({ description: 'Lower bound of the 95% interval' }),
    upper: z.number().openapi({ description: 'Upper bound of the 95% interval' }),
  })
  .nullable()
  .openapi('CalibrationEstimate');

const evaluatorCalibrationSchema = z
  .object({
    evaluator: z.string().openapi({
      description:
        "'judge' (the mean of its dimensions), 'judge.accuracy', 'judge.relevance', 'judge.completeness', 'offline', or 'reviewer:<agent_id>'",
      example: 'judge',
    }),
    n: z.number().int().openapi({ description: 'Tasks scored by both the evaluator and their user' }),
    spearman: estimateSchema.openapi({
      description:
        'Spearman rank correlation of the 0-1 scores with the 1-5 ratings (ties by average ranks); 95% interval by Fisher z with the Bonett-Wright standard error. Null below the minimum n or without variation',
    }),
    qwk: estimateSchema.openapi({
      description:
        'Quadratic weighted kappa of the scores as stars (1 + 4 x score, to the nearest star) against the ratings; 95% interval from a seeded bootstrap over tasks (1,000 rounds). Null below the minimum n or when undefined',
    }),
    weight: z.number().openapi({
      description:
        "How much the evaluator's scores count in overall scores now, 0-1: the judge's reliability factor for the judge and its dimensions, the reviewer weight for a reviewer, 1 (not discounted) for the offline evaluator",
    }),
    reason: z
      .string()
      .nullable()
      .openapi({
        description: `Why a figure is null: 'too few tasks' (under ${MIN_CALIBRATION_TASKS}) or no variation; else null`,
      }),
  })
  .openapi('EvaluatorCalibration');

export function registerCalibrationRoutes(app: MeritApp, ctx: AppContext): void {
  const { db } = ctx;
  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/evaluators/calibration',
      tags: ['Evaluation'],
      summary:
        "Each automatic evaluator's agreement with users' ratings: Spearman and quadratic weighted kappa with n and 95% intervals, and the weight its scores get",
      request: { query: z.object(userQuery) },
      responses: {
        200: jsonContent(
          z.object({ evaluators: z.array(evaluatorCalibrationSchema) }),
          'Evaluator calibration',
        ),
        ...errorResponses,
      },
    }),
    async (c) => {
      const projectId = c.get('principal').projectId;
      const [judge, offline, reviews, reviewerIds] = await Promise.all([
        findEvaluationRatingRows(db, projectId, 'judge'),
        findEvaluationRatingRows(db, projectId, 'heuristic'),
        findReviewRatingRows(db, projectId),
        findProjectReviewerIds(db, projectId),
      ]);
      const evaluators = describeEvaluatorCalibrations({
        judge,
        offline,
        reviews,
        reviewerIds,
        reviewerWeight: (pairs) =>
          measureReviewerAgreement(pairs.map((pair) => ({ peerScore: pair.score, userRating: pair.rating })))
            .weight,
      });
      return c.json(
        {
          evaluators: evaluators.map((entry) => ({
            evaluator: entry.evaluator,
            n: entry.n,
            spearman: entry.spearman,
            qwk: entry.qwk,
            weight: entry.weight,
            reason: entry.reason,
          })),
        },
        200,
      );
    },
  );
}
