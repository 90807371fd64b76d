import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../support/app.js';

describe('an unexpected failure', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await createTestApp('embedded');
  });
  afterAll(async () => {
    await app?.close();
  });

  it('answers 500 with the JSON error shape and no internals', async () => {
    // A table gone from under the server (as after the guide's drop-and-recreate, before init-db).
    await app.database.pool.query('DROP TABLE routing_decisions CASCADE');
    const response = await app.app.request(
      '/api/routing/decisions?user_id=00000000-0000-0000-0000-000000000001',
    );
    expect(response.status).toBe(500);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    const body = await response.json();
    expect(body).toEqual({ error: { code: 'internal_error', message: 'Internal server error' } });
    expect(JSON.stringify(body)).not.toMatch(/routing_decisions|relation|stack/);
  });
});
