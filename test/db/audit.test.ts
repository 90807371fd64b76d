import type { Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database, KeyScope } from '../../src/db/database.js';
import { ValidationError } from '../../src/errors.js';
import {
  type AuditEntry,
  type AuditEvent,
  encodeAuditCursor,
  listAudit,
  recordAudit,
} from '../../src/identity/audit.js';
import { generateKeySecret } from '../../src/identity/credentials.js';
import { insertApiKey } from '../../src/identity/identity.queries.js';
import { encodeCursor } from '../../src/lib/paging.js';
import { createTestApp, type TestApp, USER } from '../support/app.js';
import { databaseKinds } from '../support/database.js';

const DEFAULT_PROJECT = '00000000-0000-0000-0000-000000000000';
const ADMIN = {
  kind: 'account',
  id: '11111111-1111-4111-8111-111111111111',
  label: 'ada@example.com',
} as const;

async function createProject(db: Kysely<Database>, slug: string): Promise<string> {
  const row = await db
    .insertInto('projects')
    .values({ slug, name: slug })
    .returning('id')
    .executeTakeFirstOrThrow();
  return row.id;
}

function entry(projectId: string, target: string, details: Record<string, unknown> = {}): AuditEntry {
  return { projectId, actor: ADMIN, action: 'category.update', target, details };
}

/** Every event of a project, page after page, with the page sizes seen. */
async function listAll(db: Kysely<Database>, projectId: string, limit: number) {
  const events: AuditEvent[] = [];
  const sizes: number[] = [];
  let cursor: string | undefined;
  for (let pages = 0; pages < 100; pages++) {
    const page = await listAudit(db, projectId, { cursor, limit });
    events.push(...page.events);
    sizes.push(page.events.length);
    if (page.nextCursor === null) return { events, sizes };
    cursor = page.nextCursor;
  }
  throw new Error('paging did not end');
}

describe.each(databaseKinds())('audit log (%s PostgreSQL)', (kind) => {
  let app: TestApp;
  let db: Kysely<Database>;
  let projectA: string;
  let projectB: string;
  beforeAll(async () => {
    app = await createTestApp(kind);
    db = app.ctx.db;
    projectA = await createProject(db, 'audit-a');
    projectB = await createProject(db, 'audit-b');
  });
  afterAll(async () => {
    await app?.close();
  });

  it('records who changed what, with its details, and lists it newest first a page at a time', async () => {
    const ids: number[] = [];
    for (let i = 1; i <= 7; i++) {
      ids.push(await recordAudit(db, entry(projectA, `category c${i}`, { step: i, fields: ['keywords'] })));
    }
    const { events, sizes } = await listAll(db, projectA, 3);
    expect(sizes).toEqual([3, 3, 1]);
    expect(events.map((event) => event.target)).toEqual([7, 6, 5, 4, 3, 2, 1].map((i) => `category c${i}`));
    expect(events.map((event) => event.id)).toEqual([...ids].reverse());
    expect(events[0]).toMatchObject({
      actor: ADMIN,
      action: 'category.update',
      details: { step: 7, fields: ['keywords'] },
    });
    expect(events[0]?.at).toBeInstanceOf(Date);
    // A page size that divides the list exactly still ends with next_cursor null, not an empty page.
    const exact = await listAll(db, projectA, 7);
    expect(exact.sizes).toEqual([7]);
  });

  it("never lists one project's events for another, whatever the cursor", async () => {
    const mine = [];
    const theirs = [];
    // Interleaved ids: B's events sit between A's.
    for (let i = 0; i < 4; i++) {
      mine.push(await recordAudit(db, entry(projectB, `agent b${i}`)));
      theirs.push(await recordAudit(db, { ...entry(projectA, `agent a${i}`), action: 'agent.update' }));
    }
    const listedB = await listAll(db, projectB, 2);
    expect(listedB.events.map((event) => event.id)).toEqual([...mine].reverse());
    const listedA = await listAll(db, projectA, 50);
    expect(listedA.events.map((event) => event.target)).not.toContain('agent b0');
    expect(listedA.events.slice(0, 4).map((event) => event.id)).toEqual([...theirs].reverse());
    // A cursor taken from A's list only positions B's list; it shows nothing of A.
    const lastOfA = theirs[theirs.length - 1] ?? 0;
    const fromACursor = await listAudit(db, projectB, { cursor: encodeAuditCursor(lastOfA + 1), limit: 50 });
    expect(fromACursor.events.map((event) => event.id)).toEqual([...mine].reverse());
    const empty = await createProject(db, 'audit-empty');
    expect(await listAudit(db, empty, { limit: 10 })).toEqual({ events: [], nextCursor: null });
  });

  it('leaves no entry when the change it records rolls back', async () => {
    const rolledBack = new Error('the change failed');
    await expect(
      db.transaction().execute(async (trx) => {
        await recordAudit(trx, { ...entry(projectB, 'key k-rolled-back'), action: 'key.create' });
        throw rolledBack;
      }),
    ).rejects.toBe(rolledBack);
    await db
      .transaction()
      .execute((trx) => recordAudit(trx, { ...entry(projectB, 'key k-kept'), action: 'key.create' }));
    const targets = (await listAll(db, projectB, 50)).events.map((event) => event.target);
    expect(targets).toContain('key k-kept');
    expect(targets).not.toContain('key k-rolled-back');
  });

  it('refuses a cursor that is not one of this list, naming the field', async () => {
    const refused = (cursor: string) => listAudit(db, projectA, { cursor, limit: 10 });
    for (const cursor of [
      'not-a-cursor',
      encodeCursor('tasks', { at: '2026-01-01T00:00:00.000000', id: USER }),
      Buffer.from(JSON.stringify({ k: 'audit', id: '-1' })).toString('base64url'),
      Buffer.from(JSON.stringify({ k: 'audit', id: '99999999999999999999' })).toString('base64url'),
    ]) {
      await expect(refused(cursor)).rejects.toSatisfy(
        (error) => error instanceof ValidationError && error.field === 'cursor',
      );
    }
  });

  it("answers GET /api/audit with the caller's project only, paged through next_cursor", async () => {
    await recordAudit(db, { ...entry(DEFAULT_PROJECT, 'prices'), action: 'prices.update' });
    await recordAudit(db, {
      ...entry(DEFAULT_PROJECT, 'key k1', { scopes: ['read'] }),
      action: 'key.create',
    });
    const get = (query: string) => app.call('GET', `/api/audit?${query}`);
    const first = await get('limit=1');
    expect(first.status).toBe(200);
    expect(first.body.events).toEqual([
      {
        id: expect.any(Number),
        at: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T/),
        actor: ADMIN,
        action: 'key.create',
        target: 'key k1',
        details: { scopes: ['read'] },
      },
    ]);
    expect(first.body.next_cursor).toEqual(expect.any(String));
    const second = await get(`limit=1&cursor=${first.body.next_cursor}`);
    expect(second.body.events.map((event: { target: string }) => event.target)).toEqual(['prices']);
    expect(second.body.next_cursor).toBeNull();
    // Local mode is the default project: none of A's or B's events.
    const all = await get('limit=200');
    expect(all.body.events.map((event: { target: string }) => event.target)).toEqual(['key k1', 'prices']);

    const badCursor = await get('cursor=nope');
    expect(badCursor.status).toBe(400);
    expect(badCursor.body.error).toMatchObject({ code: 'validation_failed', field: 'cursor' });
    expect((await get('limit=0')).status).toBe(400);
  });
});

describe.each(databaseKinds())('GET /api/audit with API keys (%s PostgreSQL)', (kind) => {
  let app: TestApp;
  beforeAll(async () => {
    app = await createTestApp(kind, { MERIT_AUTH: 'required' });
  });
  afterAll(async () => {
    await app?.close();
  });

  async function createKey(projectId: string, scopes: KeyScope[]): Promise<string> {
    const key = generateKeySecret();
    await insertApiKey(app.ctx.db, {
      projectId,
      name: `test ${scopes.join(',')}`,
      prefix: key.prefix,
      secretHash: key.secretHash,
      scopes,
      allowedOrigins: [],
      createdBy: 'test',
      createdByAccountId: null,
    });
    return key.secret;
  }

  async function getAudit(secret: string) {
    const response = await app.app.request('/api/audit', { headers: { authorization: `Bearer ${secret}` } });
    return { status: response.status, body: (await response.json()) as any };
  }

  it("lists only the key's own project, and only to an admin key", async () => {
    const db = app.ctx.db;
    const projectA = await createProject(db, 'keys-a');
    const projectB = await createProject(db, 'keys-b');
    await recordAudit(db, { ...entry(projectA, 'key a1'), action: 'key.create' });
    await recordAudit(db, { ...entry(projectB, 'key b1'), action: 'key.create' });
    await recordAudit(db, { ...entry(projectA, 'agent a2'), action: 'agent.update' });

    const fromA = await getAudit(await createKey(projectA, ['admin']));
    expect(fromA.status).toBe(200);
    expect(fromA.body.events.map((event: { target: string }) => event.target)).toEqual([
      'agent a2',
      'key a1',
    ]);
    const fromB = await getAudit(await createKey(projectB, ['admin']));
    expect(fromB.body.events.map((event: { target: string }) => event.target)).toEqual(['key b1']);

    const reader = await getAudit(await createKey(projectA, ['read', 'ingest', 'feedback']));
    expect(reader.status).toBe(403);
    expect(reader.body.error.code).toBe('forbidden');
    expect((await app.app.request('/api/audit')).status).toBe(401);
  });
});
