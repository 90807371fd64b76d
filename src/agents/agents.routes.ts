import { createRoute, z } from '@hono/zod-openapi';
import type { Kysely } from 'kysely';
import type { AppContext } from '../app-context.js';
import type { AgentRow, Database } from '../db/database.js';
import { ConflictError, NotFoundError, ValidationError } from '../errors.js';
import { runTransactionWithEvents } from '../events/transactional-events.js';
import type { MeritApp } from '../http/app.js';
import { nextCursorSchema, pageQuery } from '../http/page-query.js';
import { agentIdParams, errorResponses, jsonContent } from '../http/schemas.js';
import { userQuery } from '../http/user.js';
import { recordAudit } from '../identity/audit.js';
import { auditActor } from '../identity/principal.js';
import { decodeCursor, PREVIEW_CHARS, toPage } from '../lib/paging.js';
import { DEFAULT_LEVEL } from '../ranking/ranking.js';
import { buildLeaderboard, DEFAULT_MIN_SAMPLE, type StatsInput, toStatsInput } from '../stats/leaderboard.js';
import { LeaderboardCache } from '../stats/leaderboard-cache.js';
import { type ReadRange, resolveReadWindow, windowQuery } from '../stats/read-window.js';
import { findAllAgentStats, findCategoryStats, findStatsInWindow } from '../stats/stats.queries.js';
import { findTrend } from '../stats/trend.queries.js';
import {
  COUNT_CAP,
  findAgent,
  findCostQuality,
  findNodeBreakdown,
  findScoredTasks,
  listAgentsWithLoad,
} from './agents.queries.js';
import { updateExternalAgent } from './external-agents.queries.js';

const nullableNumber = z.number().nullable();

export const agentSchema = z
  .object({
    agent_id: z.string(),
    nickname: z.string(),
    display_name: z.string(),
    role: z.string(),
    specializations: z.array(z.string()),
    is_reviewer: z.boolean(),
    is_orchestrator: z.boolean(),
    active: z.boolean(),
    model: z.string().nullable(),
    simulated: z.boolean(),
    running_tasks: z.number(),
    origin: z.enum(['merit', 'external']).openapi({
      description:
        "'external': an agent that runs outside Merit (named in OpenTelemetry spans or imported battles), measured but never run nor routed to",
    }),
    external_name: z
      .string()
      .nullable()
      .openapi({ description: "The name the source gave an external agent; null for Merit's own" }),
  })
  .openapi('Agent');

/** A line of text a person edits: trimmed, not blank. */
const editableText = (max: number) => z.string().trim().min(1).max(max);

const updateExternalAgentSchema = z
  .strictObject({
    display_name: editableText(200).optional(),
    role: editableText(200).optional(),
    specializations: z
      .array(editableText(50))
      .max(20)
      .refine((items) => new Set(items).size === items.length, { message: 'must not repeat an item' })
      .optional(),
    active: z.boolean().optional().openapi({
      description: 'An inactive agent keeps its history and statistics; its new spans are still recorded',
    }),
  })
  .refine((body) => Object.keys(body).length > 0, { message: 'names no field to change' })
  .openapi('ExternalAgentUpdate');

export const rankingSchema = z
  .object({
    agent_id: z.string(),
    nickname: z.string(),
    rank: z
      .number()
      .int()
      .nullable()
      .openapi({ description: 'Null while the agent has fewer scored tasks than min_sample' }),
    provisional: z.boolean(),
    total_tasks: z.number(),
    successful_tasks: z.number(),
    failed_tasks: z.number(),
    success_rate: nullableNumber,
    avg_overall_score: nullableNumber.openapi({ description: 'Plain mean of the overall scores' }),
    score_estimate: nullableNumber.openapi({
      description:
        'Posterior mean of the overall score (Beta, uniform prior): the estimate score_lower-score_upper qualifies',
    }),
    score_lower: nullableNumber,
    score_upper: nullableNumber,
    scored_tasks: z.number(),
    not_evaluated_tasks: z.number().openapi({
      description:
        'Completed tasks without an overall score (no rating, judge or peer score yet), left out of the averages',
    }),
    avg_user_rating: nullableNumber.openapi({ description: 'Plain mean of the star ratings' }),
    rating_estimate: nullableNumber.openapi({
      description:
        'Posterior mean of the expected star value (Dirichlet, one pseudo-rating per star): the estimate rating_lower-rating_upper qualifies',
    }),
    rating_lower: nullableNumber,
    rating_upper: nullableNumber,
    rated_tasks: z.number(),
    total_cost: nullableNumber.openapi({
      description: 'Sum over the priced tasks; null when none of the finished tasks has a known cost',
    }),
    avg_cost_per_task: nullableNumber.openapi({ description: 'total_cost / priced_tasks' }),
    priced_tasks: z.number(),
    unpriced_tasks: z.number().openapi({
      description: 'Finished tasks of unknown cost (model without a price, or no usage reported)',
    }),
    cost_efficiency_score: nullableNumber,
    total_tokens: nullableNumber,
    unmetered_tasks: z.number().openapi({ description: 'Finished tasks of unknown token count' }),
    avg_duration_ms: nullableNumber,
    days_active: z.number(),
    reward_points: z.number(),
  })
  .openapi('Ranking');

const leaderboardSchema = z
  .object({
    rankings: z.array(rankingSchema),
    category: z.string().nullable(),
    last_updated: z.string().nullable(),
    min_sample: z.number(),
    level: z.number(),
  })
  .openapi('Leaderboard');

const categoryStatsSchema = z
  .object({
    objective_category: z.string(),
    total_tasks: z.number(),
    successful_tasks: z.number(),
    avg_overall_score: nullableNumber,
    avg_user_rating: nullableNumber,
    total_cost: nullableNumber,
    priced_tasks: z.number(),
    unpriced_tasks: z.number(),
    avg_duration_ms: nullableNumber,
    avg_tokens: nullableNumber,
    reward_points: z.number(),
  })
  .openapi('CategoryStats');

const scoredTaskSchema = z
  .object({
    task_id: z.guid(),
    command: z.string(),
    command_length: z.number().int(),
    objective_category: z.string(),
    status: z.string(),
    model: z.string().nullable(),
    simulated: z.boolean(),
    overall_score: nullableNumber,
    efficiency_score: nullableNumber,
    accuracy_score: nullableNumber,
    relevance_score: nullableNumber,
    completeness_score: nullableNumber,
    peer_score: nullableNumber,
    user_rating: nullableNumber,
    user_feedback: z.string().nullable(),
    user_feedback_length: nullableNumber,
    truncated: z.boolean().openapi({
      description: `True when command or user_feedback was cut to its first ${PREVIEW_CHARS} characters`,
    }),
    reward_points: z.number(),
    total_tokens: nullableNumber,
    estimated_cost: nullableNumber,
    duration_ms: nullableNumber,
    created_at: z.string(),
    completed_at: z.string().nullable(),
  })
  .openapi('ScoredTask');

const windowSchema = z
  .object({ since: z.string().nullable(), until: z.string().nullable() })
  .openapi('ReadWindow', {
    description: 'The window the answer covers: since (inclusive) and until (exclusive); null: unbounded',
  });

function toWindowView(range: ReadRange) {
  return { since: range.since?.toISOString() ?? null, until: range.until?.toISOString() ?? null };
}

const tags = ['Agents'];
/** How long another process's statistics writes may go unseen (this process's are seen at once). */
const LEADERBOARD_CACHE_TTL_MS = 1000;

export function toAgentView(row: AgentRow & { running_tasks?: number }, simulated: boolean) {
  return {
    agent_id: row.agent_id,
    nickname: row.nickname,
    display_name: row.display_name,
    role: row.role,
    specializations: row.specializations,
    is_reviewer: row.is_reviewer,
    is_orchestrator: row.is_orchestrator,
    active: row.active,
    model: row.model,
    // An external agent runs for real elsewhere, whatever Merit's own agents do.
    simulated: simulated && row.origin === 'merit',
    running_tasks: Number(row.running_tasks ?? 0),
    origin: row.origin,
    external_name: row.external_name,
  };
}

async function requireAgent(db: Kysely<Database>, projectId: string, agentId: string): Promise<AgentRow> {
  const agent = await findAgent(db, projectId, agentId);
  if (!agent) throw new NotFoundError('agent_not_found', `Agent ${agentId} not found`);
  return agent;
}

export function registerAgentRoutes(app: MeritApp, ctx: AppContext): void {
  const { db } = ctx;
  const simulated = ctx.config.llm === undefined;
  const leaderboards = new LeaderboardCache<z.infer<typeof leaderboardSchema>>(
    ctx.events,
    LEADERBOARD_CACHE_TTL_MS,
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/agents',
      tags,
      summary: 'The agent team, with specialties and current load',
      request: { query: z.object(userQuery) },
      responses: {
        200: jsonContent(z.object({ agents: z.array(agentSchema) }), 'Agents'),
        ...errorResponses,
      },
    }),
    async (c) =>
      c.json(
        {
          agents: (await listAgentsWithLoad(db, c.get('principal').projectId)).map((row) =>
            toAgentView(row, simulated),
          ),
        },
        200,
      ),
  );

  app.openapi(
    createRoute({
      method: 'patch',
      path: '/api/agents/{agent_id}',
      tags,
      summary:
        "Edit an external agent's display name, role, specializations or active flag (Merit's own agents are not edited here)",
      request: {
        params: agentIdParams,
        query: z.object(userQuery),
        body: { content: { 'application/json': { schema: updateExternalAgentSchema } }, required: true },
      },
      responses: { 200: jsonContent(agentSchema, 'Updated'), ...errorResponses },
    }),
    async (c) => {
      const { agent_id } = c.req.valid('param');
      const changes = c.req.valid('json');
      const principal = c.get('principal');
      const existing = await requireAgent(db, principal.projectId, agent_id);
      if (existing.origin !== 'external') {
        throw new ConflictError(
          'conflict',
          `Agent ${agent_id} is one of Merit's own agents: only external agents are edited here`,
        );
      }
      // Every process drops what it cached of the project's agents (the tracker's active flags).
      const row = await runTransactionWithEvents(db, ctx.events, async (trx, emit) => {
        const updated = await updateExternalAgent(trx, principal.projectId, agent_id, changes);
        if (!updated) throw new NotFoundError('agent_not_found', `Agent ${agent_id} not found`);
        await recordAudit(trx, {
          projectId: principal.projectId,
          actor: auditActor(principal),
          action: 'agent.update',
          target: `agent ${agent_id}`,
          details: {
            before: Object.fromEntries(
              Object.keys(changes).map((field) => [field, existing[field as keyof typeof existing]]),
            ),
            after: changes,
          },
        });
        emit({ type: 'agents', projectId: principal.projectId });
        return updated;
      });
      return c.json(toAgentView(row, simulated), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/agents/leaderboard',
      tags,
      summary:
        'Agents ranked by the lower confidence bound of their overall score, overall or in one category',
      request: {
        query: z.object({
          ...userQuery,
          category: z.string().min(1).max(50).optional().openapi({ example: 'research' }),
          limit: z.coerce.number().int().min(1).max(500).optional(),
          min_sample: z.coerce.number().int().min(1).max(1000).default(DEFAULT_MIN_SAMPLE),
          ...windowQuery('all'),
        }),
      },
      responses: {
        200: jsonContent(leaderboardSchema, 'Rankings (empty when there is no data)'),
        ...errorResponses,
      },
    }),
    async (c) => {
      const query = c.req.valid('query');
      const { projectId } = c.get('principal');
      // The seed's leaderboard is all-time (its hand-inserted statistics rows have no tasks to window).
      const range = resolveReadWindow(query, { defaultWindow: 'all' });
      const key = [
        projectId,
        query.category ?? '',
        query.limit ?? '',
        query.min_sample,
        query.window ?? '',
        query.since ?? '',
        query.until ?? '',
      ].join('|');
      const leaderboard = await leaderboards.get(key, async () => {
        const { rows, lastUpdated } = await loadLeaderboardRows(ctx.readDb, projectId, query.category, range);
        return {
          rankings: buildLeaderboard(rows, {
            minSample: query.min_sample,
            level: DEFAULT_LEVEL,
            limit: query.limit,
          }),
          category: query.category ?? null,
          last_updated: lastUpdated?.toISOString() ?? null,
          min_sample: query.min_sample,
          level: DEFAULT_LEVEL,
        };
      });
      return c.json(leaderboard, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/agents/{agent_id}/performance',
      tags,
      summary: "An agent's statistics (overall and per category) and the user's scored tasks, newest first",
      request: {
        params: agentIdParams,
        query: z.object({
          ...userQuery,
          limit: z.coerce.number().int().min(1).max(200).default(20),
          cursor: pageQuery.cursor,
          offset: z.coerce
            .number()
            .int()
            .min(0)
            .max(COUNT_CAP)
            .default(0)
            .openapi({
              description: `Superseded by cursor (an offset shifts when tasks arrive, and a large one reads every row it skips): at most ${COUNT_CAP}; page further with cursor`,
            }),
          ...windowQuery(),
        }),
      },
      responses: {
        200: jsonContent(
          z
            .object({
              agent: agentSchema,
              stats: rankingSchema.nullable(),
              categories: z.array(categoryStatsSchema),
              tasks: z.array(scoredTaskSchema),
              total: z.number().openapi({
                description: `The scored tasks in the window, counted up to ${COUNT_CAP}: past that, ${COUNT_CAP} and total_is_estimate`,
              }),
              total_is_estimate: z.boolean().openapi({
                description: `True when the window holds more than ${COUNT_CAP} scored tasks (total is then a lower bound)`,
              }),
              window: windowSchema,
              limit: z.number(),
              offset: z.number(),
              next_cursor: nextCursorSchema,
            })
            .openapi('AgentPerformance'),
          'Performance',
        ),
        ...errorResponses,
      },
    }),
    async (c) => {
      const { agent_id } = c.req.valid('param');
      const query = c.req.valid('query');
      if (query.cursor !== undefined && query.offset > 0) {
        throw new ValidationError('offset', 'cannot be combined with cursor');
      }
      const after = query.cursor === undefined ? undefined : decodeCursor('scored_tasks', query.cursor);
      const range = resolveReadWindow(query);
      const principal = c.get('principal');
      const agent = await requireAgent(db, principal.projectId, agent_id);
      const [allStats, categoryRows, scored] = await Promise.all([
        findAllAgentStats(ctx.readDb, principal.projectId),
        findCategoryStats(ctx.readDb, principal.projectId, { agentId: agent_id }),
        findScoredTasks(ctx.readDb, agent_id, c.get('principal'), {
          limit: query.limit,
          offset: query.offset,
          after,
          range,
        }),
      ]);
      const page = toPage('scored_tasks', scored.rows, query.limit);
      // The agent's entry of the whole leaderboard, so its rank is its rank among all agents.
      const stats = buildLeaderboard(allStats.map(toStatsInput), {
        minSample: DEFAULT_MIN_SAMPLE,
        level: DEFAULT_LEVEL,
      }).find((ranking) => ranking.agent_id === agent_id);
      return c.json(
        {
          agent: toAgentView(agent, simulated),
          stats: stats ?? null,
          categories: categoryRows.map(toCategoryView),
          tasks: page.rows.map(({ id: _scoreId, cursor_at: _position, ...row }) => ({
            ...row,
            truncated: row.command_length > PREVIEW_CHARS || (row.user_feedback_length ?? 0) > PREVIEW_CHARS,
            created_at: row.created_at.toISOString(),
            completed_at: row.completed_at ? row.completed_at.toISOString() : null,
          })),
          total: scored.total,
          total_is_estimate: scored.totalIsEstimate,
          window: toWindowView(range),
          limit: query.limit,
          offset: query.offset,
          next_cursor: page.nextCursor,
        },
        200,
      );
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/agents/{agent_id}/nodes',
      tags,
      summary: "Node-level breakdown of an agent's tasks: which steps cost the time and the tokens",
      request: { params: agentIdParams, query: z.object({ ...userQuery, ...windowQuery() }) },
      responses: {
        200: jsonContent(
          z.object({
            nodes: z.array(
              z
                .object({
                  node_name: z.string(),
                  runs: z.number(),
                  avg_duration_ms: nullableNumber,
                  total_duration_ms: nullableNumber,
                  avg_tokens: nullableNumber,
                  total_tokens: nullableNumber,
                  success_rate: z.number(),
                })
                .openapi('NodeStats'),
            ),
            window: windowSchema,
          }),
          'Nodes',
        ),
        ...errorResponses,
      },
    }),
    async (c) => {
      const { agent_id } = c.req.valid('param');
      await requireAgent(db, c.get('principal').projectId, agent_id);
      const range = resolveReadWindow(c.req.valid('query'));
      return c.json(
        {
          nodes: await findNodeBreakdown(ctx.readDb, agent_id, c.get('principal'), range),
          window: toWindowView(range),
        },
        200,
      );
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/agents/{agent_id}/trend',
      tags,
      summary: "An agent's score, rating, task count and cost over time",
      request: {
        params: agentIdParams,
        query: z.object({
          ...userQuery,
          bucket: z.enum(['hour', 'day', 'week']).default('day'),
          ...windowQuery(),
        }),
      },
      responses: {
        200: jsonContent(
          z.object({
            points: z.array(
              z
                .object({
                  bucket_start: z.string(),
                  tasks: z.number(),
                  avg_overall_score: nullableNumber,
                  avg_user_rating: nullableNumber,
                  total_cost: nullableNumber,
                })
                .openapi('TrendPoint'),
            ),
            cost_quality: z
              .array(
                z
                  .object({ tasks: z.number(), avg_cost: z.number(), avg_score: z.number() })
                  .openapi('CostQualityCell'),
              )
              .openapi({
                description:
                  "The range's newest scored, priced tasks (at most 2,000) grouped into a grid of cost and score cells: each cell its task count and mean cost and score",
              }),
            cost_quality_truncated: z.boolean().openapi({
              description:
                'True when the range holds more scored, priced tasks than the 2,000 newest the grid shows',
            }),
            window: windowSchema,
          }),
          'Trend',
        ),
        ...errorResponses,
      },
    }),
    async (c) => {
      const { agent_id } = c.req.valid('param');
      await requireAgent(db, c.get('principal').projectId, agent_id);
      const query = c.req.valid('query');
      const range = resolveReadWindow(query);
      const scope = c.get('principal');
      // From the rollups; days and weeks keep retention's deleted days, so the chart outlives the rows.
      const trend = findTrend(ctx.readDb, agent_id, scope, query.bucket, range).then((points) =>
        points.map((point) => ({ ...point, bucket_start: point.bucket_start.toISOString() })),
      );
      const [points, costQuality] = await Promise.all([
        trend,
        findCostQuality(ctx.readDb, agent_id, scope, range),
      ]);
      return c.json(
        {
          points,
          cost_quality: costQuality.cells,
          cost_quality_truncated: costQuality.truncated,
          window: toWindowView(range),
        },
        200,
      );
    },
  );
}

async function loadLeaderboardRows(
  db: Kysely<Database>,
  projectId: string,
  category: string | undefined,
  range: ReadRange,
): Promise<{ rows: StatsInput[]; lastUpdated: Date | null }> {
  if (range.since !== undefined || range.until !== undefined) {
    if (category !== undefined) await requireCategory(db, projectId, category);
    const rows = await findStatsInWindow(db, projectId, range, { category });
    return { rows, lastUpdated: latestOf(rows.map((row) => row.last_task_at)) };
  }
  if (category === undefined) {
    const rows = await findAllAgentStats(db, projectId);
    return { rows: rows.map(toStatsInput), lastUpdated: latestOf(rows.map((row) => row.last_updated)) };
  }
  await requireCategory(db, projectId, category);
  const rows = await findCategoryStats(db, projectId, { category });
  return { rows: rows.map(toStatsInput), lastUpdated: latestOf(rows.map((row) => row.last_updated)) };
}

async function requireCategory(db: Kysely<Database>, projectId: string, category: string): Promise<void> {
  const exists = await db
    .selectFrom('objective_templates')
    .select('category')
    .where('project_id', '=', projectId)
    .where('category', '=', category)
    .executeTakeFirst();
  if (!exists) throw new ValidationError('category', `unknown objective category '${category}'`);
}

function latestOf(dates: readonly (Date | null)[]): Date | null {
  return dates.reduce<Date | null>(
    (latest, date) => (date && (!latest || date > latest) ? date : latest),
    null,
  );
}

function toCategoryView(row: Awaited<ReturnType<typeof findCategoryStats>>[number]) {
  const total = row.total_tasks;
  return {
    objective_category: row.objective_category,
    total_tasks: total,
    successful_tasks: row.successful_tasks,
    avg_overall_score:
      row.scored_tasks > 0 ? Math.round((row.sum_overall_score / row.scored_tasks) * 100) / 100 : null,
    avg_user_rating:
      row.rated_tasks > 0 ? Math.round((row.sum_user_rating / row.rated_tasks) * 100) / 100 : null,
    // Costs and tokens are summed over the tasks that know them, and averaged over those.
    total_cost: total > 0 && row.priced_tasks === 0 ? null : row.total_cost,
    priced_tasks: row.priced_tasks,
    unpriced_tasks: Math.max(0, total - row.priced_tasks),
    avg_duration_ms: total > 0 ? Math.round(row.total_duration_ms / total) : null,
    avg_tokens: row.metered_tasks > 0 ? Math.round(row.total_tokens / row.metered_tasks) : null,
    reward_points: row.reward_points,
  };
}
