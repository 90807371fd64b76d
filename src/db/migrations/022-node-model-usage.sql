-- A node's model call (issue 11): the model that answered (OpenTelemetry's gen_ai.response.model, else
-- gen_ai.request.model), its provider (gen_ai.provider.name, else gen_ai.system), the cache-read and
-- reasoning tokens it reported (inside prompt_tokens and completion_tokens) and its cost from the price
-- table. NULL where the step reported none or is not a model call, and a cost NULL where the model has no
-- price: unknown, never 0. Existing nodes keep NULL (their spans' attributes still hold the figures).
-- New columns without defaults: no rewrite; the checks read the table once (every value NULL).
ALTER TABLE agent_node_performance
  ADD COLUMN model TEXT CHECK (length(model) BETWEEN 1 AND 200),
  ADD COLUMN provider TEXT CHECK (length(provider) BETWEEN 1 AND 200),
  ADD COLUMN cache_read_tokens INTEGER CHECK (cache_read_tokens >= 0),
  ADD COLUMN reasoning_tokens INTEGER CHECK (reasoning_tokens >= 0),
  -- Wider than tasks.estimated_cost: one call's price-table cost can pass 9999.99 (100M reasoning tokens).
  ADD COLUMN estimated_cost NUMERIC(14,6) CHECK (estimated_cost >= 0);
