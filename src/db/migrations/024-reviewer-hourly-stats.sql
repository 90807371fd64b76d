-- Read paths at scale (issue 12): GET /api/reviewers from hourly rollups kept by triggers, instead of
-- summing every review and evaluation of its window (100k tasks with two reviews and a judge evaluation
-- each: 448 ms for 30 days, growing with the window's rows).
--
-- reviewer_hourly_stats: per (project, reviewer, hour of the review's created_at) the review counts,
-- what the reviews spent, and the sums the reviewer's agreement with users' ratings is computed from
-- (measureReviewerAgreement: n, the mean absolute error and Pearson's correlation of score and rating).
-- The sums are integers, in hundredths of a score (NUMERIC(3,2)) and in stars, so they are exact under
-- any number of additions and removals, and the agreement computed from them is the one computed from the
-- pairs themselves.
--
-- A review's pair changes after it is written: when its task is rated, re-rated or its rating cleared.
-- Each review carries its task's rating (user_rating, kept by triggers below), so everything a review
-- contributes is a function of its own row and the rollup moves by its old and new contributions.
--
-- evaluator_hourly_spend: per (project, evaluator kind, model, hour) the evaluations and their spend.

ALTER TABLE agent_peer_evaluations ADD COLUMN user_rating SMALLINT CHECK (user_rating BETWEEN 1 AND 5);
UPDATE agent_peer_evaluations p SET user_rating = s.user_rating
FROM agent_performance_scores s
WHERE s.task_id = p.task_id AND s.user_rating IS NOT NULL;

CREATE TABLE reviewer_hourly_stats (
  project_id UUID NOT NULL,
  reviewer_agent_id VARCHAR(50) NOT NULL,
  -- The UTC hour of the reviews' created_at (a TIMESTAMP in UTC, as the reviews').
  hour TIMESTAMP NOT NULL,
  -- Every review row (done or failed): the row is deleted when none is left.
  review_rows INTEGER NOT NULL DEFAULT 0,
  reviews INTEGER NOT NULL DEFAULT 0,
  -- Spend, as selectSpendTotals reads it: tokens and cost of metered rows (both token counts known),
  -- the metered rows with a cost, and the LLM reviews without a price or without token counts.
  metered_calls INTEGER NOT NULL DEFAULT 0,
  prompt_tokens BIGINT NOT NULL DEFAULT 0,
  completion_tokens BIGINT NOT NULL DEFAULT 0,
  priced_calls INTEGER NOT NULL DEFAULT 0,
  cost NUMERIC NOT NULL DEFAULT 0,
  unpriced_calls INTEGER NOT NULL DEFAULT 0,
  unmetered_calls INTEGER NOT NULL DEFAULT 0,
  -- Agreement pairs (done reviews of rated tasks): s = round(score x 100), r = stars.
  pairs INTEGER NOT NULL DEFAULT 0,
  sum_score BIGINT NOT NULL DEFAULT 0,
  sum_score_sq BIGINT NOT NULL DEFAULT 0,
  sum_rating BIGINT NOT NULL DEFAULT 0,
  sum_rating_sq BIGINT NOT NULL DEFAULT 0,
  sum_score_rating BIGINT NOT NULL DEFAULT 0,
  -- |s - 25 (r - 1)|: the absolute error in hundredths.
  sum_abs_error BIGINT NOT NULL DEFAULT 0,
  PRIMARY KEY (project_id, reviewer_agent_id, hour)
)
-- Every review and rating of an hour updates its row: room on the page keeps the updates HOT (see 021).
WITH (fillfactor = 50, autovacuum_vacuum_scale_factor = 0.01, autovacuum_vacuum_threshold = 1000);

-- A project's window (every reviewer): one range scan by hour.
CREATE INDEX reviewer_hourly_stats_project_hour_idx ON reviewer_hourly_stats (project_id, hour);

CREATE TABLE evaluator_hourly_spend (
  project_id UUID NOT NULL,
  kind TEXT NOT NULL,
  model TEXT,
  hour TIMESTAMPTZ NOT NULL,
  evaluations INTEGER NOT NULL DEFAULT 0,
  metered_calls INTEGER NOT NULL DEFAULT 0,
  prompt_tokens BIGINT NOT NULL DEFAULT 0,
  completion_tokens BIGINT NOT NULL DEFAULT 0,
  priced_calls INTEGER NOT NULL DEFAULT 0,
  cost NUMERIC NOT NULL DEFAULT 0,
  unpriced_calls INTEGER NOT NULL DEFAULT 0,
  unmetered_calls INTEGER NOT NULL DEFAULT 0
)
WITH (fillfactor = 50, autovacuum_vacuum_scale_factor = 0.01, autovacuum_vacuum_threshold = 1000);
-- The offline evaluator has no model: one row per hour all the same.
CREATE UNIQUE INDEX evaluator_hourly_spend_key ON evaluator_hourly_spend (project_id, hour, kind, model)
  NULLS NOT DISTINCT;

-- One review's contribution to its hour (sign 1 adds it, -1 takes it away).
CREATE FUNCTION merit_count_review(r agent_peer_evaluations, p_sign INTEGER) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  v_metered BOOLEAN := r.prompt_tokens IS NOT NULL AND r.completion_tokens IS NOT NULL;
  v_llm BOOLEAN := r.source = 'llm';
  v_pair BOOLEAN := r.status = 'done' AND r.score IS NOT NULL AND r.user_rating IS NOT NULL;
  v_s BIGINT := round(r.score * 100);
  v_r BIGINT := r.user_rating;
  v_hour TIMESTAMP := date_trunc('hour', r.created_at);
  v_left INTEGER;
BEGIN
  IF r.created_at IS NULL THEN
    -- Never counted (the rollup's window is by time): such a row is read by no window either.
    RETURN;
  END IF;
  INSERT INTO reviewer_hourly_stats AS h (project_id, reviewer_agent_id, hour, review_rows, reviews,
    metered_calls, prompt_tokens, completion_tokens, priced_calls, cost, unpriced_calls, unmetered_calls,
    pairs, sum_score, sum_score_sq, sum_rating, sum_rating_sq, sum_score_rating, sum_abs_error)
  VALUES (r.project_id, r.reviewer_agent_id, v_hour, p_sign,
    CASE WHEN r.status = 'done' THEN p_sign ELSE 0 END,
    CASE WHEN v_metered THEN p_sign ELSE 0 END,
    CASE WHEN v_metered THEN p_sign * r.prompt_tokens ELSE 0 END,
    CASE WHEN v_metered THEN p_sign * r.completion_tokens ELSE 0 END,
    CASE WHEN v_metered AND r.estimated_cost IS NOT NULL THEN p_sign ELSE 0 END,
    CASE WHEN v_metered AND r.estimated_cost IS NOT NULL THEN p_sign * r.estimated_cost ELSE 0 END,
    CASE WHEN v_llm AND v_metered AND r.estimated_cost IS NULL THEN p_sign ELSE 0 END,
    CASE WHEN v_llm AND NOT v_metered THEN p_sign ELSE 0 END,
    CASE WHEN v_pair THEN p_sign ELSE 0 END,
    CASE WHEN v_pair THEN p_sign * v_s ELSE 0 END,
    CASE WHEN v_pair THEN p_sign * v_s * v_s ELSE 0 END,
    CASE WHEN v_pair THEN p_sign * v_r ELSE 0 END,
    CASE WHEN v_pair THEN p_sign * v_r * v_r ELSE 0 END,
    CASE WHEN v_pair THEN p_sign * v_s * v_r ELSE 0 END,
    CASE WHEN v_pair THEN p_sign * abs(v_s - 25 * (v_r - 1)) ELSE 0 END)
  ON CONFLICT (project_id, reviewer_agent_id, hour) DO UPDATE SET
    review_rows = h.review_rows + excluded.review_rows,
    reviews = h.reviews + excluded.reviews,
    metered_calls = h.metered_calls + excluded.metered_calls,
    prompt_tokens = h.prompt_tokens + excluded.prompt_tokens,
    completion_tokens = h.completion_tokens + excluded.completion_tokens,
    priced_calls = h.priced_calls + excluded.priced_calls,
    cost = h.cost + excluded.cost,
    unpriced_calls = h.unpriced_calls + excluded.unpriced_calls,
    unmetered_calls = h.unmetered_calls + excluded.unmetered_calls,
    pairs = h.pairs + excluded.pairs,
    sum_score = h.sum_score + excluded.sum_score,
    sum_score_sq = h.sum_score_sq + excluded.sum_score_sq,
    sum_rating = h.sum_rating + excluded.sum_rating,
    sum_rating_sq = h.sum_rating_sq + excluded.sum_rating_sq,
    sum_score_rating = h.sum_score_rating + excluded.sum_score_rating,
    sum_abs_error = h.sum_abs_error + excluded.sum_abs_error
  RETURNING h.review_rows INTO v_left;
  IF v_left = 0 THEN
    DELETE FROM reviewer_hourly_stats
    WHERE project_id = r.project_id AND reviewer_agent_id = r.reviewer_agent_id AND hour = v_hour
      AND review_rows = 0;
  END IF;
END
$$;

CREATE FUNCTION merit_count_review_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP IN ('UPDATE', 'DELETE') THEN
    PERFORM merit_count_review(OLD, -1);
  END IF;
  IF TG_OP IN ('INSERT', 'UPDATE') THEN
    PERFORM merit_count_review(NEW, 1);
  END IF;
  RETURN NULL;
END
$$;

-- A new review (or one moved to another task) takes its task's current rating. Writers lock the task row
-- before writing a review or a rating (STATS_LOCK_ORDER, step 1), so the rating read here is committed
-- and a rating written later finds this review.
CREATE FUNCTION merit_set_review_rating() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' OR NEW.task_id IS DISTINCT FROM OLD.task_id THEN
    NEW.user_rating := (SELECT s.user_rating FROM agent_performance_scores s WHERE s.task_id = NEW.task_id);
  END IF;
  RETURN NEW;
END
$$;

-- Backfill, before the counting triggers exist.
INSERT INTO reviewer_hourly_stats (project_id, reviewer_agent_id, hour, review_rows, reviews, metered_calls,
  prompt_tokens, completion_tokens, priced_calls, cost, unpriced_calls, unmetered_calls, pairs, sum_score,
  sum_score_sq, sum_rating, sum_rating_sq, sum_score_rating, sum_abs_error)
SELECT project_id, reviewer_agent_id, date_trunc('hour', created_at),
  count(*),
  count(*) FILTER (WHERE status = 'done'),
  count(*) FILTER (WHERE metered),
  coalesce(sum(prompt_tokens) FILTER (WHERE metered), 0),
  coalesce(sum(completion_tokens) FILTER (WHERE metered), 0),
  count(*) FILTER (WHERE metered AND estimated_cost IS NOT NULL),
  coalesce(sum(estimated_cost) FILTER (WHERE metered), 0),
  count(*) FILTER (WHERE source = 'llm' AND metered AND estimated_cost IS NULL),
  count(*) FILTER (WHERE source = 'llm' AND NOT metered),
  count(*) FILTER (WHERE pair),
  coalesce(sum(s) FILTER (WHERE pair), 0),
  coalesce(sum(s * s) FILTER (WHERE pair), 0),
  coalesce(sum(user_rating) FILTER (WHERE pair), 0),
  coalesce(sum(user_rating * user_rating) FILTER (WHERE pair), 0),
  coalesce(sum(s * user_rating) FILTER (WHERE pair), 0),
  coalesce(sum(abs(s - 25 * (user_rating - 1))) FILTER (WHERE pair), 0)
FROM (
  SELECT p.*, (p.prompt_tokens IS NOT NULL AND p.completion_tokens IS NOT NULL) AS metered,
    (p.status = 'done' AND p.score IS NOT NULL AND p.user_rating IS NOT NULL) AS pair,
    round(p.score * 100)::bigint AS s
  FROM agent_peer_evaluations p
  WHERE p.created_at IS NOT NULL
) reviews
GROUP BY 1, 2, 3;

CREATE TRIGGER agent_peer_evaluations_rating BEFORE INSERT OR UPDATE OF task_id ON agent_peer_evaluations
  FOR EACH ROW EXECUTE FUNCTION merit_set_review_rating();
CREATE TRIGGER agent_peer_evaluations_count_insert_delete AFTER INSERT OR DELETE ON agent_peer_evaluations
  FOR EACH ROW EXECUTE FUNCTION merit_count_review_change();
CREATE TRIGGER agent_peer_evaluations_count_update AFTER UPDATE ON agent_peer_evaluations
  FOR EACH ROW
  -- A flat OR chain, not a row comparison: PostgreSQL prints it back as it reads it, so the schema repair
  -- (src/db/schema-repair.ts) recreates the trigger with the same definition.
  WHEN (OLD.project_id IS DISTINCT FROM NEW.project_id OR OLD.reviewer_agent_id IS DISTINCT FROM NEW.reviewer_agent_id
    OR OLD.created_at IS DISTINCT FROM NEW.created_at OR OLD.status IS DISTINCT FROM NEW.status
    OR OLD.score IS DISTINCT FROM NEW.score OR OLD.source IS DISTINCT FROM NEW.source
    OR OLD.prompt_tokens IS DISTINCT FROM NEW.prompt_tokens OR OLD.completion_tokens IS DISTINCT FROM NEW.completion_tokens
    OR OLD.estimated_cost IS DISTINCT FROM NEW.estimated_cost OR OLD.user_rating IS DISTINCT FROM NEW.user_rating)
  EXECUTE FUNCTION merit_count_review_change();

-- A task's rating reaches its reviews, one review at a time in (reviewer, hour) order: two ratings of
-- different tasks reviewed in the same hours lock the hours' rows in the same order (no deadlock).
CREATE FUNCTION merit_pass_rating_to_reviews() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  v_task UUID := CASE WHEN TG_OP = 'DELETE' THEN OLD.task_id ELSE NEW.task_id END;
  v_rating SMALLINT := CASE WHEN TG_OP = 'DELETE' THEN NULL ELSE NEW.user_rating END;
  v_review RECORD;
BEGIN
  FOR v_review IN
    SELECT id FROM agent_peer_evaluations
    WHERE task_id = v_task AND user_rating IS DISTINCT FROM v_rating
    ORDER BY reviewer_agent_id, date_trunc('hour', created_at)
  LOOP
    UPDATE agent_peer_evaluations SET user_rating = v_rating WHERE id = v_review.id;
  END LOOP;
  IF TG_OP = 'UPDATE' AND NEW.task_id IS DISTINCT FROM OLD.task_id THEN
    FOR v_review IN
      SELECT id FROM agent_peer_evaluations
      WHERE task_id = OLD.task_id AND user_rating IS NOT NULL
      ORDER BY reviewer_agent_id, date_trunc('hour', created_at)
    LOOP
      UPDATE agent_peer_evaluations SET user_rating = NULL WHERE id = v_review.id;
    END LOOP;
  END IF;
  RETURN NULL;
END
$$;
CREATE TRIGGER agent_performance_scores_review_rating_insert AFTER INSERT ON agent_performance_scores
  FOR EACH ROW WHEN (NEW.user_rating IS NOT NULL) EXECUTE FUNCTION merit_pass_rating_to_reviews();
CREATE TRIGGER agent_performance_scores_review_rating_update AFTER UPDATE OF user_rating, task_id
  ON agent_performance_scores
  FOR EACH ROW
  WHEN (OLD.user_rating IS DISTINCT FROM NEW.user_rating OR OLD.task_id IS DISTINCT FROM NEW.task_id)
  EXECUTE FUNCTION merit_pass_rating_to_reviews();
CREATE TRIGGER agent_performance_scores_review_rating_delete AFTER DELETE ON agent_performance_scores
  FOR EACH ROW WHEN (OLD.user_rating IS NOT NULL) EXECUTE FUNCTION merit_pass_rating_to_reviews();

-- Evaluations: one evaluation's contribution to its hour.
CREATE FUNCTION merit_count_evaluation(e task_evaluations, p_sign INTEGER) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  v_metered BOOLEAN := e.prompt_tokens IS NOT NULL AND e.completion_tokens IS NOT NULL;
  v_llm BOOLEAN := e.kind = 'judge';
  v_hour TIMESTAMPTZ := date_trunc('hour', e.created_at, 'UTC');
  v_left INTEGER;
BEGIN
  INSERT INTO evaluator_hourly_spend AS h (project_id, kind, model, hour, evaluations, metered_calls,
    prompt_tokens, completion_tokens, priced_calls, cost, unpriced_calls, unmetered_calls)
  VALUES (e.project_id, e.kind, e.model, v_hour, p_sign,
    CASE WHEN v_metered THEN p_sign ELSE 0 END,
    CASE WHEN v_metered THEN p_sign * e.prompt_tokens ELSE 0 END,
    CASE WHEN v_metered THEN p_sign * e.completion_tokens ELSE 0 END,
    CASE WHEN v_metered AND e.estimated_cost IS NOT NULL THEN p_sign ELSE 0 END,
    CASE WHEN v_metered AND e.estimated_cost IS NOT NULL THEN p_sign * e.estimated_cost ELSE 0 END,
    CASE WHEN v_llm AND v_metered AND e.estimated_cost IS NULL THEN p_sign ELSE 0 END,
    CASE WHEN v_llm AND NOT v_metered THEN p_sign ELSE 0 END)
  ON CONFLICT (project_id, hour, kind, model) DO UPDATE SET
    evaluations = h.evaluations + excluded.evaluations,
    metered_calls = h.metered_calls + excluded.metered_calls,
    prompt_tokens = h.prompt_tokens + excluded.prompt_tokens,
    completion_tokens = h.completion_tokens + excluded.completion_tokens,
    priced_calls = h.priced_calls + excluded.priced_calls,
    cost = h.cost + excluded.cost,
    unpriced_calls = h.unpriced_calls + excluded.unpriced_calls,
    unmetered_calls = h.unmetered_calls + excluded.unmetered_calls
  RETURNING h.evaluations INTO v_left;
  IF v_left = 0 THEN
    DELETE FROM evaluator_hourly_spend
    WHERE project_id = e.project_id AND hour = v_hour AND kind = e.kind AND model IS NOT DISTINCT FROM e.model
      AND evaluations = 0;
  END IF;
END
$$;

CREATE FUNCTION merit_count_evaluation_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP IN ('UPDATE', 'DELETE') THEN
    PERFORM merit_count_evaluation(OLD, -1);
  END IF;
  IF TG_OP IN ('INSERT', 'UPDATE') THEN
    PERFORM merit_count_evaluation(NEW, 1);
  END IF;
  RETURN NULL;
END
$$;

INSERT INTO evaluator_hourly_spend (project_id, kind, model, hour, evaluations, metered_calls, prompt_tokens,
  completion_tokens, priced_calls, cost, unpriced_calls, unmetered_calls)
SELECT project_id, kind, model, date_trunc('hour', created_at, 'UTC'),
  count(*),
  count(*) FILTER (WHERE metered),
  coalesce(sum(prompt_tokens) FILTER (WHERE metered), 0),
  coalesce(sum(completion_tokens) FILTER (WHERE metered), 0),
  count(*) FILTER (WHERE metered AND estimated_cost IS NOT NULL),
  coalesce(sum(estimated_cost) FILTER (WHERE metered), 0),
  count(*) FILTER (WHERE kind = 'judge' AND metered AND estimated_cost IS NULL),
  count(*) FILTER (WHERE kind = 'judge' AND NOT metered)
FROM (
  SELECT e.*, (e.prompt_tokens IS NOT NULL AND e.completion_tokens IS NOT NULL) AS metered
  FROM task_evaluations e
) evaluations
GROUP BY 1, 2, 3, 4;

CREATE TRIGGER task_evaluations_count_insert_delete AFTER INSERT OR DELETE ON task_evaluations
  FOR EACH ROW EXECUTE FUNCTION merit_count_evaluation_change();
CREATE TRIGGER task_evaluations_count_update AFTER UPDATE ON task_evaluations
  FOR EACH ROW
  WHEN (OLD.project_id IS DISTINCT FROM NEW.project_id OR OLD.kind IS DISTINCT FROM NEW.kind
    OR OLD.model IS DISTINCT FROM NEW.model OR OLD.created_at IS DISTINCT FROM NEW.created_at
    OR OLD.prompt_tokens IS DISTINCT FROM NEW.prompt_tokens OR OLD.completion_tokens IS DISTINCT FROM NEW.completion_tokens
    OR OLD.estimated_cost IS DISTINCT FROM NEW.estimated_cost)
  EXECUTE FUNCTION merit_count_evaluation_change();
