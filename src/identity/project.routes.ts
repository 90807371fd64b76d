import { createRoute, z } from '@hono/zod-openapi';
import type { AppContext } from '../app-context.js';
import { runTransaction } from '../db/transaction.js';
import { NotFoundError } from '../errors.js';
import type { MeritApp } from '../http/app.js';
import { errorResponses, jsonContent } from '../http/schemas.js';
import { recordAudit } from './audit.js';
import { auditActor } from './principal.js';
import { configuredRateLimits, rateLimitSettingsSchema, resolveRateLimits } from './rate-limits.js';

const limitsSchema = z
  .object({
    requests_per_minute: z.number(),
    commands_per_minute: z.number(),
    llm_spend_per_day_usd: z.number().nullable().openapi({ description: 'Null: no cap' }),
  })
  .openapi('RateLimits');

const projectSchema = z
  .object({
    id: z.string(),
    slug: z.string(),
    name: z.string(),
    settings: z.object({ rate_limits: rateLimitSettingsSchema.optional() }).openapi({
      description: "The project's own overrides",
    }),
    rate_limits: limitsSchema.openapi({
      description: 'The limits in force: the overrides over the defaults',
    }),
    created_at: z.string(),
  })
  .openapi('Project');

const projectUpdateSchema = z
  .strictObject({
    name: z.string().trim().min(1).max(200).optional(),
    rate_limits: rateLimitSettingsSchema
      .nullable()
      .optional()
      .openapi({ description: 'Overrides of the rate limits; null removes them all' }),
  })
  .refine((body) => Object.keys(body).length > 0, { message: 'names no field to change' })
  .openapi('ProjectUpdate');

/** The caller's project: its name and its rate-limit overrides (read by all, changed by admins, audited). */
export function registerProjectRoutes(app: MeritApp, ctx: AppContext): void {
  const { db } = ctx;
  const configured = configuredRateLimits(ctx.config.auth.rateLimits);

  function toProjectView(row: {
    id: string;
    slug: string;
    name: string;
    settings: Record<string, unknown>;
    created_at: Date;
  }) {
    const limits = resolveRateLimits(row.settings, configured);
    const overrides = rateLimitSettingsSchema.safeParse(row.settings.rate_limits);
    return {
      id: row.id,
      slug: row.slug,
      name: row.name,
      settings: overrides.success && overrides.data ? { rate_limits: overrides.data } : {},
      rate_limits: {
        requests_per_minute: limits.requestsPerMinute,
        commands_per_minute: limits.commandsPerMinute,
        llm_spend_per_day_usd: Number.isFinite(limits.llmSpendPerDayUsd) ? limits.llmSpendPerDayUsd : null,
      },
      created_at: row.created_at.toISOString(),
    };
  }

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/project',
      tags: ['Identity'],
      summary: "The caller's project, with its rate limits",
      responses: { 200: jsonContent(projectSchema, 'The project'), ...errorResponses },
    }),
    async (c) => {
      const row = await db
        .selectFrom('projects')
        .selectAll()
        .where('id', '=', c.get('principal').projectId)
        .executeTakeFirst();
      if (!row) throw new NotFoundError('not_found', 'The project no longer exists');
      return c.json(toProjectView(row), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'patch',
      path: '/api/project',
      tags: ['Identity'],
      summary:
        'Rename the project or change its rate limits (requests and commands per minute, LLM spend per day)',
      request: { body: { content: { 'application/json': { schema: projectUpdateSchema } }, required: true } },
      responses: { 200: jsonContent(projectSchema, 'The project'), ...errorResponses },
    }),
    async (c) => {
      const body = c.req.valid('json');
      const principal = c.get('principal');
      const row = await runTransaction(db, async (trx) => {
        const before = await trx
          .selectFrom('projects')
          .selectAll()
          .where('id', '=', principal.projectId)
          .forUpdate()
          .executeTakeFirst();
        if (!before) throw new NotFoundError('not_found', 'The project no longer exists');
        const settings: Record<string, unknown> = { ...before.settings };
        if (body.rate_limits === null) delete settings.rate_limits;
        else if (body.rate_limits !== undefined) settings.rate_limits = body.rate_limits;
        const after = await trx
          .updateTable('projects')
          .set({
            ...(body.name === undefined ? {} : { name: body.name }),
            settings: JSON.stringify(settings),
          })
          .where('id', '=', principal.projectId)
          .returningAll()
          .executeTakeFirstOrThrow();
        await recordAudit(trx, {
          projectId: principal.projectId,
          actor: auditActor(principal),
          action: 'project.update',
          target: `project ${after.slug}`,
          details: {
            before: { name: before.name, rate_limits: before.settings.rate_limits ?? null },
            after: { name: after.name, rate_limits: settings.rate_limits ?? null },
          },
        });
        return after;
      });
      return c.json(toProjectView(row), 200);
    },
  );
}
