import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { freePort, runMerit } from '../support/process.js';

describe('npx merit start bound beyond loopback', () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase('embedded');
  });
  afterAll(async () => {
    await database?.drop();
  });

  it('prints the address it really binds, requires authentication, and refuses foreign host names', async () => {
    const port = await freePort();
    const merit = runMerit(['start'], { DATABASE_URL: database.url, HOST: '0.0.0.0', PORT: String(port) });
    try {
      const [, url] = await merit.waitFor(/Merit is running at (http:\/\/\S+)/);
      expect(merit.output()).toContain(`Listening on 0.0.0.0:${port} (every network interface)`);
      expect(merit.output()).toContain('Authentication: required');
      expect(merit.output()).toMatch(/No account yet: create the first owner with `npx merit users create/);
      expect((await fetch(`${url}/api/health`)).status).toBe(200);
      // Off loopback, the seed's ?user_id= is no credential.
      const anonymous = await fetch(
        `${url}/api/agents/leaderboard?user_id=00000000-0000-0000-0000-000000000001`,
      );
      expect(anonymous.status).toBe(401);
      expect(((await anonymous.json()) as { error: { code: string } }).error.code).toBe('unauthorized');
      // A DNS-rebinding page reaches the same socket under its own name.
      expect(await statusFor(port, `evil.example:${port}`)).toBe(403);
      expect(await statusFor(port, `localhost:${port}`)).toBe(200);
    } finally {
      merit.child.kill('SIGTERM');
      await merit.exited;
    }
  });

  it('refuses to start in local mode beyond loopback, and says why', async () => {
    const port = await freePort();
    const merit = runMerit(['start'], {
      DATABASE_URL: database.url,
      HOST: '0.0.0.0',
      PORT: String(port),
      MERIT_AUTH: 'local',
    });
    const code = await merit.exited;
    expect(code).not.toBe(0);
    expect(merit.output()).toMatch(
      /MERIT_AUTH=local would let anyone who can reach 0\.0\.0\.0 act as any user/,
    );
  });
});

/** The status of GET /api/health on the port with the given Host header (fetch cannot set Host). */
function statusFor(port: number, host: string): Promise<number | undefined> {
  return new Promise((resolve, reject) => {
    const request = http.get(
      { host: '127.0.0.1', port, path: '/api/health', headers: { host } },
      (response) => {
        response.resume();
        resolve(response.statusCode);
      },
    );
    request.on('error', reject);
  });
}
