-- OpenTelemetry ingestion (issue 11): every span received, keyed by (project, trace, span) so that a span
-- exported twice is stored once; the task an agent span became; the spans still waiting for their agent
-- span (task_id NULL); and the evaluation results reported in spans, shown beside the judge's verdict.

-- A task made from spans is recorded with source 'otel'.
ALTER TABLE tasks DROP CONSTRAINT tasks_source_check;
ALTER TABLE tasks ADD CONSTRAINT tasks_source_check
  CHECK (source IN ('api', 'batch', 'mission_control', 'demo', 'otel'));

CREATE TABLE otel_spans (
  project_id UUID NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
  trace_id TEXT NOT NULL CHECK (trace_id ~ '^[0-9a-f]{32}$'),
  span_id TEXT NOT NULL CHECK (span_id ~ '^[0-9a-f]{16}$'),
  parent_span_id TEXT CHECK (parent_span_id ~ '^[0-9a-f]{16}$'),
  name TEXT NOT NULL,
  kind SMALLINT NOT NULL CHECK (kind BETWEEN 0 AND 5),
  -- Nanoseconds since the epoch, as sent (OTLP's fixed64; fits a BIGINT until 2262).
  start_time_unix_nano BIGINT NOT NULL CHECK (start_time_unix_nano > 0),
  end_time_unix_nano BIGINT NOT NULL CHECK (end_time_unix_nano >= start_time_unix_nano),
  status_code SMALLINT NOT NULL CHECK (status_code IN (0, 1, 2)),
  status_message TEXT NOT NULL DEFAULT '',
  attributes JSONB NOT NULL CHECK (jsonb_typeof(attributes) = 'object'),
  resource JSONB NOT NULL CHECK (jsonb_typeof(resource) = 'object'),
  scope_name TEXT NOT NULL DEFAULT '',
  scope_version TEXT,
  -- [{ "name", "time_unix_nano" (text), "attributes" }]
  events JSONB NOT NULL CHECK (jsonb_typeof(events) = 'array'),
  -- 'agent': the span is a task (an invoke_agent span, or its equivalent in another convention).
  role TEXT NOT NULL CHECK (role IN ('agent', 'step')),
  -- An agent span's task, or the task a step was attached to; NULL while a step waits for its agent span.
  task_id UUID,
  -- An agent span's gen_ai.conversation.id: the session its task belongs to.
  conversation_id TEXT,
  received_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  PRIMARY KEY (project_id, trace_id, span_id),
  -- Checked at commit: a batch writes its spans before its tasks, so that the statistics rows the tasks
  -- update (shared by every write of an agent) are locked for the last statement and the commit only.
  FOREIGN KEY (project_id, task_id) REFERENCES tasks (project_id, id) ON DELETE CASCADE
    DEFERRABLE INITIALLY DEFERRED,
  CHECK (role = 'agent' OR conversation_id IS NULL)
);
-- One task per agent span, and the spans of a task.
CREATE UNIQUE INDEX otel_spans_agent_task_key ON otel_spans (task_id) WHERE role = 'agent';
CREATE INDEX otel_spans_task_idx ON otel_spans (project_id, task_id) WHERE task_id IS NOT NULL;
-- Steps still waiting for their agent span, oldest first (for housekeeping and inspection).
CREATE INDEX otel_spans_pending_idx ON otel_spans (project_id, received_at) WHERE task_id IS NULL;
CREATE INDEX otel_spans_conversation_idx ON otel_spans (project_id, conversation_id)
  WHERE conversation_id IS NOT NULL;

-- A gen_ai.evaluation.result event: a score given outside Merit (source 'otel'), beside the judge's.
CREATE TABLE otel_evaluation_scores (
  id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  project_id UUID NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
  task_id UUID NOT NULL,
  trace_id TEXT NOT NULL,
  span_id TEXT NOT NULL,
  -- The event's position among its span's events: a span exported twice gives the same rows.
  event_index INTEGER NOT NULL CHECK (event_index >= 0),
  name TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  -- As reported (the convention sets no range); NULL when the event gave none.
  score_value DOUBLE PRECISION,
  score_label TEXT,
  explanation TEXT,
  -- gen_ai.response.id: the model response the result is about, when the event names it.
  response_id TEXT,
  source TEXT NOT NULL DEFAULT 'otel' CHECK (source = 'otel'),
  evaluated_at TIMESTAMPTZ NOT NULL,
  created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  UNIQUE (project_id, trace_id, span_id, event_index),
  FOREIGN KEY (project_id, task_id) REFERENCES tasks (project_id, id) ON DELETE CASCADE
    DEFERRABLE INITIALLY DEFERRED,
  FOREIGN KEY (project_id, trace_id, span_id) REFERENCES otel_spans (project_id, trace_id, span_id)
    ON DELETE CASCADE,
  CHECK (score_value IS NOT NULL OR score_label IS NOT NULL)
);
CREATE INDEX otel_evaluation_scores_task_idx ON otel_evaluation_scores (task_id, evaluated_at);
