import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServices } from '../../src/server.js';
import { testConfig } from '../support/app.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { runMeritToEnd } from '../support/process.js';

/** `npx merit users|projects|keys` as an operator runs them, against a real database. */
describe('the identity commands', () => {
  let database: TestDatabase;
  let env: Record<string, string>;

  beforeAll(async () => {
    database = await createTestDatabase('embedded');
    env = { DATABASE_URL: database.url };
  });
  afterAll(async () => {
    await database?.drop();
  });

  it('creates an owner, a project and a key that works until it is revoked', async () => {
    const owner = await runMeritToEnd(['users', 'create', '--email', 'Ops@Example.com', '--owner'], env, {
      stdin: 'a long enough password\n',
    });
    expect(owner.code).toBe(0);
    expect(owner.output).toContain('Created ops@example.com, owner of project default.');

    const project = await runMeritToEnd(['projects', 'create', 'research-team', '--name', 'Research'], env);
    expect(project.code).toBe(0);
    expect(project.output).toMatch(/Created project research-team \(.+\) with the default agent team/);

    const created = await runMeritToEnd(
      ['keys', 'create', '--project', 'research-team', '--scopes', 'read,ingest', '--name', 'ci'],
      env,
    );
    expect(created.code).toBe(0);
    const lines = created.output.trim().split('\n');
    const key = lines.at(-1) as string;
    expect(key).toMatch(/^merit_[0-9a-f]{12}_[A-Za-z0-9_-]{32}$/);
    const keyId = /Created key ([0-9a-f-]{36})/.exec(created.output)?.[1] as string;

    const services = createServices(testConfig({ MERIT_AUTH: 'required' }), {
      handle: database,
      kind: 'external',
      label: 'cli',
    });
    const agents = () => services.app.request('/api/agents', { headers: { authorization: `Bearer ${key}` } });
    expect((await agents()).status).toBe(200);

    const listed = await runMeritToEnd(['keys', 'list', '--project', 'research-team'], env);
    expect(listed.output).toContain(
      `${keyId}  ${key.slice(0, 'merit_'.length + 12)}  ci  [read,ingest]  active`,
    );
    expect(listed.output).not.toContain(key);

    const revoked = await runMeritToEnd(['keys', 'revoke', keyId, '--project', 'research-team'], env);
    expect(revoked.code).toBe(0);
    expect((await agents()).status).toBe(401);
  }, 120_000);

  it('refuses bad input with exit code 2 and a clear message, changing nothing', async () => {
    const short = await runMeritToEnd(['users', 'create', '--email', 'x@example.com'], env, {
      stdin: 'short\n',
    });
    expect(short.code).toBe(2);
    expect(short.output).toContain('The password must be at least 10 characters long');
    const unknown = await runMeritToEnd(['keys', 'create', '--project', 'nope', '--scopes', 'read'], env);
    expect(unknown.code).toBe(2);
    expect(unknown.output).toContain('No project nope (create it with: npx merit projects create nope)');
    const scopes = await runMeritToEnd(
      ['keys', 'create', '--project', 'default', '--scopes', 'everything'],
      env,
    );
    expect(scopes.code).toBe(2);
    expect(scopes.output).toMatch(/--scopes/);
    const { rows } = await database.pool.query(
      "SELECT count(*)::int AS n FROM accounts WHERE email = 'x@example.com'",
    );
    expect(rows[0].n).toBe(0);
  }, 120_000);
});
