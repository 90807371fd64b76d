import { createRoute, z } from '@hono/zod-openapi';
import type { AppContext } from '../app-context.js';
import type { MeritApp } from '../http/app.js';
import { nextCursorSchema, pageQuery } from '../http/page-query.js';
import { errorResponses, jsonContent } from '../http/schemas.js';
import { userQuery } from '../http/user.js';
import { type AuditEvent, listAudit } from './audit.js';

const auditEventSchema = z
  .object({
    id: z.number().int(),
    at: z.string().openapi({ example: '2026-11-30T02:10:00.000Z' }),
    actor: z.object({
      kind: z.enum(['account', 'key', 'local', 'cli']),
      id: z.string().nullable().openapi({ description: "The account's or key's id; null for the CLI" }),
      label: z.string().openapi({ example: 'ada@example.com' }),
    }),
    action: z.string().openapi({ example: 'key.create' }),
    target: z.string().openapi({ example: 'key 5b0c8a59-4d6a-4f5e-9f53-0d5c6f1c2a10' }),
    details: z.record(z.string(), z.unknown()),
  })
  .openapi('AuditEvent');

/** The project's audit log over HTTP (admins; the rule is in permissions.ts). */
export function registerAuditRoutes(app: MeritApp, ctx: AppContext): void {
  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/audit',
      tags: ['Identity'],
      summary:
        'Who changed what in the project (keys, categories, agents, members, prices), newest first, a page at a time',
      request: { query: z.object({ ...userQuery, ...pageQuery }) },
      responses: {
        200: jsonContent(
          z.object({ events: z.array(auditEventSchema), next_cursor: nextCursorSchema }).openapi('AuditPage'),
          'Audit events',
        ),
        ...errorResponses,
      },
    }),
    async (c) => {
      const query = c.req.valid('query');
      const page = await listAudit(ctx.db, c.get('principal').projectId, {
        cursor: query.cursor,
        limit: query.limit,
      });
      return c.json({ events: page.events.map(toAuditEventView), next_cursor: page.nextCursor }, 200);
    },
  );
}

function toAuditEventView(event: AuditEvent) {
  return {
    id: event.id,
    at: event.at.toISOString(),
    actor: { kind: event.actor.kind, id: event.actor.id, label: event.actor.label },
    action: event.action,
    target: event.target,
    details: event.details,
  };
}
