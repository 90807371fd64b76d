-- The intelligence layer: every routing decision (which agent, why, how sure), linked to the task it
-- created, and a view that joins each decision to its task's outcome once the task finishes and is scored.
-- Also the indexes behind the router's statistics and the classifier's labelled examples.

CREATE TABLE routing_decisions (
  id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  user_id UUID NOT NULL,
  task_id UUID REFERENCES tasks (id) ON DELETE SET NULL,
  command TEXT NOT NULL CHECK (length(command) BETWEEN 1 AND 20000),
  category VARCHAR(50) NOT NULL REFERENCES objective_templates (category) ON UPDATE CASCADE,
  confidence NUMERIC(3,2) CHECK (confidence BETWEEN 0 AND 1),
  category_source TEXT NOT NULL CHECK (category_source IN ('explicit', 'classifier', 'llm', 'default')),
  chosen_agent_id VARCHAR(50) NOT NULL REFERENCES agents (agent_id),
  reason TEXT NOT NULL CHECK (reason IN ('mention', 'thompson', 'fallback_constraints')),
  expected_score NUMERIC(5,4) NOT NULL CHECK (expected_score BETWEEN 0 AND 1),
  interval_lower NUMERIC(5,4) NOT NULL CHECK (interval_lower BETWEEN 0 AND 1),
  interval_upper NUMERIC(5,4) NOT NULL CHECK (interval_upper BETWEEN 0 AND 1),
  sampled_score NUMERIC(5,4) CHECK (sampled_score BETWEEN 0 AND 1),
  observations INTEGER NOT NULL DEFAULT 0 CHECK (observations >= 0),
  best_agent_id VARCHAR(50) REFERENCES agents (agent_id),
  runners_up JSONB NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(runners_up) = 'array'),
  constraints JSONB NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(constraints) = 'object'),
  explanation TEXT NOT NULL,
  created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX routing_decisions_user_created_idx ON routing_decisions (user_id, created_at DESC, id DESC);
CREATE UNIQUE INDEX routing_decisions_task_idx ON routing_decisions (task_id) WHERE task_id IS NOT NULL;

CREATE VIEW routing_decision_outcomes AS
SELECT
  d.id AS decision_id,
  d.user_id,
  d.created_at,
  d.chosen_agent_id,
  d.best_agent_id,
  d.reason,
  t.id AS task_id,
  t.agent_id AS task_agent_id,
  t.status AS task_status,
  t.estimated_cost,
  t.duration_ms,
  s.user_rating,
  s.peer_score,
  s.overall_score,
  (SELECT avg(v) FROM unnest(ARRAY[s.accuracy_score, s.relevance_score, s.completeness_score]) AS v)
    AS judge_score
FROM routing_decisions d
LEFT JOIN tasks t ON t.id = d.task_id
LEFT JOIN agent_performance_scores s ON s.task_id = t.id;

CREATE INDEX tasks_finished_idx ON tasks (completed_at DESC) WHERE status IN ('completed', 'failed');
CREATE INDEX tasks_explicit_category_idx ON tasks (created_at DESC) WHERE category_source = 'explicit';
