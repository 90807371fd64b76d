import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRng } from '../../src/lib/random.js';
import { findPairRewardStats } from '../../src/routing/routing.queries.js';
import { runStatsRecompute } from '../../src/stats/stats.jobs.js';
import { ALL_USERS_ID, findStatsInWindow } from '../../src/stats/stats.queries.js';
import { findTrend } from '../../src/stats/trend.queries.js';
import { createTestApp, DEFAULT_PROJECT_ID, OTHER_USER, type TestApp, USER } from '../support/app.js';

const HOUR = 3_600_000;
const PROJECT = { projectId: DEFAULT_PROJECT_ID, userId: USER, ownTasksOnly: false };
const MINE = { projectId: DEFAULT_PROJECT_ID, userId: USER, ownTasksOnly: true };

/** The rows of a period rollup whose all-users row differs from the sum of its users' rows (both sides). */
async function findAllUsersMismatch(app: TestApp, table: 'agent_daily_stats' | 'agent_hourly_stats') {
  const key = sql.raw(table === 'agent_daily_stats' ? 'day' : 'hour');
  const sums = sql`concat_ws('/', total_tasks, failed_tasks, scored_tasks, sum_overall_score, rated_tasks,
    sum_user_rating, total_tokens, total_cost, reward_points, rewarded_tasks, sum_reward, unscored_tasks,
    completed_cost, completed_duration_ms)`;
  const result = await sql<Record<string, unknown>>`
    WITH users AS (
      SELECT project_id, agent_id, objective_category, ${key},
        concat_ws('/', sum(total_tasks), sum(failed_tasks), sum(scored_tasks), sum(sum_overall_score),
          sum(rated_tasks), sum(sum_user_rating), sum(total_tokens), sum(total_cost), sum(reward_points),
          sum(rewarded_tasks), sum(sum_reward), sum(unscored_tasks), sum(completed_cost),
          sum(completed_duration_ms)) AS sums
      FROM ${sql.raw(table)} WHERE user_id <> ${ALL_USERS_ID}
      GROUP BY 1, 2, 3, 4
    ),
    everyone AS (
      SELECT project_id, agent_id, objective_category, ${key}, ${sums} AS sums
      FROM ${sql.raw(table)} WHERE user_id = ${ALL_USERS_ID}
    )
    SELECT * FROM users u FULL JOIN everyone e USING (project_id, agent_id, objective_category, ${key})
    WHERE u.sums IS DISTINCT FROM e.sums
  `.execute(app.ctx.db);
  return result.rows;
}

describe('all-users rows of the daily and hourly statistics', () => {
  let app: TestApp;
  const random = createRng(26);

  beforeAll(async () => {
    app = await createTestApp('embedded', { MERIT_EVALUATION: 'false' });
    // Two users' tasks through the API (the writers' statement keeps both kinds of rows): finished,
    // failed, rated and re-rated, by two agents in two categories.
    for (let i = 0; i < 24; i++) {
      const user = i % 3 === 0 ? OTHER_USER : USER;
      const created = await app.call(
        'POST',
        '/api/tasks',
        {
          agent_id: i % 2 === 0 ? 'agent_a' : 'agent_b',
          command: `task ${i}`,
          status: 'running',
          objective_category: i % 4 < 2 ? 'research' : 'coding',
        },
        { user },
      );
      expect(created.status).toBe(201);
      const id = created.body.id as string;
      const failed = random() < 0.2;
      const finished = await app.call(
        'POST',
        `/api/tasks/${id}/${failed ? 'fail' : 'complete'}`,
        failed ? { error: 'boom' } : { result: 'done', prompt_tokens: 100 + i, completion_tokens: 20 },
        { user },
      );
      expect(finished.status).toBe(200);
      if (!failed && random() < 0.7) {
        for (const rating of [1 + Math.floor(random() * 5), 1 + Math.floor(random() * 5)]) {
          const feedback = await app.call(
            'POST',
            `/api/tasks/${id}/feedback`,
            { user_rating: rating },
            { user },
          );
          expect(feedback.status).toBe(200);
        }
      }
    }
  });
  afterAll(async () => {
    await app?.close();
  });

  it('keeps each all-users row equal to the sum of its users’ rows, and the rebuild gives the same rows', async () => {
    const count = await sql<{ n: number }>`
      SELECT count(*)::int AS n FROM agent_daily_stats WHERE user_id = ${ALL_USERS_ID}
    `.execute(app.ctx.db);
    expect(count.rows[0]?.n).toBeGreaterThanOrEqual(4);
    expect(await findAllUsersMismatch(app, 'agent_daily_stats')).toEqual([]);
    expect(await findAllUsersMismatch(app, 'agent_hourly_stats')).toEqual([]);
    const snapshot = async () =>
      (
        await sql`SELECT agent_id, objective_category, user_id, hour, total_tasks, sum_overall_score, rated_tasks,
            sum_user_rating, total_cost, sum_reward
          FROM agent_hourly_stats ORDER BY agent_id, objective_category, user_id, hour`.execute(app.ctx.db)
      ).rows;
    const kept = await snapshot();
    await runStatsRecompute(app.ctx.db);
    expect(await snapshot()).toEqual(kept);
    expect(await findAllUsersMismatch(app, 'agent_daily_stats')).toEqual([]);
  });

  it('reads a project-wide window from the all-users rows only, and a user’s from that user’s rows', async () => {
    const range = { since: new Date(Date.now() - 3 * 24 * HOUR) };
    const project = await findStatsInWindow(app.ctx.db, DEFAULT_PROJECT_ID, range);
    const router = await findPairRewardStats(app.ctx.db, DEFAULT_PROJECT_ID, range);
    const mineTrend = await findTrend(app.ctx.db, 'agent_a', MINE, 'day', range);
    const projectTrend = await findTrend(app.ctx.db, 'agent_a', PROJECT, 'day', range);
    // A user's rows inflated (as if rows of a user were counted): the project-wide answers do not move.
    const inflate = (user: string, by: number) =>
      sql`UPDATE agent_daily_stats SET total_tasks = total_tasks + ${by}, failed_tasks = failed_tasks + ${by}
        WHERE user_id = ${user} AND agent_id = 'agent_a'`.execute(app.ctx.db);
    await inflate(USER, 1000);
    try {
      expect(await findStatsInWindow(app.ctx.db, DEFAULT_PROJECT_ID, range)).toEqual(project);
      expect(await findPairRewardStats(app.ctx.db, DEFAULT_PROJECT_ID, range)).toEqual(router);
      expect(await findTrend(app.ctx.db, 'agent_a', PROJECT, 'day', range)).toEqual(projectTrend);
      // ...while the user's own trend reads them.
      const inflated = await findTrend(app.ctx.db, 'agent_a', MINE, 'day', range);
      const tasks = (points: typeof mineTrend) => points.reduce((sum, point) => sum + point.tasks, 0);
      expect(tasks(inflated)).toBeGreaterThanOrEqual(tasks(mineTrend) + 1000);
    } finally {
      await inflate(USER, -1000);
    }
    // The all-users rows inflated: the project-wide answers move.
    await inflate(ALL_USERS_ID, 1000);
    try {
      const moved = await findStatsInWindow(app.ctx.db, DEFAULT_PROJECT_ID, range);
      const total = (rows: typeof project) =>
        rows.find((row) => row.agent_id === 'agent_a')?.total_tasks ?? 0;
      expect(total(moved)).toBeGreaterThanOrEqual(total(project) + 1000);
    } finally {
      await inflate(ALL_USERS_ID, -1000);
    }
  });
});
