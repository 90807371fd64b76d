import { type Kysely, sql } from 'kysely';
import type { ApiKeyRow, Database, KeyScope, ProjectRow, Role } from '../db/database.js';

export async function findProjectBySlug(db: Kysely<Database>, slug: string): Promise<ProjectRow | undefined> {
  return db.selectFrom('projects').selectAll().where('slug', '=', slug).executeTakeFirst();
}

export async function insertProject(
  db: Kysely<Database>,
  input: { slug: string; name: string },
): Promise<ProjectRow> {
  return db.insertInto('projects').values(input).returningAll().executeTakeFirstOrThrow();
}

export async function findAccountByEmail(db: Kysely<Database>, email: string) {
  return db
    .selectFrom('accounts')
    .selectAll()
    .where('email', '=', email.trim().toLowerCase())
    .executeTakeFirst();
}

export async function insertAccount(db: Kysely<Database>, input: { email: string; passwordHash: string }) {
  return db
    .insertInto('accounts')
    .values({ email: input.email.trim().toLowerCase(), password_hash: input.passwordHash })
    .returning(['id', 'email'])
    .executeTakeFirstOrThrow();
}

export async function upsertMember(
  db: Kysely<Database>,
  input: { projectId: string; accountId: string; role: Role },
): Promise<void> {
  await db
    .insertInto('project_members')
    .values({ project_id: input.projectId, account_id: input.accountId, role: input.role })
    .onConflict((oc) => oc.columns(['project_id', 'account_id']).doUpdateSet({ role: input.role }))
    .execute();
}

/** The account's projects with its role in each, oldest membership first. */
export async function listMemberships(db: Kysely<Database>, accountId: string) {
  return db
    .selectFrom('project_members as m')
    .innerJoin('projects as p', 'p.id', 'm.project_id')
    .select(['p.id', 'p.slug', 'p.name', 'p.settings', 'm.role'])
    .where('m.account_id', '=', accountId)
    .orderBy('m.created_at')
    .orderBy('p.slug')
    .execute();
}

export async function listMembers(db: Kysely<Database>, projectId: string) {
  return db
    .selectFrom('project_members as m')
    .innerJoin('accounts as a', 'a.id', 'm.account_id')
    .select(['a.id as account_id', 'a.email', 'm.role', 'm.created_at'])
    .where('m.project_id', '=', projectId)
    .orderBy('m.created_at')
    .execute();
}

export async function countOwners(db: Kysely<Database>): Promise<number> {
  const row = await db
    .selectFrom('project_members')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where('role', '=', 'owner')
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

export async function insertSession(
  db: Kysely<Database>,
  input: { tokenHash: Buffer; accountId: string; csrfToken: string; expiresAt: Date },
): Promise<void> {
  await db
    .insertInto('sessions')
    .values({
      token_hash: input.tokenHash,
      account_id: input.accountId,
      csrf_token: input.csrfToken,
      expires_at: input.expiresAt,
    })
    .execute();
}

/** A live session and its account (disabled accounts and expired sessions find nothing). */
export async function findSession(db: Kysely<Database>, tokenHash: Buffer) {
  return db
    .selectFrom('sessions as s')
    .innerJoin('accounts as a', 'a.id', 's.account_id')
    .select(['s.account_id', 's.csrf_token', 's.expires_at', 's.last_seen_at', 'a.email'])
    .where('s.token_hash', '=', tokenHash)
    .where('s.expires_at', '>', sql<Date>`now()`)
    .where('a.disabled_at', 'is', null)
    .executeTakeFirst();
}

export async function touchSession(db: Kysely<Database>, tokenHash: Buffer): Promise<void> {
  await db
    .updateTable('sessions')
    .set({ last_seen_at: sql`now()` })
    .where('token_hash', '=', tokenHash)
    .execute();
}

export async function deleteSession(db: Kysely<Database>, tokenHash: Buffer): Promise<void> {
  await db.deleteFrom('sessions').where('token_hash', '=', tokenHash).execute();
}

export async function deleteExpiredSessions(db: Kysely<Database>): Promise<number> {
  const result = await db
    .deleteFrom('sessions')
    .where('expires_at', '<=', sql<Date>`now()`)
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}

export async function insertApiKey(
  db: Kysely<Database>,
  input: {
    projectId: string;
    name: string;
    prefix: string;
    secretHash: Buffer;
    scopes: readonly KeyScope[];
    allowedOrigins: readonly string[];
    createdBy: string;
    createdByAccountId: string | null;
  },
): Promise<ApiKeyRow> {
  return db
    .insertInto('api_keys')
    .values({
      project_id: input.projectId,
      name: input.name,
      prefix: input.prefix,
      secret_hash: input.secretHash,
      scopes: [...input.scopes],
      allowed_origins: [...input.allowedOrigins],
      created_by: input.createdBy,
      created_by_account_id: input.createdByAccountId,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
}

/** The unrevoked key with this prefix, with its project. */
export async function findActiveKeyByPrefix(db: Kysely<Database>, prefix: string) {
  return db
    .selectFrom('api_keys as k')
    .innerJoin('projects as p', 'p.id', 'k.project_id')
    .selectAll('k')
    .select(['p.slug as project_slug', 'p.name as project_name', 'p.settings as project_settings'])
    .where('k.prefix', '=', prefix)
    .where('k.revoked_at', 'is', null)
    .executeTakeFirst();
}

/** Records a key's use (the caller skips it when the key was used less than a minute ago). */
export async function touchApiKey(db: Kysely<Database>, keyId: string): Promise<void> {
  await db
    .updateTable('api_keys')
    .set({ last_used_at: sql`now()` })
    .where('id', '=', keyId)
    .where((eb) =>
      eb.or([
        eb('last_used_at', 'is', null),
        eb('last_used_at', '<', sql<Date>`now() - interval '1 minute'`),
      ]),
    )
    .execute();
}

export async function listApiKeys(db: Kysely<Database>, projectId: string): Promise<ApiKeyRow[]> {
  return db
    .selectFrom('api_keys')
    .selectAll()
    .where('project_id', '=', projectId)
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .execute();
}

/** Revokes the key if it belongs to the project; undefined when it does not (404, whatever exists elsewhere). */
export async function revokeApiKey(db: Kysely<Database>, projectId: string, keyId: string) {
  const revoked = await db
    .updateTable('api_keys')
    .set({ revoked_at: sql`coalesce(revoked_at, now())` })
    .where('id', '=', keyId)
    .where('project_id', '=', projectId)
    .returningAll()
    .executeTakeFirst();
  return revoked;
}
