-- Read paths at scale (issue 12): agent_daily_stats and agent_hourly_stats are per user, so a project-wide
-- window (the leaderboard, the router, capabilities, best agents, a project's trend) summed one row per
-- agent, category, period and user: with 50 users, 50 times the rows of one. Beside its users' rows each
-- (agent, category, period) now has an all-users row (user_id ffffffff-ffff-ffff-ffff-ffffffffffff,
-- ALL_USERS_ID in src/stats/stats.queries.ts), kept by the same statement that updates the users' rows,
-- and read by project-wide windows instead of them.

INSERT INTO agent_daily_stats (project_id, agent_id, objective_category, user_id, day, total_tasks,
  successful_tasks, failed_tasks, scored_tasks, sum_overall_score, sum_sq_overall_score, rated_tasks,
  sum_user_rating, ratings_1, ratings_2, ratings_3, ratings_4, ratings_5, total_tokens, total_cost,
  metered_tasks, priced_tasks, total_duration_ms, reward_points, rewarded_tasks, sum_reward, sum_sq_reward,
  unscored_tasks, completed_priced, completed_cost, completed_timed, completed_duration_ms, first_task_at,
  last_task_at, last_updated)
SELECT project_id, agent_id, objective_category, 'ffffffff-ffff-ffff-ffff-ffffffffffff', day,
  sum(total_tasks), sum(successful_tasks), sum(failed_tasks), sum(scored_tasks), sum(sum_overall_score),
  sum(sum_sq_overall_score), sum(rated_tasks), sum(sum_user_rating), sum(ratings_1), sum(ratings_2),
  sum(ratings_3), sum(ratings_4), sum(ratings_5), sum(total_tokens), sum(total_cost), sum(metered_tasks),
  sum(priced_tasks), sum(total_duration_ms), sum(reward_points), sum(rewarded_tasks), sum(sum_reward),
  sum(sum_sq_reward), sum(unscored_tasks), sum(completed_priced), sum(completed_cost), sum(completed_timed),
  sum(completed_duration_ms), min(first_task_at), max(last_task_at), now()
FROM agent_daily_stats
GROUP BY project_id, agent_id, objective_category, day;

INSERT INTO agent_hourly_stats (project_id, agent_id, objective_category, user_id, hour, total_tasks,
  successful_tasks, failed_tasks, scored_tasks, sum_overall_score, sum_sq_overall_score, rated_tasks,
  sum_user_rating, ratings_1, ratings_2, ratings_3, ratings_4, ratings_5, total_tokens, total_cost,
  metered_tasks, priced_tasks, total_duration_ms, reward_points, rewarded_tasks, sum_reward, sum_sq_reward,
  unscored_tasks, completed_priced, completed_cost, completed_timed, completed_duration_ms, first_task_at,
  last_task_at, last_updated)
SELECT project_id, agent_id, objective_category, 'ffffffff-ffff-ffff-ffff-ffffffffffff', hour,
  sum(total_tasks), sum(successful_tasks), sum(failed_tasks), sum(scored_tasks), sum(sum_overall_score),
  sum(sum_sq_overall_score), sum(rated_tasks), sum(sum_user_rating), sum(ratings_1), sum(ratings_2),
  sum(ratings_3), sum(ratings_4), sum(ratings_5), sum(total_tokens), sum(total_cost), sum(metered_tasks),
  sum(priced_tasks), sum(total_duration_ms), sum(reward_points), sum(rewarded_tasks), sum(sum_reward),
  sum(sum_sq_reward), sum(unscored_tasks), sum(completed_priced), sum(completed_cost), sum(completed_timed),
  sum(completed_duration_ms), min(first_task_at), max(last_task_at), now()
FROM agent_hourly_stats
GROUP BY project_id, agent_id, objective_category, hour;

-- Windows read a project's rows of one user (or of all users) by period.
DROP INDEX agent_daily_stats_project_day_idx;
CREATE INDEX agent_daily_stats_project_user_day_idx ON agent_daily_stats (project_id, user_id, day);
DROP INDEX agent_hourly_stats_project_hour_idx;
CREATE INDEX agent_hourly_stats_project_user_hour_idx ON agent_hourly_stats (project_id, user_id, hour);
