import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type SeedDemoSummary, seedDemo } from '../../src/demo/seed-demo.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';

// Seeding evaluates every completed task through the jobs' code: minutes on a loaded 2-core machine.
const SEEDING_TIMEOUT_MS = 900_000;

describe('seed-demo', () => {
  let database: TestDatabase;
  let summary: SeedDemoSummary;
  const now = new Date('2026-11-24T12:00:00Z');

  beforeAll(async () => {
    database = await createTestDatabase('embedded');
    summary = await seedDemo(database.db, {
      tasks: 600,
      days: 14,
      seed: 7,
      userId: '00000000-0000-0000-0000-000000000001',
      progress: 'silent',
      batchSize: 200,
      now,
    });
  }, SEEDING_TIMEOUT_MS);
  afterAll(async () => {
    await database?.drop();
  });

  it('fills a varied, simulated history over the period, with nodes, failures and ratings', async () => {
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

  it('evaluates and peer-reviews every completed task, as the background jobs would', async () => {
    expect(summary.evaluated).toBe(600 - summary.failed);
    const { rows } = await database.pool.query(`
      SELECT count(DISTINCT e.task_id)::int AS evaluated, count(DISTINCT p.task_id)::int AS reviewed,
        count(DISTINCT t.id) FILTER (
          WHERE t.status = 'completed' AND (s.completeness_score IS NULL OR s.peer_score IS NULL)
        )::int AS unscored
      FROM tasks t
      JOIN agent_performance_scores s ON s.task_id = t.id
      LEFT JOIN task_evaluations e ON e.task_id = t.id AND e.status = 'done'
      LEFT JOIN agent_peer_evaluations p ON p.task_id = t.id`);
    expect(rows[0]).toEqual({ evaluated: summary.evaluated, reviewed: summary.evaluated, unscored: 0 });
    // The statistics hold the same reward points as the tasks' score rows.
    const points = await database.pool.query(`
      SELECT (SELECT sum(reward_points) FROM agent_performance_scores)::float AS tasks,
        (SELECT sum(reward_points) FROM agent_performance_stats)::float AS stats`);
    expect(points.rows[0].stats).toBe(points.rows[0].tasks);
  });

  it('pays an average agent about nothing per task and the best-scoring agent the most', async () => {
    const { rows } = await database.pool.query(`
      SELECT agent_id, total_tasks AS tasks, reward_points AS points,
        sum_overall_score / NULLIF(scored_tasks, 0) AS avg_score
      FROM agent_performance_stats ORDER BY avg_score DESC`);
    const agents = rows.map((row) => ({ ...row, per_task: row.points / row.tasks }));
    console.table(agents);
    const perTask = agents.map((agent) => agent.per_task);
    const mean = perTask.reduce((sum, points) => sum + points, 0) / perTask.length;
    console.log(
      `reward points per task: mean over agents ${mean.toFixed(2)}, range ${Math.min(...perTask).toFixed(2)} to ${Math.max(...perTask).toFixed(2)}`,
    );
    // Near zero: within a tenth of the excellence bonus (10 points) per task.
    expect(Math.abs(mean)).toBeLessThanOrEqual(1);
    const [best] = agents;
    expect(best?.points).toBe(Math.max(...agents.map((agent) => agent.points)));
    expect(best?.per_task).toBe(Math.max(...perTask));
    // A real spread: some agents gain, some lose, by at least 2 points per task between the extremes.
    expect(Math.max(...perTask)).toBeGreaterThan(0);
    expect(Math.min(...perTask)).toBeLessThan(0);
    expect(Math.max(...perTask) - Math.min(...perTask)).toBeGreaterThanOrEqual(2);
  });

  it(
    'is deterministic for a seed: the same seed gives the same figures',
    async () => {
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
    },
    SEEDING_TIMEOUT_MS,
  );
});
