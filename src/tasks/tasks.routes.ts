import { createRoute, z } from '@hono/zod-openapi';
import type { AppContext } from '../app-context.js';
import { ValidationError } from '../errors.js';
import type { MeritApp } from '../http/app.js';
import { nextCursorSchema, pageQuery } from '../http/page-query.js';
import { conflictResponse, errorResponses, jsonContent, taskIdParams } from '../http/schemas.js';
import { userQuery } from '../http/user.js';
import type { Principal } from '../identity/principal.js';
import { decodeCursor, PREVIEW_CHARS, toPage } from '../lib/paging.js';
import {
  batchSchema,
  completeTaskSchema,
  createTaskSchema,
  failTaskSchema,
  finishedTaskSchema,
  nodeInputSchema,
} from './task-schemas.js';
import { toTaskPreviewView } from './tasks.js';
import { findEvaluationStatus, listTaskPreviews } from './tasks.queries.js';

const nullableNumber = z.number().nullable();

export const nodeSchema = z
  .object({
    id: z.guid(),
    node_name: z.string(),
    sequence: z.number().int(),
    status: z.string(),
    duration_ms: nullableNumber,
    prompt_tokens: nullableNumber,
    completion_tokens: nullableNumber,
    total_tokens: nullableNumber.openapi({
      description:
        "The step's tokens: as reported, else prompt_tokens + completion_tokens; null when the step reported no token counts (0 is a reported zero)",
    }),
    success: z.boolean(),
    error: z.string().nullable(),
    started_at: z.string().nullable(),
    completed_at: z.string().nullable(),
    model: z.string().nullable().openapi({
      description:
        "The step's model call: the model that answered (OpenTelemetry's gen_ai.response.model, else gen_ai.request.model); null when unknown",
    }),
    provider: z.string().nullable().openapi({
      description: 'gen_ai.provider.name (older gen_ai.system); null when unknown',
    }),
    cache_read_tokens: nullableNumber.openapi({
      description: 'Prompt tokens read from the cache (inside prompt_tokens)',
    }),
    reasoning_tokens: nullableNumber.openapi({ description: 'Reasoning tokens (inside completion_tokens)' }),
    estimated_cost: nullableNumber.openapi({
      description:
        "USD, the step's model call at the price table's price; null when unknown or the model has no price",
    }),
  })
  .openapi('Node');

export const scoreSchema = z
  .object({
    accuracy_score: nullableNumber,
    relevance_score: nullableNumber,
    completeness_score: nullableNumber,
    efficiency_score: nullableNumber,
    overall_score: nullableNumber,
    peer_score: nullableNumber,
    user_rating: nullableNumber,
    user_feedback: z.string().nullable(),
    user_feedback_length: nullableNumber,
    total_tokens: nullableNumber,
    estimated_cost: nullableNumber,
    reward_points: z.number(),
    score_sources: z.record(z.string(), z.unknown()),
  })
  .openapi('Score');

export const taskSchema = z
  .object({
    id: z.guid(),
    user_id: z.guid(),
    agent_id: z.string(),
    nickname: z.string().nullable(),
    command: z.string(),
    command_length: z.number().int().openapi({ description: 'Characters of the whole command' }),
    objective_category: z.string(),
    category_confidence: nullableNumber,
    category_source: z.string(),
    status: z.enum(['queued', 'running', 'completed', 'failed']),
    current_node: z.string().nullable(),
    result: z.string().nullable(),
    result_length: nullableNumber.openapi({ description: 'Characters of the whole result' }),
    error: z.string().nullable(),
    error_length: nullableNumber.openapi({ description: 'Characters of the whole error' }),
    failure_reason: z.enum(['error', 'timed_out']).nullable().openapi({
      description:
        "Why a failed task failed: 'error' (its agent or client reported it) or 'timed_out' (no activity for MERIT_TASK_TIMEOUT_MINUTES); null unless failed",
    }),
    truncated: z.boolean().openapi({
      description: `True when a list shows a preview: command, result, error or the score's user_feedback was cut to its first ${PREVIEW_CHARS} characters (GET /api/tasks/{task_id} has them whole)`,
    }),
    model: z.string().nullable(),
    simulated: z.boolean(),
    source: z.string(),
    prompt_tokens: nullableNumber,
    completion_tokens: nullableNumber,
    total_tokens: nullableNumber,
    estimated_cost: nullableNumber,
    duration_ms: nullableNumber,
    created_at: z.string(),
    started_at: z.string().nullable(),
    completed_at: z.string().nullable(),
    session_id: z.string().nullable().openapi({
      description:
        "The conversation the task belongs to, as the agent's framework named it (OpenTelemetry's gen_ai.conversation.id); null when unknown",
    }),
    nodes: z.array(nodeSchema).optional(),
    score: scoreSchema.nullable().optional(),
    evaluation_status: z.enum(['pending', 'evaluated', 'failed']).nullable().optional().openapi({
      description:
        "A completed task's automatic evaluation: 'evaluated' (an evaluator scored it), 'failed' (every evaluator that ran failed) or 'pending'; null unless completed. The list, the one-task endpoint and live events carry it",
    }),
  })
  .openapi('Task');

const tags = ['Tasks'];

/** The task list's filters (each optional, combined with AND); keyset paging works the same under them. */
export const taskFilterQuery = {
  agent_id: z.string().min(1).max(100).optional().openapi({ description: "Only this agent's tasks" }),
  category: z.string().min(1).max(100).optional().openapi({ description: 'Only tasks of this category' }),
  status: z.enum(['queued', 'running', 'completed', 'failed']).optional(),
  unrated: z
    .enum(['true', 'false'])
    .optional()
    .openapi({ description: 'Only completed tasks the user has not rated' }),
  q: z
    .string()
    .trim()
    .min(1)
    .max(200)
    .optional()
    .openapi({ description: 'Case-insensitive text found in the command or the result' }),
  session_id: z
    .string()
    .min(1)
    .max(256)
    .optional()
    .openapi({ description: "Only the tasks of this session (a conversation's gen_ai.conversation.id)" }),
};
const userOnly = z.object(userQuery);

export function registerTaskRoutes(app: MeritApp, ctx: AppContext): void {
  const { tracker } = ctx;

  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/tasks',
      tags,
      summary: 'Create a task (queued or running), as an agent host starts work',
      request: {
        query: userOnly,
        body: { content: { 'application/json': { schema: createTaskSchema } }, required: true },
      },
      responses: { 201: jsonContent(taskSchema, 'The created task'), ...errorResponses, ...conflictResponse },
    }),
    async (c) => {
      const body = c.req.valid('json');
      refuseBodyUser(c.get('principal'), [body], 'user_id');
      const task = await tracker.createTask(c.get('principal'), body);
      return c.json(task, 201);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/tasks/completed',
      tags,
      summary: 'Record one task that already finished (completed or failed), in one request',
      request: {
        query: userOnly,
        body: { content: { 'application/json': { schema: finishedTaskSchema } }, required: true },
      },
      responses: {
        201: jsonContent(
          z.object({ accepted: z.number(), duplicates: z.number(), task_ids: z.array(z.guid()) }),
          'Recorded',
        ),
        ...errorResponses,
      },
    }),
    async (c) => {
      const body = c.req.valid('json');
      refuseBodyUser(c.get('principal'), [body], 'user_id');
      return c.json(await tracker.recordFinishedTasks(c.get('principal'), [body], { source: 'api' }), 201);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/tasks/batch',
      tags,
      summary:
        'Record many finished tasks in one request (backfills, busy hosts); ids already recorded are skipped',
      request: {
        query: userOnly,
        body: { content: { 'application/json': { schema: batchSchema } }, required: true },
      },
      responses: {
        201: jsonContent(
          z
            .object({ accepted: z.number(), duplicates: z.number(), task_ids: z.array(z.guid()) })
            .openapi('BatchResult'),
          'Recorded',
        ),
        ...errorResponses,
      },
    }),
    async (c) => {
      const { tasks } = c.req.valid('json');
      refuseBodyUser(c.get('principal'), tasks, 'tasks.{i}.user_id');
      return c.json(await tracker.recordFinishedTasks(c.get('principal'), tasks), 201);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/tasks',
      tags,
      summary: "The user's tasks, newest first, a page at a time (long texts as previews, with their score)",
      request: {
        query: z.object({
          ...userQuery,
          ...pageQuery,
          mine: z.enum(['true', 'false']).optional().openapi({
            description:
              "Only the requesting user's tasks (members and keys see the project's tasks; local mode always lists the user's own)",
          }),
          ...taskFilterQuery,
        }),
      },
      responses: {
        200: jsonContent(
          z.object({ tasks: z.array(taskSchema), next_cursor: nextCursorSchema }).openapi('TaskPage'),
          'Tasks',
        ),
        ...errorResponses,
      },
    }),
    async (c) => {
      const query = c.req.valid('query');
      const rows = await listTaskPreviews(ctx.db, c.get('principal'), {
        limit: query.limit,
        after: query.cursor === undefined ? undefined : decodeCursor('tasks', query.cursor),
        mine: query.mine === 'true',
        filters: {
          agentId: query.agent_id,
          category: query.category,
          status: query.status,
          unrated: query.unrated === 'true',
          search: query.q,
          sessionId: query.session_id,
        },
      });
      const page = toPage('tasks', rows, query.limit);
      return c.json(
        {
          tasks: page.rows.map(toTaskPreviewView),
          next_cursor: page.nextCursor,
        },
        200,
      );
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/tasks/{task_id}',
      tags,
      summary: 'One task with its nodes and score',
      request: { params: taskIdParams, query: userOnly },
      responses: { 200: jsonContent(taskSchema, 'The task'), ...errorResponses },
    }),
    async (c) => {
      const taskId = c.req.valid('param').task_id;
      const task = await tracker.getTask(c.get('principal'), taskId);
      return c.json(
        { ...task, evaluation_status: (await findEvaluationStatus(ctx.db, taskId)) ?? null },
        200,
      );
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/tasks/{task_id}/start',
      tags,
      summary: 'Mark a task as running',
      request: { params: taskIdParams, query: userOnly },
      responses: { 200: jsonContent(taskSchema, 'The task'), ...errorResponses, ...conflictResponse },
    }),
    async (c) => c.json(await tracker.startTask(c.get('principal'), c.req.valid('param').task_id), 200),
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/tasks/{task_id}/nodes',
      tags,
      summary: 'Record one node (step) of a running task',
      request: {
        params: taskIdParams,
        query: userOnly,
        body: { content: { 'application/json': { schema: nodeInputSchema } }, required: true },
      },
      responses: {
        201: jsonContent(nodeSchema, 'The recorded node'),
        ...errorResponses,
        ...conflictResponse,
      },
    }),
    async (c) =>
      c.json(
        await tracker.recordNode(c.get('principal'), c.req.valid('param').task_id, c.req.valid('json')),
        201,
      ),
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/tasks/{task_id}/complete',
      tags,
      summary:
        'Complete a task: creates its performance score (once, even if sent twice) and updates statistics',
      request: {
        params: taskIdParams,
        query: userOnly,
        body: { content: { 'application/json': { schema: completeTaskSchema } }, required: true },
      },
      responses: {
        200: jsonContent(taskSchema, 'The completed task'),
        ...errorResponses,
        ...conflictResponse,
      },
    }),
    async (c) =>
      c.json(
        await tracker.completeTask(c.get('principal'), c.req.valid('param').task_id, c.req.valid('json')),
        200,
      ),
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/tasks/{task_id}/fail',
      tags,
      summary: 'Fail a task with its error',
      request: {
        params: taskIdParams,
        query: userOnly,
        body: { content: { 'application/json': { schema: failTaskSchema } }, required: true },
      },
      responses: { 200: jsonContent(taskSchema, 'The failed task'), ...errorResponses, ...conflictResponse },
    }),
    async (c) =>
      c.json(
        await tracker.failTask(c.get('principal'), c.req.valid('param').task_id, c.req.valid('json')),
        200,
      ),
  );
}

/**
 * `user_id` in a task's body names the end user who gave the command: a program with an API key reports
 * for its users. A signed-in account is its own user, and local mode takes `?user_id=`.
 */
function refuseBodyUser(
  principal: Principal,
  tasks: readonly { user_id?: string | undefined }[],
  field: string,
) {
  if (principal.via === 'key') return;
  const index = tasks.findIndex((task) => task.user_id !== undefined);
  if (index === -1) return;
  throw new ValidationError(
    field.replace('{i}', String(index)),
    principal.via === 'local'
      ? 'is for API keys; in local mode the user is the ?user_id= query parameter'
      : 'is for API keys; a signed-in account records its own tasks',
  );
}
