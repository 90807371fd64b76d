-- Each review records how many attempts its job made (issue 9, item 7): the evaluation endpoint reports
-- a reviewer's true attempts, as task_evaluations.attempts does for the judge. Earlier rows made one.
ALTER TABLE agent_peer_evaluations
  ADD COLUMN attempts INTEGER NOT NULL DEFAULT 1 CHECK (attempts >= 1);
