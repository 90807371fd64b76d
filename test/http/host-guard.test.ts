import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isAllowedHost, isLoopbackAddress } from '../../src/http/host-guard.js';
import { createTestApp, type TestApp } from '../support/app.js';

describe('isAllowedHost', () => {
  it('answers to the loopback names whatever the configuration', () => {
    for (const host of ['localhost', '127.0.0.1', '127.4.5.6', '[::1]', 'merit.localhost', 'LOCALHOST']) {
      expect(isAllowedHost(host, '127.0.0.1', [])).toBe(true);
    }
  });

  it('refuses any other name unless it is configured (a DNS-rebinding page carries its own name)', () => {
    expect(isAllowedHost('evil.example', '127.0.0.1', [])).toBe(false);
    expect(isAllowedHost('merit.lan', '0.0.0.0', [])).toBe(false);
    expect(isAllowedHost('merit.example.com', '0.0.0.0', ['merit.example.com'])).toBe(true);
    expect(isAllowedHost('a.team.example', '0.0.0.0', ['.team.example'])).toBe(true);
    expect(isAllowedHost('team.example', '0.0.0.0', ['.team.example'])).toBe(true);
    expect(isAllowedHost('evilteam.example', '0.0.0.0', ['.team.example'])).toBe(false);
    expect(isAllowedHost('anything.example', '0.0.0.0', ['*'])).toBe(true);
  });

  it('answers to any IP address (an address cannot be rebound: LAN clients, health probes), IPv6 included', () => {
    expect(isAllowedHost('192.168.1.20', '0.0.0.0', [])).toBe(true);
    expect(isAllowedHost('[fd00::5]', 'fd00::5', [])).toBe(true);
    expect(isAllowedHost('10.0.0.5', '10.0.0.5', [])).toBe(true);
  });

  it('answers to the name it is bound to', () => {
    expect(isAllowedHost('merit.internal', 'merit.internal', [])).toBe(true);
  });

  it('tells loopback addresses from others', () => {
    expect(isLoopbackAddress('127.0.0.1')).toBe(true);
    expect(isLoopbackAddress('::1')).toBe(true);
    expect(isLoopbackAddress('0.0.0.0')).toBe(false);
    expect(isLoopbackAddress('10.1.2.3')).toBe(false);
  });
});

describe('the Host header guard in the app', () => {
  let app: TestApp;
  let configured: TestApp;
  beforeAll(async () => {
    app = await createTestApp('embedded');
    configured = await createTestApp('embedded', { MERIT_ALLOWED_HOSTS: 'merit.example.com' });
  });
  afterAll(async () => {
    await app?.close();
    await configured?.close();
  });

  it('answers 403 with the error shape to a foreign host, on the API and on the web app', async () => {
    for (const path of ['/api/health', '/api/tasks?user_id=00000000-0000-0000-0000-000000000001', '/']) {
      const response = await app.app.request(`http://evil.example${path}`);
      expect(response.status).toBe(403);
      expect(await response.json()).toMatchObject({ error: { code: 'host_not_allowed' } });
    }
  });

  it('refuses a write from a foreign host and changes nothing', async () => {
    const response = await app.app.request(
      'http://evil.example/api/tasks?user_id=00000000-0000-0000-0000-000000000001',
      {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ agent_id: 'agent_a', command: 'research x' }),
      },
    );
    expect(response.status).toBe(403);
    const { rows } = await app.database.pool.query('SELECT count(*)::int AS n FROM tasks');
    expect(rows[0].n).toBe(0);
  });

  it('serves localhost and the configured names', async () => {
    expect((await app.app.request('http://localhost/api/health')).status).toBe(200);
    expect((await app.app.request('http://127.0.0.1:8000/api/health')).status).toBe(200);
    expect((await configured.app.request('http://merit.example.com/api/health')).status).toBe(200);
    expect((await configured.app.request('http://other.example.com/api/health')).status).toBe(403);
  });
});
