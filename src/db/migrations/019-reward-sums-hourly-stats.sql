-- Read paths at scale (issue 12), second step: the router's figures from the statistics rollups, and an
-- hourly rollup for the partial days of a window.
--
-- 1. Each score row carries its task's reward: the blend of the user's rating (mapped to 0-1), the judge's
--    score (the mean of the accuracy, relevance and completeness present) and the peer score, weighted
--    0.5 / 0.3 / 0.2 and renormalised over the parts present (blendTaskReward in src/ranking/ranking.ts;
--    a unit test holds the two equal), to 3 decimals; NULL while none is known. A generated column, so
--    every writer of a score (and every hand-written UPDATE) keeps it true. A failed task's reward is 0
--    whatever its score row says: the sums below apply that rule.
ALTER TABLE agent_performance_scores ADD COLUMN reward NUMERIC(4,3) GENERATED ALWAYS AS (
  round(
    (coalesce(0.5 * (user_rating - 1) / 4.0, 0)
      + coalesce(0.3 * (coalesce(accuracy_score, 0) + coalesce(relevance_score, 0) + coalesce(completeness_score, 0))
          / nullif((accuracy_score IS NOT NULL)::int + (relevance_score IS NOT NULL)::int
            + (completeness_score IS NOT NULL)::int, 0), 0)
      + coalesce(0.2 * peer_score, 0))
    / nullif(
      (CASE WHEN user_rating IS NOT NULL THEN 0.5 ELSE 0 END)
      + (CASE WHEN coalesce(accuracy_score, relevance_score, completeness_score) IS NOT NULL THEN 0.3 ELSE 0 END)
      + (CASE WHEN peer_score IS NOT NULL THEN 0.2 ELSE 0 END), 0),
    3)
) STORED;

-- 2. The router's sums, in every statistics table (kept by STATS_UPSERT_CTES like the others):
--    rewarded_tasks    finished tasks with a reward (every failure, worth 0, and every completed task
--                      with a known reward); sum_reward and sum_sq_reward over them;
--    unscored_tasks    completed tasks whose reward is not known yet;
--    completed_priced, completed_cost        completed tasks whose cost is known, and that cost;
--    completed_timed, completed_duration_ms  completed tasks whose duration is known, and that duration.
-- Days rolled up by retention before this migration have no reward figures (their tasks are gone): they
-- count in none of these sums, rather than as zeros.
ALTER TABLE agent_performance_stats
  ADD COLUMN rewarded_tasks INTEGER NOT NULL DEFAULT 0,
  ADD COLUMN sum_reward NUMERIC NOT NULL DEFAULT 0,
  ADD COLUMN sum_sq_reward NUMERIC NOT NULL DEFAULT 0,
  ADD COLUMN unscored_tasks INTEGER NOT NULL DEFAULT 0,
  ADD COLUMN completed_priced INTEGER NOT NULL DEFAULT 0,
  ADD COLUMN completed_cost NUMERIC NOT NULL DEFAULT 0,
  ADD COLUMN completed_timed INTEGER NOT NULL DEFAULT 0,
  ADD COLUMN completed_duration_ms BIGINT NOT NULL DEFAULT 0;
ALTER TABLE agent_category_stats
  ADD COLUMN rewarded_tasks INTEGER NOT NULL DEFAULT 0,
  ADD COLUMN sum_reward NUMERIC NOT NULL DEFAULT 0,
  ADD COLUMN sum_sq_reward NUMERIC NOT NULL DEFAULT 0,
  ADD COLUMN unscored_tasks INTEGER NOT NULL DEFAULT 0,
  ADD COLUMN completed_priced INTEGER NOT NULL DEFAULT 0,
  ADD COLUMN completed_cost NUMERIC NOT NULL DEFAULT 0,
  ADD COLUMN completed_timed INTEGER NOT NULL DEFAULT 0,
  ADD COLUMN completed_duration_ms BIGINT NOT NULL DEFAULT 0;
ALTER TABLE agent_daily_stats
  ADD COLUMN rewarded_tasks INTEGER NOT NULL DEFAULT 0,
  ADD COLUMN sum_reward NUMERIC NOT NULL DEFAULT 0,
  ADD COLUMN sum_sq_reward NUMERIC NOT NULL DEFAULT 0,
  ADD COLUMN unscored_tasks INTEGER NOT NULL DEFAULT 0,
  ADD COLUMN completed_priced INTEGER NOT NULL DEFAULT 0,
  ADD COLUMN completed_cost NUMERIC NOT NULL DEFAULT 0,
  ADD COLUMN completed_timed INTEGER NOT NULL DEFAULT 0,
  ADD COLUMN completed_duration_ms BIGINT NOT NULL DEFAULT 0;
ALTER TABLE task_daily_rollups
  ADD COLUMN rewarded_tasks INTEGER NOT NULL DEFAULT 0,
  ADD COLUMN sum_reward NUMERIC NOT NULL DEFAULT 0,
  ADD COLUMN sum_sq_reward NUMERIC NOT NULL DEFAULT 0,
  ADD COLUMN unscored_tasks INTEGER NOT NULL DEFAULT 0,
  ADD COLUMN completed_priced INTEGER NOT NULL DEFAULT 0,
  ADD COLUMN completed_cost NUMERIC NOT NULL DEFAULT 0,
  ADD COLUMN completed_timed INTEGER NOT NULL DEFAULT 0,
  ADD COLUMN completed_duration_ms BIGINT NOT NULL DEFAULT 0;

-- The new sums of the finished tasks still stored, per rollup key (agent, category, user, UTC hour).
CREATE TEMP TABLE merit_reward_backfill ON COMMIT DROP AS
SELECT t.project_id, t.agent_id, t.objective_category, t.user_id, date_trunc('hour', t.completed_at AT TIME ZONE 'UTC') AS hour,
  count(*) FILTER (WHERE t.status = 'failed' OR s.reward IS NOT NULL)::int AS rewarded_tasks,
  coalesce(sum(CASE WHEN t.status = 'failed' THEN 0 ELSE s.reward END), 0) AS sum_reward,
  coalesce(sum(CASE WHEN t.status = 'failed' THEN 0 ELSE s.reward * s.reward END), 0) AS sum_sq_reward,
  count(*) FILTER (WHERE t.status = 'completed' AND s.reward IS NULL)::int AS unscored_tasks,
  count(t.estimated_cost) FILTER (WHERE t.status = 'completed')::int AS completed_priced,
  coalesce(sum(t.estimated_cost) FILTER (WHERE t.status = 'completed'), 0) AS completed_cost,
  count(t.duration_ms) FILTER (WHERE t.status = 'completed')::int AS completed_timed,
  coalesce(sum(t.duration_ms) FILTER (WHERE t.status = 'completed'), 0)::bigint AS completed_duration_ms
FROM tasks t
LEFT JOIN agent_performance_scores s ON s.task_id = t.id
WHERE t.status IN ('completed', 'failed') AND t.completed_at IS NOT NULL
GROUP BY 1, 2, 3, 4, 5;

UPDATE agent_performance_stats a SET rewarded_tasks = b.rewarded_tasks, sum_reward = b.sum_reward,
  sum_sq_reward = b.sum_sq_reward, unscored_tasks = b.unscored_tasks, completed_priced = b.completed_priced,
  completed_cost = b.completed_cost, completed_timed = b.completed_timed, completed_duration_ms = b.completed_duration_ms
FROM (
  SELECT project_id, agent_id, sum(rewarded_tasks) AS rewarded_tasks, sum(sum_reward) AS sum_reward,
    sum(sum_sq_reward) AS sum_sq_reward, sum(unscored_tasks) AS unscored_tasks, sum(completed_priced) AS completed_priced,
    sum(completed_cost) AS completed_cost, sum(completed_timed) AS completed_timed,
    sum(completed_duration_ms) AS completed_duration_ms
  FROM merit_reward_backfill GROUP BY 1, 2
) b
WHERE a.project_id = b.project_id AND a.agent_id = b.agent_id;

UPDATE agent_category_stats a SET rewarded_tasks = b.rewarded_tasks, sum_reward = b.sum_reward,
  sum_sq_reward = b.sum_sq_reward, unscored_tasks = b.unscored_tasks, completed_priced = b.completed_priced,
  completed_cost = b.completed_cost, completed_timed = b.completed_timed, completed_duration_ms = b.completed_duration_ms
FROM (
  SELECT project_id, agent_id, objective_category, sum(rewarded_tasks) AS rewarded_tasks, sum(sum_reward) AS sum_reward,
    sum(sum_sq_reward) AS sum_sq_reward, sum(unscored_tasks) AS unscored_tasks, sum(completed_priced) AS completed_priced,
    sum(completed_cost) AS completed_cost, sum(completed_timed) AS completed_timed,
    sum(completed_duration_ms) AS completed_duration_ms
  FROM merit_reward_backfill GROUP BY 1, 2, 3
) b
WHERE a.project_id = b.project_id AND a.agent_id = b.agent_id AND a.objective_category = b.objective_category;

UPDATE agent_daily_stats a SET rewarded_tasks = b.rewarded_tasks, sum_reward = b.sum_reward,
  sum_sq_reward = b.sum_sq_reward, unscored_tasks = b.unscored_tasks, completed_priced = b.completed_priced,
  completed_cost = b.completed_cost, completed_timed = b.completed_timed, completed_duration_ms = b.completed_duration_ms
FROM (
  SELECT project_id, agent_id, objective_category, user_id, hour::date AS day,
    sum(rewarded_tasks) AS rewarded_tasks, sum(sum_reward) AS sum_reward,
    sum(sum_sq_reward) AS sum_sq_reward, sum(unscored_tasks) AS unscored_tasks, sum(completed_priced) AS completed_priced,
    sum(completed_cost) AS completed_cost, sum(completed_timed) AS completed_timed,
    sum(completed_duration_ms) AS completed_duration_ms
  FROM merit_reward_backfill GROUP BY 1, 2, 3, 4, 5
) b
WHERE a.project_id = b.project_id AND a.agent_id = b.agent_id AND a.objective_category = b.objective_category
  AND a.user_id = b.user_id AND a.day = b.day;

-- 3. The hourly rollup: agent_daily_stats' sums per UTC hour of completed_at, kept by the same statement
--    (fifth in STATS_LOCK_ORDER). A window reads its whole days from agent_daily_stats, the whole hours
--    of its partial first and last days from here, and only its partial first and last hours from tasks.
--    Rebuilt by recompute_stats from the stored tasks only (an hour needs its tasks; retention's daily
--    rollups keep days, not hours).
CREATE TABLE agent_hourly_stats (
  project_id UUID NOT NULL,
  agent_id VARCHAR(50) NOT NULL,
  objective_category VARCHAR(50) NOT NULL,
  user_id UUID NOT NULL,
  hour TIMESTAMPTZ NOT NULL,
  total_tasks INTEGER NOT NULL DEFAULT 0,
  successful_tasks INTEGER NOT NULL DEFAULT 0,
  failed_tasks INTEGER NOT NULL DEFAULT 0,
  scored_tasks INTEGER NOT NULL DEFAULT 0,
  sum_overall_score NUMERIC NOT NULL DEFAULT 0,
  sum_sq_overall_score NUMERIC NOT NULL DEFAULT 0,
  rated_tasks INTEGER NOT NULL DEFAULT 0,
  sum_user_rating NUMERIC NOT NULL DEFAULT 0,
  ratings_1 INTEGER NOT NULL DEFAULT 0,
  ratings_2 INTEGER NOT NULL DEFAULT 0,
  ratings_3 INTEGER NOT NULL DEFAULT 0,
  ratings_4 INTEGER NOT NULL DEFAULT 0,
  ratings_5 INTEGER NOT NULL DEFAULT 0,
  total_tokens BIGINT NOT NULL DEFAULT 0,
  total_cost NUMERIC(14,6) NOT NULL DEFAULT 0,
  metered_tasks INTEGER NOT NULL DEFAULT 0,
  priced_tasks INTEGER NOT NULL DEFAULT 0,
  total_duration_ms BIGINT NOT NULL DEFAULT 0,
  reward_points INTEGER NOT NULL DEFAULT 0,
  rewarded_tasks INTEGER NOT NULL DEFAULT 0,
  sum_reward NUMERIC NOT NULL DEFAULT 0,
  sum_sq_reward NUMERIC NOT NULL DEFAULT 0,
  unscored_tasks INTEGER NOT NULL DEFAULT 0,
  completed_priced INTEGER NOT NULL DEFAULT 0,
  completed_cost NUMERIC NOT NULL DEFAULT 0,
  completed_timed INTEGER NOT NULL DEFAULT 0,
  completed_duration_ms BIGINT NOT NULL DEFAULT 0,
  first_task_at TIMESTAMPTZ,
  last_task_at TIMESTAMPTZ,
  last_updated TIMESTAMPTZ NOT NULL DEFAULT now(),
  PRIMARY KEY (project_id, agent_id, objective_category, user_id, hour),
  FOREIGN KEY (project_id, agent_id) REFERENCES agents (project_id, agent_id),
  FOREIGN KEY (project_id, objective_category)
    REFERENCES objective_templates (project_id, category) ON UPDATE CASCADE
);

-- A window's whole hours for a project: one range scan by hour.
CREATE INDEX agent_hourly_stats_project_hour_idx ON agent_hourly_stats (project_id, hour);

INSERT INTO agent_hourly_stats (project_id, agent_id, objective_category, user_id, hour, total_tasks, successful_tasks,
  failed_tasks, scored_tasks, sum_overall_score, sum_sq_overall_score, rated_tasks, sum_user_rating,
  ratings_1, ratings_2, ratings_3, ratings_4, ratings_5, total_tokens, total_cost, metered_tasks, priced_tasks,
  total_duration_ms, reward_points, rewarded_tasks, sum_reward, sum_sq_reward, unscored_tasks, completed_priced,
  completed_cost, completed_timed, completed_duration_ms, first_task_at, last_task_at)
SELECT t.project_id, t.agent_id, t.objective_category, t.user_id, date_trunc('hour', t.completed_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC',
  count(*)::int,
  count(*) FILTER (WHERE t.status = 'completed')::int,
  count(*) FILTER (WHERE t.status = 'failed')::int,
  count(s.overall_score)::int,
  coalesce(sum(s.overall_score), 0),
  coalesce(sum(s.overall_score * s.overall_score), 0),
  count(s.user_rating)::int,
  coalesce(sum(s.user_rating), 0),
  count(*) FILTER (WHERE s.user_rating = 1)::int,
  count(*) FILTER (WHERE s.user_rating = 2)::int,
  count(*) FILTER (WHERE s.user_rating = 3)::int,
  count(*) FILTER (WHERE s.user_rating = 4)::int,
  count(*) FILTER (WHERE s.user_rating = 5)::int,
  coalesce(sum(t.total_tokens), 0)::bigint,
  coalesce(sum(t.estimated_cost), 0),
  count(t.total_tokens)::int,
  count(t.estimated_cost)::int,
  coalesce(sum(t.duration_ms), 0)::bigint,
  coalesce(sum(s.reward_points), 0)::int,
  count(*) FILTER (WHERE t.status = 'failed' OR s.reward IS NOT NULL)::int,
  coalesce(sum(CASE WHEN t.status = 'failed' THEN 0 ELSE s.reward END), 0),
  coalesce(sum(CASE WHEN t.status = 'failed' THEN 0 ELSE s.reward * s.reward END), 0),
  count(*) FILTER (WHERE t.status = 'completed' AND s.reward IS NULL)::int,
  count(t.estimated_cost) FILTER (WHERE t.status = 'completed')::int,
  coalesce(sum(t.estimated_cost) FILTER (WHERE t.status = 'completed'), 0),
  count(t.duration_ms) FILTER (WHERE t.status = 'completed')::int,
  coalesce(sum(t.duration_ms) FILTER (WHERE t.status = 'completed'), 0)::bigint,
  min(t.completed_at),
  max(t.completed_at)
FROM tasks t
LEFT JOIN agent_performance_scores s ON s.task_id = t.id
WHERE t.status IN ('completed', 'failed') AND t.completed_at IS NOT NULL
GROUP BY 1, 2, 3, 4, 5;
