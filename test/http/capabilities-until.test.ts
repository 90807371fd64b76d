import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { floorToHour } from '../../src/stats/read-window.js';
import { createTestApp, type TestApp } from '../support/app.js';
import { databaseKinds } from '../support/database.js';

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

/** Records a finished, rated research task of agent_b that completed at `completedAt`. */
async function recordRated(app: TestApp, completedAt: Date, rating: number): Promise<void> {
  const { status, body } = await app.call('POST', '/api/tasks/completed', {
    agent_id: 'agent_b',
    command: `until task at ${completedAt.toISOString()}`,
    objective_category: 'research',
    result: 'done',
    started_at: new Date(completedAt.getTime() - 2000).toISOString(),
    completed_at: completedAt.toISOString(),
    user_rating: rating,
  });
  expect(status, JSON.stringify(body)).toBe(201);
}

describe.each(databaseKinds())('the until of the routing estimates (%s PostgreSQL)', (kind) => {
  let app: TestApp;
  // Both ends inside an hour: the window reads whole days, whole hours and raw partial hours.
  const until = new Date(floorToHour(new Date(Date.now() - 5 * DAY_MS)).getTime() + 40 * 60_000);
  const since = new Date(until.getTime() - 15 * DAY_MS - 17 * 60_000);
  const window = (withUntil: boolean) =>
    `since=${encodeURIComponent(since.toISOString())}${withUntil ? `&until=${encodeURIComponent(until.toISOString())}` : ''}`;
  // The window [since, until) holds four tasks: in a whole day, in whole hours and in the last partial hour.
  const inWindow: [Date, number][] = [
    [new Date(until.getTime() - 8 * DAY_MS), 5],
    [new Date(until.getTime() - 7 * DAY_MS), 5],
    [new Date(until.getTime() - 3 * HOUR_MS), 4],
    [new Date(until.getTime() - 20 * 60_000), 4],
  ];
  // Three after it: one in until's own hour, one at until itself (the end is exclusive), one days later.
  const afterWindow: [Date, number][] = [
    [until, 1],
    [new Date(until.getTime() + 10 * 60_000), 1],
    [new Date(until.getTime() + 2 * DAY_MS), 1],
  ];

  const researchOf = async (withUntil: boolean) => {
    const { status, body } = await app.call('GET', `/api/agents/agent_b/capabilities?${window(withUntil)}`);
    expect(status, JSON.stringify(body)).toBe(200);
    return body.categories.find((entry: { category: string }) => entry.category === 'research');
  };
  const bestOf = async (withUntil: boolean) => {
    const { status, body } = await app.call(
      'GET',
      `/api/categories/research/best-agents?${window(withUntil)}`,
    );
    expect(status, JSON.stringify(body)).toBe(200);
    return body.agents.find((entry: { agent_id: string }) => entry.agent_id === 'agent_b');
  };

  beforeAll(async () => {
    app = await createTestApp(kind, { MERIT_EVALUATION: 'false' });
  });
  afterAll(async () => {
    await app?.close();
  });

  it('leaves tasks finished at or after until out of capabilities and best agents', async () => {
    for (const [at, rating] of inWindow) await recordRated(app, at, rating);
    const capability = await researchOf(true);
    const best = await bestOf(true);
    expect(capability.observations).toBe(inWindow.length);
    expect(best.observations).toBe(inWindow.length);
    expect(await researchOf(false)).toEqual(capability);

    for (const [at, rating] of afterWindow) await recordRated(app, at, rating);
    // The window's answer is what its four tasks give, whatever finished later...
    expect(await researchOf(true)).toEqual(capability);
    expect(await bestOf(true)).toEqual(best);
    // ...while a window open at the end counts the later ones too.
    const open = await researchOf(false);
    expect(open.observations).toBe(inWindow.length + afterWindow.length);
    expect(open.expected_score).toBeLessThan(capability.expected_score);
    expect((await bestOf(false)).observations).toBe(inWindow.length + afterWindow.length);
  });
});
