/**
 * A synthetic history for the benchmarks, generated in SQL (INSERT ... SELECT generate_series) in chunks:
 * tasks spread over the last 90 days across the project's first 8 agents and 12 categories, one in ten
 * failed, each with 3 nodes and a routing decision; a completed task has a score row (30% rated), two
 * peer reviews by LLM reviewers (a third of them unpriced) and a judge evaluation (a quarter unpriced).
 */
import { type Kysely, sql } from 'kysely';
import { DEFAULT_USER_ID } from '../src/config.js';
import type { Database } from '../src/db/database.js';
import { DEFAULT_PROJECT_ID } from '../src/identity/scope.js';

/** Adds tasks numbered [from, to) in chunks of `chunk`, calling `onChunk` with the tasks added so far. */
export async function seedHistory(
  db: Kysely<Database>,
  from: number,
  to: number,
  options: { chunk: number; onChunk?: (added: number) => void },
): Promise<void> {
  const agents = (
    await sql<{ agent_id: string }>`
      SELECT agent_id FROM agents WHERE project_id = ${DEFAULT_PROJECT_ID} AND active ORDER BY agent_id LIMIT 8
    `.execute(db)
  ).rows.map((row) => row.agent_id);
  const categories = (
    await sql<{ category: string }>`
      SELECT category FROM objective_templates WHERE project_id = ${DEFAULT_PROJECT_ID} ORDER BY category LIMIT 12
    `.execute(db)
  ).rows.map((row) => row.category);
  for (let start = from; start < to; start += options.chunk) {
    const end = Math.min(to, start + options.chunk) - 1;
    const chunk = await sql<{ completed: string[] }>`
      WITH g AS (
        SELECT i, now() - random() * interval '90 days' AS at FROM generate_series(${start}::int, ${end}::int) AS i
      ),
      ins AS (
        INSERT INTO tasks (project_id, user_id, agent_id, command, objective_category, category_source, status,
          result, error, model, simulated, source, prompt_tokens, completion_tokens, total_tokens, estimated_cost,
          duration_ms, created_at, started_at, completed_at)
        SELECT ${DEFAULT_PROJECT_ID}::uuid, ${DEFAULT_USER_ID}::uuid,
          (${agents}::text[])[1 + i % ${agents.length}], 'bench command ' || i,
          (${categories}::text[])[1 + (i / 7) % ${categories.length}], 'classifier',
          CASE WHEN i % 10 = 0 THEN 'failed' ELSE 'completed' END,
          CASE WHEN i % 10 = 0 THEN NULL ELSE 'result ' || i END,
          CASE WHEN i % 10 = 0 THEN 'boom' END,
          'sim-model', true, 'api', 60 + i % 400, 40 + i % 300, 100 + i % 700, (i % 500) / 100000.0,
          500 + i % 5000, at, at, at + (1 + i % 5) * interval '1 second'
        FROM g
        RETURNING id, project_id, user_id, agent_id, objective_category, status, total_tokens, estimated_cost,
          duration_ms, command, completed_at
      ),
      scores AS (
        INSERT INTO agent_performance_scores (project_id, task_id, agent_id, user_id, objective_category,
          accuracy_score, relevance_score, completeness_score, efficiency_score, overall_score, user_rating,
          total_tokens, estimated_cost, duration_ms, model, reward_points, created_at)
        SELECT project_id, id, agent_id, user_id, objective_category,
          round(random()::numeric, 2), round(random()::numeric, 2), round(random()::numeric, 2),
          round(random()::numeric, 2), round((0.3 + random() * 0.7)::numeric, 2),
          CASE WHEN random() < 0.3 THEN 1 + floor(random() * 5)::int END,
          total_tokens, estimated_cost, duration_ms, 'sim-model', 1, completed_at AT TIME ZONE 'UTC'
        FROM ins WHERE status = 'completed'
        RETURNING 1
      ),
      nodes AS (
        INSERT INTO agent_node_performance (project_id, task_id, agent_id, node_name, sequence, status,
          duration_ms, total_tokens, success, started_at, completed_at, created_at)
        SELECT project_id, id, agent_id, (ARRAY['plan', 'act', 'review'])[seq + 1], seq, 'completed',
          duration_ms / 3, total_tokens / 3, status = 'completed' OR seq < 2, completed_at, completed_at,
          completed_at AT TIME ZONE 'UTC'
        FROM ins CROSS JOIN generate_series(0, 2) AS seq
        RETURNING 1
      ),
      decisions AS (
        INSERT INTO routing_decisions (project_id, user_id, task_id, command, category, confidence,
          category_source, chosen_agent_id, reason, expected_score, interval_lower, interval_upper,
          sampled_score, observations, best_agent_id, explanation, created_at)
        SELECT project_id, user_id, id, command, objective_category, 0.8, 'classifier', agent_id, 'thompson',
          0.7, 0.6, 0.8, 0.72, 10, agent_id, 'bench', completed_at - interval '2 seconds'
        FROM ins
        RETURNING 1
      )
      SELECT array(SELECT id FROM ins WHERE status = 'completed') AS completed,
        (SELECT count(*) FROM scores) + (SELECT count(*) FROM nodes) + (SELECT count(*) FROM decisions) AS n
    `.execute(db);
    // A second statement: a statement does not see the rows its own other parts insert, and a review
    // takes its task's rating from the score row (migration 024).
    const completed = (chunk.rows[0]?.completed ?? []) as string[];
    await sql`
      WITH s AS (
        SELECT task_id, agent_id, created_at, row_number() OVER () AS i
        FROM agent_performance_scores WHERE task_id = ANY(${completed}::uuid[])
      ),
      reviews AS (
        INSERT INTO agent_peer_evaluations (task_id, evaluated_agent_id, reviewer_agent_id, perspective, status,
          score, source, evaluator_version, reviewer_weight, prompt_tokens, completion_tokens, estimated_cost,
          created_at)
        SELECT s.task_id, s.agent_id, reviewer, 'bench', 'done', round(random()::numeric, 2), 'llm', 'bench', 1,
          200, 40, CASE WHEN i % 3 = 0 THEN NULL ELSE 0.0002 END, s.created_at + interval '10 seconds'
        FROM s CROSS JOIN LATERAL (
          SELECT (${agents}::text[])[1 + (array_position(${agents}::text[], s.agent_id) + k) % ${agents.length}]
            AS reviewer
          FROM generate_series(0, 1) AS k
        ) r
        RETURNING 1
      ),
      evaluations AS (
        INSERT INTO task_evaluations (task_id, kind, status, accuracy_score, relevance_score, completeness_score,
          source, evaluator_version, model, prompt_tokens, completion_tokens, estimated_cost, created_at, updated_at)
        SELECT task_id, 'judge', 'done', 0.7, 0.7, 0.7, 'judge', 'bench', 'bench-judge', 300 + i % 200, 80,
          CASE WHEN i % 4 = 0 THEN NULL ELSE 0.0004 END, created_at AT TIME ZONE 'UTC' + interval '5 seconds',
          created_at AT TIME ZONE 'UTC' + interval '5 seconds'
        FROM s
        RETURNING 1
      )
      SELECT (SELECT count(*) FROM reviews) + (SELECT count(*) FROM evaluations) AS n
    `.execute(db);
    options.onChunk?.(end + 1 - from);
  }
}
