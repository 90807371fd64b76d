-- An agent's scored tasks are paged by the cursor (created_at, id): the index ends with id too, so
-- tasks that share a timestamp come out of the index in order instead of being sorted in memory.

CREATE INDEX agent_performance_scores_user_agent_created_idx
  ON agent_performance_scores (user_id, agent_id, created_at DESC, id DESC);
DROP INDEX agent_performance_scores_user_idx;
