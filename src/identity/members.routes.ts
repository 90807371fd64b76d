import { createRoute, z } from '@hono/zod-openapi';
import type { AppContext } from '../app-context.js';
import { ROLES } from '../db/database.js';
import { runTransaction } from '../db/transaction.js';
import { ForbiddenError, NotFoundError } from '../errors.js';
import type { MeritApp } from '../http/app.js';
import { errorResponses, jsonContent } from '../http/schemas.js';
import { recordAudit } from './audit.js';
import { listMembers, upsertMember } from './identity.queries.js';
import { auditActor } from './principal.js';

const memberSchema = z
  .object({ account_id: z.string(), email: z.string(), role: z.enum(ROLES), created_at: z.string() })
  .openapi('Member');

const memberParams = z.object({
  account_id: z.guid().openapi({ param: { name: 'account_id', in: 'path' } }),
});

/**
 * A project's members and their roles, for its admins. Only an owner makes or unmakes an owner, and a
 * project always keeps one.
 */
export function registerMemberRoutes(app: MeritApp, ctx: AppContext): void {
  const { db } = ctx;
  const tags = ['Identity'];

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/members',
      tags,
      summary: "The project's members and their roles",
      responses: {
        200: jsonContent(z.object({ members: z.array(memberSchema) }), 'Members'),
        ...errorResponses,
      },
    }),
    async (c) => {
      const rows = await listMembers(db, c.get('principal').projectId);
      return c.json(
        { members: rows.map((row) => ({ ...row, created_at: new Date(row.created_at).toISOString() })) },
        200,
      );
    },
  );

  app.openapi(
    createRoute({
      method: 'put',
      path: '/api/members/{account_id}',
      tags,
      summary: "Change a member's role",
      request: {
        params: memberParams,
        body: {
          content: {
            'application/json': { schema: z.strictObject({ role: z.enum(ROLES) }).openapi('MemberRole') },
          },
          required: true,
        },
      },
      responses: { 200: jsonContent(memberSchema, 'The member'), ...errorResponses },
    }),
    async (c) => {
      const { account_id } = c.req.valid('param');
      const { role } = c.req.valid('json');
      const principal = c.get('principal');
      const member = await runTransaction(db, async (trx) => {
        // Role changes of a project queue on its row: two owners demoting each other at once cannot
        // leave it without one.
        await trx
          .selectFrom('projects')
          .select('id')
          .where('id', '=', principal.projectId)
          .forUpdate()
          .execute();
        const members = await listMembers(trx, principal.projectId);
        const current = members.find((m) => m.account_id === account_id);
        if (!current) throw new NotFoundError('not_found', `No member ${account_id} in this project`);
        const ownerChange = current.role === 'owner' || role === 'owner';
        if (ownerChange && principal.role !== 'owner') {
          throw new ForbiddenError('Only an owner may make or unmake an owner');
        }
        if (
          current.role === 'owner' &&
          role !== 'owner' &&
          members.filter((m) => m.role === 'owner').length === 1
        ) {
          throw new ForbiddenError('A project keeps at least one owner');
        }
        await upsertMember(trx, { projectId: principal.projectId, accountId: account_id, role });
        await recordAudit(trx, {
          projectId: principal.projectId,
          actor: auditActor(principal),
          action: 'member.role',
          target: `account ${account_id}`,
          details: { email: current.email, from: current.role, to: role },
        });
        return { ...current, role };
      });
      return c.json({ ...member, created_at: new Date(member.created_at).toISOString() }, 200);
    },
  );
}
