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

  it('prints the address it really binds, warns that it has no authentication, and refuses foreign host names', async () => {
    const port = await freePort();
    const merit = runMerit(['start'], { DATABASE_URL: database.url, HOST: '0.0.0.0', PORT: String(port) });
    try {
      const [, url] = await merit.waitFor(/Merit is running at (http:\/\/\S+)/);
      expect(merit.output()).toContain(`Listening on 0.0.0.0:${port} (every network interface)`);
      expect(merit.output()).toMatch(/WARNING: Merit has no authentication yet/);
      expect((await fetch(`${url}/api/health`)).status).toBe(200);
      // A DNS-rebinding page reaches the same socket under its own name.
      expect(await statusFor(port, `evil.example:${port}`)).toBe(403);
      expect(await statusFor(port, `localhost:${port}`)).toBe(200);
    } finally {
      merit.child.kill('SIGTERM');
      await merit.exited;
    }
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
