import { createRoute, z } from '@hono/zod-openapi';
import type { AppContext } from '../app-context.js';
import type { ApiKeyRow } from '../db/database.js';
import { KEY_SCOPES } from '../db/database.js';
import { runTransaction } from '../db/transaction.js';
import { NotFoundError } from '../errors.js';
import type { MeritApp } from '../http/app.js';
import { errorResponses, jsonContent } from '../http/schemas.js';
import { recordAudit } from './audit.js';
import { generateKeySecret } from './credentials.js';
import { insertApiKey, listApiKeys, revokeApiKey } from './identity.queries.js';
import { auditActor } from './principal.js';

export const apiKeySchema = z
  .object({
    id: z.string(),
    name: z.string(),
    prefix: z
      .string()
      .openapi({ description: 'The start of the key (`merit_<prefix>_...`), to recognise it' }),
    scopes: z.array(z.enum(KEY_SCOPES)),
    allowed_origins: z.array(z.string()),
    created_by: z.string(),
    created_at: z.string(),
    last_used_at: z.string().nullable(),
    revoked_at: z.string().nullable(),
  })
  .openapi('ApiKey');

const originSchema = z
  .string()
  .max(200)
  .regex(
    /^https?:\/\/[^/\s]+$/,
    'must be an origin such as https://app.example.com (scheme and host, no path)',
  );

const createKeySchema = z
  .strictObject({
    name: z.string().trim().min(1).max(100),
    scopes: z.array(z.enum(KEY_SCOPES)).min(1).max(KEY_SCOPES.length),
    allowed_origins: z.array(originSchema).max(50).default([]),
  })
  .openapi('ApiKeyInput');

const keyIdParams = z.object({
  key_id: z.guid().openapi({ param: { name: 'key_id', in: 'path' } }),
});

export function toApiKeyView(row: ApiKeyRow) {
  return {
    id: row.id,
    name: row.name,
    prefix: `merit_${row.prefix}`,
    scopes: row.scopes,
    allowed_origins: row.allowed_origins,
    created_by: row.created_by,
    created_at: row.created_at.toISOString(),
    last_used_at: row.last_used_at ? new Date(row.last_used_at).toISOString() : null,
    revoked_at: row.revoked_at ? new Date(row.revoked_at).toISOString() : null,
  };
}

/** A project's API keys, for its admins: list, create (the secret is shown once) and revoke. */
export function registerKeyRoutes(app: MeritApp, ctx: AppContext): void {
  const { db } = ctx;
  const tags = ['Identity'];

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/keys',
      tags,
      summary: "The project's API keys (never their secrets)",
      responses: {
        200: jsonContent(z.object({ keys: z.array(apiKeySchema) }), 'Keys, newest first'),
        ...errorResponses,
      },
    }),
    async (c) =>
      c.json({ keys: (await listApiKeys(db, c.get('principal').projectId)).map(toApiKeyView) }, 200),
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/keys',
      tags,
      summary: 'Create an API key; the answer holds its secret, shown this once',
      request: { body: { content: { 'application/json': { schema: createKeySchema } }, required: true } },
      responses: {
        201: jsonContent(
          z.object({ key: apiKeySchema, secret: z.string() }).openapi('CreatedApiKey'),
          'The key and its secret',
        ),
        ...errorResponses,
      },
    }),
    async (c) => {
      const body = c.req.valid('json');
      const principal = c.get('principal');
      const actor = auditActor(principal);
      const secret = generateKeySecret();
      const row = await runTransaction(db, async (trx) => {
        const created = await insertApiKey(trx, {
          projectId: principal.projectId,
          name: body.name,
          prefix: secret.prefix,
          secretHash: secret.secretHash,
          scopes: [...new Set(body.scopes)],
          allowedOrigins: [...new Set(body.allowed_origins)],
          createdBy: actor.label,
          createdByAccountId: principal.account?.id ?? null,
        });
        await recordAudit(trx, {
          projectId: principal.projectId,
          actor,
          action: 'key.create',
          target: `key ${created.id}`,
          details: { name: created.name, scopes: created.scopes, allowed_origins: created.allowed_origins },
        });
        return created;
      });
      return c.json({ key: toApiKeyView(row), secret: secret.secret }, 201);
    },
  );

  app.openapi(
    createRoute({
      method: 'delete',
      path: '/api/keys/{key_id}',
      tags,
      summary: 'Revoke an API key (it stops working at once)',
      request: { params: keyIdParams },
      responses: { 200: jsonContent(z.object({ key: apiKeySchema }), 'The revoked key'), ...errorResponses },
    }),
    async (c) => {
      const { key_id } = c.req.valid('param');
      const principal = c.get('principal');
      const row = await runTransaction(db, async (trx) => {
        const revoked = await revokeApiKey(trx, principal.projectId, key_id);
        if (!revoked) throw new NotFoundError('not_found', `API key ${key_id} not found`);
        await recordAudit(trx, {
          projectId: principal.projectId,
          actor: auditActor(principal),
          action: 'key.revoke',
          target: `key ${revoked.id}`,
          details: { name: revoked.name },
        });
        return revoked;
      });
      return c.json({ key: toApiKeyView(row) }, 200);
    },
  );
}
