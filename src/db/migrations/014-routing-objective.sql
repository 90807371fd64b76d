-- Cost-aware routing (issue 14): each project's default routing objective with its knobs, and the two
-- decision reasons of the `cheapest_meeting` objective. A request may name another objective; a project
-- without a row routes on quality, as before.
CREATE TABLE routing_objectives (
  project_id UUID PRIMARY KEY REFERENCES projects (id) ON DELETE CASCADE,
  objective TEXT NOT NULL CHECK (objective IN ('quality', 'value', 'cheapest_meeting')),
  -- `value`: the dollars one whole point of quality (the 0-1 scale) is worth per task.
  usd_per_quality DOUBLE PRECISION CHECK (usd_per_quality > 0 AND usd_per_quality <= 1000000),
  -- `cheapest_meeting`: the quality to reach, and how likely reaching it must be (null: the default 0.8).
  target_quality DOUBLE PRECISION CHECK (target_quality > 0 AND target_quality < 1),
  min_probability DOUBLE PRECISION CHECK (min_probability > 0 AND min_probability < 1),
  updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  -- An objective always has the knob it needs; knobs of other objectives are kept for switching back.
  CONSTRAINT routing_objectives_value_knob CHECK (objective <> 'value' OR usd_per_quality IS NOT NULL),
  CONSTRAINT routing_objectives_target_knob CHECK (objective <> 'cheapest_meeting' OR target_quality IS NOT NULL)
);

ALTER TABLE routing_decisions DROP CONSTRAINT routing_decisions_reason_check;
ALTER TABLE routing_decisions ADD CONSTRAINT routing_decisions_reason_check
  CHECK (reason IN ('mention', 'thompson', 'fallback_constraints', 'cheapest_meeting', 'target_unmet'));
