-- A task left queued or running (its client vanished, or a crash came between create and complete)
-- is failed by a scheduled job once it has shown no activity for a while: last_activity_at moves on
-- every status or node change, and failure_reason says why a failed task failed ('error' when the
-- agent or its client reported the failure; a failed task written without one reads as 'error').

ALTER TABLE tasks
  ADD COLUMN last_activity_at TIMESTAMPTZ,
  ADD COLUMN failure_reason TEXT CHECK (failure_reason IN ('error', 'timed_out'));

UPDATE tasks SET last_activity_at = coalesce(completed_at, started_at, created_at);
UPDATE tasks SET failure_reason = 'error' WHERE status = 'failed';

ALTER TABLE tasks
  ALTER COLUMN last_activity_at SET DEFAULT now(),
  ALTER COLUMN last_activity_at SET NOT NULL;

-- The job's scan: unfinished tasks, oldest activity first.
CREATE INDEX tasks_unfinished_activity_idx ON tasks (last_activity_at) WHERE status IN ('queued', 'running');
