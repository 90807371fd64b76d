import { type RawBuilder, sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyRetention } from '../../src/retention/retention.jobs.js';
import { recentCheckStart, runStatsRecompute } from '../../src/stats/stats.jobs.js';
import {
  ALL_USERS_ID,
  findStatsDrift,
  recentTasksByHour,
  type StatsCheck,
  toPgDay,
} from '../../src/stats/stats.queries.js';
import { createTestApp, OTHER_USER, type TestApp, USER } from '../support/app.js';
import { databaseKinds } from '../support/database.js';

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
const NO_DRIFT = {
  agent_performance_stats: 0,
  agent_category_stats: 0,
  agent_daily_stats: 0,
  agent_hourly_stats: 0,
};

/** Each table's drift as the check finds it, in one REPEATABLE READ snapshot (as the job reads it). */
async function driftOf(app: TestApp, check: StatsCheck) {
  return app.ctx.db
    .transaction()
    .setIsolationLevel('repeatable read')
    .execute((trx) => findStatsDrift(trx, check));
}

describe.each(databaseKinds())('the recent statistics check (%s PostgreSQL)', (kind) => {
  let app: TestApp;
  const now = new Date();
  const since = recentCheckStart(now);
  const recent: StatsCheck = { kind: 'recent', since };
  const full: StatsCheck = { kind: 'full' };
  // Outside the period (both rolled up by retention): three and seven days before its start.
  const oldAt = new Date(since.getTime() - 3 * DAY_MS + 5 * HOUR_MS);
  const rolledAt = new Date(since.getTime() - 7 * DAY_MS + 9 * HOUR_MS);
  // Inside the period, yesterday or the day before, rolled up by a retention of one day.
  const recentRolledAt = new Date(now.getTime() - 36 * HOUR_MS);

  /** Both checks' drift with `plant` applied, then `undo` applied (the next test sees a consistent database). */
  async function withPlanted(plant: RawBuilder<unknown>, undo: RawBuilder<unknown>) {
    await plant.execute(app.ctx.db);
    try {
      return { recent: await driftOf(app, recent), full: await driftOf(app, full) };
    } finally {
      await undo.execute(app.ctx.db);
    }
  }

  beforeAll(async () => {
    app = await createTestApp(kind, { MERIT_EVALUATION: 'false' });
    // Today's tasks of two users through the API, finished, failed and rated.
    for (let i = 0; i < 8; i++) {
      const user = i % 3 === 0 ? OTHER_USER : USER;
      const created = await app.call(
        'POST',
        '/api/tasks',
        {
          agent_id: i % 2 === 0 ? 'agent_a' : 'agent_b',
          command: `task ${i}`,
          status: 'running',
          objective_category: 'research',
        },
        { user },
      );
      expect(created.status).toBe(201);
      const failed = i % 4 === 3;
      const done = await app.call(
        'POST',
        `/api/tasks/${created.body.id}/${failed ? 'fail' : 'complete'}`,
        failed ? { error: 'boom' } : { result: 'done', prompt_tokens: 10 + i, completion_tokens: 5 },
        { user },
      );
      expect(done.status).toBe(200);
      if (!failed)
        await app.call(
          'POST',
          `/api/tasks/${created.body.id}/feedback`,
          { user_rating: 1 + (i % 5) },
          { user },
        );
    }
    // Tasks finished days ago (a backfill), before and inside the period.
    const backfill = (at: Date, n: number, category: string) =>
      Array.from({ length: n }, (_, i) => ({
        agent_id: i % 2 === 0 ? 'agent_a' : 'agent_b',
        command: `backfill ${at.toISOString()} ${i}`,
        objective_category: category,
        status: i % 3 === 2 ? 'failed' : 'completed',
        ...(i % 3 === 2 ? { error: 'boom' } : { result: 'done', user_rating: 1 + (i % 5) }),
        started_at: new Date(at.getTime() - 1000).toISOString(),
        completed_at: at.toISOString(),
        total_tokens: 100 + i,
      }));
    const batch = await app.call('POST', '/api/tasks/batch', {
      tasks: [
        ...backfill(oldAt, 4, 'research'),
        ...backfill(rolledAt, 4, 'coding'),
        ...backfill(recentRolledAt, 3, 'coding'),
        ...backfill(new Date(now.getTime() - 2 * HOUR_MS), 3, 'writing'),
      ],
    });
    expect(batch.status).toBe(201);
    // Finished tasks without a finish time (an older version's rows): in the all-time rows, in no day.
    const unstamped = await sql`
      UPDATE tasks SET completed_at = NULL
      WHERE id IN (SELECT id FROM tasks WHERE command LIKE 'backfill%' AND objective_category = 'writing' LIMIT 2)
    `.execute(app.ctx.db);
    expect(Number(unstamped.numAffectedRows)).toBe(2);
    // Retention rolls up the tasks finished more than a day ago (those of the period's first days too):
    // their days stay in agent_daily_stats and count through task_daily_rollups.
    const retention = await applyRetention(app.ctx.db, 1, { now });
    expect(retention.tasks).toBe(11);
    // The rebuild drops the hours of the deleted tasks (retention keeps days only) and counts the
    // unstamped tasks in no day.
    await runStatsRecompute(app.ctx.db, undefined, { force: true, rollups: false });
  }, 120_000);
  afterAll(async () => {
    await app?.close();
  });

  it('finds a consistent database consistent, with unstamped tasks and rolled-up days old and recent', async () => {
    const rolled = await sql<{ day: string }>`
      SELECT DISTINCT day::text AS day FROM task_daily_rollups ORDER BY 1`.execute(app.ctx.db);
    expect(rolled.rows.map((row) => row.day)).toEqual([oldAt, rolledAt, recentRolledAt].map(toPgDay).sort());
    expect(toPgDay(recentRolledAt) >= toPgDay(since)).toBe(true);
    const unstamped = await sql<{ n: number }>`
      SELECT count(*)::int AS n FROM tasks WHERE status IN ('completed', 'failed') AND completed_at IS NULL
    `.execute(app.ctx.db);
    expect(unstamped.rows[0]?.n).toBe(2);
    expect(await driftOf(app, recent)).toEqual(NO_DRIFT);
    expect(await driftOf(app, full)).toEqual(NO_DRIFT);
  });

  it('finds a drifted recent day, hour and all-time row, as the full check does', async () => {
    const today = toPgDay(now);
    const day = await withPlanted(
      sql`UPDATE agent_daily_stats SET total_tasks = total_tasks + 5
        WHERE agent_id = 'agent_a' AND objective_category = 'research' AND user_id = ${USER} AND day = ${today}::date`,
      sql`UPDATE agent_daily_stats SET total_tasks = total_tasks - 5
        WHERE agent_id = 'agent_a' AND objective_category = 'research' AND user_id = ${USER} AND day = ${today}::date`,
    );
    expect(day.recent).toEqual({ ...NO_DRIFT, agent_daily_stats: 2 });
    expect(day.full).toEqual(day.recent);

    const hour = await withPlanted(
      sql`UPDATE agent_hourly_stats SET sum_user_rating = sum_user_rating + 1
        WHERE agent_id = 'agent_b' AND objective_category = 'research' AND user_id = ${ALL_USERS_ID}
          AND hour = (SELECT max(hour) FROM agent_hourly_stats WHERE agent_id = 'agent_b')`,
      sql`UPDATE agent_hourly_stats SET sum_user_rating = sum_user_rating - 1
        WHERE agent_id = 'agent_b' AND objective_category = 'research' AND user_id = ${ALL_USERS_ID}
          AND hour = (SELECT max(hour) FROM agent_hourly_stats WHERE agent_id = 'agent_b')`,
    );
    expect(hour.recent).toEqual({ ...NO_DRIFT, agent_hourly_stats: 2 });
    expect(hour.full).toEqual(hour.recent);

    const allTime = await withPlanted(
      sql`UPDATE agent_category_stats SET total_cost = total_cost + 1 WHERE agent_id = 'agent_b' AND objective_category = 'coding'`,
      sql`UPDATE agent_category_stats SET total_cost = total_cost - 1 WHERE agent_id = 'agent_b' AND objective_category = 'coding'`,
    );
    expect(allTime.recent).toEqual({ ...NO_DRIFT, agent_category_stats: 2 });
    expect(allTime.full).toEqual(allTime.recent);

    const agent = await withPlanted(
      sql`UPDATE agent_performance_stats SET rated_tasks = rated_tasks + 1 WHERE agent_id = 'agent_a'`,
      sql`UPDATE agent_performance_stats SET rated_tasks = rated_tasks - 1 WHERE agent_id = 'agent_a'`,
    );
    expect(agent.recent).toEqual({ ...NO_DRIFT, agent_performance_stats: 2 });
    expect(agent.full).toEqual(agent.recent);
  });

  it("finds a row invented in the period for a user with no row of the period's", async () => {
    const stranger = '00000000-0000-0000-0000-0000000000aa';
    const invented = await withPlanted(
      sql`INSERT INTO agent_hourly_stats (project_id, agent_id, objective_category, user_id, hour, total_tasks, last_updated)
        SELECT project_id, agent_id, objective_category, ${stranger}::uuid, hour, 1, now()
        FROM agent_hourly_stats WHERE user_id = ${ALL_USERS_ID} ORDER BY hour DESC LIMIT 1`,
      sql`DELETE FROM agent_hourly_stats WHERE user_id = ${stranger}::uuid`,
    );
    expect(invented.recent).toEqual({ ...NO_DRIFT, agent_hourly_stats: 1 });
    expect(invented.full).toEqual(invented.recent);
  });

  it("leaves a user's drifted day before the period to the full check", async () => {
    const oldDay = toPgDay(oldAt);
    const planted = await withPlanted(
      sql`UPDATE agent_daily_stats SET successful_tasks = successful_tasks + 3
        WHERE agent_id = 'agent_a' AND objective_category = 'research' AND user_id = ${USER} AND day = ${oldDay}::date`,
      sql`UPDATE agent_daily_stats SET successful_tasks = successful_tasks - 3
        WHERE agent_id = 'agent_a' AND objective_category = 'research' AND user_id = ${USER} AND day = ${oldDay}::date`,
    );
    expect(planted.recent).toEqual(NO_DRIFT);
    expect(planted.full).toEqual({ ...NO_DRIFT, agent_daily_stats: 2 });
  });

  it('finds an all-users row of a day before the period that disagrees with the all-time rows', async () => {
    const rolledDay = toPgDay(rolledAt);
    const planted = await withPlanted(
      sql`UPDATE agent_daily_stats SET total_tokens = total_tokens + 7
        WHERE agent_id = 'agent_a' AND user_id = ${ALL_USERS_ID} AND day = ${rolledDay}::date`,
      sql`UPDATE agent_daily_stats SET total_tokens = total_tokens - 7
        WHERE agent_id = 'agent_a' AND user_id = ${ALL_USERS_ID} AND day = ${rolledDay}::date`,
    );
    // The stored day is summed as it is into the all-time rows, which then differ from it.
    expect(planted.recent).toEqual({ ...NO_DRIFT, agent_performance_stats: 2, agent_category_stats: 2 });
    expect(planted.full).toEqual({ ...NO_DRIFT, agent_daily_stats: 2 });
  });

  it('runs the recent check when asked, the full one by default, and rebuilds when either finds drift', async () => {
    const consistent = await runStatsRecompute(app.ctx.db, undefined, { rollups: false, recent: true, now });
    expect(consistent.statistics).toMatchObject({
      drifted: 0,
      rebuilt: false,
      checked: `since ${toPgDay(since)}`,
    });
    await sql`UPDATE agent_hourly_stats SET total_tasks = total_tasks + 1
      WHERE hour = (SELECT max(hour) FROM agent_hourly_stats) AND user_id = ${USER}`.execute(app.ctx.db);
    const repaired = await runStatsRecompute(app.ctx.db, undefined, { rollups: false, recent: true, now });
    expect(repaired.statistics).toMatchObject({ rebuilt: true, checked: `since ${toPgDay(since)}` });
    expect(repaired.statistics.drifted).toBeGreaterThan(0);
    expect((await runStatsRecompute(app.ctx.db, undefined, { rollups: false })).statistics).toMatchObject({
      drifted: 0,
      rebuilt: false,
      checked: 'full',
    });
  });

  it("reads the period's tasks through a completed_at index, not every task", async () => {
    // Many more tasks (and their scores) finished before the period, written raw: this test only plans
    // the statement.
    await sql`
      WITH old AS (
        INSERT INTO tasks (project_id, user_id, agent_id, command, objective_category, category_source, status,
          result, created_at, started_at, completed_at)
        SELECT project_id, user_id, agent_id, 'old ' || i, objective_category, 'explicit', 'completed', 'done',
          ${since}::timestamptz - (1 + i % 80) * interval '1 day', ${since}::timestamptz - (1 + i % 80) * interval '1 day',
          ${since}::timestamptz - (1 + i % 80) * interval '1 day'
        FROM (SELECT project_id, user_id, agent_id, objective_category FROM tasks LIMIT 1) t, generate_series(1, 20000) i
        RETURNING id, project_id, user_id, agent_id, objective_category
      )
      INSERT INTO agent_performance_scores (project_id, task_id, agent_id, user_id, objective_category, overall_score)
      SELECT project_id, id, agent_id, user_id, objective_category, 0.5 FROM old
    `.execute(app.ctx.db);
    await sql`ANALYZE tasks`.execute(app.ctx.db);
    await sql`ANALYZE agent_performance_scores`.execute(app.ctx.db);
    const plan = (
      await sql<{ 'QUERY PLAN': string }>`EXPLAIN ${recentTasksByHour(since)}`.execute(app.ctx.db)
    ).rows
      .map((row) => row['QUERY PLAN'])
      .join('\n');
    // Either partial index of finished tasks on completed_at (PostgreSQL 18 may skip-scan the one that
    // leads with project_id), bounded by the period's start.
    expect(plan).toMatch(/(Index|Index Only|Bitmap Index) Scan (using|on) tasks_(retention|finished)_idx/);
    expect(plan).toMatch(/Index Cond: \(completed_at >= /);
    expect(plan).not.toMatch(/Seq Scan on tasks/);
    // Each task's score row by its key, not a read of every score row.
    expect(plan).toMatch(/Index Scan using agent_performance_scores_task_id_key/);
    expect(plan).not.toMatch(/Seq Scan on agent_performance_scores/);
  });
});
