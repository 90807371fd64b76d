-- Read paths at scale (issue 12): GET /api/reviewers read 720 rows of reviewer_hourly_stats per reviewer
-- for a 30-day window: sparse at 10k tasks, every hour filled at 1M (p50 4.4 -> 8.1 ms, the one read
-- endpoint whose cost still grew with the history's density). reviewer_daily_stats keeps the same sums
-- per UTC day, so a window reads its whole days there and only the whole hours of its partial first and
-- last days from reviewer_hourly_stats (splitRange, as the task statistics do): ~30 rows per reviewer.
-- The evaluators' spend the same endpoint shows gets a daily level too (evaluator_daily_spend).

CREATE TABLE reviewer_daily_stats (
  project_id UUID NOT NULL,
  reviewer_agent_id VARCHAR(50) NOT NULL,
  -- The UTC day of the reviews' created_at (a TIMESTAMP in UTC).
  day DATE NOT NULL,
  -- The columns of reviewer_hourly_stats (migration 024), summed over the day's hours.
  review_rows INTEGER NOT NULL DEFAULT 0,
  reviews INTEGER NOT NULL DEFAULT 0,
  metered_calls INTEGER NOT NULL DEFAULT 0,
  prompt_tokens BIGINT NOT NULL DEFAULT 0,
  completion_tokens BIGINT NOT NULL DEFAULT 0,
  priced_calls INTEGER NOT NULL DEFAULT 0,
  cost NUMERIC NOT NULL DEFAULT 0,
  unpriced_calls INTEGER NOT NULL DEFAULT 0,
  unmetered_calls INTEGER NOT NULL DEFAULT 0,
  pairs INTEGER NOT NULL DEFAULT 0,
  sum_score BIGINT NOT NULL DEFAULT 0,
  sum_score_sq BIGINT NOT NULL DEFAULT 0,
  sum_rating BIGINT NOT NULL DEFAULT 0,
  sum_rating_sq BIGINT NOT NULL DEFAULT 0,
  sum_score_rating BIGINT NOT NULL DEFAULT 0,
  sum_abs_error BIGINT NOT NULL DEFAULT 0,
  PRIMARY KEY (project_id, reviewer_agent_id, day)
)
-- Every review and rating of a day updates its row (see 024).
WITH (fillfactor = 50, autovacuum_vacuum_scale_factor = 0.01, autovacuum_vacuum_threshold = 1000);

CREATE INDEX reviewer_daily_stats_project_day_idx ON reviewer_daily_stats (project_id, day);

CREATE TABLE evaluator_daily_spend (
  project_id UUID NOT NULL,
  kind TEXT NOT NULL,
  model TEXT,
  -- The UTC day of the evaluations' created_at.
  day DATE NOT NULL,
  -- The columns of evaluator_hourly_spend (migration 024), summed over the day's hours.
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
CREATE UNIQUE INDEX evaluator_daily_spend_key ON evaluator_daily_spend (project_id, day, kind, model)
  NULLS NOT DISTINCT;

-- Every writer of a review takes its row first: with the review table held, the backfill below reads
-- hours no writer is still moving, and a writer waiting here counts with the new function after commit.
-- The same for evaluations.
LOCK TABLE agent_peer_evaluations, task_evaluations IN SHARE ROW EXCLUSIVE MODE;

INSERT INTO reviewer_daily_stats (project_id, reviewer_agent_id, day, review_rows, reviews, metered_calls,
  prompt_tokens, completion_tokens, priced_calls, cost, unpriced_calls, unmetered_calls, pairs, sum_score,
  sum_score_sq, sum_rating, sum_rating_sq, sum_score_rating, sum_abs_error)
SELECT project_id, reviewer_agent_id, hour::date, sum(review_rows), sum(reviews), sum(metered_calls),
  sum(prompt_tokens), sum(completion_tokens), sum(priced_calls), sum(cost), sum(unpriced_calls),
  sum(unmetered_calls), sum(pairs), sum(sum_score), sum(sum_score_sq), sum(sum_rating), sum(sum_rating_sq),
  sum(sum_score_rating), sum(sum_abs_error)
FROM reviewer_hourly_stats
GROUP BY 1, 2, 3;

INSERT INTO evaluator_daily_spend (project_id, kind, model, day, evaluations, metered_calls, prompt_tokens,
  completion_tokens, priced_calls, cost, unpriced_calls, unmetered_calls)
SELECT project_id, kind, model, (hour AT TIME ZONE 'UTC')::date, sum(evaluations), sum(metered_calls),
  sum(prompt_tokens), sum(completion_tokens), sum(priced_calls), sum(cost), sum(unpriced_calls),
  sum(unmetered_calls)
FROM evaluator_hourly_spend
GROUP BY 1, 2, 3, 4;

-- One review's contribution to its day and its hour (sign 1 adds it, -1 takes it away). The day's row is
-- taken before the hour's by every writer, and a rating reaches its task's reviews in (reviewer, hour)
-- order (merit_pass_rating_to_reviews), so each transaction locks a reviewer's rows in (day, hour) order:
-- two ratings of tasks reviewed in the same day wait for one another, never in a cycle.
CREATE OR REPLACE FUNCTION merit_count_review(r agent_peer_evaluations, p_sign INTEGER) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  v_metered BOOLEAN := r.prompt_tokens IS NOT NULL AND r.completion_tokens IS NOT NULL;
  v_llm BOOLEAN := r.source = 'llm';
  v_pair BOOLEAN := r.status = 'done' AND r.score IS NOT NULL AND r.user_rating IS NOT NULL;
  v_s BIGINT := round(r.score * 100);
  v_r BIGINT := r.user_rating;
  v_hour TIMESTAMP := date_trunc('hour', r.created_at);
  -- The contribution, once for both rows (a row of the hourly table: its columns are the daily one's).
  c reviewer_hourly_stats;
  v_left INTEGER;
BEGIN
  IF r.created_at IS NULL THEN
    -- Never counted (the rollups' windows are by time): such a row is read by no window either.
    RETURN;
  END IF;
  c.review_rows := p_sign;
  c.reviews := CASE WHEN r.status = 'done' THEN p_sign ELSE 0 END;
  c.metered_calls := CASE WHEN v_metered THEN p_sign ELSE 0 END;
  c.prompt_tokens := CASE WHEN v_metered THEN p_sign * r.prompt_tokens ELSE 0 END;
  c.completion_tokens := CASE WHEN v_metered THEN p_sign * r.completion_tokens ELSE 0 END;
  c.priced_calls := CASE WHEN v_metered AND r.estimated_cost IS NOT NULL THEN p_sign ELSE 0 END;
  c.cost := CASE WHEN v_metered AND r.estimated_cost IS NOT NULL THEN p_sign * r.estimated_cost ELSE 0 END;
  c.unpriced_calls := CASE WHEN v_llm AND v_metered AND r.estimated_cost IS NULL THEN p_sign ELSE 0 END;
  c.unmetered_calls := CASE WHEN v_llm AND NOT v_metered THEN p_sign ELSE 0 END;
  c.pairs := CASE WHEN v_pair THEN p_sign ELSE 0 END;
  c.sum_score := CASE WHEN v_pair THEN p_sign * v_s ELSE 0 END;
  c.sum_score_sq := CASE WHEN v_pair THEN p_sign * v_s * v_s ELSE 0 END;
  c.sum_rating := CASE WHEN v_pair THEN p_sign * v_r ELSE 0 END;
  c.sum_rating_sq := CASE WHEN v_pair THEN p_sign * v_r * v_r ELSE 0 END;
  c.sum_score_rating := CASE WHEN v_pair THEN p_sign * v_s * v_r ELSE 0 END;
  c.sum_abs_error := CASE WHEN v_pair THEN p_sign * abs(v_s - 25 * (v_r - 1)) ELSE 0 END;

  INSERT INTO reviewer_daily_stats AS d (project_id, reviewer_agent_id, day, review_rows, reviews,
    metered_calls, prompt_tokens, completion_tokens, priced_calls, cost, unpriced_calls, unmetered_calls,
    pairs, sum_score, sum_score_sq, sum_rating, sum_rating_sq, sum_score_rating, sum_abs_error)
  VALUES (r.project_id, r.reviewer_agent_id, v_hour::date, c.review_rows, c.reviews, c.metered_calls,
    c.prompt_tokens, c.completion_tokens, c.priced_calls, c.cost, c.unpriced_calls, c.unmetered_calls,
    c.pairs, c.sum_score, c.sum_score_sq, c.sum_rating, c.sum_rating_sq, c.sum_score_rating, c.sum_abs_error)
  ON CONFLICT (project_id, reviewer_agent_id, day) DO UPDATE SET
    review_rows = d.review_rows + excluded.review_rows,
    reviews = d.reviews + excluded.reviews,
    metered_calls = d.metered_calls + excluded.metered_calls,
    prompt_tokens = d.prompt_tokens + excluded.prompt_tokens,
    completion_tokens = d.completion_tokens + excluded.completion_tokens,
    priced_calls = d.priced_calls + excluded.priced_calls,
    cost = d.cost + excluded.cost,
    unpriced_calls = d.unpriced_calls + excluded.unpriced_calls,
    unmetered_calls = d.unmetered_calls + excluded.unmetered_calls,
    pairs = d.pairs + excluded.pairs,
    sum_score = d.sum_score + excluded.sum_score,
    sum_score_sq = d.sum_score_sq + excluded.sum_score_sq,
    sum_rating = d.sum_rating + excluded.sum_rating,
    sum_rating_sq = d.sum_rating_sq + excluded.sum_rating_sq,
    sum_score_rating = d.sum_score_rating + excluded.sum_score_rating,
    sum_abs_error = d.sum_abs_error + excluded.sum_abs_error
  RETURNING d.review_rows INTO v_left;
  IF v_left = 0 THEN
    DELETE FROM reviewer_daily_stats
    WHERE project_id = r.project_id AND reviewer_agent_id = r.reviewer_agent_id AND day = v_hour::date
      AND review_rows = 0;
  END IF;

  INSERT INTO reviewer_hourly_stats AS h (project_id, reviewer_agent_id, hour, review_rows, reviews,
    metered_calls, prompt_tokens, completion_tokens, priced_calls, cost, unpriced_calls, unmetered_calls,
    pairs, sum_score, sum_score_sq, sum_rating, sum_rating_sq, sum_score_rating, sum_abs_error)
  VALUES (r.project_id, r.reviewer_agent_id, v_hour, c.review_rows, c.reviews, c.metered_calls,
    c.prompt_tokens, c.completion_tokens, c.priced_calls, c.cost, c.unpriced_calls, c.unmetered_calls,
    c.pairs, c.sum_score, c.sum_score_sq, c.sum_rating, c.sum_rating_sq, c.sum_score_rating, c.sum_abs_error)
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

-- One evaluation's contribution to its day and its hour, the day's row first (as for reviews).
CREATE OR REPLACE FUNCTION merit_count_evaluation(e task_evaluations, p_sign INTEGER) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  v_metered BOOLEAN := e.prompt_tokens IS NOT NULL AND e.completion_tokens IS NOT NULL;
  v_llm BOOLEAN := e.kind = 'judge';
  v_hour TIMESTAMPTZ := date_trunc('hour', e.created_at, 'UTC');
  v_day DATE := (e.created_at AT TIME ZONE 'UTC')::date;
  c evaluator_hourly_spend;
  v_left INTEGER;
BEGIN
  c.evaluations := p_sign;
  c.metered_calls := CASE WHEN v_metered THEN p_sign ELSE 0 END;
  c.prompt_tokens := CASE WHEN v_metered THEN p_sign * e.prompt_tokens ELSE 0 END;
  c.completion_tokens := CASE WHEN v_metered THEN p_sign * e.completion_tokens ELSE 0 END;
  c.priced_calls := CASE WHEN v_metered AND e.estimated_cost IS NOT NULL THEN p_sign ELSE 0 END;
  c.cost := CASE WHEN v_metered AND e.estimated_cost IS NOT NULL THEN p_sign * e.estimated_cost ELSE 0 END;
  c.unpriced_calls := CASE WHEN v_llm AND v_metered AND e.estimated_cost IS NULL THEN p_sign ELSE 0 END;
  c.unmetered_calls := CASE WHEN v_llm AND NOT v_metered THEN p_sign ELSE 0 END;

  INSERT INTO evaluator_daily_spend AS d (project_id, kind, model, day, evaluations, metered_calls,
    prompt_tokens, completion_tokens, priced_calls, cost, unpriced_calls, unmetered_calls)
  VALUES (e.project_id, e.kind, e.model, v_day, c.evaluations, c.metered_calls, c.prompt_tokens,
    c.completion_tokens, c.priced_calls, c.cost, c.unpriced_calls, c.unmetered_calls)
  ON CONFLICT (project_id, day, kind, model) DO UPDATE SET
    evaluations = d.evaluations + excluded.evaluations,
    metered_calls = d.metered_calls + excluded.metered_calls,
    prompt_tokens = d.prompt_tokens + excluded.prompt_tokens,
    completion_tokens = d.completion_tokens + excluded.completion_tokens,
    priced_calls = d.priced_calls + excluded.priced_calls,
    cost = d.cost + excluded.cost,
    unpriced_calls = d.unpriced_calls + excluded.unpriced_calls,
    unmetered_calls = d.unmetered_calls + excluded.unmetered_calls
  RETURNING d.evaluations INTO v_left;
  IF v_left = 0 THEN
    DELETE FROM evaluator_daily_spend
    WHERE project_id = e.project_id AND day = v_day AND kind = e.kind AND model IS NOT DISTINCT FROM e.model
      AND evaluations = 0;
  END IF;

  INSERT INTO evaluator_hourly_spend AS h (project_id, kind, model, hour, evaluations, metered_calls,
    prompt_tokens, completion_tokens, priced_calls, cost, unpriced_calls, unmetered_calls)
  VALUES (e.project_id, e.kind, e.model, v_hour, c.evaluations, c.metered_calls, c.prompt_tokens,
    c.completion_tokens, c.priced_calls, c.cost, c.unpriced_calls, c.unmetered_calls)
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
