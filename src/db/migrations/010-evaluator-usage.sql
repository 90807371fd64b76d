-- Paid calls are never recorded as free (issue 9, item 4). An evaluator's usage (the judge's in
-- task_evaluations, a reviewer's in agent_peer_evaluations) is the tokens and cost the provider reported
-- over every call, failed attempts included. NULL means there is nothing known: the provider reported no
-- usage (or a call ended without an answer, so it may have been billed unseen), the model has no price
-- (cost only), or no LLM call was made at all (the offline evaluator, heuristic reviews). 0 is a count.
ALTER TABLE task_evaluations
  ALTER COLUMN prompt_tokens DROP NOT NULL,
  ALTER COLUMN prompt_tokens DROP DEFAULT,
  ALTER COLUMN completion_tokens DROP NOT NULL,
  ALTER COLUMN completion_tokens DROP DEFAULT;

ALTER TABLE agent_peer_evaluations
  ALTER COLUMN prompt_tokens DROP NOT NULL,
  ALTER COLUMN prompt_tokens DROP DEFAULT,
  ALTER COLUMN completion_tokens DROP NOT NULL,
  ALTER COLUMN completion_tokens DROP DEFAULT,
  ALTER COLUMN estimated_cost DROP NOT NULL,
  ALTER COLUMN estimated_cost DROP DEFAULT,
  ADD CONSTRAINT agent_peer_evaluations_prompt_tokens_check CHECK (prompt_tokens >= 0),
  ADD CONSTRAINT agent_peer_evaluations_completion_tokens_check CHECK (completion_tokens >= 0),
  ADD CONSTRAINT agent_peer_evaluations_estimated_cost_check CHECK (estimated_cost >= 0);

-- Existing rows keep their figures, except the zeros that never were counts:
-- the offline evaluator and heuristic reviews made no call;
UPDATE task_evaluations SET prompt_tokens = NULL, completion_tokens = NULL, estimated_cost = NULL
WHERE kind = 'heuristic';
UPDATE agent_peer_evaluations SET prompt_tokens = NULL, completion_tokens = NULL, estimated_cost = NULL
WHERE source = 'heuristic';
-- an LLM call always has prompt tokens, so an LLM row with 0 of them is usage that was never recorded
-- (a failure, whose calls went uncounted, or a provider that sent no usage);
UPDATE task_evaluations SET prompt_tokens = NULL, completion_tokens = NULL, estimated_cost = NULL
WHERE kind = 'judge' AND prompt_tokens = 0;
UPDATE agent_peer_evaluations SET prompt_tokens = NULL, completion_tokens = NULL, estimated_cost = NULL
WHERE source = 'llm' AND prompt_tokens = 0;
-- and a review's cost of 0 was written for a model without a price as well as for a free one, which
-- cannot be told apart here: unknown.
UPDATE agent_peer_evaluations SET estimated_cost = NULL
WHERE source = 'llm' AND estimated_cost = 0;
