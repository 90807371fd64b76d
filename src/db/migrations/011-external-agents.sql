-- External agents (issues 11 and 14): agents that run outside Merit and are only measured by it, such as
-- an agent named in OpenTelemetry spans or a contestant of imported Arena battles. Merit never runs nor
-- routes to them. `external_name` is the name the source used (any text); `agent_id` and `nickname` are
-- the slug Merit made of it, unique in the project.
ALTER TABLE agents
  ADD COLUMN origin TEXT NOT NULL DEFAULT 'merit' CHECK (origin IN ('merit', 'external')),
  ADD COLUMN external_name TEXT CHECK (length(external_name) BETWEEN 1 AND 200),
  ADD CONSTRAINT agents_origin_external_name_check CHECK ((origin = 'external') = (external_name IS NOT NULL));

CREATE UNIQUE INDEX agents_project_external_name_key ON agents (project_id, external_name)
  WHERE external_name IS NOT NULL;
