-- Read paths at scale (issue 12): the trend's cost-against-quality grid reads an agent's newest scored,
-- priced score rows of a window (at most 2,000) from this index alone. Reading them through the tasks
-- index and each task's score row took ~160 ms at 1M tasks (a heap fetch of both rows per task); an
-- index-only scan of the same rows takes ~1 ms.
CREATE INDEX agent_performance_scores_cost_quality_idx
  ON agent_performance_scores (project_id, agent_id, created_at DESC)
  INCLUDE (user_id, estimated_cost, overall_score)
  WHERE estimated_cost IS NOT NULL AND overall_score IS NOT NULL;
