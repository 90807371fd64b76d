-- Read paths at scale (issue 12): every read endpoint reads a time window (default 30 days) through an
-- index whose range is that window, so its cost follows the window and not the history.

-- An agent's node breakdown (GET /api/agents/{id}/nodes) in a window: a range scan of that agent's
-- nodes by when they ran (started_at; a node recorded without it, when it was stored), instead of a
-- join to every task of the project to filter by user and time.
CREATE INDEX agent_node_performance_agent_ran_idx
  ON agent_node_performance (project_id, agent_id, (coalesce(started_at, created_at AT TIME ZONE 'UTC')))
  INCLUDE (node_name, duration_ms, total_tokens, success, task_id);

-- An agent's trend and cost-against-quality chart in a window start from its finished tasks.
CREATE INDEX tasks_agent_finished_idx ON tasks (project_id, agent_id, completed_at)
  WHERE status IN ('completed', 'failed');

-- An agent's scored tasks page by (created_at, id) within a window: the id ends the index, so the
-- keyset comparison and the order come from the index without a sort.
DROP INDEX agent_performance_scores_agent_created_idx;
CREATE INDEX agent_performance_scores_agent_created_idx
  ON agent_performance_scores (project_id, agent_id, created_at DESC, id DESC);

-- A member's (project-wide) routing decisions, newest first, and routing quality over a window.
CREATE INDEX routing_decisions_project_created_idx ON routing_decisions (project_id, created_at DESC, id DESC);
