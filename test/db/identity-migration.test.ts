import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrateToLatest } from '../../src/db/migrate.js';
import { createServices } from '../../src/server.js';
import { DEFAULT_PROJECT_ID, testConfig, USER } from '../support/app.js';
import { createTestDatabaseAt, type TestDatabase } from '../support/database.js';

/** Migration 009: a database from before projects becomes project `default` with its data intact. */
describe('a single-user database becomes project default (embedded PostgreSQL)', () => {
  let database: TestDatabase;

  beforeAll(async () => {
    database = await createTestDatabaseAt('embedded', 8);
  });
  afterAll(async () => {
    await database?.drop();
  });

  it('keeps every row, gives it the default project, and serves it in local mode as before', async () => {
    const task = '00000000-0000-0000-0000-0000000000b1';
    await database.pool.query(`
      INSERT INTO agents (agent_id, nickname, display_name, role) VALUES
        ('agent_a', 'bob', 'Bob', 'Researcher'), ('agent_d', 'kai', 'Kai', 'Planner');
      INSERT INTO objective_templates (category, display_name) VALUES ('research', 'Research'), ('general', 'General');
      INSERT INTO tasks (id, user_id, agent_id, command, objective_category, status, result, completed_at, duration_ms)
        VALUES ('${task}', '${USER}', 'agent_a', '@bob research quantum computing', 'research', 'completed', 'qubits', now(), 4000);
      INSERT INTO agent_performance_scores (task_id, agent_id, user_id, objective_category, overall_score, user_rating)
        VALUES ('${task}', 'agent_a', '${USER}', 'research', 0.9, 5);
      INSERT INTO agent_node_performance (task_id, agent_id, node_name, sequence, duration_ms, total_tokens)
        VALUES ('${task}', 'agent_a', 'research', 0, 4000, 900);
      INSERT INTO agent_peer_evaluations (task_id, evaluated_agent_id, reviewer_agent_id, perspective, score, source, evaluator_version)
        VALUES ('${task}', 'agent_a', 'agent_d', 'strategy', 0.8, 'heuristic', 'peer-heuristic-1');
      INSERT INTO agent_performance_stats (agent_id, nickname, total_tasks, successful_tasks, scored_tasks,
          sum_overall_score, rated_tasks, sum_user_rating, ratings_5, avg_overall_score, avg_user_rating)
        VALUES ('agent_a', 'bob', 1, 1, 1, 0.9, 1, 5, 1, 0.9, 5);
      INSERT INTO routing_decisions (user_id, task_id, command, category, category_source, chosen_agent_id, reason,
          expected_score, interval_lower, interval_upper, explanation)
        VALUES ('${USER}', '${task}', '@bob research quantum computing', 'research', 'classifier', 'agent_a', 'mention',
          0.5, 0.4, 0.6, 'mentioned');
    `);

    const report = await migrateToLatest(database);
    expect(report.applied).toContain('009-identity');
    for (const table of [
      'agents',
      'objective_templates',
      'tasks',
      'agent_performance_scores',
      'agent_node_performance',
      'agent_peer_evaluations',
      'agent_performance_stats',
      'routing_decisions',
    ]) {
      const { rows } = await database.pool.query(
        `SELECT count(*)::int AS n, count(*) FILTER (WHERE project_id = $1)::int AS in_default FROM ${table}`,
        [DEFAULT_PROJECT_ID],
      );
      expect(rows[0].n, table).toBeGreaterThan(0);
      expect(rows[0].in_default, table).toBe(rows[0].n);
    }

    const services = createServices(testConfig(), { handle: database, kind: 'external', label: 'migrated' });
    const get = async (path: string) => {
      const response = await services.app.request(`${path}${path.includes('?') ? '&' : '?'}user_id=${USER}`);
      return { status: response.status, body: (await response.json()) as any };
    };
    const fetched = await get(`/api/tasks/${task}`);
    expect(fetched.status).toBe(200);
    expect(fetched.body).toMatchObject({ result: 'qubits', score: { user_rating: 5 } });
    expect(fetched.body.nodes).toHaveLength(1);
    const board = await get('/api/agents/leaderboard');
    expect(board.body.rankings.find((row: { agent_id: string }) => row.agent_id === 'agent_a')).toMatchObject(
      {
        total_tasks: 1,
        avg_user_rating: 5,
      },
    );
    const decision = await get(`/api/tasks/${task}/routing-decision`);
    expect(decision.status).toBe(200);
    const reviews = await get(`/api/tasks/${task}/evaluation`);
    expect(reviews.body.peer_reviews).toHaveLength(1);
  });
});
