-- Arena (issue 14): head-to-head battles between two agents on one command, rated by Bradley-Terry.
-- A battle comes from a blind comparison voted in Mission Control (source 'vote'), the LLM judge in
-- pairwise mode ('llm_judge'), the API ('api') or a FastChat battle file ('import'). Contestants are
-- agents of the project: Merit's own, or external ones registered by name (migration 011).

-- A blind comparison: one command sent to two agents, shown as "A" and "B". agent_a / task_a_id is what
-- the user sees as "A": the order was drawn at random when the comparison was made and is only revealed
-- with the vote.
CREATE TABLE arena_comparisons (
  project_id UUID NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
  id UUID NOT NULL DEFAULT gen_random_uuid(),
  user_id UUID NOT NULL,
  command TEXT NOT NULL CHECK (length(command) BETWEEN 1 AND 20000),
  category VARCHAR(100) CHECK (length(category) >= 1),
  agent_a VARCHAR(50) NOT NULL,
  agent_b VARCHAR(50) NOT NULL,
  task_a_id UUID,
  task_b_id UUID,
  -- Whether the LLM judge compares the two answers once both are finished.
  llm_judge BOOLEAN NOT NULL DEFAULT false,
  vote TEXT CHECK (vote IN ('A', 'B', 'tie', 'bothbad')),
  voted_by UUID,
  voted_at TIMESTAMPTZ,
  created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  PRIMARY KEY (project_id, id),
  CHECK (agent_a <> agent_b),
  CHECK ((vote IS NULL) = (voted_at IS NULL) AND (vote IS NULL) = (voted_by IS NULL)),
  FOREIGN KEY (project_id, agent_a) REFERENCES agents (project_id, agent_id),
  FOREIGN KEY (project_id, agent_b) REFERENCES agents (project_id, agent_id),
  FOREIGN KEY (project_id, task_a_id) REFERENCES tasks (project_id, id) ON DELETE SET NULL (task_a_id),
  FOREIGN KEY (project_id, task_b_id) REFERENCES tasks (project_id, id) ON DELETE SET NULL (task_b_id)
);
CREATE INDEX arena_comparisons_user_created_idx ON arena_comparisons (project_id, user_id, created_at DESC);

-- One battle: agent_a against agent_b, with FastChat's winner labels. `judge` says who decided
-- ('user:<id>', 'llm', 'heuristic', or the name an outside source gave); `external_key` makes re-sent
-- and re-imported battles no-ops.
CREATE TABLE arena_battles (
  project_id UUID NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
  id UUID NOT NULL DEFAULT gen_random_uuid(),
  category VARCHAR(100) CHECK (length(category) >= 1),
  agent_a VARCHAR(50) NOT NULL,
  agent_b VARCHAR(50) NOT NULL,
  winner TEXT NOT NULL CHECK (winner IN ('model_a', 'model_b', 'tie', 'tie (bothbad)')),
  judge TEXT NOT NULL CHECK (length(judge) BETWEEN 1 AND 200),
  source TEXT NOT NULL CHECK (source IN ('vote', 'llm_judge', 'api', 'import')),
  command TEXT CHECK (length(command) <= 20000),
  task_a_id UUID,
  task_b_id UUID,
  comparison_id UUID,
  -- Whether the judge saw the contestants' names; null when the source did not say.
  anony BOOLEAN,
  -- The judge's reasons (the LLM judge's, or a note on an offline verdict).
  reasoning TEXT CHECK (length(reasoning) <= 4000),
  external_key TEXT CHECK (length(external_key) BETWEEN 1 AND 200),
  recorded_by UUID,
  tstamp TIMESTAMPTZ NOT NULL DEFAULT now(),
  created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  PRIMARY KEY (project_id, id),
  CHECK (agent_a <> agent_b),
  FOREIGN KEY (project_id, agent_a) REFERENCES agents (project_id, agent_id),
  FOREIGN KEY (project_id, agent_b) REFERENCES agents (project_id, agent_id),
  FOREIGN KEY (project_id, task_a_id) REFERENCES tasks (project_id, id) ON DELETE SET NULL (task_a_id),
  FOREIGN KEY (project_id, task_b_id) REFERENCES tasks (project_id, id) ON DELETE SET NULL (task_b_id),
  FOREIGN KEY (project_id, comparison_id) REFERENCES arena_comparisons (project_id, id)
    ON DELETE SET NULL (comparison_id)
);
CREATE UNIQUE INDEX arena_battles_external_key_idx ON arena_battles (project_id, external_key)
  WHERE external_key IS NOT NULL;
-- One verdict per judge kind per comparison: a second vote or a re-run judge job cannot add another.
CREATE UNIQUE INDEX arena_battles_comparison_source_idx ON arena_battles (project_id, comparison_id, source)
  WHERE comparison_id IS NOT NULL;
CREATE INDEX arena_battles_category_idx ON arena_battles (project_id, category);
