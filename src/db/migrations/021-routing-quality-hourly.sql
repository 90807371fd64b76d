-- Read paths at scale (issue 12): routing quality per (project, user, UTC hour of the decision), kept by
-- triggers in the writing transactions, so GET /api/routing/quality sums at most 24 rows a day (plus the
-- raw decisions of its partial first and last hours) instead of joining every decision in the window to
-- its task and scores (1.9 s at 200k tasks).
--
-- A decision's outcome changes after it is written (its task finishes, a rating, the judge or a peer
-- score arrives, the task is deleted), so each decision carries its outcome reward (outcome_reward, what
-- computeOutcomeReward gives for the outcomes view's row) and the hourly row is moved by the difference
-- whenever a decision's counted fields change. Triggers keep outcome_reward current: on the decision
-- (task_id set or cleared), on its task (status into or out of completed/failed) and on its score row.

ALTER TABLE routing_decisions ADD COLUMN outcome_reward DOUBLE PRECISION;

-- blendTaskReward (src/ranking/ranking.ts) for a task, in its order of float operations so the sums match
-- the TypeScript figure: 0 when failed, null until completed, then the weighted mean of the rating
-- ((r - 1) / 4, weight 0.5), the judge score (mean of the three judge scores present, 0.3) and the peer
-- score (0.2) present; null when none is.
CREATE FUNCTION merit_task_outcome_reward(p_task_id UUID) RETURNS DOUBLE PRECISION
-- plpgsql, not sql: its query plan is kept for the session (a SQL function called from a trigger is planned
-- on every call).
LANGUAGE plpgsql STABLE AS $$
DECLARE
  v_reward DOUBLE PRECISION;
BEGIN
  SELECT CASE
    WHEN t.status = 'failed' THEN 0::float8
    WHEN t.status <> 'completed' THEN NULL
    ELSE (
      (coalesce((s.user_rating - 1)::float8 / 4 * 0.5::float8, 0::float8)
        + coalesce(j.judge_score * 0.3::float8, 0::float8))
        + coalesce(s.peer_score::float8 * 0.2::float8, 0::float8)
    ) / nullif(
      ((CASE WHEN s.user_rating IS NOT NULL THEN 0.5::float8 ELSE 0::float8 END)
        + (CASE WHEN j.judge_score IS NOT NULL THEN 0.3::float8 ELSE 0::float8 END))
        + (CASE WHEN s.peer_score IS NOT NULL THEN 0.2::float8 ELSE 0::float8 END),
      0::float8)
  END
  INTO v_reward
  FROM tasks t
  LEFT JOIN agent_performance_scores s ON s.task_id = t.id
  LEFT JOIN LATERAL (
    -- The outcomes view's judge_score: a NUMERIC mean, read as the nearest double (as Number() does).
    SELECT avg(v)::float8 AS judge_score
    FROM unnest(ARRAY[s.accuracy_score, s.relevance_score, s.completeness_score]) AS v
  ) j ON true
  WHERE t.id = p_task_id;
  RETURN v_reward;
END
$$;

CREATE TABLE routing_quality_hourly (
  project_id UUID NOT NULL,
  user_id UUID NOT NULL,
  hour TIMESTAMPTZ NOT NULL,
  decisions INTEGER NOT NULL DEFAULT 0,
  -- Decisions the router made itself (reason other than 'mention').
  routed INTEGER NOT NULL DEFAULT 0,
  -- Routed decisions with an outcome reward, and the sum of those rewards (exact: added and taken away).
  rewarded INTEGER NOT NULL DEFAULT 0,
  reward_sum NUMERIC NOT NULL DEFAULT 0,
  -- Routed decisions that knew the posterior-best agent, and those that chose it.
  with_best INTEGER NOT NULL DEFAULT 0,
  to_best INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (project_id, user_id, hour)
)
-- Every decision, finish and score of an hour updates its row: room on the page keeps those updates HOT
-- (no new index entries, dead versions pruned on the page), and vacuum comes early. Measured: 145k updates
-- at fillfactor 100 were 6% HOT and left 147k dead versions (a 719-row window read 20,501 buffers);
-- at 50, 56% HOT.
WITH (fillfactor = 50, autovacuum_vacuum_scale_factor = 0.01, autovacuum_vacuum_threshold = 1000);

-- A project's window (every user): one range scan by hour.
CREATE INDEX routing_quality_hourly_project_hour_idx ON routing_quality_hourly (project_id, hour);

-- Backfill, before the triggers exist: every decision's reward, then the hourly rows from the decisions.
UPDATE routing_decisions SET outcome_reward = merit_task_outcome_reward(task_id) WHERE task_id IS NOT NULL;

INSERT INTO routing_quality_hourly (project_id, user_id, hour, decisions, routed, rewarded, reward_sum, with_best,
  to_best)
SELECT project_id, user_id, date_trunc('hour', created_at, 'UTC'),
  count(*),
  count(*) FILTER (WHERE reason <> 'mention'),
  count(*) FILTER (WHERE reason <> 'mention' AND outcome_reward IS NOT NULL),
  coalesce(sum(outcome_reward::numeric) FILTER (WHERE reason <> 'mention'), 0),
  count(*) FILTER (WHERE reason <> 'mention' AND best_agent_id IS NOT NULL),
  count(*) FILTER (WHERE reason <> 'mention' AND chosen_agent_id = best_agent_id)
FROM routing_decisions
GROUP BY 1, 2, 3;

-- Adds (sign 1) or takes away (sign -1) one decision's counts in its hour.
CREATE FUNCTION merit_count_routing_quality(
  p_project_id UUID, p_user_id UUID, p_created_at TIMESTAMPTZ, p_reason TEXT, p_chosen TEXT, p_best TEXT,
  p_reward DOUBLE PRECISION, p_sign INTEGER
) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  v_routed BOOLEAN := p_reason <> 'mention';
  v_left INTEGER;
BEGIN
  INSERT INTO routing_quality_hourly AS h (project_id, user_id, hour, decisions, routed, rewarded, reward_sum,
    with_best, to_best)
  VALUES (p_project_id, p_user_id, date_trunc('hour', p_created_at, 'UTC'), p_sign,
    CASE WHEN v_routed THEN p_sign ELSE 0 END,
    CASE WHEN v_routed AND p_reward IS NOT NULL THEN p_sign ELSE 0 END,
    CASE WHEN v_routed AND p_reward IS NOT NULL THEN p_sign * p_reward::numeric ELSE 0 END,
    CASE WHEN v_routed AND p_best IS NOT NULL THEN p_sign ELSE 0 END,
    CASE WHEN v_routed AND p_chosen = p_best THEN p_sign ELSE 0 END)
  ON CONFLICT (project_id, user_id, hour) DO UPDATE SET
    decisions = h.decisions + excluded.decisions,
    routed = h.routed + excluded.routed,
    rewarded = h.rewarded + excluded.rewarded,
    reward_sum = h.reward_sum + excluded.reward_sum,
    with_best = h.with_best + excluded.with_best,
    to_best = h.to_best + excluded.to_best
  RETURNING h.decisions INTO v_left;
  IF v_left = 0 THEN
    DELETE FROM routing_quality_hourly
    WHERE project_id = p_project_id AND user_id = p_user_id AND hour = date_trunc('hour', p_created_at, 'UTC')
      AND decisions = 0;
  END IF;
END
$$;

-- A decision's outcome reward follows its task: computed when it is written or its task_id changes
-- (set when the task is created, cleared by ON DELETE SET NULL).
CREATE FUNCTION merit_set_decision_outcome_reward() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.outcome_reward := CASE WHEN NEW.task_id IS NULL THEN NULL ELSE merit_task_outcome_reward(NEW.task_id) END;
  RETURN NEW;
END
$$;
CREATE TRIGGER routing_decisions_outcome_reward BEFORE INSERT OR UPDATE OF task_id ON routing_decisions
  FOR EACH ROW EXECUTE FUNCTION merit_set_decision_outcome_reward();

CREATE FUNCTION merit_count_decision_quality() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  -- Only the reward changed (its task finished or was scored): one update of the hour's reward counts.
  IF TG_OP = 'UPDATE' AND (OLD.project_id, OLD.user_id, OLD.created_at, OLD.reason, OLD.chosen_agent_id,
      OLD.best_agent_id) IS NOT DISTINCT FROM (NEW.project_id, NEW.user_id, NEW.created_at, NEW.reason,
      NEW.chosen_agent_id, NEW.best_agent_id) THEN
    IF NEW.reason <> 'mention' THEN
      UPDATE routing_quality_hourly
      SET rewarded = rewarded + (NEW.outcome_reward IS NOT NULL)::int - (OLD.outcome_reward IS NOT NULL)::int,
        reward_sum = reward_sum + coalesce(NEW.outcome_reward::numeric, 0) - coalesce(OLD.outcome_reward::numeric, 0)
      WHERE project_id = NEW.project_id AND user_id = NEW.user_id
        AND hour = date_trunc('hour', NEW.created_at, 'UTC');
    END IF;
    RETURN NULL;
  END IF;
  IF TG_OP IN ('UPDATE', 'DELETE') THEN
    PERFORM merit_count_routing_quality(OLD.project_id, OLD.user_id, OLD.created_at, OLD.reason,
      OLD.chosen_agent_id, OLD.best_agent_id, OLD.outcome_reward, -1);
  END IF;
  IF TG_OP IN ('INSERT', 'UPDATE') THEN
    PERFORM merit_count_routing_quality(NEW.project_id, NEW.user_id, NEW.created_at, NEW.reason,
      NEW.chosen_agent_id, NEW.best_agent_id, NEW.outcome_reward, 1);
  END IF;
  RETURN NULL;
END
$$;
CREATE TRIGGER routing_decisions_quality_insert_delete AFTER INSERT OR DELETE ON routing_decisions
  FOR EACH ROW EXECUTE FUNCTION merit_count_decision_quality();
CREATE TRIGGER routing_decisions_quality_update AFTER UPDATE ON routing_decisions
  FOR EACH ROW
  WHEN ((OLD.project_id, OLD.user_id, OLD.created_at, OLD.reason, OLD.chosen_agent_id, OLD.best_agent_id,
    OLD.outcome_reward) IS DISTINCT FROM (NEW.project_id, NEW.user_id, NEW.created_at, NEW.reason,
    NEW.chosen_agent_id, NEW.best_agent_id, NEW.outcome_reward))
  EXECUTE FUNCTION merit_count_decision_quality();

-- Re-reads the outcome reward of the decision that created a task (at most one: routing_decisions_task_idx).
CREATE FUNCTION merit_refresh_decision_outcome(p_task_id UUID) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  v_decision UUID;
  v_stored DOUBLE PRECISION;
  v_reward DOUBLE PRECISION;
BEGIN
  -- Most tasks are written before their decision, or were never routed: one index probe, nothing computed.
  SELECT id, outcome_reward INTO v_decision, v_stored FROM routing_decisions WHERE task_id = p_task_id;
  IF NOT FOUND THEN
    RETURN;
  END IF;
  v_reward := merit_task_outcome_reward(p_task_id);
  IF v_reward IS DISTINCT FROM v_stored THEN
    UPDATE routing_decisions SET outcome_reward = v_reward WHERE id = v_decision;
  END IF;
END
$$;

CREATE FUNCTION merit_refresh_task_decision_outcome() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP IN ('UPDATE', 'DELETE') THEN
    PERFORM merit_refresh_decision_outcome(OLD.task_id);
  END IF;
  IF TG_OP = 'INSERT' OR (TG_OP = 'UPDATE' AND NEW.task_id IS DISTINCT FROM OLD.task_id) THEN
    PERFORM merit_refresh_decision_outcome(NEW.task_id);
  END IF;
  RETURN NULL;
END
$$;

-- Only a move into or out of completed/failed changes a reward (queued -> running does not).
CREATE FUNCTION merit_refresh_decision_outcome_for_task() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM merit_refresh_decision_outcome(NEW.id);
  RETURN NULL;
END
$$;
CREATE TRIGGER tasks_decision_outcome_insert AFTER INSERT ON tasks
  FOR EACH ROW WHEN (NEW.status IN ('completed', 'failed'))
  EXECUTE FUNCTION merit_refresh_decision_outcome_for_task();
CREATE TRIGGER tasks_decision_outcome_update AFTER UPDATE OF status ON tasks
  FOR EACH ROW
  WHEN (OLD.status IS DISTINCT FROM NEW.status
    AND (OLD.status IN ('completed', 'failed') OR NEW.status IN ('completed', 'failed')))
  EXECUTE FUNCTION merit_refresh_decision_outcome_for_task();

CREATE TRIGGER agent_performance_scores_decision_outcome
  AFTER INSERT OR DELETE OR UPDATE OF task_id, user_rating, peer_score, accuracy_score, relevance_score,
    completeness_score ON agent_performance_scores
  FOR EACH ROW EXECUTE FUNCTION merit_refresh_task_decision_outcome();

-- GET /api/reviewers reads a window (default 30 days) of reviews and evaluations: reviews by their
-- project and time, with what its counts, rating pairs and spend need, so the window is one range scan.
CREATE INDEX agent_peer_evaluations_project_created_idx ON agent_peer_evaluations (project_id, created_at)
  INCLUDE (reviewer_agent_id, status, task_id, score, source, prompt_tokens, completion_tokens, estimated_cost);

-- Evaluations carry their task's project (filled in on insert), so the evaluators' spend is read by project
-- and time instead of through every task of the project.
ALTER TABLE task_evaluations ADD COLUMN project_id UUID;
UPDATE task_evaluations e SET project_id = t.project_id FROM tasks t WHERE t.id = e.task_id;
ALTER TABLE task_evaluations ALTER COLUMN project_id SET NOT NULL;

CREATE FUNCTION merit_set_evaluation_project() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.project_id IS NULL THEN
    SELECT t.project_id INTO NEW.project_id FROM tasks t WHERE t.id = NEW.task_id;
  END IF;
  RETURN NEW;
END
$$;
CREATE TRIGGER task_evaluations_project BEFORE INSERT ON task_evaluations
  FOR EACH ROW EXECUTE FUNCTION merit_set_evaluation_project();

CREATE INDEX task_evaluations_project_created_idx ON task_evaluations (project_id, created_at)
  INCLUDE (kind, model, prompt_tokens, completion_tokens, estimated_cost);
