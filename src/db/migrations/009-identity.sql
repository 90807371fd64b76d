-- Identity (issue 10): projects hold agents, categories, tasks, scores, statistics and routing; accounts
-- sign in to Mission Control and are members of projects with a role; API keys belong to one project.
-- An existing database becomes project `default` with its data intact.
--
-- Keys inside a project: an agent is (project_id, agent_id) and a category (project_id, category), so two
-- projects can each have their own `bob` and their own `research`, and every foreign key names the project:
-- a row can only ever point at an agent or category of its own project.

CREATE TABLE projects (
  id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  slug VARCHAR(50) NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9][a-z0-9-]*$'),
  name TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  -- Per-project overrides, e.g. {"rate_limits": {"requests_per_minute": 600}}; validated by the code.
  settings JSONB NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(settings) = 'object'),
  created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- The implicit project of local mode, and of every row written before projects existed.
INSERT INTO projects (id, slug, name) VALUES ('00000000-0000-0000-0000-000000000000', 'default', 'Default');

CREATE TABLE accounts (
  id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  email TEXT NOT NULL UNIQUE CHECK (email = lower(email) AND length(email) BETWEEN 3 AND 254),
  -- scrypt, in the self-describing form `scrypt$N$r$p$salt$hash` (base64url).
  password_hash TEXT NOT NULL,
  created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  disabled_at TIMESTAMPTZ
);

CREATE TABLE project_members (
  project_id UUID NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
  account_id UUID NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  role TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'member', 'viewer')),
  created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  PRIMARY KEY (project_id, account_id)
);
CREATE INDEX project_members_account_idx ON project_members (account_id);

-- A session cookie holds a random token; only its SHA-256 is stored, so a read of this table signs no one in.
CREATE TABLE sessions (
  token_hash BYTEA PRIMARY KEY,
  account_id UUID NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  csrf_token TEXT NOT NULL,
  created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  last_seen_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  expires_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX sessions_account_idx ON sessions (account_id);
CREATE INDEX sessions_expires_idx ON sessions (expires_at);

-- An API key is `merit_<prefix>_<secret>`: the prefix finds the row, the secret's SHA-256 is compared.
CREATE TABLE api_keys (
  id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  project_id UUID NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
  name TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
  prefix TEXT NOT NULL UNIQUE,
  secret_hash BYTEA NOT NULL,
  scopes TEXT[] NOT NULL
    CHECK (cardinality(scopes) > 0 AND scopes <@ ARRAY['ingest', 'feedback', 'read', 'admin']::TEXT[]),
  allowed_origins TEXT[] NOT NULL DEFAULT '{}',
  created_by TEXT NOT NULL,
  created_by_account_id UUID REFERENCES accounts (id) ON DELETE SET NULL,
  created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  last_used_at TIMESTAMPTZ,
  revoked_at TIMESTAMPTZ
);
CREATE INDEX api_keys_project_idx ON api_keys (project_id, created_at DESC);

CREATE TABLE audit_log (
  id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  project_id UUID NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
  at TIMESTAMPTZ NOT NULL DEFAULT now(),
  actor_kind TEXT NOT NULL CHECK (actor_kind IN ('account', 'key', 'local', 'cli')),
  actor_id TEXT,
  actor_label TEXT NOT NULL,
  action TEXT NOT NULL,
  target TEXT NOT NULL,
  details JSONB NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_log_project_idx ON audit_log (project_id, id DESC);

-- Rate limits and quotas shared by every process: one row per bucket and window.
CREATE TABLE rate_limit_counters (
  bucket TEXT NOT NULL,
  window_start TIMESTAMPTZ NOT NULL,
  amount NUMERIC NOT NULL CHECK (amount >= 0),
  PRIMARY KEY (bucket, window_start)
);
CREATE INDEX rate_limit_counters_window_idx ON rate_limit_counters (window_start);

-- Every keyed table gets its project. The old single-column keys go (CASCADE drops the foreign keys that
-- used them; they come back below, each naming the project).
ALTER TABLE agents ADD COLUMN project_id UUID NOT NULL
  DEFAULT '00000000-0000-0000-0000-000000000000' REFERENCES projects (id) ON DELETE CASCADE;
ALTER TABLE objective_templates ADD COLUMN project_id UUID NOT NULL
  DEFAULT '00000000-0000-0000-0000-000000000000' REFERENCES projects (id) ON DELETE CASCADE;
ALTER TABLE tasks ADD COLUMN project_id UUID NOT NULL
  DEFAULT '00000000-0000-0000-0000-000000000000' REFERENCES projects (id) ON DELETE CASCADE;
ALTER TABLE agent_performance_scores ADD COLUMN project_id UUID NOT NULL
  DEFAULT '00000000-0000-0000-0000-000000000000';
ALTER TABLE agent_peer_evaluations ADD COLUMN project_id UUID NOT NULL
  DEFAULT '00000000-0000-0000-0000-000000000000';
ALTER TABLE agent_node_performance ADD COLUMN project_id UUID NOT NULL
  DEFAULT '00000000-0000-0000-0000-000000000000';
ALTER TABLE agent_performance_stats ADD COLUMN project_id UUID NOT NULL
  DEFAULT '00000000-0000-0000-0000-000000000000';
ALTER TABLE agent_category_stats ADD COLUMN project_id UUID NOT NULL
  DEFAULT '00000000-0000-0000-0000-000000000000';
ALTER TABLE routing_decisions ADD COLUMN project_id UUID NOT NULL
  DEFAULT '00000000-0000-0000-0000-000000000000' REFERENCES projects (id) ON DELETE CASCADE;

-- No default from here on: a write that forgets its project fails instead of landing in `default`. One
-- exception: agent_performance_stats keeps `default`, so the seed guide's troubleshooting INSERT (which
-- names no project) still works; Merit's own writes always name the project.
ALTER TABLE agents ALTER COLUMN project_id DROP DEFAULT;
ALTER TABLE objective_templates ALTER COLUMN project_id DROP DEFAULT;
ALTER TABLE tasks ALTER COLUMN project_id DROP DEFAULT;
ALTER TABLE agent_category_stats ALTER COLUMN project_id DROP DEFAULT;
ALTER TABLE routing_decisions ALTER COLUMN project_id DROP DEFAULT;
-- Rows that belong to a task take the task's project (trigger below); they keep no default either.
ALTER TABLE agent_performance_scores ALTER COLUMN project_id DROP DEFAULT;
ALTER TABLE agent_peer_evaluations ALTER COLUMN project_id DROP DEFAULT;
ALTER TABLE agent_node_performance ALTER COLUMN project_id DROP DEFAULT;

ALTER TABLE agents DROP CONSTRAINT agents_pkey CASCADE;
ALTER TABLE agents DROP CONSTRAINT agents_nickname_key;
ALTER TABLE agents ADD PRIMARY KEY (project_id, agent_id);
ALTER TABLE agents ADD CONSTRAINT agents_project_nickname_key UNIQUE (project_id, nickname);

ALTER TABLE objective_templates DROP CONSTRAINT objective_templates_pkey CASCADE;
ALTER TABLE objective_templates ADD PRIMARY KEY (project_id, category);

ALTER TABLE agent_performance_stats DROP CONSTRAINT agent_performance_stats_pkey;
ALTER TABLE agent_performance_stats ADD PRIMARY KEY (project_id, agent_id);
ALTER TABLE agent_category_stats DROP CONSTRAINT agent_category_stats_pkey;
ALTER TABLE agent_category_stats ADD PRIMARY KEY (project_id, agent_id, objective_category);

-- A task's id is unique everywhere; (project_id, id) is what child rows reference, so a score, review or
-- node can never sit under a task of another project.
ALTER TABLE tasks ADD CONSTRAINT tasks_project_id_key UNIQUE (project_id, id);

ALTER TABLE tasks
  ADD FOREIGN KEY (project_id, agent_id) REFERENCES agents (project_id, agent_id),
  ADD FOREIGN KEY (project_id, objective_category)
    REFERENCES objective_templates (project_id, category) ON UPDATE CASCADE;
ALTER TABLE agent_performance_scores
  ADD FOREIGN KEY (project_id, agent_id) REFERENCES agents (project_id, agent_id),
  ADD FOREIGN KEY (project_id, objective_category)
    REFERENCES objective_templates (project_id, category) ON UPDATE CASCADE;
ALTER TABLE agent_peer_evaluations
  ADD FOREIGN KEY (project_id, evaluated_agent_id) REFERENCES agents (project_id, agent_id),
  ADD FOREIGN KEY (project_id, reviewer_agent_id) REFERENCES agents (project_id, agent_id);
ALTER TABLE agent_node_performance
  ADD FOREIGN KEY (project_id, agent_id) REFERENCES agents (project_id, agent_id);
ALTER TABLE agent_performance_stats
  ADD FOREIGN KEY (project_id, agent_id) REFERENCES agents (project_id, agent_id);
ALTER TABLE agent_category_stats
  ADD FOREIGN KEY (project_id, agent_id) REFERENCES agents (project_id, agent_id),
  ADD FOREIGN KEY (project_id, objective_category)
    REFERENCES objective_templates (project_id, category) ON UPDATE CASCADE;
ALTER TABLE routing_decisions
  ADD FOREIGN KEY (project_id, category) REFERENCES objective_templates (project_id, category) ON UPDATE CASCADE,
  ADD FOREIGN KEY (project_id, chosen_agent_id) REFERENCES agents (project_id, agent_id),
  ADD FOREIGN KEY (project_id, best_agent_id) REFERENCES agents (project_id, agent_id);

-- A row that belongs to a task takes the task's project, whatever the writer said.
CREATE FUNCTION merit_inherit_task_project() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  SELECT t.project_id INTO NEW.project_id FROM tasks t WHERE t.id = NEW.task_id;
  RETURN NEW;
END
$$;
CREATE TRIGGER agent_performance_scores_project BEFORE INSERT OR UPDATE OF task_id, project_id
  ON agent_performance_scores FOR EACH ROW EXECUTE FUNCTION merit_inherit_task_project();
CREATE TRIGGER agent_peer_evaluations_project BEFORE INSERT OR UPDATE OF task_id, project_id
  ON agent_peer_evaluations FOR EACH ROW EXECUTE FUNCTION merit_inherit_task_project();
CREATE TRIGGER agent_node_performance_project BEFORE INSERT OR UPDATE OF task_id, project_id
  ON agent_node_performance FOR EACH ROW EXECUTE FUNCTION merit_inherit_task_project();

ALTER TABLE agent_performance_scores
  ADD FOREIGN KEY (project_id, task_id) REFERENCES tasks (project_id, id) ON DELETE CASCADE;
ALTER TABLE agent_peer_evaluations
  ADD FOREIGN KEY (project_id, task_id) REFERENCES tasks (project_id, id) ON DELETE CASCADE;
ALTER TABLE agent_node_performance
  ADD FOREIGN KEY (project_id, task_id) REFERENCES tasks (project_id, id) ON DELETE CASCADE;

-- Read paths start from the project.
DROP INDEX tasks_user_created_idx;
CREATE INDEX tasks_project_user_created_idx ON tasks (project_id, user_id, created_at DESC, id DESC);
CREATE INDEX tasks_project_created_idx ON tasks (project_id, created_at DESC, id DESC);
DROP INDEX tasks_category_completed_idx;
CREATE INDEX tasks_category_completed_idx ON tasks (project_id, objective_category, completed_at DESC)
  WHERE status = 'completed';
DROP INDEX tasks_unfinished_idx;
CREATE INDEX tasks_unfinished_idx ON tasks (project_id, agent_id) WHERE status IN ('queued', 'running');
DROP INDEX agent_performance_scores_agent_created_idx;
CREATE INDEX agent_performance_scores_agent_created_idx
  ON agent_performance_scores (project_id, agent_id, created_at DESC);
DROP INDEX agent_performance_scores_user_agent_created_idx;
CREATE INDEX agent_performance_scores_user_agent_created_idx
  ON agent_performance_scores (project_id, user_id, agent_id, created_at DESC, id DESC);
DROP INDEX agent_peer_evaluations_evaluated_idx;
CREATE INDEX agent_peer_evaluations_evaluated_idx
  ON agent_peer_evaluations (project_id, evaluated_agent_id, created_at DESC);
DROP INDEX agent_peer_evaluations_reviewer_idx;
CREATE INDEX agent_peer_evaluations_reviewer_idx ON agent_peer_evaluations (project_id, reviewer_agent_id);
DROP INDEX agent_node_performance_agent_node_idx;
CREATE INDEX agent_node_performance_agent_node_idx ON agent_node_performance (project_id, agent_id, node_name);
DROP INDEX routing_decisions_user_created_idx;
CREATE INDEX routing_decisions_user_created_idx
  ON routing_decisions (project_id, user_id, created_at DESC, id DESC);
DROP INDEX tasks_finished_idx;
CREATE INDEX tasks_finished_idx ON tasks (project_id, completed_at DESC) WHERE status IN ('completed', 'failed');
DROP INDEX tasks_explicit_category_idx;
CREATE INDEX tasks_explicit_category_idx ON tasks (project_id, created_at DESC) WHERE category_source = 'explicit';

-- The outcome view carries the decision's project (new columns go last).
CREATE OR REPLACE VIEW routing_decision_outcomes AS
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
    AS judge_score,
  d.project_id
FROM routing_decisions d
LEFT JOIN tasks t ON t.id = d.task_id
LEFT JOIN agent_performance_scores s ON s.task_id = t.id;
