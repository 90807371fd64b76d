import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiClient } from '../../web/src/lib/api-client.js';

const USER = '00000000-0000-0000-0000-000000000001';

interface SeenRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
}

const seen: SeenRequest[] = [];
let server: Server;
let baseUrl: string;

beforeAll(async () => {
  // Answers like Merit in required mode: 401 for a session that ended, 401 for a wrong password,
  // 204 for a logout, JSON otherwise.
  server = createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      seen.push({ method: request.method ?? '', url: request.url ?? '', headers: request.headers });
      const path = new URL(request.url ?? '/', 'http://localhost').pathname;
      const json = (status: number, body: unknown) => {
        response.writeHead(status, { 'content-type': 'application/json' });
        response.end(JSON.stringify(body));
      };
      if (path === '/api/commands' && request.headers['x-csrf-token'] === 'stale') {
        json(403, {
          error: { code: 'csrf_failed', message: 'A signed-in write needs the X-CSRF-Token header' },
        });
      } else if (path === '/api/auth/session') {
        json(200, {
          mode: 'required',
          authenticated: true,
          account: { id: 'account-1', email: 'ada@example.com' },
          project: null,
          role: null,
          projects: [],
          csrf_token: 'fresh',
        });
      } else if (path === '/api/auth/login' || path === '/api/tasks') {
        json(401, { error: { code: 'unauthorized', message: 'Sign in first' } });
      } else if (path === '/api/auth/logout') {
        response.writeHead(204);
        response.end();
      } else if (path.startsWith('/api/keys/')) {
        json(200, { key: { id: path.slice('/api/keys/'.length) } });
      } else {
        json(200, { agents: [] });
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
});

describe('api client with a session', () => {
  it('sends the project on every request and the CSRF token on writes only', async () => {
    const client = createApiClient({ userId: USER, baseUrl }).withAuth({
      csrfToken: 'tok-1',
      project: 'beta',
    });
    await client.listAgents();
    expect(seen.at(-1)?.headers['x-merit-project']).toBe('beta');
    expect(seen.at(-1)?.headers['x-csrf-token']).toBeUndefined();
    await client.postCommand('@bob hello');
    expect(seen.at(-1)?.headers['x-merit-project']).toBe('beta');
    expect(seen.at(-1)?.headers['x-csrf-token']).toBe('tok-1');
    await client.revokeKey('k/1');
    expect(seen.at(-1)).toMatchObject({ method: 'DELETE', url: `/api/keys/k%2F1?user_id=${USER}` });
    expect(seen.at(-1)?.headers['x-csrf-token']).toBe('tok-1');
  });

  it('sends neither header in local mode, exactly as before', async () => {
    const client = createApiClient({ userId: USER, baseUrl });
    await client.postCommand('@bob hello');
    expect(seen.at(-1)?.headers['x-merit-project']).toBeUndefined();
    expect(seen.at(-1)?.headers['x-csrf-token']).toBeUndefined();
    expect(client.eventsUrl).toBe(`${baseUrl}/api/events?user_id=${USER}`);
  });

  it('puts the project in the event stream URL, since EventSource sends no headers', () => {
    const client = createApiClient({ userId: USER, baseUrl }).withAuth({
      csrfToken: 'tok-1',
      project: 'beta',
    });
    expect(client.eventsUrl).toBe(`${baseUrl}/api/events?user_id=${USER}&project=beta`);
  });

  it('reports a 401 as the end of the session, except from the login form', async () => {
    let ended = 0;
    const client = createApiClient({ userId: USER, baseUrl }).withAuth({
      csrfToken: 'tok-1',
      project: null,
      onUnauthorized: () => {
        ended += 1;
      },
    });
    await expect(client.listTasks()).rejects.toMatchObject({ status: 401, code: 'unauthorized' });
    expect(ended).toBe(1);
    await expect(client.login('ada@example.com', 'wrong')).rejects.toMatchObject({ status: 401 });
    expect(ended).toBe(1);
    expect(seen.at(-1)?.headers['x-merit-project']).toBeUndefined();
  });

  it('logs out through a 204 with the CSRF token', async () => {
    const client = createApiClient({ userId: USER, baseUrl }).withAuth({
      csrfToken: 'tok-2',
      project: 'alpha',
    });
    await expect(client.logout()).resolves.toBeUndefined();
    expect(seen.at(-1)).toMatchObject({ method: 'POST', url: `/api/auth/logout?user_id=${USER}` });
    expect(seen.at(-1)?.headers['x-csrf-token']).toBe('tok-2');
  });

  it("takes over the same account's CSRF token after a sign-in in another tab, and retries once", async () => {
    let ended = 0;
    const client = createApiClient({ userId: USER, baseUrl }).withAuth({
      csrfToken: 'stale',
      project: 'alpha',
      accountId: 'account-1',
      onUnauthorized: () => {
        ended += 1;
      },
    });
    await expect(client.postCommand('@bob hello')).resolves.toMatchObject({ agents: [] });
    expect(seen.slice(-3).map((request) => [request.method, request.headers['x-csrf-token']])).toEqual([
      ['POST', 'stale'],
      ['GET', undefined],
      ['POST', 'fresh'],
    ]);
    // Later writes carry the new token from the start.
    await client.postCommand('@bob again');
    expect(seen.at(-1)?.headers['x-csrf-token']).toBe('fresh');
    expect(ended).toBe(0);
  });

  it('ends the session instead when the cookie now belongs to another account', async () => {
    let ended = 0;
    const client = createApiClient({ userId: USER, baseUrl }).withAuth({
      csrfToken: 'stale',
      project: 'alpha',
      accountId: 'account-2',
      onUnauthorized: () => {
        ended += 1;
      },
    });
    await expect(client.postCommand('@bob hello')).rejects.toMatchObject({
      status: 403,
      code: 'csrf_failed',
    });
    expect(ended).toBe(1);
    expect(seen.at(-1)?.method).toBe('GET');
  });
});
