import { z } from '@hono/zod-openapi';

/** Input and output schemas of the task lifecycle, shared by the HTTP routes and the TypeScript API. */

/** The cap on any token count, and on prompt + completion (what total_tokens defaults to). */
export const MAX_TOKENS = 100_000_000;
export const MAX_DURATION_MS = 7 * 24 * 60 * 60 * 1000;
/** Earlier than any agent could have run: such a timestamp is a client bug (e.g. 0001-01-01). */
export const EARLIEST_TIMESTAMP = '2000-01-01T00:00:00Z';
/** How far a client's clock may run ahead of the server's. */
export const MAX_CLOCK_SKEW_MS = 5 * 60 * 1000;

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
const costSchema = z.number().min(0).max(10_000);

/**
 * A timestamp reported by a client: not before 2000 and not more than 5 minutes ahead of the server's
 * clock, read at each validation (a far-future date would sort first and inflate days_active forever).
 */
export const timestampSchema = z.iso
  .datetime({ offset: true })
  .refine((value) => Date.parse(value) >= Date.parse(EARLIEST_TIMESTAMP), {
    message: `must not be before ${EARLIEST_TIMESTAMP}`,
  })
  .refine((value) => Date.parse(value) <= Date.now() + MAX_CLOCK_SKEW_MS, {
    message: 'must not be more than 5 minutes in the future',
  })
  .openapi({
    description: `ISO 8601 with offset, from ${EARLIEST_TIMESTAMP} to 5 minutes past the server's clock`,
    example: '2026-01-15T09:30:00Z',
  });

interface TokenCounts {
  prompt_tokens?: number | undefined;
  completion_tokens?: number | undefined;
  total_tokens?: number | undefined;
}

/**
 * prompt + completion is what total_tokens defaults to, so it obeys total_tokens' cap; a total given
 * with them counts at least both (providers add cached or reasoning tokens, never subtract).
 */
function checkTokenCounts(counts: TokenCounts, ctx: z.RefinementCtx): void {
  const parts = (counts.prompt_tokens ?? 0) + (counts.completion_tokens ?? 0);
  if (parts > MAX_TOKENS)
    ctx.addIssue({
      code: 'custom',
      path: ['completion_tokens'],
      message: `prompt_tokens + completion_tokens must not exceed ${MAX_TOKENS}`,
    });
  else if (counts.total_tokens !== undefined && counts.total_tokens < parts)
    ctx.addIssue({
      code: 'custom',
      path: ['total_tokens'],
      message: `must be at least prompt_tokens + completion_tokens (${parts})`,
    });
}

/** A task's figures default to the sums over its nodes, so those sums obey the same cap. */
function checkNodeTokenSums(
  task: { nodes?: readonly TokenCounts[] | undefined },
  ctx: z.RefinementCtx,
): void {
  const nodes = task.nodes ?? [];
  const total = nodes.reduce(
    (sum, node) => sum + (node.total_tokens ?? (node.prompt_tokens ?? 0) + (node.completion_tokens ?? 0)),
    0,
  );
  if (total > MAX_TOKENS)
    ctx.addIssue({
      code: 'custom',
      path: ['nodes'],
      message: `the nodes' tokens together must not exceed ${MAX_TOKENS}`,
    });
}

export const nodeInputSchema = z
  .strictObject({
    node_name: z.string().min(1).max(100).openapi({ example: 'research' }),
    duration_ms: durationSchema.optional(),
    prompt_tokens: tokensSchema.optional(),
    completion_tokens: tokensSchema.optional(),
    total_tokens: tokensSchema.optional().openapi({
      description:
        'Defaults to prompt_tokens + completion_tokens; unknown (null) when the step gives none of the three. Send 0 for a step that used no tokens',
    }),
    success: z.boolean().default(true),
    error: z.string().max(10_000).optional(),
    started_at: timestampSchema.optional(),
    model: modelSchema.optional().openapi({ description: "The step's model call: the model that answered" }),
    provider: z.string().min(1).max(200).optional().openapi({ example: 'openai' }),
    cache_read_tokens: tokensSchema
      .optional()
      .openapi({ description: 'Prompt tokens read from the provider cache (inside prompt_tokens)' }),
    reasoning_tokens: tokensSchema
      .optional()
      .openapi({ description: 'Reasoning tokens (inside completion_tokens)' }),
    estimated_cost: costSchema.optional().openapi({
      description: 'USD; estimated from the model price table when omitted (null if the model has none)',
    }),
  })
  .superRefine(checkTokenCounts)
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
    user_id: z.string().min(1).max(200).optional().openapi({
      description:
        "With an API key: the end user who gave the command, any string id (the key's ?user_id= otherwise). Refused for sessions and local mode.",
    }),
  })
  .openapi('CreateTask');
export type CreateTaskInput = z.infer<typeof createTaskSchema>;

const completionFields = {
  model: modelSchema.optional(),
  prompt_tokens: tokensSchema.optional(),
  completion_tokens: tokensSchema.optional(),
  total_tokens: tokensSchema.optional(),
  estimated_cost: costSchema
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
  .superRefine(checkTokenCounts)
  .superRefine(checkNodeTokenSums)
  .openapi('CompleteTask');
export type CompleteTaskInput = z.infer<typeof completeTaskSchema>;

export const failTaskSchema = z
  .strictObject({
    error: z.string().min(1).max(10_000),
    duration_ms: durationSchema.optional(),
    nodes: z.array(nodeInputSchema).max(500).optional(),
  })
  .superRefine(checkNodeTokenSums)
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
    started_at: timestampSchema.optional(),
    completed_at: timestampSchema.optional(),
    user_rating: z
      .number()
      .int()
      .min(1)
      .max(5)
      .optional()
      .openapi({ description: "The user's 1-5 rating, if already known" }),
    user_feedback: z.string().max(10_000).optional(),
    user_id: z.string().min(1).max(200).optional().openapi({
      description:
        "With an API key: the end user who gave the command, any string id (the key's ?user_id= otherwise). Refused for sessions and local mode.",
    }),
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
  .refine(
    (task) =>
      task.started_at === undefined ||
      task.completed_at === undefined ||
      Date.parse(task.started_at) <= Date.parse(task.completed_at),
    { message: 'must not be after completed_at', path: ['started_at'] },
  )
  .refine(
    // Without duration_ms the duration is completed_at (or now) minus started_at: it has the same cap.
    (task) =>
      task.started_at === undefined ||
      task.duration_ms !== undefined ||
      (task.completed_at === undefined ? Date.now() : Date.parse(task.completed_at)) -
        Date.parse(task.started_at) <=
        MAX_DURATION_MS,
    {
      message: `must be at most ${MAX_DURATION_MS / 86_400_000} days before completed_at (or now), unless duration_ms is given`,
      path: ['started_at'],
    },
  )
  .superRefine(checkTokenCounts)
  .superRefine(checkNodeTokenSums)
  .openapi('FinishedTask');
export type FinishedTaskInput = z.infer<typeof finishedTaskSchema>;

export const MAX_BATCH_SIZE = 1000;

export const batchSchema = z
  .strictObject({
    tasks: z.array(finishedTaskSchema).min(1).max(MAX_BATCH_SIZE),
  })
  .openapi('TaskBatch');
