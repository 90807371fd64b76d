-- Unknown is not zero (issue 9, item 2): statistics count apart the finished tasks whose cost is known
-- (priced_tasks) and those whose token count is known (metered_tasks). total_cost and total_tokens sum
-- those tasks only, so averages divide by these counts, and "n of m tasks unpriced" can be shown.
ALTER TABLE agent_performance_stats
  ADD COLUMN priced_tasks INTEGER NOT NULL DEFAULT 0,
  ADD COLUMN metered_tasks INTEGER NOT NULL DEFAULT 0;
ALTER TABLE agent_category_stats
  ADD COLUMN priced_tasks INTEGER NOT NULL DEFAULT 0,
  ADD COLUMN metered_tasks INTEGER NOT NULL DEFAULT 0;

-- Existing rows count their finished tasks with a known cost and known tokens.
UPDATE agent_category_stats c SET
  priced_tasks = t.priced, metered_tasks = t.metered
FROM (
  SELECT agent_id, objective_category,
    count(estimated_cost)::int AS priced, count(total_tokens)::int AS metered
  FROM tasks WHERE status IN ('completed', 'failed')
  GROUP BY agent_id, objective_category
) t
WHERE c.agent_id = t.agent_id AND c.objective_category = t.objective_category;

UPDATE agent_performance_stats s SET
  priced_tasks = t.priced, metered_tasks = t.metered
FROM (
  SELECT agent_id, count(estimated_cost)::int AS priced, count(total_tokens)::int AS metered
  FROM tasks WHERE status IN ('completed', 'failed')
  GROUP BY agent_id
) t
WHERE s.agent_id = t.agent_id;
