import { createRoute, z } from '@hono/zod-openapi';
import type { AppContext } from '../app-context.js';
import { categoryParams } from '../categories/categories.routes.js';
import { runTransaction } from '../db/transaction.js';
import { NotFoundError, ValidationError } from '../errors.js';
import type { MeritApp } from '../http/app.js';
import { nextCursorSchema, pageQuery } from '../http/page-query.js';
import { agentIdParams, errorResponses, errorSchema, jsonContent, taskIdParams } from '../http/schemas.js';
import { userQuery } from '../http/user.js';
import { recordAudit } from '../identity/audit.js';
import { auditActor } from '../identity/principal.js';
import { decodeCursor, PREVIEW_CHARS, toPage } from '../lib/paging.js';
import { createRng } from '../lib/random.js';
import { floorToHour, resolveReadWindow, windowQuery } from '../stats/read-window.js';
import { categorySchema } from '../tasks/task-schemas.js';
import { findTaskInScope } from '../tasks/tasks.queries.js';
import { getCategoryClassifier } from './classification.service.js';
import { DEFAULT_MIN_PROBABILITY } from './router.js';
import {
  computeOutcomeReward,
  type ObjectiveRequest,
  resolveRoutingObjective,
  summarizeQualityDays,
  toEvaluationView,
} from './routing.js';
import {
  type DecisionWithOutcome,
  findDecisionsWithOutcomes,
  findRoutingObjective,
  findRoutingObjectiveForUpdate,
  findRoutingQualityDays,
  upsertRoutingObjective,
} from './routing.queries.js';
import {
  BEST_AGENTS_MIN_SAMPLE,
  describeCapabilities,
  rankBestAgents,
  routeCommand,
  type StatsWindowOptions,
  toDecisionView,
  toStoredDecisionView,
} from './routing.service.js';

const nullableNumber = z.number().nullable();
const commandSchema = z.string().trim().min(1).max(20_000).openapi({ example: 'research quantum computing' });
const DAY_MS = 24 * 60 * 60 * 1000;

const intervalSchema = z.object({ lower: z.number(), upper: z.number() });
const categoryConfidenceSchema = z.object({ category: z.string(), confidence: z.number() });

const evaluationSchema = z
  .object({
    agent_id: z.string(),
    nickname: z.string(),
    expected_score: z.number().openapi({ description: 'Posterior mean reward (0-1) in the category' }),
    interval: intervalSchema.openapi({ description: '90% credible interval of the reward' }),
    sampled_score: nullableNumber,
    adjusted_score: nullableNumber,
    observations: z.number(),
    specialist: z.boolean().openapi({
      description: 'The agent declares the category or its template recommends the agent (a prior)',
    }),
    expected_cost: nullableNumber.openapi({ description: 'Mean recorded cost (USD); null when unknown' }),
    charged_cost: nullableNumber.openapi({
      description:
        'The cost the objective charged: expected_cost, or if unknown the highest known among the candidates',
    }),
    expected_duration_ms: nullableNumber,
    load: z.number(),
    utility: nullableNumber.openapi({
      description:
        'The figure compared: the adjusted draw (quality), minus charged_cost / usd_per_quality (value)',
    }),
    target_probability: nullableNumber.openapi({
      description: 'cheapest_meeting: posterior probability that the expected score reaches the target',
    }),
    excluded_because: z.enum(['inactive', 'over_cost', 'over_duration']).nullable(),
  })
  .openapi('AgentEvaluation');

const objectiveKinds = ['quality', 'value', 'cheapest_meeting'] as const;
const usdPerQualitySchema = z.number().gt(0).max(1_000_000).openapi({
  description: 'value: USD one whole point of quality (the 0-1 scale) is worth per task',
  example: 1,
});
const targetQualitySchema = z.number().gt(0).lt(1).openapi({
  description: 'cheapest_meeting: the expected score (0-1) to reach',
  example: 0.7,
});
const minProbabilitySchema = z
  .number()
  .gt(0)
  .lt(1)
  .openapi({
    description: `cheapest_meeting: how likely reaching the target must be (default ${DEFAULT_MIN_PROBABILITY})`,
    example: 0.8,
  });

const objectiveViewSchema = z
  .object({
    kind: z.enum(objectiveKinds),
    usd_per_quality: nullableNumber,
    target_quality: nullableNumber,
    min_probability: nullableNumber,
  })
  .openapi('RoutingObjective', { description: 'The objective a decision used (see docs/ROUTING.md)' });

/** A request's objective: a kind alone (knobs from the project), or a kind and knobs. */
const objectiveRequestSchema = z
  .strictObject({
    kind: z.enum(objectiveKinds).optional(),
    usd_per_quality: usdPerQualitySchema.optional(),
    target_quality: targetQualitySchema.optional(),
    min_probability: minProbabilitySchema.optional(),
  })
  .openapi('RoutingObjectiveRequest', {
    description:
      "Overrides the project's default objective for this request: the kind (`quality`, `value`, " +
      '`cheapest_meeting`) and any knobs; what is left out comes from the project',
  });

export type ObjectiveRequestBody = z.infer<typeof objectiveRequestSchema>;

export { objectiveRequestSchema };

/** The request's objective in the router's words. */
export function toObjectiveRequest(body: ObjectiveRequestBody | undefined): ObjectiveRequest {
  if (body === undefined) return {};
  return {
    kind: body.kind,
    usdPerQuality: body.usd_per_quality,
    targetQuality: body.target_quality,
    minProbability: body.min_probability,
  };
}

export const externalAgentResponse = {
  409: {
    description: '`agent_external`: the command mentions an agent that runs outside Merit',
    content: { 'application/json': { schema: errorSchema } },
  },
};

const candidateRowSchema = evaluationSchema.extend({ chosen: z.boolean() }).openapi('RoutingCandidateRow', {
  description: "One line of the explanation's table; the sentence is rendered from these rows",
});

const constraintsSchema = z.object({
  max_cost: nullableNumber,
  max_duration_ms: nullableNumber,
  load_penalty: z.number(),
  excluded_agent_ids: z.array(z.string()),
  objective: objectiveViewSchema,
});

const reasonSchema = z
  .enum(['mention', 'thompson', 'fallback_constraints', 'cheapest_meeting', 'target_unmet'])
  .openapi({
    description:
      'thompson: the best draw under quality or value; cheapest_meeting: the cheapest agent likely to reach the ' +
      'target; target_unmet: none likely to, the likeliest taken; fallback_constraints: none within the limits',
  });

const decisionSchema = evaluationSchema
  .extend({
    decision_id: z.guid(),
    command: z.string(),
    category: z.string(),
    category_confidence: nullableNumber,
    category_source: z.string(),
    reason: reasonSchema,
    objective: objectiveViewSchema,
    best_agent_id: z.string().nullable(),
    explanation: z.string().openapi({ description: 'Why this agent? Rendered from `candidates`' }),
    candidates: z.array(candidateRowSchema).openapi({
      description: 'Every agent weighed, eligible ones by expected score first; the chosen one is marked',
    }),
    runners_up: z.array(evaluationSchema),
    constraints: constraintsSchema,
    task_id: z.guid().nullable(),
    created_at: z.string(),
  })
  .openapi('RoutingDecision');

const storedDecisionSchema = z
  .object({
    decision_id: z.guid(),
    command: z.string(),
    command_length: z.number().int(),
    truncated: z.boolean().openapi({
      description: `True when the list cut the command to its first ${PREVIEW_CHARS} characters`,
    }),
    category: z.string(),
    category_confidence: nullableNumber,
    category_source: z.string(),
    reason: reasonSchema,
    objective: objectiveViewSchema,
    agent_id: z.string(),
    nickname: z.string(),
    expected_score: z.number(),
    interval: intervalSchema,
    sampled_score: nullableNumber,
    observations: z.number(),
    best_agent_id: z.string().nullable(),
    explanation: z.string(),
    candidates: z.array(candidateRowSchema),
    runners_up: z.array(z.unknown()),
    constraints: z.record(z.string(), z.unknown()),
    task_id: z.guid().nullable(),
    created_at: z.string(),
    outcome: z.object({
      task_status: z.enum(['queued', 'running', 'completed', 'failed']).nullable(),
      reward: nullableNumber.openapi({
        description: 'blendTaskReward of the task: null until there is feedback',
      }),
      user_rating: nullableNumber,
      judge_score: nullableNumber,
      peer_score: nullableNumber,
      overall_score: nullableNumber,
    }),
  })
  .openapi('StoredRoutingDecision');

const qualitySchema = z.object({
  decisions: z.number(),
  routed: z.number(),
  rewarded: z.number(),
  mean_reward: nullableNumber,
  best_agent_share: nullableNumber,
});

const tags = ['Routing'];

/** The router over HTTP: classify, recommend (and store) a decision, capabilities, best agents, quality. */
export function registerRoutingRoutes(app: MeritApp, ctx: AppContext): void {
  const { db } = ctx;

  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/route/classify',
      tags,
      summary: "A command's objective category, with the classifier's confidence and the alternatives",
      request: {
        query: z.object(userQuery),
        body: {
          content: { 'application/json': { schema: z.strictObject({ command: commandSchema }) } },
          required: true,
        },
      },
      responses: {
        200: jsonContent(
          z
            .object({
              category: z.string(),
              confidence: z.number(),
              source: z.enum(['classifier', 'llm']),
              fell_back: z.boolean().openapi({ description: 'True when too unsure: category is general' }),
              alternatives: z.array(categoryConfidenceSchema),
            })
            .openapi('CommandClassification'),
          'Classification',
        ),
        ...errorResponses,
      },
    }),
    async (c) => {
      const result = await getCategoryClassifier(db).classify(
        c.get('principal').projectId,
        c.req.valid('json').command,
      );
      return c.json(
        {
          category: result.category,
          confidence: result.confidence,
          source: result.source,
          fell_back: result.fellBack,
          alternatives: result.alternatives,
        },
        200,
      );
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/route/recommend',
      tags,
      summary: 'Choose the agent for a command (stored as a routing decision), with "why this agent?"',
      request: {
        query: z.object(userQuery),
        body: {
          content: {
            'application/json': {
              schema: z
                .strictObject({
                  command: commandSchema,
                  category: categorySchema.optional(),
                  max_cost: z.number().min(0).optional().openapi({ description: 'USD per task' }),
                  max_duration_ms: z.number().int().min(0).optional(),
                  objective: objectiveRequestSchema.optional(),
                  seed: z
                    .number()
                    .int()
                    .min(0)
                    .max(2 ** 32 - 1)
                    .optional()
                    .openapi({ description: 'Makes the Thompson draw reproducible' }),
                })
                .openapi('RecommendInput'),
            },
          },
          required: true,
        },
      },
      responses: {
        200: jsonContent(decisionSchema, 'Decision'),
        ...errorResponses,
        ...externalAgentResponse,
      },
    }),
    async (c) => {
      const body = c.req.valid('json');
      const decision = await routeCommand(
        db,
        {
          scope: c.get('principal'),
          command: body.command,
          constraints: { maxCost: body.max_cost ?? null, maxDurationMs: body.max_duration_ms ?? null },
          objective: toObjectiveRequest(body.objective),
          ...(body.category !== undefined ? { category: body.category } : {}),
        },
        body.seed !== undefined ? { random: createRng(body.seed) } : {},
      );
      return c.json(toDecisionView(decision), 200);
    },
  );

  const projectObjectiveSchema = objectiveViewSchema
    .extend({
      min_probability: z.number().openapi({ description: 'In force: the stored figure or the default' }),
      updated_at: z
        .string()
        .nullable()
        .openapi({ description: 'Null: never set, the project routes on quality' }),
    })
    .openapi('ProjectRoutingObjective');

  function toProjectObjectiveView(
    row: Awaited<ReturnType<typeof findRoutingObjective>>,
  ): z.infer<typeof projectObjectiveSchema> {
    return {
      kind: row?.objective ?? 'quality',
      usd_per_quality: row?.usd_per_quality ?? null,
      target_quality: row?.target_quality ?? null,
      min_probability: row?.min_probability ?? DEFAULT_MIN_PROBABILITY,
      updated_at: row?.updated_at.toISOString() ?? null,
    };
  }

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/routing/objective',
      tags,
      summary: "The project's default routing objective and its knobs",
      responses: { 200: jsonContent(projectObjectiveSchema, 'The objective in force'), ...errorResponses },
    }),
    async (c) => {
      const row = await findRoutingObjective(db, c.get('principal').projectId);
      return c.json(toProjectObjectiveView(row), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'patch',
      path: '/api/routing/objective',
      tags,
      summary: "Change the project's default routing objective or its knobs (admins; audited)",
      description:
        'Fields left out keep their value; a knob set to null is removed. `value` needs `usd_per_quality` and ' +
        '`cheapest_meeting` needs `target_quality`, given here or stored before.',
      request: {
        body: {
          content: {
            'application/json': {
              schema: z
                .strictObject({
                  objective: z.enum(objectiveKinds).optional(),
                  usd_per_quality: usdPerQualitySchema.nullable().optional(),
                  target_quality: targetQualitySchema.nullable().optional(),
                  min_probability: minProbabilitySchema.nullable().optional(),
                })
                .refine((body) => Object.keys(body).length > 0, { message: 'names no field to change' })
                .openapi('RoutingObjectiveUpdate'),
            },
          },
          required: true,
        },
      },
      responses: { 200: jsonContent(projectObjectiveSchema, 'The objective in force'), ...errorResponses },
    }),
    async (c) => {
      const body = c.req.valid('json');
      const principal = c.get('principal');
      const row = await runTransaction(db, async (trx) => {
        const before = await findRoutingObjectiveForUpdate(trx, principal.projectId);
        const pick = <T>(given: T | null | undefined, kept: T | null | undefined): T | null =>
          given === undefined ? (kept ?? null) : given;
        const after = {
          objective: body.objective ?? before?.objective ?? 'quality',
          usd_per_quality: pick(body.usd_per_quality, before?.usd_per_quality),
          target_quality: pick(body.target_quality, before?.target_quality),
          min_probability: pick(body.min_probability, before?.min_probability),
        };
        // The same rule a request meets: the objective must have its knob (names the missing field).
        try {
          resolveRoutingObjective(after);
        } catch (error) {
          if (error instanceof ValidationError)
            throw new ValidationError(
              error.field.replace('objective.', ''),
              error.message.split(': ')[1] ?? '',
            );
          throw error;
        }
        const saved = await upsertRoutingObjective(trx, principal.projectId, after);
        await recordAudit(trx, {
          projectId: principal.projectId,
          actor: auditActor(principal),
          // A project setting: audited as the project's update, naming what changed.
          action: 'project.update',
          target: 'routing objective',
          details: {
            before: before ? toProjectObjectiveView(before) : null,
            after: toProjectObjectiveView(saved),
          },
        });
        return saved;
      });
      return c.json(toProjectObjectiveView(row), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/agents/{agent_id}/capabilities',
      tags,
      summary:
        "An agent's posterior reward per category over the window's finished tasks: mean, 90% interval and observations",
      request: { params: agentIdParams, query: z.object({ ...userQuery, ...windowQuery() }) },
      responses: {
        200: jsonContent(
          z
            .object({
              agent_id: z.string(),
              nickname: z.string(),
              active: z.boolean(),
              load: z.number(),
              categories: z.array(
                z.object({
                  category: z.string(),
                  expected_score: z.number(),
                  interval: intervalSchema,
                  observations: z.number(),
                  expected_cost: nullableNumber,
                  expected_duration_ms: nullableNumber,
                }),
              ),
            })
            .openapi('AgentCapabilities'),
          'Capabilities, best category first',
        ),
        ...errorResponses,
      },
    }),
    async (c) => {
      const { agent, categories } = await describeCapabilities(
        db,
        c.get('principal').projectId,
        c.req.valid('param').agent_id,
        toStatsWindow(c.req.valid('query')),
      );
      return c.json(
        {
          agent_id: agent.agentId,
          nickname: agent.nickname,
          active: agent.active,
          load: agent.load,
          categories: categories.map((entry) => {
            const view = toEvaluationView(entry);
            return {
              category: entry.category,
              expected_score: view.expected_score,
              interval: view.interval,
              observations: view.observations,
              expected_cost: view.expected_cost,
              expected_duration_ms: view.expected_duration_ms,
            };
          }),
        },
        200,
      );
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/categories/{category}/best-agents',
      tags,
      summary:
        'Active agents ranked for a category by the lower bound of their posterior reward over the window',
      request: { params: categoryParams, query: z.object({ ...userQuery, ...windowQuery() }) },
      responses: {
        200: jsonContent(
          z
            .object({
              category: z.string(),
              min_sample: z.number(),
              agents: z.array(
                evaluationSchema.extend({ rank: z.number().nullable(), provisional: z.boolean() }),
              ),
            })
            .openapi('BestAgents'),
          'Ranked agents',
        ),
        ...errorResponses,
      },
    }),
    async (c) => {
      const { category } = c.req.valid('param');
      const ranked = await rankBestAgents(
        db,
        c.get('principal').projectId,
        category,
        toStatsWindow(c.req.valid('query')),
      );
      return c.json(
        {
          category,
          min_sample: BEST_AGENTS_MIN_SAMPLE,
          agents: ranked.map((entry) => ({
            ...toEvaluationView(entry),
            rank: entry.rank,
            provisional: entry.provisional,
          })),
        },
        200,
      );
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/routing/decisions',
      tags,
      summary:
        "The user's routing decisions in the window, newest first, a page at a time, each with its task's outcome (commands as previews)",
      request: { query: z.object({ ...userQuery, ...pageQuery, ...windowQuery() }) },
      responses: {
        200: jsonContent(
          z
            .object({ decisions: z.array(storedDecisionSchema), next_cursor: nextCursorSchema })
            .openapi('RoutingDecisionPage'),
          'Decisions',
        ),
        ...errorResponses,
      },
    }),
    async (c) => {
      const query = c.req.valid('query');
      const rows = await findDecisionsWithOutcomes(db, c.get('principal'), {
        limit: query.limit,
        range: resolveReadWindow(query),
        after: query.cursor === undefined ? undefined : decodeCursor('routing_decisions', query.cursor),
      });
      const page = toPage('routing_decisions', rows, query.limit);
      return c.json(
        { decisions: page.rows.map(toStoredDecisionResponse), next_cursor: page.nextCursor },
        200,
      );
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/tasks/{task_id}/routing-decision',
      tags,
      summary: 'The routing decision that created a task ("why this agent?"), with its outcome',
      request: { params: taskIdParams, query: z.object(userQuery) },
      responses: { 200: jsonContent(storedDecisionSchema, 'Decision'), ...errorResponses },
    }),
    async (c) => {
      const { task_id } = c.req.valid('param');
      const scope = c.get('principal');
      // Another user's task answers 404 exactly like a missing one.
      const task = await findTaskInScope(db, scope, task_id);
      if (!task) throw new NotFoundError('task_not_found', `Task ${task_id} not found`);
      const [row] = await findDecisionsWithOutcomes(db, scope, { limit: 1, taskId: task_id });
      if (!row) throw new NotFoundError('not_found', `Task ${task_id} was not routed by the router`);
      return c.json(toStoredDecisionResponse(row), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/routing/quality',
      tags,
      summary:
        'Routing quality per day: mean outcome reward of routed tasks, and share routed to the posterior-best agent',
      request: {
        query: z.object({
          ...userQuery,
          days: z.coerce.number().int().min(1).max(365).optional().openapi({
            description: 'The last this many days (default 30); window or since name the range instead',
          }),
          ...windowQuery(),
        }),
      },
      responses: {
        200: jsonContent(
          z
            .object({
              days: z.array(qualitySchema.extend({ day: z.string() }).openapi('RoutingQualityDay')),
              overall: qualitySchema,
              since: z.string(),
            })
            .openapi('RoutingQuality'),
          'Quality over time, oldest day first',
        ),
        ...errorResponses,
      },
    }),
    async (c) => {
      const query = c.req.valid('query');
      if (query.days !== undefined && (query.window !== undefined || query.since !== undefined))
        throw new ValidationError('days', 'cannot be combined with window or since: pass one of them');
      const range =
        query.days === undefined
          ? resolveReadWindow(query)
          : { since: floorToHour(new Date(Date.now() - query.days * DAY_MS)), until: undefined };
      const since = range.since ?? new Date(0);
      const summary = summarizeQualityDays(
        await findRoutingQualityDays(db, c.get('principal'), since, range.until),
      );
      return c.json(
        {
          days: summary.days.map((point) => ({ day: point.day, ...toQualityView(point) })),
          overall: toQualityView(summary.overall),
          since: since.toISOString(),
        },
        200,
      );
    },
  );
}

/** The routing estimates' window: the request's (default 30 days); a null since: `all`, from the start. */
function toStatsWindow(query: Parameters<typeof resolveReadWindow>[0]): StatsWindowOptions {
  const range = resolveReadWindow(query);
  return { since: range.since ?? null, until: range.until };
}

function toStoredDecisionResponse(row: DecisionWithOutcome) {
  return {
    ...toStoredDecisionView(row),
    command_length: row.command_length,
    truncated: row.truncated,
    runners_up: row.runners_up,
    constraints: row.constraints,
    outcome: {
      task_status: row.outcome.taskStatus,
      reward: roundReward(computeOutcomeReward(row.outcome)),
      user_rating: row.outcome.userRating,
      judge_score: row.outcome.judgeScore,
      peer_score: row.outcome.peerScore,
      overall_score: row.overall_score,
    },
  };
}

function toQualityView(point: {
  decisions: number;
  routed: number;
  rewarded: number;
  meanReward: number | null;
  bestAgentShare: number | null;
}) {
  return {
    decisions: point.decisions,
    routed: point.routed,
    rewarded: point.rewarded,
    mean_reward: point.meanReward,
    best_agent_share: point.bestAgentShare,
  };
}

function roundReward(reward: number | null): number | null {
  return reward === null ? null : Math.round(reward * 10_000) / 10_000;
}
