import { createRoute } from '@hono/zod-openapi';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KeyScope, Role } from '../../src/db/database.js';
import { ensureDefaultData } from '../../src/db/default-data.js';
import { createApp, type MeritApp } from '../../src/http/app.js';
import { generateKeySecret, hashPassword } from '../../src/identity/credentials.js';
import {
  insertAccount,
  insertApiKey,
  insertProject,
  upsertMember,
} from '../../src/identity/identity.queries.js';
import { ROUTE_RULES, type RouteRule } from '../../src/identity/permissions.js';
import { PERMISSIONS_BY_ROLE, permissionsOfScopes } from '../../src/identity/principal.js';
import { createTestApp, DEFAULT_PROJECT_ID, type TestApp } from '../support/app.js';
import { BASELINES, type Fixtures } from '../support/operations.js';

/**
 * The authorization matrix (BOLA and BFLA, OWASP API Top 10), generated from the OpenAPI document: every
 * operation is sent by every kind of caller of required mode (each role's session, each key scope, a
 * member of another project, no credentials) and answered as the operation's `x-merit-permission` says.
 * A route without a rule fails here (and is refused at run time).
 */

type Operation = { 'x-merit-permission'?: RouteRule };
type OpenApiDocument = { paths: Record<string, Record<string, Operation>> };

interface Caller {
  name: string;
  headers: Record<string, string>;
  /** The permissions it holds in the project under test; undefined for no credentials at all. */
  permissions: ReadonlySet<string> | undefined;
  /** A member of another project: it holds permissions, but none over this project's rows. */
  outsider?: boolean;
  /** The account behind a session, to sign in afresh where the request ends the session. */
  email?: string;
}

const PASSWORD = 'correct horse battery staple';
const ROLES_UNDER_TEST: Role[] = ['owner', 'admin', 'member', 'viewer'];
const SCOPES_UNDER_TEST: KeyScope[] = ['read', 'feedback', 'ingest', 'admin'];

/** Operations whose path names one of the project's rows: another project's caller must get 404. */
const NAMES_A_ROW = /\{(task_id|key_id|account_id|category)\}/;

describe('authorization in required mode (embedded PostgreSQL)', () => {
  let app: TestApp;
  let doc: OpenApiDocument;
  const callers: Caller[] = [];
  /** A caller's headers by name (the matrix lists them in order). */
  const headersOf = (name: string): Record<string, string> => {
    const caller = callers.find((candidate) => candidate.name === name);
    if (!caller) throw new Error(`no caller ${name}`);
    return caller.headers;
  };

  async function signIn(email: string, project?: string): Promise<Record<string, string>> {
    const response = await app.app.request('/api/auth/login', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email, password: PASSWORD }),
    });
    expect(response.status).toBe(200);
    const cookie = (response.headers.get('set-cookie') ?? '').split(';')[0] as string;
    const session = (await response.json()) as { csrf_token: string };
    return {
      cookie,
      'x-csrf-token': session.csrf_token,
      ...(project ? { 'x-merit-project': project } : {}),
    };
  }

  async function createAccount(email: string, projectId: string, role: Role): Promise<void> {
    const account = await insertAccount(app.ctx.db, { email, passwordHash: await hashPassword(PASSWORD) });
    await upsertMember(app.ctx.db, { projectId, accountId: account.id, role });
  }

  async function createKey(projectId: string, scopes: KeyScope[]): Promise<string> {
    const secret = generateKeySecret();
    await insertApiKey(app.ctx.db, {
      projectId,
      name: scopes.join('+'),
      prefix: secret.prefix,
      secretHash: secret.secretHash,
      scopes,
      allowedOrigins: [],
      createdBy: 'test',
      createdByAccountId: null,
    });
    return secret.secret;
  }

  async function send(method: string, url: string, headers: Record<string, string>, body?: unknown) {
    const response = await app.app.request(url, {
      method,
      headers: { ...headers, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // Not JSON (an event stream's first bytes).
    }
    return { status: response.status, body: parsed as any };
  }

  async function createFixtures(owner: Record<string, string>): Promise<Fixtures> {
    const created = await send('POST', '/api/tasks', owner, {
      agent_id: 'agent_a',
      command: 'research quantum computing',
      objective_category: 'research',
      status: 'running',
    });
    expect(created.status).toBe(201);
    const completed = await send('POST', '/api/tasks', owner, {
      agent_id: 'agent_a',
      command: 'research tidal energy',
      objective_category: 'research',
      status: 'running',
    });
    await send('POST', `/api/tasks/${completed.body.id}/complete`, owner, { result: 'done' });
    const category = `authz_${Math.random().toString(36).slice(2, 8)}`;
    const made = await send('POST', '/api/categories', owner, {
      category,
      description: 'For the authorization matrix',
      evaluation_criteria: ['is right'],
    });
    expect(made.status).toBe(201);
    return { runningTask: created.body.id, completedTask: completed.body.id, category };
  }

  beforeAll(async () => {
    // The matrix sends thousands of requests a minute with the same owner: the request limit is tested apart.
    app = await createTestApp('embedded', {
      MERIT_AUTH: 'required',
      MERIT_RATE_REQUESTS_PER_MINUTE: '1000000',
    });
    const other = await insertProject(app.ctx.db, { slug: 'other-team', name: 'Other team' });
    await ensureDefaultData(app.ctx.db, other.id);
    for (const role of ROLES_UNDER_TEST) await createAccount(`${role}@example.com`, DEFAULT_PROJECT_ID, role);
    await createAccount('outsider@example.com', other.id, 'owner');
    for (const role of ROLES_UNDER_TEST) {
      callers.push({
        name: `${role} session`,
        email: `${role}@example.com`,
        headers: await signIn(`${role}@example.com`),
        permissions: new Set(PERMISSIONS_BY_ROLE[role]),
      });
    }
    for (const scope of SCOPES_UNDER_TEST) {
      callers.push({
        name: `${scope} key`,
        headers: { authorization: `Bearer ${await createKey(DEFAULT_PROJECT_ID, [scope])}` },
        permissions: new Set(permissionsOfScopes([scope])),
      });
    }
    callers.push({
      name: 'owner of another project',
      email: 'outsider@example.com',
      headers: await signIn('outsider@example.com'),
      permissions: new Set(PERMISSIONS_BY_ROLE.owner),
      outsider: true,
    });
    callers.push({
      name: 'admin key of another project',
      headers: { authorization: `Bearer ${await createKey(other.id, ['admin'])}` },
      permissions: new Set(permissionsOfScopes(['admin'])),
      outsider: true,
    });
    callers.push({ name: 'no credentials', headers: {}, permissions: undefined });
    callers.push({
      name: 'a revoked or made-up key',
      headers: { authorization: `Bearer ${generateKeySecret().secret}` },
      permissions: undefined,
    });
    const response = await app.app.request('/api/openapi.json');
    doc = (await response.json()) as OpenApiDocument;
  }, 120_000);
  afterAll(async () => {
    await app?.close();
  });

  it('gives every operation of the document a permission rule, the same as the middleware enforces', () => {
    const operations = Object.entries(doc.paths).flatMap(([path, methods]) =>
      Object.entries(methods).map(([method, operation]) => ({
        name: `${method.toUpperCase()} ${path}`,
        rule: operation['x-merit-permission'],
      })),
    );
    expect(operations.length).toBeGreaterThanOrEqual(40);
    expect(operations.filter((operation) => operation.rule === undefined).map((o) => o.name)).toEqual([]);
    for (const operation of operations) expect(operation.rule).toBe(ROUTE_RULES[operation.name]);
  });

  it('answers each caller as the rule says: 401 without credentials, 403 without the permission, 404 across projects', async () => {
    const owner = headersOf('owner session');
    const failures: string[] = [];
    let checked = 0;
    for (const [path, methods] of Object.entries(doc.paths)) {
      for (const [method, operation] of Object.entries(methods)) {
        const name = `${method.toUpperCase()} ${path}`;
        const rule = operation['x-merit-permission'] as RouteRule;
        const makeBaseline = BASELINES[name];
        if (!makeBaseline) {
          failures.push(`${name}: no baseline request in test/support/operations.ts`);
          continue;
        }
        // A read leaves the fixtures as they were; a write may change them (a completed task), so each caller
        // writes on fresh ones.
        const shared = method === 'get' ? await createFixtures(owner) : undefined;
        for (const caller of callers) {
          const baseline = makeBaseline(shared ?? (await createFixtures(owner)));
          // A stream the caller may open never ends (its events stay in its own project: live-events tests).
          if (baseline.stream && caller.permissions?.has(rule)) continue;
          let url = path;
          for (const [param, value] of Object.entries(baseline.params))
            url = url.replace(`{${param}}`, value);
          const query = new URLSearchParams(baseline.query).toString();
          // Signing out ends the session: do it on a session of its own.
          const headers =
            name === 'POST /api/auth/logout' && caller.email ? await signIn(caller.email) : caller.headers;
          const { status, body } = await send(
            method.toUpperCase(),
            query ? `${url}?${query}` : url,
            headers,
            baseline.body,
          );
          checked++;
          const expected = expectedAnswer(rule, caller, NAMES_A_ROW.test(path));
          if (!expected(status, body))
            failures.push(`${name} as ${caller.name}: ${status} ${JSON.stringify(body)}`);
        }
      }
    }
    expect(failures).toEqual([]);
    expect(checked).toBeGreaterThan(400);
  }, 600_000);

  it('refuses a signed-in write without the CSRF token, and accepts it with the token', async () => {
    const { 'x-csrf-token': token, ...cookieOnly } = headersOf('member session');
    const body = { agent_id: 'agent_a', command: 'plan the launch', status: 'running' };
    const refused = await send('POST', '/api/tasks', cookieOnly, body);
    expect(refused.status).toBe(403);
    expect(refused.body.error.code).toBe('csrf_failed');
    const wrong = await send('POST', '/api/tasks', { ...cookieOnly, 'x-csrf-token': 'guessed' }, body);
    expect(wrong.status).toBe(403);
    const accepted = await send(
      'POST',
      '/api/tasks',
      { ...cookieOnly, 'x-csrf-token': token as string },
      body,
    );
    expect(accepted.status).toBe(201);
  });

  it('takes a feedback key from its allowed browser origins only', async () => {
    const secret = generateKeySecret();
    await insertApiKey(app.ctx.db, {
      projectId: DEFAULT_PROJECT_ID,
      name: 'widget',
      prefix: secret.prefix,
      secretHash: secret.secretHash,
      scopes: ['feedback'],
      allowedOrigins: ['https://app.example.com'],
      createdBy: 'test',
      createdByAccountId: null,
    });
    const { completedTask } = await createFixtures(headersOf('owner session'));
    const rate = (origin: string) =>
      send(
        'POST',
        `/api/tasks/${completedTask}/feedback`,
        { authorization: `Bearer ${secret.secret}`, origin },
        { user_rating: 4 },
      );
    const foreign = await rate('https://evil.example');
    expect(foreign.status).toBe(403);
    expect(foreign.body.error.message).toMatch(/may not be used from https:\/\/evil\.example/);
    expect((await rate('https://app.example.com')).status).toBe(200);
  });

  it('refuses, whatever the caller, a route registered without a rule (fail closed)', async () => {
    const extended: MeritApp = createApp(app.ctx, {
      registerExtra: (api) =>
        api.openapi(
          createRoute({ method: 'get', path: '/api/unruled', responses: { 200: { description: 'ok' } } }),
          (c) => c.json({ leaked: true }, 200),
        ),
    });
    const response = await extended.request('/api/unruled', { headers: headersOf('owner session') });
    expect(response.status).toBe(403);
    expect(await response.text()).toMatch(/has no permission rule/);
  });
});

/** What a caller must get for an operation with `rule`. */
function expectedAnswer(
  rule: RouteRule,
  caller: Caller,
  namesRow: boolean,
): (status: number, body: { error?: { code?: string } }) => boolean {
  if (rule === 'public') return (status) => status < 500 && status !== 403;
  if (caller.permissions === undefined)
    return (status, body) => status === 401 && body.error?.code === 'unauthorized';
  if (!caller.permissions.has(rule))
    return (status, body) => status === 403 && body.error?.code === 'forbidden';
  // Another project's member is allowed the operation, but never reaches this project's rows.
  if (caller.outsider && namesRow) return (status) => status === 404;
  return (status) => status < 500 && status !== 401 && status !== 403;
}
