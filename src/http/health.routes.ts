import { createRoute, z } from '@hono/zod-openapi';
import { sql } from 'kysely';
import type { AppContext } from '../app-context.js';
import { classifyDatabaseError } from '../db/errors.js';
import type { MeritApp } from './app.js';

/** How long the health check waits for the database (a pooled connection and `SELECT 1`). */
const PROBE_TIMEOUT_MS = 2000;
const RETRY_AFTER_SECONDS = 2;

const databaseSchema = z.object({
  kind: z.enum(['embedded', 'external']),
  label: z.string(),
  status: z.enum(['up', 'down']),
  /** Why the database is down (absent while it is up). */
  error: z.string().optional(),
});

const llmSchema = z.object({
  configured: z.boolean(),
  provider: z.string().nullable(),
  model: z.string().nullable(),
});

const healthSchema = z
  .object({
    status: z.literal('ok'),
    database: databaseSchema,
    llm: llmSchema,
    simulated: z.boolean(),
  })
  .openapi('Health');

const unhealthySchema = z
  .object({
    status: z.literal('unavailable'),
    /** What is down: today only the database can be. */
    down: z.array(z.literal('database')),
    database: databaseSchema,
    llm: llmSchema,
    simulated: z.boolean(),
    error: z.object({ code: z.literal('service_unavailable'), message: z.string() }),
  })
  .openapi('HealthUnavailable');

export function registerHealthRoutes(app: MeritApp, ctx: AppContext): void {
  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/health',
      tags: ['System'],
      summary: 'Readiness, and which database and LLM Merit uses',
      responses: {
        200: { description: 'Ready', content: { 'application/json': { schema: healthSchema } } },
        503: {
          description: 'The database cannot be reached (Retry-After says when to ask again)',
          content: { 'application/json': { schema: unhealthySchema } },
        },
      },
    }),
    async (c) => {
      const llm = ctx.config.llm;
      const common = {
        llm: { configured: llm !== undefined, provider: llm?.kind ?? null, model: llm?.model ?? null },
        simulated: llm === undefined,
      };
      const failure = await probeDatabase(ctx);
      if (failure === undefined) {
        return c.json(
          { status: 'ok' as const, database: { ...ctx.database, status: 'up' as const }, ...common },
          200,
        );
      }
      c.header('Retry-After', String(RETRY_AFTER_SECONDS));
      return c.json(
        {
          status: 'unavailable' as const,
          down: ['database' as const],
          database: { ...ctx.database, status: 'down' as const, error: failure },
          ...common,
          error: { code: 'service_unavailable' as const, message: `The database is down: ${failure}` },
        },
        503,
      );
    },
  );
}

/** Undefined when the database answers through the pool in time; otherwise why it did not. */
async function probeDatabase(ctx: AppContext): Promise<string | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<string>((resolve) => {
    timer = setTimeout(() => resolve(`no answer within ${PROBE_TIMEOUT_MS} ms`), PROBE_TIMEOUT_MS);
  });
  const probe = sql`SELECT 1`.execute(ctx.db).then(
    () => undefined,
    (error: unknown) => describeFailure(error),
  );
  try {
    return await Promise.race([probe, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

function describeFailure(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const kind = classifyDatabaseError(error);
  if (kind === 'busy') return `every pooled connection is busy (${message})`;
  if (kind === 'timeout') return `the database timed out (${message})`;
  if (kind === 'unavailable') return `unreachable (${message})`;
  return message;
}
