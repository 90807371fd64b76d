import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureDefaultData } from '../../src/db/default-data.js';
import { migrateToLatest } from '../../src/db/migrate.js';
import { findNodeDailyDrift } from '../../src/stats/node-stats.queries.js';
import { DEFAULT_PROJECT_ID, USER } from '../support/app.js';
import { createTestDatabaseAt, type TestDatabase } from '../support/database.js';

/** Migration 025: a node's total_tokens 0 that carries no token information becomes unknown (NULL). */
describe('node tokens stored as 0 by default become unknown (embedded PostgreSQL)', () => {
  let database: TestDatabase;

  beforeAll(async () => {
    database = await createTestDatabaseAt('embedded', 24);
  });
  afterAll(async () => {
    await database?.drop();
  });

  it('turns a 0 without prompt or completion tokens into NULL, keeps reported counts, and keeps the rollup exact', async () => {
    await ensureDefaultData(database.db);
    const task = '00000000-0000-0000-0000-0000000000c1';
    await database.pool.query(`
      INSERT INTO tasks (id, project_id, user_id, agent_id, command, objective_category, status, result, completed_at,
          duration_ms)
        VALUES ('${task}', '${DEFAULT_PROJECT_ID}', '${USER}', 'agent_a', 'look it up', 'research', 'completed', 'found', now(), 4000);
      INSERT INTO agent_node_performance (task_id, agent_id, node_name, sequence, duration_ms, prompt_tokens,
          completion_tokens, total_tokens, started_at) VALUES
        ('${task}', 'agent_a', 'think', 0, 400, NULL, NULL, DEFAULT, now()),
        ('${task}', 'agent_a', 'think', 1, 300, NULL, NULL, 0, now()),
        ('${task}', 'agent_a', 'lookup', 2, 30, 0, 0, 0, now()),
        ('${task}', 'agent_a', 'lookup', 3, 20, NULL, 0, 0, now()),
        ('${task}', 'agent_a', 'answer', 4, 900, 1000, 200, 1200, now()),
        ('${task}', 'agent_a', 'answer', 5, 800, NULL, NULL, 700, now());
    `);
    const metered = async () => {
      const { rows } = await database.pool.query<{ node_name: string; metered_runs: number; tokens: string }>(
        `SELECT node_name, metered_runs, sum_total_tokens AS tokens FROM agent_node_daily_stats
         WHERE agent_id = 'agent_a' ORDER BY node_name`,
      );
      return rows.map((row) => [row.node_name, row.metered_runs, Number(row.tokens)]);
    };
    // Before: the defaulted 0s count as metered runs of 0 tokens.
    expect(await metered()).toEqual([
      ['answer', 2, 1900],
      ['lookup', 2, 0],
      ['think', 2, 0],
    ]);

    const report = await migrateToLatest(database);
    expect(report.applied[0]).toBe('025-node-tokens-unknown');
    const { rows } = await database.pool.query<{ sequence: number; total_tokens: number | null }>(
      `SELECT sequence, total_tokens FROM agent_node_performance WHERE task_id = $1 ORDER BY sequence`,
      [task],
    );
    expect(rows.map((row) => row.total_tokens)).toEqual([null, null, 0, 0, 1200, 700]);
    expect(await metered()).toEqual([
      ['answer', 2, 1900],
      ['lookup', 2, 0],
      ['think', 0, 0],
    ]);
    expect(await findNodeDailyDrift(database.db)).toEqual([]);

    // A new node without tokens is stored unknown: the column has no default any more.
    await database.pool.query(
      `INSERT INTO agent_node_performance (task_id, agent_id, node_name, sequence) VALUES ($1, 'agent_a', 'think', 6)`,
      [task],
    );
    const added = await database.pool.query(
      'SELECT total_tokens FROM agent_node_performance WHERE task_id = $1 AND sequence = 6',
      [task],
    );
    expect(added.rows[0].total_tokens).toBeNull();
    expect(await findNodeDailyDrift(database.db)).toEqual([]);
  });
});
