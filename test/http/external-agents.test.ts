import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureExternalAgents } from '../../src/agents/external-agents.js';
import type { KeyScope, Role } from '../../src/db/database.js';
import { ensureDefaultData } from '../../src/db/default-data.js';
import { generateKeySecret, hashPassword } from '../../src/identity/credentials.js';
import {
  insertAccount,
  insertApiKey,
  insertProject,
  upsertMember,
} from '../../src/identity/identity.queries.js';
import { createTestApp, DEFAULT_PROJECT_ID, type TestApp } from '../support/app.js';

const PASSWORD = 'correct horse battery staple';

describe('external agents in the API (required mode)', () => {
  let app: TestApp;
  let otherProject: string;
  const headers: Record<string, Record<string, string>> = {};

  async function signIn(email: string): Promise<Record<string, string>> {
    const response = await app.app.request('/api/auth/login', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email, password: PASSWORD }),
    });
    expect(response.status).toBe(200);
    const cookie = (response.headers.get('set-cookie') ?? '').split(';')[0] as string;
    const session = (await response.json()) as { csrf_token: string };
    return { cookie, 'x-csrf-token': session.csrf_token };
  }

  async function member(email: string, projectId: string, role: Role): Promise<Record<string, string>> {
    const account = await insertAccount(app.ctx.db, { email, passwordHash: await hashPassword(PASSWORD) });
    await upsertMember(app.ctx.db, { projectId, accountId: account.id, role });
    return signIn(email);
  }

  async function key(projectId: string, scopes: KeyScope[]): Promise<Record<string, string>> {
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
    return { authorization: `Bearer ${secret.secret}` };
  }

  async function send(method: string, url: string, caller: Record<string, string>, body?: unknown) {
    const response = await app.app.request(url, {
      method,
      headers: { ...caller, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: response.status, body: (await response.json()) as any };
  }

  const externalRow = () =>
    app.ctx.db
      .selectFrom('agents')
      .select(['display_name', 'role', 'specializations', 'active', 'origin', 'external_name'])
      .where('project_id', '=', DEFAULT_PROJECT_ID)
      .where('agent_id', '=', 'weather_agent')
      .executeTakeFirstOrThrow();

  beforeAll(async () => {
    app = await createTestApp('embedded', { MERIT_AUTH: 'required' });
    otherProject = (await insertProject(app.ctx.db, { slug: 'elsewhere', name: 'Elsewhere' })).id;
    await ensureDefaultData(app.ctx.db, otherProject);
    await ensureExternalAgents(app.ctx.db, DEFAULT_PROJECT_ID, ['Weather Agent']);
    headers.admin = await member('admin@example.com', DEFAULT_PROJECT_ID, 'admin');
    headers.member = await member('member@example.com', DEFAULT_PROJECT_ID, 'member');
    headers.viewer = await member('viewer@example.com', DEFAULT_PROJECT_ID, 'viewer');
    headers.outsider = await member('outsider@example.com', otherProject, 'owner');
    headers.adminKey = await key(DEFAULT_PROJECT_ID, ['admin']);
    headers.ingestKey = await key(DEFAULT_PROJECT_ID, ['ingest']);
  });
  afterAll(() => app.close());

  it('lists each agent with its origin and the name its source gave it', async () => {
    const { status, body } = await send('GET', '/api/agents', headers.viewer as Record<string, string>);
    expect(status).toBe(200);
    const external = body.agents.find((agent: { agent_id: string }) => agent.agent_id === 'weather_agent');
    expect(external).toMatchObject({
      origin: 'external',
      external_name: 'Weather Agent',
      display_name: 'Weather Agent',
      simulated: false,
    });
    const own = body.agents.find((agent: { agent_id: string }) => agent.agent_id === 'agent_a');
    expect(own).toMatchObject({ origin: 'merit', external_name: null });
  });

  it("lets an admin edit an external agent's display name, role, specializations and active flag", async () => {
    const changes = {
      display_name: 'Weather (prod)',
      role: 'Forecasts',
      specializations: ['weather', 'travel'],
      active: false,
    };
    const { status, body } = await send(
      'PATCH',
      '/api/agents/weather_agent',
      headers.admin as Record<string, string>,
      changes,
    );
    expect(status).toBe(200);
    expect(body).toMatchObject({ ...changes, agent_id: 'weather_agent', origin: 'external' });
    expect(await externalRow()).toEqual({ ...changes, origin: 'external', external_name: 'Weather Agent' });
    const audit = await app.ctx.db
      .selectFrom('audit_log')
      .select(['action', 'target', 'actor_label'])
      .where('action', '=', 'agent.update')
      .execute();
    expect(audit).toEqual([
      { action: 'agent.update', target: 'agent weather_agent', actor_label: 'admin@example.com' },
    ]);

    const byKey = await send(
      'PATCH',
      '/api/agents/weather_agent',
      headers.adminKey as Record<string, string>,
      {
        active: true,
      },
    );
    expect(byKey.status).toBe(200);
    expect((await externalRow()).active).toBe(true);
  });

  it('refuses members, viewers and ingest keys, changing nothing', async () => {
    const before = await externalRow();
    for (const caller of ['member', 'viewer', 'ingestKey']) {
      const { status, body } = await send(
        'PATCH',
        '/api/agents/weather_agent',
        headers[caller] as Record<string, string>,
        { display_name: 'Hijacked' },
      );
      expect({ caller, status, code: body.error?.code }).toEqual({ caller, status: 403, code: 'forbidden' });
    }
    expect(await externalRow()).toEqual(before);
  });

  it("does not show another project's external agent to its admins, nor let them edit it", async () => {
    const before = await externalRow();
    const { status, body } = await send(
      'PATCH',
      '/api/agents/weather_agent',
      headers.outsider as Record<string, string>,
      { display_name: 'Not yours' },
    );
    expect(status).toBe(404);
    expect(body.error.code).toBe('agent_not_found');
    const listed = await send('GET', '/api/agents', headers.outsider as Record<string, string>);
    expect(listed.body.agents.map((agent: { agent_id: string }) => agent.agent_id)).not.toContain(
      'weather_agent',
    );
    expect(await externalRow()).toEqual(before);
  });

  it("refuses to edit Merit's own agents here, and bad input, naming the field", async () => {
    const own = await send('PATCH', '/api/agents/agent_a', headers.admin as Record<string, string>, {
      display_name: 'Renamed',
    });
    expect(own.status).toBe(409);
    expect(own.body.error.code).toBe('conflict');
    const cases: [unknown, string][] = [
      [{}, ''],
      [{ display_name: '   ' }, 'display_name'],
      [{ specializations: ['a', 'a'] }, 'specializations'],
      [{ specializations: ['x'.repeat(51)] }, 'specializations.0'],
      [{ active: 'yes' }, 'active'],
      [{ model: 'gpt-4o' }, ''],
    ];
    const before = await externalRow();
    for (const [body, field] of cases) {
      const response = await send(
        'PATCH',
        '/api/agents/weather_agent',
        headers.admin as Record<string, string>,
        body,
      );
      expect(response.status).toBe(400);
      expect(response.body.error.code).toBe('validation_failed');
      if (field !== '') expect(response.body.error.field).toBe(field);
    }
    expect(await externalRow()).toEqual(before);
  });
});
