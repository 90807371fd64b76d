import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { blendTaskReward, storedReward } from '../../src/ranking/ranking.js';
import { findPairRewardStats } from '../../src/routing/routing.queries.js';
import { ALL_USERS_ID, recomputeAllStats } from '../../src/stats/stats.queries.js';
import { createTestApp, DEFAULT_PROJECT_ID, type TestApp } from '../support/app.js';
import { databaseKinds } from '../support/database.js';
import { seedFinishedTasks } from '../support/finished-tasks.js';

const AGENTS = ['agent_a', 'agent_b', 'agent_c'];
const CATEGORIES = ['research', 'coding', 'writing'];
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
// "Now" in the middle of an hour of a UTC day: a window ending now has partial days and hours.
const NOW = new Date(Date.UTC(2026, 10, 30, 10, 17, 0));

/** The router's pair statistics straight from the task and score rows (what the rollups replaced). */
async function rawPairStats(app: TestApp, since: Date) {
  const result = await sql<Record<string, unknown>>`
    WITH finished AS (
      SELECT t.agent_id, t.objective_category AS category, t.status, t.estimated_cost, t.duration_ms,
        CASE WHEN t.status = 'failed' THEN 0 ELSE s.reward END AS reward
      FROM tasks t LEFT JOIN agent_performance_scores s ON s.task_id = t.id
      WHERE t.project_id = ${DEFAULT_PROJECT_ID} AND t.status IN ('completed', 'failed') AND t.completed_at >= ${since}
    )
    SELECT agent_id AS "agentId", category,
      count(reward)::int AS n,
      coalesce(sum(reward), 0)::float8 AS "rewardSum",
      coalesce(sum(reward * reward), 0)::float8 AS "rewardSquareSum",
      avg(estimated_cost) FILTER (WHERE status = 'completed')::float8 AS "meanCost",
      count(estimated_cost) FILTER (WHERE status = 'completed')::int AS "costCount",
      avg(duration_ms) FILTER (WHERE status = 'completed')::float8 AS "meanDurationMs",
      count(duration_ms) FILTER (WHERE status = 'completed')::int AS "durationCount",
      count(*) FILTER (WHERE status = 'failed')::int AS failures,
      count(*) FILTER (WHERE status = 'completed' AND reward IS NULL)::int AS unscored
    FROM finished GROUP BY agent_id, category ORDER BY agent_id, category`.execute(app.ctx.db);
  return result.rows;
}

describe.each(databaseKinds())("the router's statistics from the rollups (%s PostgreSQL)", (kind) => {
  let app: TestApp;

  beforeAll(async () => {
    app = await createTestApp(kind, { MERIT_EVALUATION: 'false' });
    await sql`DELETE FROM agent_performance_scores`.execute(app.ctx.db);
    await sql`DELETE FROM tasks`.execute(app.ctx.db);
    await seedFinishedTasks(app, { seed: 11, count: 400, now: NOW, agents: AGENTS, categories: CATEGORIES });
    await app.ctx.db.transaction().execute((trx) => recomputeAllStats(trx));
  });
  afterAll(async () => {
    await app?.close();
  });

  it("stores each score row's reward as storedReward (the blend of rating, judge and peer, to 3 decimals)", async () => {
    const [task] = (
      await sql<{ task_id: string }>`SELECT task_id FROM agent_performance_scores LIMIT 1`.execute(app.ctx.db)
    ).rows;
    expect(task).toBeDefined();
    const ratings = [null, 1, 2, 3, 4, 5];
    const judges: [number | null, number | null, number | null][] = [
      [null, null, null],
      [0.8, 0.6, null],
      [0.12, 0.45, 0.79],
      [null, null, 0.33],
    ];
    const peers = [null, 0.9, 0.37];
    let checked = 0;
    try {
      for (const rating of ratings)
        for (const [accuracy, relevance, completeness] of judges)
          for (const peer of peers) {
            const { rows } = await sql<{ reward: number | null }>`
              UPDATE agent_performance_scores SET user_rating = ${rating}, accuracy_score = ${accuracy},
                relevance_score = ${relevance}, completeness_score = ${completeness}, peer_score = ${peer}
              WHERE task_id = ${task?.task_id} RETURNING reward`.execute(app.ctx.db);
            const judged = [accuracy, relevance, completeness].filter((v): v is number => v !== null);
            const judgeScore =
              judged.length === 0 ? null : judged.reduce((sum, v) => sum + v, 0) / judged.length;
            const inputs = { failed: false, userRating: rating, judgeScore, peerScore: peer };
            expect(rows[0]?.reward).toBe(storedReward(inputs));
            const blended = blendTaskReward(inputs);
            if (blended !== null)
              expect(Math.abs((rows[0]?.reward ?? -1) - blended)).toBeLessThanOrEqual(0.0005 + 1e-12);
            checked++;
          }
    } finally {
      await app.ctx.db.transaction().execute((trx) => recomputeAllStats(trx));
    }
    expect(checked).toBe(72);
  });

  it.each([
    ['30 days (every task, whole days and hours)', new Date(NOW.getTime() - 30 * DAY)],
    ['from mid-hour 7 days ago', new Date(NOW.getTime() - 7 * DAY - 23 * 60_000)],
    ['the last 24 hours', new Date(NOW.getTime() - DAY)],
    ['from mid-hour 5 hours ago', new Date(NOW.getTime() - 5 * HOUR - 23 * 60_000)],
  ])('equal the raw rows over %s', async (_name, since) => {
    const raw = await rawPairStats(app, since);
    expect(raw.length).toBeGreaterThan(0);
    const rolled = await findPairRewardStats(app.ctx.db, DEFAULT_PROJECT_ID, { since });
    expect(rolled.length).toBe(raw.length);
    rolled.forEach((pair, i) => {
      const expected = raw[i] as Record<string, number | string | null>;
      expect(pair).toMatchObject({
        agentId: expected.agentId,
        category: expected.category,
        n: expected.n,
        costCount: expected.costCount,
        durationCount: expected.durationCount,
        failures: expected.failures,
        unscored: expected.unscored,
      });
      for (const key of ['rewardSum', 'rewardSquareSum', 'meanCost', 'meanDurationMs'] as const) {
        const value = expected[key] as number | null;
        if (value === null) expect(pair[key]).toBeNull();
        else expect(pair[key]).toBeCloseTo(value, 9);
      }
    });
  });

  it('reads whole days from agent_daily_stats (a changed all-users daily row changes the project answer)', async () => {
    const since = new Date(NOW.getTime() - 7 * DAY);
    const before = await findPairRewardStats(app.ctx.db, DEFAULT_PROJECT_ID, { since });
    const day = '2026-11-26';
    const changed = await sql`UPDATE agent_daily_stats SET unscored_tasks = unscored_tasks + 100
      WHERE agent_id = 'agent_a' AND objective_category = 'coding' AND day = ${day}::date AND user_id = ${ALL_USERS_ID}`.execute(
      app.ctx.db,
    );
    expect(Number(changed.numAffectedRows)).toBe(1);
    try {
      const after = await findPairRewardStats(app.ctx.db, DEFAULT_PROJECT_ID, { since });
      const unscored = (rows: typeof before) =>
        rows.find((row) => row.agentId === 'agent_a' && row.category === 'coding')?.unscored ?? 0;
      expect(unscored(after)).toBe(unscored(before) + 100);
    } finally {
      await sql`UPDATE agent_daily_stats SET unscored_tasks = unscored_tasks - 100
        WHERE agent_id = 'agent_a' AND objective_category = 'coding' AND day = ${day}::date AND user_id = ${ALL_USERS_ID}`.execute(
        app.ctx.db,
      );
    }
  });
});
