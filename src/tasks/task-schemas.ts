import { z } from '@hono/zod-openapi';

/** Input and output schemas of the task lifecycle, shared by the HTTP routes and the TypeScript API. */

const MAX_TOKENS = 100_000_000;
const MAX_DURATION_MS = 7 * 24 * 60 * 60 * 1000;

export const agentIdSchema = z
  .string()
  .min(1)
  .max(50)
  .regex(/^[a-z0-9_]+$/, 'must be lowercase letters, digits or underscores')
  .openapi({ example: 'agent_a' });
export const categorySchema = z
  .string()
  .min(1)
  .max(50)
  .regex(/^[a-z][a-z0-9_]*$/, 'must be a lowercase category name')
  .openapi({ example: 'research' });
const tokensSchema = z.number().int().min(0).max(MAX_TOKENS);
const durationSchema = z.number().int().min(0).max(MAX_DURATION_MS);
const modelSchema = z.string().min(1).max(200);
const isoDateSchema = z.iso.datetime({ offset: true });

export const nodeInputSchema = z
  .strictObject({
    node_name: z.string().min(1).max(100).openapi({ example: 'research' }),
    duration_ms: durationSchema.optional(),
    prompt_tokens: tokensSchema.optional(),
    completion_tokens: tokensSchema.optional(),
    total_tokens: tokensSchema.optional(),
    success: z.boolean().default(true),
    error: z.string().max(10_000).optional(),
    started_at: isoDateSchema.optional(),
  })
  .openapi('NodeInput');
export type NodeInput = z.infer<typeof nodeInputSchema>;

export const createTaskSchema = z
  .strictObject({
    id: z.guid().optional().openapi({ description: 'Client-chosen id, for idempotent creation' }),
    agent_id: agentIdSchema,
    command: z.string().trim().min(1).max(20_000).openapi({ example: 'research quantum computing' }),
    objective_category: categorySchema.optional(),
    model: modelSchema.optional(),
    status: z.enum(['queued', 'running']).default('queued'),
  })
  .openapi('CreateTask');
export type CreateTaskInput = z.infer<typeof createTaskSchema>;

const completionFields = {
  model: modelSchema.optional(),
  prompt_tokens: tokensSchema.optional(),
  completion_tokens: tokensSchema.optional(),
  total_tokens: tokensSchema.optional(),
  estimated_cost: z
    .number()
    .min(0)
    .max(10_000)
    .optional()
    .openapi({ description: 'USD; estimated from the model price table when omitted' }),
  duration_ms: durationSchema.optional(),
  nodes: z.array(nodeInputSchema).max(500).optional(),
};

export const completeTaskSchema = z
  .strictObject({
    result: z.string().max(1_000_000),
    ...completionFields,
  })
  .openapi('CompleteTask');
export type CompleteTaskInput = z.infer<typeof completeTaskSchema>;

export const failTaskSchema = z
  .strictObject({
    error: z.string().min(1).max(10_000),
    duration_ms: durationSchema.optional(),
    nodes: z.array(nodeInputSchema).max(500).optional(),
  })
  .openapi('FailTask');
export type FailTaskInput = z.infer<typeof failTaskSchema>;

/** One finished task reported in one go (the batch endpoint's items; backfills and busy hosts). */
export const finishedTaskSchema = z
  .strictObject({
    id: z.guid().optional(),
    agent_id: agentIdSchema,
    command: z.string().trim().min(1).max(20_000),
    objective_category: categorySchema.optional(),
    status: z.enum(['completed', 'failed']).default('completed'),
    result: z.string().max(1_000_000).optional(),
    error: z.string().min(1).max(10_000).optional(),
    started_at: isoDateSchema.optional(),
    completed_at: isoDateSchema.optional(),
    user_rating: z
      .number()
      .int()
      .min(1)
      .max(5)
      .optional()
      .openapi({ description: "The user's 1-5 rating, if already known" }),
    user_feedback: z.string().max(10_000).optional(),
    ...completionFields,
  })
  .refine((task) => task.status !== 'completed' || task.result !== undefined, {
    message: 'is required when status is completed',
    path: ['result'],
  })
  .refine((task) => task.status === 'completed' || task.user_rating === undefined, {
    message: 'only a completed task can be rated',
    path: ['user_rating'],
  })
  .refine((task) => task.status !== 'failed' || task.error !== undefined, {
    message: 'is required when status is failed',
    path: ['error'],
  })
  .openapi('FinishedTask');
export type FinishedTaskInput = z.infer<typeof finishedTaskSchema>;

export const MAX_BATCH_SIZE = 1000;

export const batchSchema = z
  .strictObject({
    tasks: z.array(finishedTaskSchema).min(1).max(MAX_BATCH_SIZE),
  })
  .openapi('TaskBatch');
