import { randomUUID } from 'node:crypto';
import type { JobHelpers, Task } from 'graphile-worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KeyScope, Role } from '../../src/db/database.js';
import { generateKeySecret, hashPassword, sha256 } from '../../src/identity/credentials.js';
import {
  insertAccount,
  insertApiKey,
  insertSession,
  upsertMember,
} from '../../src/identity/identity.queries.js';
import {
  createRateLimitJobs,
  DELETE_OLD_RATE_LIMIT_WINDOWS_JOB,
} from '../../src/identity/rate-limits.jobs.js';
import { createTestApp, DEFAULT_PROJECT_ID, type TestApp } from '../support/app.js';

/** The shared limits as HTTP answers them, the "mine" filter of members, and the audit of changes. */
describe('rate limits, "mine" and the audit log over HTTP (embedded PostgreSQL)', () => {
  let app: TestApp;

  async function createKey(scopes: KeyScope[]): Promise<{ secret: string; id: string }> {
    const secret = generateKeySecret();
    const row = await insertApiKey(app.ctx.db, {
      projectId: DEFAULT_PROJECT_ID,
      name: `test ${scopes.join(',')}`,
      prefix: secret.prefix,
      secretHash: secret.secretHash,
      scopes,
      allowedOrigins: [],
      createdBy: 'test',
      createdByAccountId: null,
    });
    return { secret: secret.secret, id: row.id };
  }

  async function call(key: string, method: string, path: string, body?: unknown) {
    const response = await app.app.request(path, {
      method,
      headers: {
        authorization: `Bearer ${key}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: response.status, headers: response.headers, body: (await response.json()) as any };
  }

  beforeAll(async () => {
    app = await createTestApp('embedded', {
      MERIT_AUTH: 'required',
      MERIT_RATE_REQUESTS_PER_MINUTE: '20',
      MERIT_RATE_COMMANDS_PER_MINUTE: '3',
    });
  });
  afterAll(async () => {
    await app?.close();
  });

  it("answers 429 with Retry-After past a key's requests per minute, and keys count apart", async () => {
    const busy = await createKey(['read']);
    const statuses: number[] = [];
    for (let i = 0; i < 25; i++) statuses.push((await call(busy.secret, 'GET', '/api/agents')).status);
    expect(statuses.filter((status) => status === 200)).toHaveLength(20);
    const refused = await call(busy.secret, 'GET', '/api/agents');
    expect(refused.status).toBe(429);
    expect(refused.body.error.code).toBe('rate_limited');
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    const other = await createKey(['read']);
    expect((await call(other.secret, 'GET', '/api/agents')).status).toBe(200);
  });

  it("answers 429 past a user's commands per minute (an agent run each), while other users go on", async () => {
    const { secret } = await createKey(['ingest', 'read']);
    const send = (user: string) =>
      call(secret, 'POST', `/api/commands?user_id=${user}`, { command: '@bob research tides' });
    const answers = [await send('alice'), await send('alice'), await send('alice'), await send('alice')];
    expect(answers.map((answer) => answer.status)).toEqual([202, 202, 202, 429]);
    expect(answers[3]?.body.error.message).toMatch(/commands per minute/);
    expect(answers[3]?.headers.get('retry-after')).not.toBeNull();
    expect((await send('bruno')).status).toBe(202);
    const tasks = await call(secret, 'GET', '/api/tasks?limit=50');
    expect(
      tasks.body.tasks.filter((task: { command: string }) => task.command.includes('tides')),
    ).toHaveLength(4);
  });

  it("takes a project's own limits from its admins (validated, audited), over the defaults", async () => {
    const admin = await createKey(['admin']);
    const before = await call(admin.secret, 'GET', '/api/project');
    expect(before.body).toMatchObject({
      slug: 'default',
      settings: {},
      rate_limits: { requests_per_minute: 20, commands_per_minute: 3, llm_spend_per_day_usd: null },
    });
    const invalid = await call(admin.secret, 'PATCH', '/api/project', {
      rate_limits: { commands_per_minute: -1 },
    });
    expect(invalid.status).toBe(400);
    expect(invalid.body.error.field).toBe('rate_limits.commands_per_minute');
    const reader = await createKey(['read']);
    expect(
      (await call(reader.secret, 'PATCH', '/api/project', { rate_limits: { commands_per_minute: 99 } }))
        .status,
    ).toBe(403);
    const changed = await call(admin.secret, 'PATCH', '/api/project', {
      rate_limits: { commands_per_minute: 1 },
    });
    expect(changed.status).toBe(200);
    expect(changed.body.rate_limits.commands_per_minute).toBe(1);
    const { secret } = await createKey(['ingest']);
    const send = () =>
      call(secret, 'POST', '/api/commands?user_id=carla', { command: '@bob research reefs' });
    expect((await send()).status).toBe(202);
    expect((await send()).status).toBe(429);
    const audit = await call(admin.secret, 'GET', '/api/audit');
    expect(audit.body.events[0]).toMatchObject({
      action: 'project.update',
      details: { before: { rate_limits: null }, after: { rate_limits: { commands_per_minute: 1 } } },
    });
    expect((await call(admin.secret, 'PATCH', '/api/project', { rate_limits: null })).body.settings).toEqual(
      {},
    );
  });

  it('slows password guessing down per email: after 10 wrong passwords even the right one waits', async () => {
    const account = await insertAccount(app.ctx.db, {
      email: 'guessed@example.com',
      passwordHash: await hashPassword('the real password'),
    });
    await upsertMember(app.ctx.db, { projectId: DEFAULT_PROJECT_ID, accountId: account.id, role: 'viewer' });
    const login = (email: string, password: string) =>
      app.app.request('/api/auth/login', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email, password }),
      });
    const statuses: number[] = [];
    for (let i = 0; i < 10; i++) statuses.push((await login('guessed@example.com', `guess ${i}`)).status);
    expect(statuses).toEqual(Array(10).fill(401));
    const blocked = await login('Guessed@Example.com', 'the real password');
    expect(blocked.status).toBe(429);
    expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThan(0);
    // Another account is not held up by these guesses.
    expect((await login('nobody@example.com', 'whatever')).status).toBe(401);
  });

  it('deletes expired sessions in the housekeeping job, and an expired cookie signs no one in', async () => {
    const account = await insertAccount(app.ctx.db, {
      email: 'expired@example.com',
      passwordHash: await hashPassword('expired password'),
    });
    await upsertMember(app.ctx.db, { projectId: DEFAULT_PROJECT_ID, accountId: account.id, role: 'viewer' });
    await insertSession(app.ctx.db, {
      tokenHash: sha256('old-token'),
      accountId: account.id,
      csrfToken: 'x',
      expiresAt: new Date(Date.now() - 1000),
    });
    const stale = await app.app.request('/api/agents', { headers: { cookie: 'merit_session=old-token' } });
    expect(stale.status).toBe(401);
    const job = createRateLimitJobs(app.ctx.db)[DELETE_OLD_RATE_LIMIT_WINDOWS_JOB] as Task;
    await job({}, { logger: { debug: () => {} } } as unknown as JobHelpers);
    const left = await app.ctx.db
      .selectFrom('sessions')
      .select('account_id')
      .where('account_id', '=', account.id)
      .execute();
    expect(left).toEqual([]);
  });

  it("takes the end user of each task a key reports from the body, any string id; 'mine' follows it", async () => {
    const { secret } = await createKey(['ingest', 'read']);
    const task = (user: string) => ({
      agent_id: 'agent_a',
      command: `asked by ${user}`,
      status: 'completed',
      result: 'done',
      user_id: user,
    });
    const batch = await call(secret, 'POST', '/api/tasks/batch', {
      tasks: [task('customer-17'), task('customer-17'), task('customer-42')],
    });
    expect(batch.status).toBe(201);
    const single = await call(secret, 'POST', '/api/tasks', {
      agent_id: 'agent_a',
      command: 'asked by customer-42 too',
      user_id: 'customer-42',
    });
    expect(single.status).toBe(201);
    const mine = async (user: string) =>
      (await call(secret, 'GET', `/api/tasks?mine=true&user_id=${user}&limit=50`)).body.tasks.map(
        (row: { command: string }) => row.command,
      );
    expect(await mine('customer-17')).toEqual(['asked by customer-17', 'asked by customer-17']);
    expect(await mine('customer-42')).toEqual(['asked by customer-42 too', 'asked by customer-42']);
    // One string id is one user: the same UUID every time, and a UUID is taken as it is.
    expect(single.body.user_id).toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
  });

  it('refuses an end user in the body from a signed-in account or local mode, naming the field', async () => {
    const local = await createTestApp('embedded');
    try {
      const refused = await local.call('POST', '/api/tasks/batch', {
        tasks: [
          { agent_id: 'agent_a', command: 'x', result: 'y' },
          { agent_id: 'agent_a', command: 'x', result: 'y', user_id: 'someone' },
        ],
      });
      expect(refused.status).toBe(400);
      expect(refused.body.error.field).toBe('tasks.1.user_id');
      expect(refused.body.error.message).toMatch(/in local mode the user is the \?user_id= query parameter/);
      expect((await local.call('GET', '/api/tasks')).body.tasks).toEqual([]);
    } finally {
      await local.close();
    }
  });

  it('changes roles as the rules say: only an owner makes an owner, and a project keeps one', async () => {
    const accounts: Record<string, string> = {};
    for (const role of ['owner', 'admin', 'viewer'] as const) {
      const account = await insertAccount(app.ctx.db, {
        email: `${role}-roles@example.com`,
        passwordHash: await hashPassword('roles password'),
      });
      await upsertMember(app.ctx.db, { projectId: DEFAULT_PROJECT_ID, accountId: account.id, role });
      accounts[role] = account.id;
    }
    const signIn = async (email: string) => {
      const response = await app.app.request('/api/auth/login', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email, password: 'roles password' }),
      });
      const { csrf_token } = (await response.json()) as { csrf_token: string };
      return {
        cookie: (response.headers.get('set-cookie') ?? '').split(';')[0] as string,
        'x-csrf-token': csrf_token,
        'content-type': 'application/json',
      };
    };
    const owner = await signIn('owner-roles@example.com');
    const admin = await signIn('admin-roles@example.com');
    const setRole = async (headers: Record<string, string>, accountId: string, role: string) => {
      const response = await app.app.request(`/api/members/${accountId}`, {
        method: 'PUT',
        headers,
        body: JSON.stringify({ role }),
      });
      return { status: response.status, body: (await response.json()) as any };
    };
    expect((await setRole(admin, accounts.viewer as string, 'member')).status).toBe(200);
    const promote = await setRole(admin, accounts.viewer as string, 'owner');
    expect(promote.status).toBe(403);
    expect(promote.body.error.message).toMatch(/Only an owner/);
    expect((await setRole(owner, accounts.viewer as string, 'owner')).status).toBe(200);
    expect((await setRole(owner, accounts.owner as string, 'member')).status).toBe(200);
    const last = await setRole(await signIn('viewer-roles@example.com'), accounts.viewer as string, 'admin');
    expect(last.status).toBe(403);
    expect(last.body.error.message).toMatch(/keeps at least one owner/);
    const members = await app.app.request('/api/members', { headers: admin });
    const roles = ((await members.json()) as { members: { email: string; role: string }[] }).members;
    expect(roles.find((member) => member.email === 'viewer-roles@example.com')?.role).toBe('owner');
  });

  it('lets a member list the whole project or only their own tasks', async () => {
    const account = await insertAccount(app.ctx.db, {
      email: 'member@example.com',
      passwordHash: await hashPassword('member password 1'),
    });
    await upsertMember(app.ctx.db, {
      projectId: DEFAULT_PROJECT_ID,
      accountId: account.id,
      role: 'member' as Role,
    });
    const login = await app.app.request('/api/auth/login', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'member@example.com', password: 'member password 1' }),
    });
    const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0] as string;
    const { csrf_token } = (await login.json()) as { csrf_token: string };
    const headers = { cookie, 'x-csrf-token': csrf_token, 'content-type': 'application/json' };
    const created = await app.app.request('/api/tasks', {
      method: 'POST',
      headers,
      body: JSON.stringify({ agent_id: 'agent_a', command: 'my own task', status: 'running' }),
    });
    expect(created.status).toBe(201);
    const list = async (query: string) =>
      (
        (await (await app.app.request(`/api/tasks${query}`, { headers })).json()) as {
          tasks: { user_id: string }[];
        }
      ).tasks;
    const all = await list('?limit=100');
    const mine = await list('?limit=100&mine=true');
    expect(mine).toHaveLength(1);
    expect(mine[0]?.user_id).toBe(account.id);
    expect(all.length).toBeGreaterThan(mine.length);
    expect(new Set(all.map((task) => task.user_id)).size).toBeGreaterThan(1);
  });

  it('audits category changes with who made them, before and after', async () => {
    const { secret, id } = await createKey(['admin']);
    const category = `audited_${randomUUID().slice(0, 6)}`;
    expect(
      (
        await call(secret, 'POST', '/api/categories', {
          category,
          description: 'Audited',
          evaluation_criteria: ['is audited'],
          keywords: ['one'],
        })
      ).status,
    ).toBe(201);
    expect((await call(secret, 'PATCH', `/api/categories/${category}`, { keywords: ['two'] })).status).toBe(
      200,
    );
    // A signed-in admin of required mode may change a built-in category; it is audited too.
    expect((await call(secret, 'PATCH', '/api/categories/research', { keywords: ['studies'] })).status).toBe(
      200,
    );
    const audit = await call(secret, 'GET', '/api/audit');
    const events = audit.body.events.filter((event: { target: string }) =>
      [`category ${category}`, 'category research'].includes(event.target),
    );
    expect(events.map((event: { action: string }) => event.action)).toEqual([
      'category.update',
      'category.update',
      'category.create',
    ]);
    expect(events[0]).toMatchObject({
      actor: { kind: 'key', id },
      details: { after: { keywords: ['studies'] } },
    });
    expect(events[1].details).toMatchObject({ before: { keywords: ['one'] }, after: { keywords: ['two'] } });
  });
});
