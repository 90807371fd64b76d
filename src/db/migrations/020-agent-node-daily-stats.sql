-- Read paths at scale (issue 12): an agent's node breakdown (GET /api/agents/{id}/nodes) per (project,
-- agent, user, UTC day the node ran, node name), with the sums the breakdown shows. The day is the UTC day
-- of coalesce(started_at, created_at), the instant the breakdown's window is on. /nodes reads the window's
-- whole days here and only its partial first and last days from agent_node_performance, so its cost
-- follows the days, not the nodes. A node with neither time (created_at is nullable) is in no day: only
-- a window without bounds counts it, from the raw rows.
CREATE TABLE agent_node_daily_stats (
  project_id UUID NOT NULL,
  agent_id VARCHAR(50) NOT NULL,
  user_id UUID NOT NULL,
  day DATE NOT NULL,
  node_name VARCHAR(100) NOT NULL,
  runs INTEGER NOT NULL DEFAULT 0,
  successful_runs INTEGER NOT NULL DEFAULT 0,
  -- Runs with a duration (duration_ms may be unknown) and the sum of their durations.
  timed_runs INTEGER NOT NULL DEFAULT 0,
  sum_duration_ms BIGINT NOT NULL DEFAULT 0,
  metered_runs INTEGER NOT NULL DEFAULT 0,
  sum_total_tokens BIGINT NOT NULL DEFAULT 0,
  last_updated TIMESTAMPTZ NOT NULL DEFAULT now(),
  PRIMARY KEY (project_id, agent_id, user_id, day, node_name),
  FOREIGN KEY (project_id, agent_id) REFERENCES agents (project_id, agent_id)
);

-- A member's (project-wide) breakdown: the agent's days in a range, every user.
CREATE INDEX agent_node_daily_stats_agent_day_idx ON agent_node_daily_stats (project_id, agent_id, day);

-- Kept exact on every write of agent_node_performance by triggers, in two steps so that its rows are
-- locked last in every writing transaction, in key order:
--   1. statement-level triggers (transition tables) add each statement's changes, summed per key, to
--      agent_node_daily_pending under the transaction's id: rows of their own, no lock any other
--      transaction waits for;
--   2. a deferred constraint trigger on the pending rows applies the transaction's changes at commit, in
--      one upsert in (project_id, agent_id, user_id, day, node_name) order.
-- Writers insert nodes at different points of their transactions (a run's nodes before its statistics
-- rows, the finished-task statement after them): an immediate upsert would lock these rows before the
-- statistics rows in one and after them in the other, and two such writers of one agent would deadlock.
-- At commit they are always taken after everything else (after agent_daily_stats, STATS_LOCK_ORDER).
-- Unlogged: its rows live only inside their transaction (applied and deleted before it commits).
CREATE UNLOGGED TABLE agent_node_daily_pending (
  xid BIGINT NOT NULL DEFAULT txid_current(),
  project_id UUID NOT NULL,
  agent_id VARCHAR(50) NOT NULL,
  user_id UUID NOT NULL,
  day DATE NOT NULL,
  node_name VARCHAR(100) NOT NULL,
  runs INTEGER NOT NULL,
  successful_runs INTEGER NOT NULL,
  timed_runs INTEGER NOT NULL,
  sum_duration_ms BIGINT NOT NULL,
  metered_runs INTEGER NOT NULL,
  sum_total_tokens BIGINT NOT NULL
);
CREATE INDEX agent_node_daily_pending_xid_idx ON agent_node_daily_pending (xid);

-- Nodes deleted with their task (retention's batched delete, ON DELETE CASCADE) are not subtracted: the
-- cascade's statement runs after the task row is gone, so the days retention deletes stay counted, as
-- agent_daily_stats keeps them. Nodes deleted while their task stays (OTLP ingestion rebuilding a task's
-- nodes) are subtracted.
CREATE FUNCTION merit_collect_node_daily() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' OR TG_OP = 'UPDATE' THEN
    INSERT INTO agent_node_daily_pending (project_id, agent_id, user_id, day, node_name, runs, successful_runs,
      timed_runs, sum_duration_ms, metered_runs, sum_total_tokens)
    SELECT n.project_id, n.agent_id, n.user_id,
      (coalesce(n.started_at, n.created_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC')::date, n.node_name,
      count(*), count(*) FILTER (WHERE n.success), count(n.duration_ms), coalesce(sum(n.duration_ms), 0),
      count(n.total_tokens), coalesce(sum(n.total_tokens), 0)
    FROM merit_new_nodes n
    WHERE (n.started_at IS NOT NULL OR n.created_at IS NOT NULL)
    GROUP BY 1, 2, 3, 4, 5;
  END IF;
  IF TG_OP = 'DELETE' OR TG_OP = 'UPDATE' THEN
    INSERT INTO agent_node_daily_pending (project_id, agent_id, user_id, day, node_name, runs, successful_runs,
      timed_runs, sum_duration_ms, metered_runs, sum_total_tokens)
    SELECT o.project_id, o.agent_id, o.user_id,
      (coalesce(o.started_at, o.created_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC')::date, o.node_name,
      -count(*), -count(*) FILTER (WHERE o.success), -count(o.duration_ms), -coalesce(sum(o.duration_ms), 0),
      -count(o.total_tokens), -coalesce(sum(o.total_tokens), 0)
    FROM merit_old_nodes o
    WHERE (o.started_at IS NOT NULL OR o.created_at IS NOT NULL)
      AND (TG_OP = 'UPDATE' OR EXISTS (SELECT 1 FROM tasks t WHERE t.id = o.task_id))
    GROUP BY 1, 2, 3, 4, 5;
  END IF;
  RETURN NULL;
END
$$;

CREATE TRIGGER agent_node_performance_daily_insert AFTER INSERT ON agent_node_performance
  REFERENCING NEW TABLE AS merit_new_nodes
  FOR EACH STATEMENT EXECUTE FUNCTION merit_collect_node_daily();
CREATE TRIGGER agent_node_performance_daily_update AFTER UPDATE ON agent_node_performance
  REFERENCING OLD TABLE AS merit_old_nodes NEW TABLE AS merit_new_nodes
  FOR EACH STATEMENT EXECUTE FUNCTION merit_collect_node_daily();
CREATE TRIGGER agent_node_performance_daily_delete AFTER DELETE ON agent_node_performance
  REFERENCING OLD TABLE AS merit_old_nodes
  FOR EACH STATEMENT EXECUTE FUNCTION merit_collect_node_daily();

-- At commit: the transaction's pending changes, summed per key, in key order. The first firing applies
-- them all; the later ones (one per pending row) find nothing left.
CREATE FUNCTION merit_apply_node_daily() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  WITH taken AS (
    DELETE FROM agent_node_daily_pending WHERE xid = txid_current()
    RETURNING project_id, agent_id, user_id, day, node_name, runs, successful_runs, timed_runs, sum_duration_ms,
      metered_runs, sum_total_tokens
  ),
  summed AS (
    SELECT project_id, agent_id, user_id, day, node_name, sum(runs) AS runs, sum(successful_runs) AS successful_runs,
      sum(timed_runs) AS timed_runs, sum(sum_duration_ms) AS sum_duration_ms, sum(metered_runs) AS metered_runs,
      sum(sum_total_tokens) AS sum_total_tokens
    FROM taken
    GROUP BY project_id, agent_id, user_id, day, node_name
  )
  INSERT INTO agent_node_daily_stats AS s (project_id, agent_id, user_id, day, node_name, runs, successful_runs,
    timed_runs, sum_duration_ms, metered_runs, sum_total_tokens, last_updated)
  SELECT project_id, agent_id, user_id, day, node_name, runs, successful_runs, timed_runs, sum_duration_ms,
    metered_runs, sum_total_tokens, now()
  FROM summed
  -- Nodes deleted and inserted again unchanged (a task's nodes rebuilt) leave the row as it is.
  WHERE runs <> 0 OR successful_runs <> 0 OR timed_runs <> 0 OR sum_duration_ms <> 0 OR metered_runs <> 0
    OR sum_total_tokens <> 0
  ORDER BY project_id, agent_id, user_id, day, node_name
  ON CONFLICT (project_id, agent_id, user_id, day, node_name) DO UPDATE SET
    runs = s.runs + excluded.runs,
    successful_runs = s.successful_runs + excluded.successful_runs,
    timed_runs = s.timed_runs + excluded.timed_runs,
    sum_duration_ms = s.sum_duration_ms + excluded.sum_duration_ms,
    metered_runs = s.metered_runs + excluded.metered_runs,
    sum_total_tokens = s.sum_total_tokens + excluded.sum_total_tokens,
    last_updated = excluded.last_updated;
  RETURN NULL;
END
$$;

CREATE CONSTRAINT TRIGGER agent_node_daily_pending_apply AFTER INSERT ON agent_node_daily_pending
  DEFERRABLE INITIALLY DEFERRED
  FOR EACH ROW EXECUTE FUNCTION merit_apply_node_daily();

-- The existing nodes, after the triggers exist: creating them locked agent_node_performance against
-- writes until this migration commits, so no node is counted twice or missed.
INSERT INTO agent_node_daily_stats (project_id, agent_id, user_id, day, node_name, runs, successful_runs, timed_runs,
  sum_duration_ms, metered_runs, sum_total_tokens)
SELECT n.project_id, n.agent_id, n.user_id,
  (coalesce(n.started_at, n.created_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC')::date, n.node_name,
  count(*), count(*) FILTER (WHERE n.success), count(n.duration_ms), coalesce(sum(n.duration_ms), 0),
  count(n.total_tokens), coalesce(sum(n.total_tokens), 0)
FROM agent_node_performance n
WHERE (n.started_at IS NOT NULL OR n.created_at IS NOT NULL)
GROUP BY 1, 2, 3, 4, 5;
