import { z } from '@hono/zod-openapi';
import type { MiddlewareHandler } from 'hono';
import { ValidationError } from '../errors.js';
import type { AppEnv } from './context.js';

/**
 * The requesting user, resolved in exactly one place. Today it is the seed's `user_id` query
 * parameter; an API-key scheme replaces this middleware without touching any route.
 */
export const resolveUser: MiddlewareHandler<AppEnv> = async (c, next) => {
  const raw = c.req.query('user_id');
  if (raw === undefined || raw === '')
    throw new ValidationError('user_id', 'is required (a UUID query parameter)');
  const parsed = z.guid().safeParse(raw);
  if (!parsed.success) throw new ValidationError('user_id', 'must be a UUID');
  c.set('userId', parsed.data.toLowerCase());
  await next();
};

/** Documents the user parameter in every route's OpenAPI entry (validation happens in resolveUser). */
export const userQuery = {
  user_id: z.guid().openapi({
    param: { name: 'user_id', in: 'query', required: true },
    example: '00000000-0000-0000-0000-000000000001',
    description: 'The requesting user',
  }),
};
