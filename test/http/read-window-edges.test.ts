import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toPgDay } from '../../src/stats/stats.queries.js';
import { createTestApp, type TestApp } from '../support/app.js';

describe('a PostgreSQL date for every UTC day a window can name', () => {
  it('writes years before 1 with BC and years after 9999 without a sign', () => {
    expect(toPgDay(new Date('2026-11-30T10:17:00Z'))).toBe('2026-11-30');
    expect(toPgDay(new Date('0001-01-01T00:00:00Z'))).toBe('0001-01-01');
    // 30 days before 0001-01-01 is 0000-12-02 in ISO 8601's proleptic years: 1 BC.
    expect(toPgDay(new Date(Date.parse('0001-01-01T00:00:00Z') - 30 * 86_400_000))).toBe('0001-12-02 BC');
    expect(toPgDay(new Date('+010000-01-01T00:00:00Z'))).toBe('10000-01-01');
  });
});

// The fuzzer of `npm run chaos` found GET /api/agents/{id}/capabilities?until=0001-01-01T00:00:00Z
// answered 500 (date/time field value out of range: "0000-12-02"): the window's days were sent as
// ISO text, and the year before 1 is 0000 there.
describe('read windows at the edges of the calendar', () => {
  let app: TestApp;

  beforeAll(async () => {
    app = await createTestApp('embedded', { MERIT_EVALUATION: 'false' });
  });
  afterAll(async () => {
    await app?.close();
  });

  const paths = [
    '/api/agents/leaderboard',
    '/api/agents/agent_b/capabilities',
    '/api/categories/research/best-agents',
    '/api/agents/agent_b/trend',
    '/api/agents/agent_b/trend?bucket=hour',
    '/api/agents/agent_b/nodes',
    '/api/agents/agent_b/performance',
    '/api/routing/quality',
    '/api/routing/decisions',
    '/api/reviewers',
  ];
  const windows = [
    'until=0001-01-01T00:00:00Z',
    'since=0001-01-01T00:00:00Z&until=0001-01-03T12:00:00Z',
    'since=9999-12-01T00:00:00Z',
  ];

  it.each(paths.flatMap((path) => windows.map((window) => [path, window] as const)))(
    '%s with %s answers 200',
    async (path, window) => {
      const { status, body } = await app.call('GET', `${path}${path.includes('?') ? '&' : '?'}${window}`);
      expect(status, JSON.stringify(body)).toBe(200);
    },
  );
});
