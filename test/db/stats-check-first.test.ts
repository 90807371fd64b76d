import type { JobHelpers } from 'graphile-worker';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CHECK_ROLLUPS_JOB,
  createStatsJobs,
  describeStatsRecompute,
  RECOMPUTE_STATS_JOB,
  recentCheckStart,
  runStatsRecompute,
} from '../../src/stats/stats.jobs.js';
import { toPgDay } from '../../src/stats/stats.queries.js';
import { scheduledJobs } from '../../src/worker.js';
import { createTestApp, type TestApp, testConfig } from '../support/app.js';

describe('the scheduled statistics repair checks before it rebuilds', () => {
  let app: TestApp;

  beforeAll(async () => {
    app = await createTestApp('embedded', { MERIT_EVALUATION: 'false' });
    for (let i = 0; i < 6; i++) {
      const created = await app.call('POST', '/api/tasks', {
        agent_id: i % 2 === 0 ? 'agent_a' : 'agent_b',
        command: `task ${i}`,
        status: 'running',
        objective_category: 'research',
      });
      expect(created.status).toBe(201);
      const done = await app.call('POST', `/api/tasks/${created.body.id}/complete`, { result: 'done' });
      expect(done.status).toBe(200);
      await app.call('POST', `/api/tasks/${created.body.id}/feedback`, { user_rating: 1 + (i % 5) });
    }
    // Whatever the defaults wrote first (the seed's hand-written statistics rows) is rebuilt once.
    await runStatsRecompute(app.ctx.db);
  });
  afterAll(async () => {
    await app?.close();
  });

  const lastUpdated = async () =>
    (
      await sql<{ agent_id: string; last_updated: Date }>`
        SELECT agent_id, last_updated FROM agent_category_stats ORDER BY agent_id, objective_category`.execute(
        app.ctx.db,
      )
    ).rows;

  it('leaves consistent statistics alone, without waiting for a writer that holds their rows', async () => {
    const before = await lastUpdated();
    // A writer in the middle of its transaction holds an agent-category row: a rebuild's table lock would
    // wait for it (the whole service's writers then queue behind the rebuild).
    const writer = await app.database.pool.connect();
    try {
      await writer.query('BEGIN');
      await writer.query(
        "UPDATE agent_category_stats SET total_tasks = total_tasks WHERE agent_id = 'agent_a' AND objective_category = 'research'",
      );
      const result = await Promise.race([
        runStatsRecompute(app.ctx.db),
        new Promise<never>((_, reject) =>
          setTimeout(() => reject(new Error('the repair waited for the writer')), 10_000),
        ),
      ]);
      expect(result.statistics).toMatchObject({ drifted: 0, rebuilt: false });
      expect(describeStatsRecompute(result)).toContain('statistics consistent');
    } finally {
      await writer.query('ROLLBACK');
      writer.release();
    }
    expect(await lastUpdated()).toEqual(before);
  });

  it('rebuilds statistics that drifted', async () => {
    await sql`UPDATE agent_category_stats SET total_tasks = total_tasks + 5, successful_tasks = successful_tasks + 5
      WHERE agent_id = 'agent_b' AND objective_category = 'research'`.execute(app.ctx.db);
    const result = await runStatsRecompute(app.ctx.db);
    expect(result.statistics.rebuilt).toBe(true);
    expect(result.statistics.drifted).toBe(2);
    const row = await sql<{ total_tasks: number }>`
      SELECT total_tasks FROM agent_category_stats WHERE agent_id = 'agent_b' AND objective_category = 'research'
    `.execute(app.ctx.db);
    expect(row.rows[0]?.total_tasks).toBe(3);
    // And once rebuilt, the next check finds nothing.
    expect((await runStatsRecompute(app.ctx.db)).statistics).toMatchObject({ drifted: 0, rebuilt: false });
  });

  it("checks the statistics' recent days hourly, and every task and the trigger-kept rollups daily", async () => {
    const crons = scheduledJobs(testConfig());
    expect(crons.find((item) => item.task === RECOMPUTE_STATS_JOB)?.match).toBe('0 * * * *');
    expect(crons.find((item) => item.task === CHECK_ROLLUPS_JOB)?.match).toBe('43 3 * * *');
    const lines: string[] = [];
    const helpers = { logger: { info: (line: string) => lines.push(line) } } as unknown as JobHelpers;
    const jobs = createStatsJobs(app.ctx.db);
    await jobs[RECOMPUTE_STATS_JOB]?.({}, helpers);
    await jobs[CHECK_ROLLUPS_JOB]?.({}, helpers);
    const since = toPgDay(recentCheckStart(new Date()));
    expect(lines[0]).toMatch(
      new RegExp(
        `^Recompute: statistics consistent \\(since ${since} check\\), \\d+ agents ranked \\(\\d+ ms\\)$`,
      ),
    );
    expect(lines[1]).toMatch(
      /^Recompute: statistics consistent \(full check\), \d+ agents ranked \(\d+ ms\); rollups: routing_quality_hourly consistent \(\d+ ms\), agent_node_daily_stats consistent/,
    );
  });
});
