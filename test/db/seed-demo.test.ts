import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedDemo } from '../../src/demo/seed-demo.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';

describe('seed-demo', () => {
  let database: TestDatabase;

  beforeAll(async () => {
    database = await createTestDatabase('embedded');
  });
  afterAll(async () => {
    await database?.drop();
  });

  it('fills a varied, simulated history over the period, with nodes, failures and ratings', async () => {
    const now = new Date('2026-11-24T12:00:00Z');
    const summary = await seedDemo(database.db, {
      tasks: 600,
      days: 14,
      seed: 7,
      userId: '00000000-0000-0000-0000-000000000001',
      progress: 'silent',
      batchSize: 200,
      now,
    });
    expect(summary.tasks).toBe(600);
    expect(summary.rated).toBeGreaterThan(100);
    const { rows } = await database.pool.query(`
      SELECT count(*)::int AS tasks, count(DISTINCT agent_id)::int AS agents,
        count(DISTINCT objective_category)::int AS categories, bool_and(simulated) AS simulated,
        count(*) FILTER (WHERE status = 'failed')::int AS failed,
        min(completed_at) AS first, max(completed_at) AS last
      FROM tasks`);
    expect(rows[0]).toMatchObject({ tasks: 600, agents: 7, simulated: true, failed: summary.failed });
    expect(rows[0].categories).toBeGreaterThanOrEqual(8);
    expect(now.getTime() - rows[0].first.getTime()).toBeGreaterThan(10 * 24 * 3600 * 1000);
    expect(rows[0].last.getTime()).toBeLessThanOrEqual(now.getTime());
    const nodes = await database.pool.query('SELECT count(*)::int AS n FROM agent_node_performance');
    expect(nodes.rows[0].n).toBe(summary.nodes);
    const stats = await database.pool.query(
      'SELECT sum(total_tasks)::int AS n, sum(rated_tasks)::int AS rated FROM agent_performance_stats',
    );
    expect(stats.rows[0]).toEqual({ n: 600, rated: summary.rated });
  });

  it('is deterministic for a seed: the same seed gives the same figures', async () => {
    const other = await createTestDatabase('embedded');
    try {
      const options = {
        tasks: 100,
        days: 7,
        seed: 11,
        userId: '00000000-0000-0000-0000-000000000003',
        progress: 'silent' as const,
        now: new Date('2026-11-24T12:00:00Z'),
      };
      const a = await seedDemo(other.db, options);
      const b = await seedDemo(database.db, options);
      expect({ ...a, elapsedMs: 0 }).toEqual({ ...b, elapsedMs: 0 });
    } finally {
      await other.drop();
    }
  });
});
