-- The evaluation engine's storage: one row per task per evaluator kind (the judge's own usage is kept
-- here and never charged to the agent), the reward rules applied to each score, and the token bucket
-- that spaces LLM evaluations out.

CREATE TABLE task_evaluations (
  id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  task_id UUID NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
  kind TEXT NOT NULL CHECK (kind IN ('judge', 'heuristic')),
  status TEXT NOT NULL CHECK (status IN ('done', 'failed')),
  accuracy_score NUMERIC(3,2) CHECK (accuracy_score BETWEEN 0 AND 1),
  relevance_score NUMERIC(3,2) CHECK (relevance_score BETWEEN 0 AND 1),
  completeness_score NUMERIC(3,2) CHECK (completeness_score BETWEEN 0 AND 1),
  reasoning TEXT NOT NULL DEFAULT '',
  source TEXT NOT NULL CHECK (source IN ('judge', 'heuristic')),
  evaluator_version TEXT NOT NULL,
  model TEXT,
  prompt_tokens INTEGER NOT NULL DEFAULT 0 CHECK (prompt_tokens >= 0),
  completion_tokens INTEGER NOT NULL DEFAULT 0 CHECK (completion_tokens >= 0),
  estimated_cost NUMERIC(10,6) CHECK (estimated_cost >= 0),
  failure_reason TEXT,
  attempts INTEGER NOT NULL DEFAULT 1 CHECK (attempts >= 1),
  created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  UNIQUE (task_id, kind),
  CHECK (status <> 'failed' OR failure_reason IS NOT NULL)
);

ALTER TABLE agent_performance_scores ADD COLUMN reward_rules JSONB NOT NULL DEFAULT '[]'
  CHECK (jsonb_typeof(reward_rules) = 'array');

CREATE TABLE evaluation_rate_limits (
  name TEXT PRIMARY KEY,
  tokens NUMERIC NOT NULL CHECK (tokens >= 0),
  refilled_at TIMESTAMPTZ NOT NULL
);
