import { createRoute, z } from '@hono/zod-openapi';
import { sql } from 'kysely';
import type { MeritApp } from './app.js';
import type { AppContext } from './context.js';

const healthSchema = z
  .object({
    status: z.literal('ok'),
    database: z.object({ kind: z.enum(['embedded', 'external']), label: z.string() }),
    llm: z.object({ configured: z.boolean(), provider: z.string().nullable(), model: z.string().nullable() }),
    simulated: z.boolean(),
  })
  .openapi('Health');

export function registerHealthRoutes(app: MeritApp, ctx: AppContext): void {
  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/health',
      tags: ['System'],
      summary: 'Readiness, and which database and LLM Merit uses',
      responses: { 200: { description: 'Ready', content: { 'application/json': { schema: healthSchema } } } },
    }),
    async (c) => {
      await sql`SELECT 1`.execute(ctx.db);
      const llm = ctx.config.llm;
      return c.json(
        {
          status: 'ok' as const,
          database: ctx.database,
          llm: { configured: llm !== undefined, provider: llm?.kind ?? null, model: llm?.model ?? null },
          simulated: llm === undefined,
        },
        200,
      );
    },
  );
}
