import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRng } from '../../src/lib/random.js';
import { rollUpOldTasks } from '../../src/retention/retention.queries.js';
import type { ReadRange } from '../../src/stats/read-window.js';
import { findStatsInWindow, recomputeAllStats, splitRange } from '../../src/stats/stats.queries.js';
import { createTestApp, DEFAULT_PROJECT_ID, type TestApp, USER } from '../support/app.js';
import { databaseKinds } from '../support/database.js';

const AGENTS = ['agent_a', 'agent_b', 'agent_c'];
const CATEGORIES = ['research', 'coding', 'writing'];
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
// "Now" in the middle of a UTC day, so a window ending now has a partial last day.
const NOW = new Date(Date.UTC(2026, 10, 30, 10, 17, 0));

/** The windowed sums straight from the task and score rows (the query findStatsInWindow replaced). */
async function rawStatsInWindow(
  app: TestApp,
  range: ReadRange,
  filter: { category?: string; agentId?: string },
) {
  const category = filter.category === undefined ? sql`` : sql`AND t.objective_category = ${filter.category}`;
  const agent = filter.agentId === undefined ? sql`` : sql`AND t.agent_id = ${filter.agentId}`;
  const since = range.since === undefined ? sql`` : sql`AND t.completed_at >= ${range.since}`;
  const until = range.until === undefined ? sql`` : sql`AND t.completed_at < ${range.until}`;
  const group = filter.agentId !== undefined ? sql`t.objective_category` : sql`NULL::text`;
  const result = await sql<Record<string, unknown>>`
    SELECT t.agent_id, a.nickname, ${group} AS objective_category,
      count(*)::int AS total_tasks,
      count(*) FILTER (WHERE t.status = 'completed')::int AS successful_tasks,
      count(*) FILTER (WHERE t.status = 'failed')::int AS failed_tasks,
      count(s.overall_score)::int AS scored_tasks,
      coalesce(sum(s.overall_score), 0)::float8 AS sum_overall_score,
      count(s.user_rating)::int AS rated_tasks,
      coalesce(sum(s.user_rating), 0)::float8 AS sum_user_rating,
      ARRAY[count(*) FILTER (WHERE s.user_rating = 1), count(*) FILTER (WHERE s.user_rating = 2),
        count(*) FILTER (WHERE s.user_rating = 3), count(*) FILTER (WHERE s.user_rating = 4),
        count(*) FILTER (WHERE s.user_rating = 5)]::int[] AS ratings,
      coalesce(sum(t.total_tokens), 0)::float8 AS total_tokens,
      coalesce(sum(t.estimated_cost), 0)::float8 AS total_cost,
      count(t.estimated_cost)::int AS priced_tasks,
      count(t.total_tokens)::int AS metered_tasks,
      coalesce(sum(t.duration_ms), 0)::float8 AS total_duration_ms,
      coalesce(sum(s.reward_points), 0)::int AS reward_points,
      min(t.completed_at) AS first_task_at,
      max(t.completed_at) AS last_task_at
    FROM tasks t
    JOIN agents a ON a.project_id = t.project_id AND a.agent_id = t.agent_id AND a.active
    LEFT JOIN agent_performance_scores s ON s.task_id = t.id
    WHERE t.project_id = ${DEFAULT_PROJECT_ID} AND t.status IN ('completed', 'failed') ${category} ${agent} ${since} ${until}
    GROUP BY t.agent_id, a.nickname, 3
    ORDER BY t.agent_id, 3
  `.execute(app.ctx.db);
  return result.rows.map((row) => ({ ...row, avg_overall_score: null, avg_user_rating: null }));
}

/** Finished tasks (with score rows) spread over the 10 days before NOW, a few of them today. */
async function seedTasks(app: TestApp, seed: number, count: number) {
  const random = createRng(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  for (let i = 0; i < count; i++) {
    const id = crypto.randomUUID();
    const agent = pick(AGENTS);
    const category = pick(CATEGORIES);
    const completedAt = new Date(NOW.getTime() - Math.floor(random() * 10 * DAY));
    const failed = random() < 0.2;
    const tokens = random() < 0.8 ? Math.floor(random() * 4000) : null;
    const cost = random() < 0.7 ? Math.round(random() * 1e5) / 1e6 : null;
    await sql`INSERT INTO tasks (id, project_id, user_id, agent_id, command, objective_category, status, result, error,
        total_tokens, estimated_cost, started_at, completed_at, duration_ms)
      VALUES (${id}, ${DEFAULT_PROJECT_ID}, ${USER}, ${agent}, ${`task ${i}`}, ${category},
        ${failed ? 'failed' : 'completed'}, ${failed ? null : 'done'}, ${failed ? 'boom' : null},
        ${tokens}, ${cost}, ${new Date(completedAt.getTime() - 1000)}, ${completedAt}, ${Math.floor(random() * 60_000)})`.execute(
      app.ctx.db,
    );
    await sql`INSERT INTO agent_performance_scores (task_id, project_id, agent_id, user_id, objective_category,
        overall_score, user_rating, reward_points, created_at)
      VALUES (${id}, ${DEFAULT_PROJECT_ID}, ${agent}, ${USER}, ${category},
        ${failed || random() < 0.3 ? null : Math.round(random() * 100) / 100},
        ${random() < 0.5 ? 1 + Math.floor(random() * 5) : null}, ${Math.floor(random() * 10)}, ${completedAt})`.execute(
      app.ctx.db,
    );
  }
}

describe('splitRange', () => {
  it('reads whole UTC days from the daily rollup, whole hours from the hourly one and only the partial hours of closed ends raw', () => {
    // A window ending now is open: today's (and any later) daily row is read whole, as the statement
    // that writes a task updates its day's row; only the partial first hour is read raw.
    const split = splitRange({ since: new Date('2026-11-20T10:17:00Z') });
    expect(split).toEqual({
      days: { fromDay: '2026-11-21', toDay: undefined },
      hours: [{ since: new Date('2026-11-20T11:00:00Z'), until: new Date('2026-11-21T00:00:00Z') }],
      raw: [{ since: new Date('2026-11-20T10:17:00Z'), until: new Date('2026-11-20T11:00:00Z') }],
    });
    // A window starting at midnight and ending at midnight is whole days only.
    const whole = splitRange({
      since: new Date('2026-11-21T00:00:00Z'),
      until: new Date('2026-11-25T00:00:00Z'),
    });
    expect(whole).toEqual({ days: { fromDay: '2026-11-21', toDay: '2026-11-25' }, hours: [], raw: [] });
    // A closed end inside a day: that day's whole hours and its partial last hour raw.
    const closed = splitRange({
      since: new Date('2026-11-21T00:00:00Z'),
      until: new Date('2026-11-25T05:10:00Z'),
    });
    expect(closed).toEqual({
      days: { fromDay: '2026-11-21', toDay: '2026-11-25' },
      hours: [{ since: new Date('2026-11-25T00:00:00Z'), until: new Date('2026-11-25T05:00:00Z') }],
      raw: [{ since: new Date('2026-11-25T05:00:00Z'), until: new Date('2026-11-25T05:10:00Z') }],
    });
    // Within one day: whole hours and the partial hours around them.
    const inDay = { since: new Date('2026-11-29T01:30:00Z'), until: new Date('2026-11-29T05:10:00Z') };
    expect(splitRange(inDay)).toEqual({
      days: null,
      hours: [{ since: new Date('2026-11-29T02:00:00Z'), until: new Date('2026-11-29T05:00:00Z') }],
      raw: [
        { since: inDay.since, until: new Date('2026-11-29T02:00:00Z') },
        { since: new Date('2026-11-29T05:00:00Z'), until: inDay.until },
      ],
    });
    // Within one hour: raw rows only.
    const inHour = { since: new Date('2026-11-29T01:10:00Z'), until: new Date('2026-11-29T01:50:00Z') };
    expect(splitRange(inHour)).toEqual({ days: null, hours: [], raw: [inHour] });
    // Everything: every daily row.
    expect(splitRange({})).toEqual({ days: { fromDay: undefined, toDay: undefined }, hours: [], raw: [] });
    // By hour only (an hourly chart): open ends read the hourly rows whole.
    expect(splitRange({ since: new Date('2026-11-29T01:10:00Z') }, { days: false })).toEqual({
      days: null,
      hours: [{ since: new Date('2026-11-29T02:00:00Z'), until: undefined }],
      raw: [{ since: new Date('2026-11-29T01:10:00Z'), until: new Date('2026-11-29T02:00:00Z') }],
    });
    expect(splitRange({}, { days: false })).toEqual({
      days: null,
      hours: [{ since: undefined, until: undefined }],
      raw: [],
    });
  });
});

describe.each(databaseKinds())('windowed statistics from daily rollups (%s PostgreSQL)', (kind) => {
  let app: TestApp;

  beforeAll(async () => {
    app = await createTestApp(kind, { MERIT_EVALUATION: 'false' });
    await sql`DELETE FROM agent_performance_scores`.execute(app.ctx.db);
    await sql`DELETE FROM tasks`.execute(app.ctx.db);
    await seedTasks(app, 7, 300);
    await app.ctx.db.transaction().execute((trx) => recomputeAllStats(trx));
  });
  afterAll(async () => {
    await app?.close();
  });

  const ranges: [string, ReadRange][] = [
    ['a window ending now from mid-day 7 days ago', { since: new Date(NOW.getTime() - 7 * DAY) }],
    ['the last 24 hours', { since: new Date(NOW.getTime() - DAY) }],
    [
      'mid-day to mid-day',
      { since: new Date('2026-11-22T07:30:00Z'), until: new Date('2026-11-27T19:05:00Z') },
    ],
    [
      'midnight to midnight',
      { since: new Date('2026-11-22T00:00:00Z'), until: new Date('2026-11-27T00:00:00Z') },
    ],
    ['within one day', { since: new Date('2026-11-25T03:00:00Z'), until: new Date('2026-11-25T21:00:00Z') }],
    ['everything before an instant', { until: new Date('2026-11-26T12:00:00Z') }],
  ];
  const filters: [string, { category?: string; agentId?: string }][] = [
    ['every agent', {}],
    ['one category', { category: 'coding' }],
    ['one agent by category', { agentId: 'agent_b' }],
  ];

  it.each(ranges.flatMap(([name, range]) => filters.map(([f, filter]) => [name, f, range, filter] as const)))(
    'equal the raw rows for %s, %s',
    async (_name, _filter, range, filter) => {
      const raw = await rawStatsInWindow(app, range, filter);
      expect(raw.length).toBeGreaterThan(0);
      const rolled = await findStatsInWindow(app.ctx.db, DEFAULT_PROJECT_ID, range, filter);
      expect(rolled).toEqual(raw);
    },
  );

  it('reads the whole days from agent_daily_stats (a changed daily row changes the answer)', async () => {
    const range = { since: new Date('2026-11-22T07:30:00Z'), until: new Date('2026-11-27T19:05:00Z') };
    const before = await findStatsInWindow(app.ctx.db, DEFAULT_PROJECT_ID, range, {});
    await sql`UPDATE agent_daily_stats SET reward_points = reward_points + 1000
      WHERE agent_id = 'agent_a' AND day = '2026-11-24'::date AND objective_category = 'coding'`.execute(
      app.ctx.db,
    );
    try {
      const after = await findStatsInWindow(app.ctx.db, DEFAULT_PROJECT_ID, range, {});
      const points = (rows: typeof before) => rows.find((row) => row.agent_id === 'agent_a')?.reward_points;
      expect(points(after)).toBe((points(before) ?? 0) + 1000);
    } finally {
      await sql`UPDATE agent_daily_stats SET reward_points = reward_points - 1000
        WHERE agent_id = 'agent_a' AND day = '2026-11-24'::date AND objective_category = 'coding'`.execute(
        app.ctx.db,
      );
    }
  });
  // Last: it deletes tasks.
  it('keeps the daily rows and a window over whole days when retention deletes the tasks and the rebuild runs', async () => {
    const snapshot = async () =>
      (
        await sql`SELECT agent_id, objective_category, user_id, day::text AS day, total_tasks, scored_tasks,
            sum_overall_score::float8 AS sum_overall_score, rated_tasks, total_tokens, total_cost::float8 AS total_cost,
            reward_points, first_task_at, last_task_at
          FROM agent_daily_stats ORDER BY agent_id, objective_category, user_id, day`.execute(app.ctx.db)
      ).rows;
    const range = { since: new Date('2026-11-21T00:00:00Z'), until: new Date('2026-11-25T00:00:00Z') };
    const before = await snapshot();
    const answer = await findStatsInWindow(app.ctx.db, DEFAULT_PROJECT_ID, range, {});
    let deleted = 0;
    for (let batch = -1; batch !== 0; deleted += batch)
      batch = await rollUpOldTasks(app.ctx.db, new Date('2026-11-26T00:00:00Z'), 100);
    expect(deleted).toBeGreaterThan(0);
    await app.ctx.db.transaction().execute((trx) => recomputeAllStats(trx));
    expect(await snapshot()).toEqual(before);
    expect(await findStatsInWindow(app.ctx.db, DEFAULT_PROJECT_ID, range, {})).toEqual(answer);
  });
});
