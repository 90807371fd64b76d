import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COST_QUALITY_SAMPLE, findCostQuality } from '../../src/agents/agents.queries.js';
import { DEFAULT_PROJECT_ID, type Scope } from '../../src/identity/scope.js';
import type { ReadRange } from '../../src/stats/read-window.js';
import { ALL_USERS_ID, recomputeAllStats } from '../../src/stats/stats.queries.js';
import { findTrend, type TrendBucket } from '../../src/stats/trend.queries.js';
import { createTestApp, type TestApp, USER } from '../support/app.js';
import { databaseKinds } from '../support/database.js';
import { seedFinishedTasks } from '../support/finished-tasks.js';
import { findRawTrend } from '../support/trend.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
// Mid-hour on a Monday (UTC): week buckets start on the window's first Monday and partial hours exist.
const NOW = new Date(Date.UTC(2026, 10, 30, 10, 17, 0));
const PROJECT: Scope = { projectId: DEFAULT_PROJECT_ID, userId: USER, ownTasksOnly: false };
const OWN: Scope = { ...PROJECT, ownTasksOnly: true };

describe.each(databaseKinds())("an agent's trend from the rollups (%s PostgreSQL)", (kind) => {
  let app: TestApp;

  beforeAll(async () => {
    app = await createTestApp(kind, { MERIT_EVALUATION: 'false' });
    await sql`DELETE FROM agent_performance_scores`.execute(app.ctx.db);
    await sql`DELETE FROM tasks`.execute(app.ctx.db);
    await seedFinishedTasks(app, {
      seed: 5,
      count: 500,
      now: NOW,
      agents: ['agent_a', 'agent_b'],
      categories: ['research', 'coding', 'writing'],
      days: 20,
    });
    await app.ctx.db.transaction().execute((trx) => recomputeAllStats(trx));
  });
  afterAll(async () => {
    await app?.close();
  });

  const ranges: [string, ReadRange][] = [
    ['30 days ending now', { since: new Date(NOW.getTime() - 30 * DAY) }],
    ['from mid-hour 9 days ago', { since: new Date(NOW.getTime() - 9 * DAY - 23 * 60_000) }],
    ['the last 24 hours', { since: new Date(NOW.getTime() - DAY) }],
    [
      'mid-day to mid-day',
      { since: new Date('2026-11-18T07:30:00Z'), until: new Date('2026-11-27T19:05:00Z') },
    ],
    ['within one day', { since: new Date('2026-11-25T03:10:00Z'), until: new Date('2026-11-25T21:40:00Z') }],
    ['everything', {}],
  ];
  const cases = ranges.flatMap(([name, range]) =>
    (['hour', 'day', 'week'] as TrendBucket[]).flatMap((bucket) =>
      (
        [
          ['the project', PROJECT],
          ["one user's own", OWN],
        ] as const
      ).map(([who, scope]) => [name, bucket, who, range, scope] as const),
    ),
  );

  it.each(cases)(
    'equals the raw rows over %s by %s for %s tasks',
    async (_name, bucket, _who, range, scope) => {
      const raw = await findRawTrend(app.ctx.db, 'agent_a', scope, bucket, range);
      expect(raw.length).toBeGreaterThan(0);
      expect(await findTrend(app.ctx.db, 'agent_a', scope, bucket, range)).toEqual(raw);
    },
  );

  it('reads whole days from agent_daily_stats (a changed all-users daily row changes the project day point)', async () => {
    const range = { since: new Date(NOW.getTime() - 9 * DAY) };
    const day = '2026-11-25';
    const point = async () =>
      (await findTrend(app.ctx.db, 'agent_a', PROJECT, 'day', range)).find(
        (p) => p.bucket_start.toISOString() === `${day}T00:00:00.000Z`,
      )?.tasks ?? 0;
    const before = await point();
    expect(before).toBeGreaterThan(0);
    await sql`UPDATE agent_daily_stats SET total_tasks = total_tasks + 50
      WHERE agent_id = 'agent_a' AND day = ${day}::date AND objective_category = 'coding' AND user_id = ${ALL_USERS_ID}`.execute(
      app.ctx.db,
    );
    try {
      expect(await point()).toBe(before + 50);
    } finally {
      await sql`UPDATE agent_daily_stats SET total_tasks = total_tasks - 50
        WHERE agent_id = 'agent_a' AND day = ${day}::date AND objective_category = 'coding' AND user_id = ${ALL_USERS_ID}`.execute(
        app.ctx.db,
      );
    }
  });
});

describe.each(databaseKinds())('the cost-against-quality grid (%s PostgreSQL)', (kind) => {
  let app: TestApp;

  beforeAll(async () => {
    app = await createTestApp(kind, { MERIT_EVALUATION: 'false' });
    // 2,100 scored, priced tasks of agent_c, one a minute back from NOW, and 30 unpriced ones.
    await sql`
      WITH ins AS (
        INSERT INTO tasks (project_id, user_id, agent_id, command, objective_category, status, result, estimated_cost,
          started_at, completed_at, duration_ms)
        SELECT ${DEFAULT_PROJECT_ID}::uuid, ${USER}::uuid, 'agent_c', 'grid ' || i, 'coding', 'completed', 'ok',
          CASE WHEN i <= 2100 THEN (i % 50) / 10000.0 END,
          ${NOW}::timestamptz - make_interval(mins => i) - interval '1 second', ${NOW}::timestamptz - make_interval(mins => i), 1000
        FROM generate_series(1, 2130) AS i
        RETURNING id, estimated_cost, completed_at
      )
      INSERT INTO agent_performance_scores (task_id, agent_id, user_id, objective_category, overall_score, estimated_cost, created_at)
      SELECT id, 'agent_c', ${USER}::uuid, 'coding', 0.5, estimated_cost, completed_at FROM ins`.execute(
      app.ctx.db,
    );
  });
  afterAll(async () => {
    await app?.close();
  });

  const total = (cells: { tasks: number }[]) => cells.reduce((sum, cell) => sum + cell.tasks, 0);

  it('draws the range from its newest 2,000 scored, priced tasks and says it was cut', async () => {
    const grid = await findCostQuality(app.ctx.db, 'agent_c', PROJECT, {
      since: new Date(NOW.getTime() - 3 * DAY),
      until: NOW,
    });
    expect(total(grid.cells)).toBe(COST_QUALITY_SAMPLE);
    expect(grid.truncated).toBe(true);
  });

  it('draws every such task of a range that holds fewer, and says it was not cut', async () => {
    // The newest 100 minutes: the tasks finished 1 to 100 minutes before NOW.
    const grid = await findCostQuality(app.ctx.db, 'agent_c', PROJECT, {
      since: new Date(NOW.getTime() - 100 * 60_000),
      until: NOW,
    });
    expect(total(grid.cells)).toBe(100);
    expect(grid.truncated).toBe(false);
  });
});
