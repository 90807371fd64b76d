-- Read paths at scale (issue 12): every read endpoint reads a time window (default 30 days) through an
-- index whose range is that window, so its cost follows the window and not the history.

-- An agent's node breakdown (GET /api/agents/{id}/nodes) in a window, for one user: nodes carry their
-- task's user (set on insert from the task, which never changes user), so the breakdown is one range
-- scan of the agent's nodes by when they ran (started_at; a node recorded without it, when it was
-- stored), answered from the index alone, instead of a join to every task of the project.
ALTER TABLE agent_node_performance ADD COLUMN user_id UUID;
UPDATE agent_node_performance n SET user_id = t.user_id FROM tasks t WHERE t.id = n.task_id;
ALTER TABLE agent_node_performance ALTER COLUMN user_id SET NOT NULL;

CREATE FUNCTION merit_set_node_user() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.user_id IS NULL THEN
    SELECT t.user_id INTO NEW.user_id FROM tasks t WHERE t.id = NEW.task_id;
  END IF;
  RETURN NEW;
END
$$;
CREATE TRIGGER agent_node_performance_user BEFORE INSERT ON agent_node_performance
  FOR EACH ROW EXECUTE FUNCTION merit_set_node_user();

CREATE INDEX agent_node_performance_agent_ran_idx
  ON agent_node_performance (project_id, agent_id, (coalesce(started_at, created_at AT TIME ZONE 'UTC')))
  -- started_at and created_at too: PostgreSQL answers from an expression index alone only when it also
  -- holds the expression's columns (without them, 540 ms at 1M tasks reading the heap).
  INCLUDE (user_id, node_name, duration_ms, total_tokens, success, started_at, created_at);

-- An agent's trend and cost-against-quality chart in a window start from its finished tasks (the
-- predicate is the trend's own, so its plan can use the index: with the status list instead, the
-- planner read every task at 550k).
CREATE INDEX tasks_agent_finished_idx ON tasks (project_id, agent_id, completed_at)
  WHERE completed_at IS NOT NULL;

-- An agent's scored tasks page by (created_at, id) within a window: the id ends the index, so the
-- keyset comparison and the order come from the index without a sort.
DROP INDEX agent_performance_scores_agent_created_idx;
CREATE INDEX agent_performance_scores_agent_created_idx
  ON agent_performance_scores (project_id, agent_id, created_at DESC, id DESC);

-- A member's (project-wide) routing decisions, newest first, and routing quality over a window.
CREATE INDEX routing_decisions_project_created_idx ON routing_decisions (project_id, created_at DESC, id DESC);
