-- The seed's five tables (exact names, columns and types), plus Merit's own `agents` and `tasks`
-- (owned by the seed's host application) and per-category statistics.
-- The seed's columns keep the seed's types, `TIMESTAMP` included; Merit's own columns use `TIMESTAMPTZ`.
-- Every connection runs with `timezone = UTC`, so the two agree.

CREATE TABLE agents (
  agent_id VARCHAR(50) PRIMARY KEY CHECK (agent_id ~ '^[a-z0-9_]+$'),
  nickname VARCHAR(50) NOT NULL UNIQUE CHECK (nickname ~ '^[a-z][a-z0-9_-]*$'),
  display_name TEXT NOT NULL,
  role TEXT NOT NULL,
  specializations TEXT[] NOT NULL DEFAULT '{}',
  is_reviewer BOOLEAN NOT NULL DEFAULT false,
  is_orchestrator BOOLEAN NOT NULL DEFAULT false,
  active BOOLEAN NOT NULL DEFAULT true,
  system_prompt TEXT NOT NULL DEFAULT '',
  model TEXT,
  created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE objective_templates (
  category VARCHAR(50) PRIMARY KEY CHECK (category ~ '^[a-z][a-z0-9_]*$'),
  display_name TEXT NOT NULL,
  description TEXT NOT NULL DEFAULT '',
  evaluation_criteria JSONB NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(evaluation_criteria) = 'array'),
  keywords TEXT[] NOT NULL DEFAULT '{}',
  example_commands TEXT[] NOT NULL DEFAULT '{}',
  recommended_agents TEXT[] NOT NULL DEFAULT '{}',
  typical_tokens INTEGER NOT NULL DEFAULT 1500 CHECK (typical_tokens > 0),
  typical_duration_ms INTEGER NOT NULL DEFAULT 20000 CHECK (typical_duration_ms > 0),
  is_builtin BOOLEAN NOT NULL DEFAULT false,
  created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE tasks (
  id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  user_id UUID NOT NULL,
  agent_id VARCHAR(50) NOT NULL REFERENCES agents (agent_id),
  command TEXT NOT NULL CHECK (length(command) BETWEEN 1 AND 20000),
  objective_category VARCHAR(50) NOT NULL DEFAULT 'general'
    REFERENCES objective_templates (category) ON UPDATE CASCADE,
  category_confidence NUMERIC(3,2) CHECK (category_confidence BETWEEN 0 AND 1),
  category_source TEXT NOT NULL DEFAULT 'default'
    CHECK (category_source IN ('explicit', 'classifier', 'llm', 'default')),
  status TEXT NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'running', 'completed', 'failed')),
  current_node TEXT,
  result TEXT,
  error TEXT,
  model TEXT,
  simulated BOOLEAN NOT NULL DEFAULT false,
  source TEXT NOT NULL DEFAULT 'api' CHECK (source IN ('api', 'batch', 'mission_control', 'demo')),
  prompt_tokens INTEGER CHECK (prompt_tokens >= 0),
  completion_tokens INTEGER CHECK (completion_tokens >= 0),
  total_tokens INTEGER CHECK (total_tokens >= 0),
  estimated_cost NUMERIC(10,6) CHECK (estimated_cost >= 0),
  duration_ms INTEGER CHECK (duration_ms >= 0),
  created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  started_at TIMESTAMPTZ,
  completed_at TIMESTAMPTZ,
  CHECK (status <> 'completed' OR result IS NOT NULL),
  CHECK (status <> 'failed' OR error IS NOT NULL)
);
CREATE INDEX tasks_user_created_idx ON tasks (user_id, created_at DESC, id DESC);
CREATE INDEX tasks_category_completed_idx ON tasks (objective_category, completed_at DESC)
  WHERE status = 'completed';
CREATE INDEX tasks_unfinished_idx ON tasks (agent_id) WHERE status IN ('queued', 'running');

CREATE TABLE agent_performance_scores (
  id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  task_id UUID NOT NULL UNIQUE REFERENCES tasks (id) ON DELETE CASCADE,
  agent_id VARCHAR(50) NOT NULL REFERENCES agents (agent_id),

  accuracy_score NUMERIC(3,2) CHECK (accuracy_score BETWEEN 0 AND 1),
  relevance_score NUMERIC(3,2) CHECK (relevance_score BETWEEN 0 AND 1),
  completeness_score NUMERIC(3,2) CHECK (completeness_score BETWEEN 0 AND 1),
  efficiency_score NUMERIC(3,2) CHECK (efficiency_score BETWEEN 0 AND 1),
  overall_score NUMERIC(3,2) CHECK (overall_score BETWEEN 0 AND 1),

  user_rating INTEGER CHECK (user_rating BETWEEN 1 AND 5),
  user_feedback TEXT,

  total_tokens INTEGER CHECK (total_tokens >= 0),
  estimated_cost NUMERIC(10,6) CHECK (estimated_cost >= 0),

  created_at TIMESTAMP DEFAULT NOW(),

  user_id UUID NOT NULL,
  objective_category VARCHAR(50) NOT NULL REFERENCES objective_templates (category) ON UPDATE CASCADE,
  model TEXT,
  duration_ms INTEGER CHECK (duration_ms >= 0),
  peer_score NUMERIC(3,2) CHECK (peer_score BETWEEN 0 AND 1),
  reward_points INTEGER NOT NULL DEFAULT 0,
  score_sources JSONB NOT NULL DEFAULT '{}',
  rated_at TIMESTAMPTZ,
  updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX agent_performance_scores_agent_created_idx
  ON agent_performance_scores (agent_id, created_at DESC);
CREATE INDEX agent_performance_scores_user_idx ON agent_performance_scores (user_id, agent_id, created_at DESC);

CREATE TABLE agent_peer_evaluations (
  id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  task_id UUID NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
  evaluated_agent_id VARCHAR(50) NOT NULL REFERENCES agents (agent_id),
  reviewer_agent_id VARCHAR(50) NOT NULL REFERENCES agents (agent_id),
  perspective TEXT NOT NULL,
  status TEXT NOT NULL DEFAULT 'done' CHECK (status IN ('done', 'failed')),
  failure_reason TEXT,
  score NUMERIC(3,2) CHECK (score BETWEEN 0 AND 1),
  strengths JSONB NOT NULL DEFAULT '[]',
  weaknesses JSONB NOT NULL DEFAULT '[]',
  suggestions JSONB NOT NULL DEFAULT '[]',
  review_text TEXT NOT NULL DEFAULT '',
  source TEXT NOT NULL CHECK (source IN ('llm', 'heuristic')),
  evaluator_version TEXT NOT NULL,
  reviewer_weight NUMERIC(3,2) NOT NULL DEFAULT 1 CHECK (reviewer_weight BETWEEN 0 AND 1),
  prompt_tokens INTEGER NOT NULL DEFAULT 0,
  completion_tokens INTEGER NOT NULL DEFAULT 0,
  estimated_cost NUMERIC(10,6) NOT NULL DEFAULT 0,
  created_at TIMESTAMP DEFAULT NOW(),
  UNIQUE (task_id, reviewer_agent_id),
  CHECK (reviewer_agent_id <> evaluated_agent_id),
  CHECK (status = 'failed' OR score IS NOT NULL),
  CHECK (status = 'done' OR failure_reason IS NOT NULL)
);
CREATE INDEX agent_peer_evaluations_evaluated_idx ON agent_peer_evaluations (evaluated_agent_id, created_at DESC);
CREATE INDEX agent_peer_evaluations_reviewer_idx ON agent_peer_evaluations (reviewer_agent_id);

CREATE TABLE agent_node_performance (
  id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  task_id UUID NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
  agent_id VARCHAR(50) NOT NULL REFERENCES agents (agent_id),
  node_name VARCHAR(100) NOT NULL CHECK (length(node_name) > 0),
  sequence INTEGER NOT NULL CHECK (sequence >= 0),
  status TEXT NOT NULL DEFAULT 'completed' CHECK (status IN ('running', 'completed', 'failed')),
  duration_ms INTEGER CHECK (duration_ms >= 0),
  prompt_tokens INTEGER CHECK (prompt_tokens >= 0),
  completion_tokens INTEGER CHECK (completion_tokens >= 0),
  total_tokens INTEGER NOT NULL DEFAULT 0 CHECK (total_tokens >= 0),
  success BOOLEAN NOT NULL DEFAULT true,
  error TEXT,
  started_at TIMESTAMPTZ,
  completed_at TIMESTAMPTZ,
  created_at TIMESTAMP DEFAULT NOW(),
  UNIQUE (task_id, sequence)
);
CREATE INDEX agent_node_performance_agent_node_idx ON agent_node_performance (agent_id, node_name);

CREATE TABLE agent_performance_stats (
  agent_id VARCHAR(50) PRIMARY KEY REFERENCES agents (agent_id),
  nickname VARCHAR(50) NOT NULL,

  total_tasks INTEGER DEFAULT 0,
  successful_tasks INTEGER DEFAULT 0,
  avg_overall_score NUMERIC(3,2),
  avg_user_rating NUMERIC(3,2),

  overall_rank INTEGER,

  last_updated TIMESTAMP DEFAULT NOW(),

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
  total_duration_ms BIGINT NOT NULL DEFAULT 0,
  reward_points INTEGER NOT NULL DEFAULT 0,
  first_task_at TIMESTAMPTZ,
  last_task_at TIMESTAMPTZ
);

CREATE TABLE agent_category_stats (
  agent_id VARCHAR(50) NOT NULL REFERENCES agents (agent_id),
  objective_category VARCHAR(50) NOT NULL REFERENCES objective_templates (category) ON UPDATE CASCADE,
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
  total_duration_ms BIGINT NOT NULL DEFAULT 0,
  reward_points INTEGER NOT NULL DEFAULT 0,
  first_task_at TIMESTAMPTZ,
  last_task_at TIMESTAMPTZ,
  last_updated TIMESTAMPTZ NOT NULL DEFAULT now(),
  PRIMARY KEY (agent_id, objective_category)
);
