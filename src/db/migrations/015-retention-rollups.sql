-- Retention (issue 12): once MERIT_RETENTION_DAYS is set, finished tasks older than that are deleted in
-- bounded batches (their scores, nodes, evaluations and reviews with them), each batch first added to
-- one row per (project, agent, category, user, UTC day) here. The statistics rebuild (recompute_stats)
-- adds these rows to what it reads from tasks, so every statistic, the leaderboard and the daily and
-- weekly score trend stay what they were. The sums are those of agent_category_stats, plus the score
-- rows' own figures the trend reads.
CREATE TABLE task_daily_rollups (
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
  -- The trend counts score rows and sums their own cost (null when none of them is priced).
  score_rows INTEGER NOT NULL DEFAULT 0,
  score_cost NUMERIC NOT NULL DEFAULT 0,
  score_priced_rows INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (project_id, agent_id, objective_category, user_id, day),
  FOREIGN KEY (project_id, agent_id) REFERENCES agents (project_id, agent_id),
  FOREIGN KEY (project_id, objective_category)
    REFERENCES objective_templates (project_id, category) ON UPDATE CASCADE
);

-- The batched delete finds the oldest finished tasks without reading the recent ones.
CREATE INDEX tasks_retention_idx ON tasks (completed_at) WHERE status IN ('completed', 'failed');
CREATE INDEX routing_decisions_retention_idx ON routing_decisions (created_at);
