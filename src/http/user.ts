import { z } from '@hono/zod-openapi';

/**
 * Documents the user parameter in every route's OpenAPI entry; src/identity/authenticate.ts reads it.
 * Local mode: the requesting user, a UUID, required (the seed's contract). With an API key: the end user
 * the request acts for, any string id (optional). Ignored for signed-in accounts.
 */
export const userQuery = {
  user_id: z
    .string()
    .min(1)
    .max(200)
    .optional()
    .openapi({
      param: { name: 'user_id', in: 'query', required: false },
      example: '00000000-0000-0000-0000-000000000001',
      description:
        'Local mode: the requesting user (a UUID, required). With an API key: the end user, any string id. Ignored when signed in.',
    }),
};
