-- A task's session (issue 11): the conversation it belongs to, as the agent framework named it
-- (OpenTelemetry's gen_ai.conversation.id). NULL for tasks that came without one. The list of a
-- session's tasks is one index range.
ALTER TABLE tasks ADD COLUMN session_id TEXT CHECK (length(session_id) BETWEEN 1 AND 256);

CREATE INDEX tasks_project_session_created_idx ON tasks (project_id, session_id, created_at DESC, id DESC)
  WHERE session_id IS NOT NULL;
