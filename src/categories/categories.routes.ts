import { createRoute, z } from '@hono/zod-openapi';
import type { AppContext } from '../app-context.js';
import type { TemplateRow } from '../db/database.js';
import { ConflictError, ForbiddenError, NotFoundError, ValidationError } from '../errors.js';
import { runTransactionWithEvents } from '../events/transactional-events.js';
import type { MeritApp } from '../http/app.js';
import { errorResponses, jsonContent } from '../http/schemas.js';
import { userQuery } from '../http/user.js';
import { recordAudit } from '../identity/audit.js';
import { auditActor } from '../identity/principal.js';
import { agentIdSchema, categorySchema } from '../tasks/task-schemas.js';
import {
  findCategoryTemplate,
  findMissingAgentIds,
  insertCategoryTemplate,
  listCategoryTemplates,
  updateCategoryTemplate,
} from './categories.queries.js';

const MAX_TYPICAL_DURATION_MS = 7 * 24 * 60 * 60 * 1000;

const editableFields = {
  display_name: z.string().trim().min(1).max(100).openapi({ example: 'Legal research' }),
  description: z.string().trim().min(1).max(2000),
  evaluation_criteria: z
    .array(z.string().trim().min(1).max(500))
    .min(1)
    .max(20)
    .openapi({ description: 'Rubric items the judge scores a task of this category against' }),
  keywords: z.array(z.string().trim().min(1).max(100)).max(200),
  example_commands: z.array(z.string().trim().min(1).max(1000)).max(100),
  recommended_agents: z.array(agentIdSchema).max(20),
  typical_tokens: z.number().int().min(1).max(10_000_000),
  typical_duration_ms: z.number().int().min(1).max(MAX_TYPICAL_DURATION_MS),
};

const createCategorySchema = z
  .strictObject({
    category: categorySchema,
    display_name: editableFields.display_name.optional(),
    description: editableFields.description,
    evaluation_criteria: editableFields.evaluation_criteria,
    keywords: editableFields.keywords.default([]),
    example_commands: editableFields.example_commands.default([]),
    recommended_agents: editableFields.recommended_agents.default([]),
    typical_tokens: editableFields.typical_tokens.default(2500),
    typical_duration_ms: editableFields.typical_duration_ms.default(30_000),
  })
  .openapi('CategoryInput');

const updateCategorySchema = z
  .strictObject({
    display_name: editableFields.display_name.optional(),
    description: editableFields.description.optional(),
    evaluation_criteria: editableFields.evaluation_criteria.optional(),
    keywords: editableFields.keywords.optional(),
    example_commands: editableFields.example_commands.optional(),
    recommended_agents: editableFields.recommended_agents.optional(),
    typical_tokens: editableFields.typical_tokens.optional(),
    typical_duration_ms: editableFields.typical_duration_ms.optional(),
  })
  .refine((body) => Object.keys(body).length > 0, { message: 'names no field to change' })
  .openapi('CategoryUpdate');

export const categoryTemplateSchema = z
  .object({
    category: z.string(),
    display_name: z.string(),
    description: z.string(),
    evaluation_criteria: z.array(z.string()),
    keywords: z.array(z.string()),
    example_commands: z.array(z.string()),
    recommended_agents: z.array(z.string()),
    typical_tokens: z.number(),
    typical_duration_ms: z.number(),
    is_builtin: z.boolean(),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .openapi('CategoryTemplate');

export const categoryParams = z.object({
  category: categorySchema.openapi({ param: { name: 'category', in: 'path' }, example: 'research' }),
});

const tags = ['Categories'];

function toTemplateView(row: TemplateRow) {
  return {
    category: row.category,
    display_name: row.display_name,
    description: row.description,
    evaluation_criteria: row.evaluation_criteria,
    keywords: row.keywords,
    example_commands: row.example_commands,
    recommended_agents: row.recommended_agents,
    typical_tokens: row.typical_tokens,
    typical_duration_ms: row.typical_duration_ms,
    is_builtin: row.is_builtin,
    created_at: row.created_at.toISOString(),
    updated_at: new Date(row.updated_at).toISOString(),
  };
}

function capitalize(category: string): string {
  return category
    .split('_')
    .map((word) => word.charAt(0).toUpperCase() + word.slice(1))
    .join(' ');
}

/** Objective category templates: list, create and edit; every change refreshes the cached classifier. */
export function registerCategoryRoutes(app: MeritApp, ctx: AppContext): void {
  const { db } = ctx;

  async function assertAgentsExist(
    projectId: string,
    agentIds: readonly string[] | undefined,
  ): Promise<void> {
    const missing = await findMissingAgentIds(db, projectId, [...new Set(agentIds ?? [])]);
    if (missing.length > 0)
      throw new ValidationError('recommended_agents', `no agent with id '${missing.join("', '")}'`);
  }

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/categories',
      tags,
      summary:
        'Objective category templates: description, judge criteria, keywords, examples, typical figures',
      request: { query: z.object(userQuery) },
      responses: {
        200: jsonContent(z.object({ categories: z.array(categoryTemplateSchema) }), 'Templates'),
        ...errorResponses,
      },
    }),
    async (c) =>
      c.json(
        { categories: (await listCategoryTemplates(db, c.get('principal').projectId)).map(toTemplateView) },
        200,
      ),
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/categories',
      tags,
      summary: 'Create an objective category (the classifier learns it at once)',
      request: {
        query: z.object(userQuery),
        body: { content: { 'application/json': { schema: createCategorySchema } }, required: true },
      },
      responses: {
        201: jsonContent(categoryTemplateSchema, 'Created'),
        ...errorResponses,
        409: jsonContent(z.object({ error: z.object({ code: z.string(), message: z.string() }) }), 'Exists'),
      },
    }),
    async (c) => {
      const body = c.req.valid('json');
      const principal = c.get('principal');
      await assertAgentsExist(principal.projectId, body.recommended_agents);
      // Every process drops its cached templates and classifier if and only if the change commits.
      const row = await runTransactionWithEvents(db, ctx.events, async (trx, emit) => {
        const inserted = await insertCategoryTemplate(trx, {
          ...body,
          project_id: principal.projectId,
          display_name: body.display_name ?? capitalize(body.category),
          evaluation_criteria: JSON.stringify(body.evaluation_criteria),
          is_builtin: false,
        });
        if (!inserted) throw new ConflictError('conflict', `Category ${body.category} already exists`);
        await recordAudit(trx, {
          projectId: principal.projectId,
          actor: auditActor(principal),
          action: 'category.create',
          target: `category ${inserted.category}`,
          details: { created: body },
        });
        emit({ type: 'categories', projectId: inserted.project_id });
        return inserted;
      });
      return c.json(toTemplateView(row), 201);
    },
  );

  app.openapi(
    createRoute({
      method: 'patch',
      path: '/api/categories/{category}',
      tags,
      summary:
        "Edit a category's description, criteria, keywords, examples, recommended agents or typical figures",
      request: {
        params: categoryParams,
        query: z.object(userQuery),
        body: { content: { 'application/json': { schema: updateCategorySchema } }, required: true },
      },
      responses: { 200: jsonContent(categoryTemplateSchema, 'Updated'), ...errorResponses },
    }),
    async (c) => {
      const { category } = c.req.valid('param');
      const { evaluation_criteria, ...changes } = c.req.valid('json');
      const principal = c.get('principal');
      const existing = await findCategoryTemplate(db, principal.projectId, category);
      if (!existing) throw new NotFoundError('category_not_found', `Category ${category} not found`);
      // Built-in categories steer every command's routing and every judge verdict: only a signed-in
      // admin may change them (in local mode anyone on this machine could); create a category instead.
      if (existing.is_builtin && principal.mode === 'local') {
        throw new ForbiddenError(
          `Category ${category} is built in and read-only in local mode; create your own category, or run with MERIT_AUTH=required and edit it as an admin`,
        );
      }
      await assertAgentsExist(principal.projectId, changes.recommended_agents);
      const row = await runTransactionWithEvents(db, ctx.events, async (trx, emit) => {
        const updated = await updateCategoryTemplate(trx, principal.projectId, category, {
          ...changes,
          ...(evaluation_criteria ? { evaluation_criteria: JSON.stringify(evaluation_criteria) } : {}),
        });
        if (!updated) throw new NotFoundError('category_not_found', `Category ${category} not found`);
        const changed = { ...changes, ...(evaluation_criteria ? { evaluation_criteria } : {}) };
        await recordAudit(trx, {
          projectId: principal.projectId,
          actor: auditActor(principal),
          action: 'category.update',
          target: `category ${category}`,
          details: {
            before: Object.fromEntries(
              Object.keys(changed).map((field) => [field, existing[field as keyof typeof existing]]),
            ),
            after: changed,
          },
        });
        emit({ type: 'categories', projectId: updated.project_id });
        return updated;
      });
      return c.json(toTemplateView(row), 200);
    },
  );
}
