-- A node's total_tokens is unknown (NULL) when its step reported no token counts, never 0: a tool step
-- that really used 0 tokens keeps 0. Until now the column was NOT NULL DEFAULT 0, so both read as 0.
ALTER TABLE agent_node_performance
  ALTER COLUMN total_tokens DROP NOT NULL,
  ALTER COLUMN total_tokens DROP DEFAULT;

-- A stored 0 without prompt or completion tokens is the old default, not a count (a reported total of 0
-- reads the same and becomes unknown too: the rows cannot tell them apart). The update trigger of
-- migration 020 moves these runs out of agent_node_daily_stats.metered_runs at commit (their sum of
-- tokens is unchanged), so the rollup stays equal to a recompute from the nodes.
UPDATE agent_node_performance
SET total_tokens = NULL
WHERE total_tokens = 0 AND prompt_tokens IS NULL AND completion_tokens IS NULL;
