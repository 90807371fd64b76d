import { z } from '@hono/zod-openapi';

export const errorSchema = z
  .object({
    error: z.object({
      code: z.string().openapi({ example: 'validation_failed' }),
      message: z.string().openapi({ example: 'user_rating: Too big: expected number to be <=5' }),
      field: z.string().optional(),
    }),
  })
  .openapi('Error');

export const errorResponses = {
  400: { description: 'Invalid input', content: { 'application/json': { schema: errorSchema } } },
  404: { description: 'Not found', content: { 'application/json': { schema: errorSchema } } },
} as const;

export const conflictResponse = {
  409: {
    description: 'The task is not in a state that allows this',
    content: { 'application/json': { schema: errorSchema } },
  },
} as const;

export const taskIdParams = z.object({
  task_id: z
    .guid()
    .openapi({ param: { name: 'task_id', in: 'path' }, example: '5b0c8a59-4d6a-4f5e-9f53-0d5c6f1c2a10' }),
});

export const agentIdParams = z.object({
  agent_id: z
    .string()
    .min(1)
    .max(50)
    .openapi({ param: { name: 'agent_id', in: 'path' }, example: 'agent_a' }),
});

export function jsonContent<T extends z.ZodType>(schema: T, description: string) {
  return { description, content: { 'application/json': { schema } } };
}
