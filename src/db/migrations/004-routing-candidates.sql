-- A routing decision keeps the whole table its explanation was rendered from (every agent weighed, the
-- chosen one marked), so "why this agent?" shows the same numbers as the sentence. Older decisions get
-- the table rebuilt from their chosen agent's columns and their runners-up.

ALTER TABLE routing_decisions
  ADD COLUMN candidates JSONB NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(candidates) = 'array');

UPDATE routing_decisions d
SET candidates = jsonb_build_array(jsonb_build_object(
    'agent_id', d.chosen_agent_id,
    'nickname', a.nickname,
    'expected_score', d.expected_score,
    'interval', jsonb_build_object('lower', d.interval_lower, 'upper', d.interval_upper),
    'sampled_score', d.sampled_score,
    'adjusted_score', NULL,
    'observations', d.observations,
    'specialist', false,
    'expected_cost', NULL,
    'expected_duration_ms', NULL,
    'load', 0,
    'excluded_because', NULL,
    'chosen', true
  )) || (
    SELECT coalesce(jsonb_agg(r.value || jsonb_build_object('chosen', false, 'specialist', false)), '[]'::jsonb)
    FROM jsonb_array_elements(d.runners_up) AS r (value)
  )
FROM agents a
WHERE a.agent_id = d.chosen_agent_id;
