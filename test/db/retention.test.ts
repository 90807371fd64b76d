import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedDemo } from '../../src/demo/seed-demo.js';
import { DEFAULT_PROJECT_ID, type Scope } from '../../src/identity/scope.js';
import { applyRetention } from '../../src/retention/retention.jobs.js';
import { retentionCutoff } from '../../src/retention/retention.js';
import { runStatsRecompute } from '../../src/stats/stats.jobs.js';
import { findTrend } from '../../src/stats/trend.queries.js';
import { createTestApp, type TestApp, USER } from '../support/app.js';
import { findRawTrend } from '../support/trend.js';

const NOW = new Date('2026-06-30T12:00:00Z');
const PROJECT: Scope = { projectId: DEFAULT_PROJECT_ID, userId: USER, ownTasksOnly: false };
const OWN: Scope = { ...PROJECT, ownTasksOnly: true };

/** A statistics row with numbers as numbers and the bookkeeping timestamp left out. */
function normalize(row: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(row)) {
    if (key === 'last_updated') continue;
    out[key] =
      value instanceof Date
        ? value.toISOString()
        : typeof value === 'string' && /^-?\d+(\.\d+)?$/.test(value)
          ? Number(value)
          : value;
  }
  return out;
}

async function readStatistics(app: TestApp) {
  const db = app.ctx.db;
  const agents = await db.selectFrom('agent_performance_stats').selectAll().orderBy('agent_id').execute();
  const categories = await db
    .selectFrom('agent_category_stats')
    .selectAll()
    .orderBy('agent_id')
    .orderBy('objective_category')
    .execute();
  const leaderboard = await app.call('GET', '/api/agents/leaderboard');
  expect(leaderboard.status).toBe(200);
  const trends: Record<string, unknown> = {};
  for (const { agent_id } of agents) {
    for (const bucket of ['day', 'week'] as const) {
      for (const [who, scope] of [
        ['project', PROJECT],
        ['own', OWN],
      ] as const) {
        trends[`${agent_id}/${bucket}/${who}`] = await findTrend(db, agent_id, scope, bucket, {});
      }
    }
  }
  return {
    agents: agents.map(normalize),
    categories: categories.map(normalize),
    // Without its refresh time, which the rebuild moves (as `normalize` leaves out the rows' own).
    leaderboard: { ...leaderboard.body, last_updated: undefined },
    trends,
  };
}

describe('retention (MERIT_RETENTION_DAYS): old rows deleted in batches, statistics and trends kept by daily rollups', () => {
  let app: TestApp;

  beforeAll(async () => {
    app = await createTestApp('embedded', { MERIT_LOG_LEVEL: 'silent' });
    await seedDemo(app.ctx.db, { tasks: 400, days: 40, seed: 7, userId: USER, progress: 'silent', now: NOW });
    await runStatsRecompute(app.ctx.db);
  }, 400_000);
  afterAll(async () => {
    await app?.close();
  });

  it('answers the same trend as the trend endpoint while nothing was deleted', async () => {
    const { rows } = await app.database.pool.query<{ agent_id: string }>(
      'SELECT DISTINCT agent_id FROM tasks ORDER BY agent_id',
    );
    expect(rows.length).toBeGreaterThan(2);
    for (const { agent_id } of rows) {
      for (const bucket of ['hour', 'day', 'week'] as const) {
        const raw = await findRawTrend(app.ctx.db, agent_id, PROJECT, bucket);
        expect(raw.length).toBeGreaterThan(0);
        expect(await findTrend(app.ctx.db, agent_id, PROJECT, bucket, {})).toEqual(raw);
      }
    }
  });

  it('deletes tasks finished before the cutoff in bounded batches, and every statistic, the leaderboard and the trends equal what they were', async () => {
    const before = await readStatistics(app);
    const cutoff = retentionCutoff(NOW, 20);
    const { rows: old } = await app.database.pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM tasks WHERE status IN ('completed', 'failed') AND completed_at < $1`,
      [cutoff],
    );
    const { rows: all } = await app.database.pool.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM tasks',
    );
    expect(old[0]?.n).toBeGreaterThan(150);

    // Small batches and a cap: the first run stops with rows left, the second finishes.
    const first = await applyRetention(app.ctx.db, 20, { now: NOW, batchSize: 50, maxBatches: 3 });
    expect(first).toEqual({ tasks: 150, routingDecisions: 0, done: false });
    const second = await applyRetention(app.ctx.db, 20, { now: NOW, batchSize: 50 });
    expect(second.done).toBe(true);
    expect(first.tasks + second.tasks).toBe(old[0]?.n);

    const { rows: left } = await app.database.pool.query<{ n: number; oldest: Date | null }>(
      `SELECT count(*)::int AS n, min(completed_at) AS oldest FROM tasks WHERE status IN ('completed', 'failed')`,
    );
    const { rows: remaining } = await app.database.pool.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM tasks',
    );
    expect(remaining[0]?.n).toBe((all[0]?.n ?? 0) - (old[0]?.n ?? 0));
    expect(left[0]?.oldest?.getTime()).toBeGreaterThanOrEqual(cutoff.getTime());
    const { rows: orphans } = await app.database.pool.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM agent_performance_scores s WHERE NOT EXISTS (SELECT 1 FROM tasks t WHERE t.id = s.task_id)',
    );
    expect(orphans[0]?.n).toBe(0);

    // Unchanged right after the delete (the running sums are not touched)...
    expect(await readStatistics(app)).toEqual(before);
    // The scheduled full check finds nothing to rebuild: the deleted days are in the daily rows, and the
    // hours retention leaves (no task row holds them any more) are not compared.
    const checked = await runStatsRecompute(app.ctx.db, undefined, { rollups: false });
    expect(checked.statistics).toMatchObject({ checked: 'full', drifted: 0, rebuilt: false });
    // ...and after a rebuild from the raw rows, which adds the rollups.
    await runStatsRecompute(app.ctx.db, undefined, { force: true });
    expect(await readStatistics(app)).toEqual(before);
  }, 120_000);

  it('does nothing when nothing is older than the retention', async () => {
    const again = await applyRetention(app.ctx.db, 20, { now: NOW });
    expect(again).toEqual({ tasks: 0, routingDecisions: 0, done: true });
  });
});
