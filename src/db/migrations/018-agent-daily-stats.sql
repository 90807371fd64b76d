-- Read paths at scale (issue 12): an agent's statistics per (project, agent, category, user, UTC day of
-- the task's completed_at), with the sums of agent_category_stats, kept by the same statement that
-- updates agent_performance_stats and agent_category_stats (STATS_UPSERT_CTES, third in the lock order)
-- and rebuilt by recompute_stats from tasks plus task_daily_rollups. A windowed leaderboard reads the
-- window's whole days here and only its partial first and last days from tasks, so its cost follows the
-- number of days and agents, not of tasks. Retention does not touch it: deleted days stay counted.
CREATE TABLE agent_daily_stats (
  project_id UUID NOT NULL,
  agent_id VARCHAR(50) NOT NULL,
  objective_category VARCHAR(50) NOT NULL,
  user_id UUID NOT NULL,
  day DATE NOT NULL,
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
  first_task_at TIMESTAMPTZ,
  last_task_at TIMESTAMPTZ,
  last_updated TIMESTAMPTZ NOT NULL DEFAULT now(),
  PRIMARY KEY (project_id, agent_id, objective_category, user_id, day),
  FOREIGN KEY (project_id, agent_id) REFERENCES agents (project_id, agent_id),
  -- A renamed category renames its daily rows, as it does its tasks and agent_category_stats rows.
  FOREIGN KEY (project_id, objective_category)
    REFERENCES objective_templates (project_id, category) ON UPDATE CASCADE
);

-- A window's whole days for a project: one range scan by day.
CREATE INDEX agent_daily_stats_project_day_idx ON agent_daily_stats (project_id, day);

INSERT INTO agent_daily_stats (project_id, agent_id, objective_category, user_id, day, total_tasks, successful_tasks,
  failed_tasks, scored_tasks, sum_overall_score, sum_sq_overall_score, rated_tasks, sum_user_rating,
  ratings_1, ratings_2, ratings_3, ratings_4, ratings_5, total_tokens, total_cost, metered_tasks, priced_tasks,
  total_duration_ms, reward_points, first_task_at, last_task_at)
SELECT project_id, agent_id, objective_category, user_id, day, sum(total_tasks), sum(successful_tasks),
  sum(failed_tasks), sum(scored_tasks), sum(sum_overall_score), sum(sum_sq_overall_score), sum(rated_tasks),
  sum(sum_user_rating), sum(ratings_1), sum(ratings_2), sum(ratings_3), sum(ratings_4), sum(ratings_5),
  sum(total_tokens), sum(total_cost), sum(metered_tasks), sum(priced_tasks), sum(total_duration_ms),
  sum(reward_points), min(first_task_at), max(last_task_at)
FROM (
  SELECT t.project_id, t.agent_id, t.objective_category, t.user_id, (t.completed_at AT TIME ZONE 'UTC')::date AS day,
    count(*)::int AS total_tasks,
    count(*) FILTER (WHERE t.status = 'completed')::int AS successful_tasks,
    count(*) FILTER (WHERE t.status = 'failed')::int AS failed_tasks,
    count(s.overall_score)::int AS scored_tasks,
    coalesce(sum(s.overall_score), 0) AS sum_overall_score,
    coalesce(sum(s.overall_score * s.overall_score), 0) AS sum_sq_overall_score,
    count(s.user_rating)::int AS rated_tasks,
    coalesce(sum(s.user_rating), 0) AS sum_user_rating,
    count(*) FILTER (WHERE s.user_rating = 1)::int AS ratings_1,
    count(*) FILTER (WHERE s.user_rating = 2)::int AS ratings_2,
    count(*) FILTER (WHERE s.user_rating = 3)::int AS ratings_3,
    count(*) FILTER (WHERE s.user_rating = 4)::int AS ratings_4,
    count(*) FILTER (WHERE s.user_rating = 5)::int AS ratings_5,
    coalesce(sum(t.total_tokens), 0)::bigint AS total_tokens,
    coalesce(sum(t.estimated_cost), 0) AS total_cost,
    count(t.total_tokens)::int AS metered_tasks,
    count(t.estimated_cost)::int AS priced_tasks,
    coalesce(sum(t.duration_ms), 0)::bigint AS total_duration_ms,
    coalesce(sum(s.reward_points), 0)::int AS reward_points,
    min(t.completed_at) AS first_task_at,
    max(t.completed_at) AS last_task_at
  FROM tasks t
  LEFT JOIN agent_performance_scores s ON s.task_id = t.id
  WHERE t.status IN ('completed', 'failed') AND t.completed_at IS NOT NULL
  GROUP BY 1, 2, 3, 4, 5
  UNION ALL
  SELECT project_id, agent_id, objective_category, user_id, day, total_tasks, successful_tasks, failed_tasks,
    scored_tasks, sum_overall_score, sum_sq_overall_score, rated_tasks, sum_user_rating, ratings_1, ratings_2,
    ratings_3, ratings_4, ratings_5, total_tokens, total_cost, metered_tasks, priced_tasks, total_duration_ms,
    reward_points, first_task_at, last_task_at
  FROM task_daily_rollups
) parts
GROUP BY project_id, agent_id, objective_category, user_id, day;
