import { useQuery } from '@tanstack/react-query';
import { useId, useState } from 'react';
import { InfoTip } from '../../components/info-tip.js';
import { describeError } from '../../lib/api-client.js';
import { useApi } from '../../lib/api-context.js';
import type {
  AgentEvaluation,
  RoutingCandidateRow,
  RoutingConstraints,
  StoredRoutingDecision,
} from '../../lib/api-schemas.js';
import { formatCost, formatDuration } from '../../lib/format.js';
import { routingDecisionQuery } from './api/get-tasks.js';

const REASON_LABEL: Record<string, string> = {
  mention: 'You mentioned the agent',
  thompson: 'A fair draw weighted by each agent’s expected score',
  fallback_constraints: 'No agent met the constraints; the best one was taken anyway',
  cheapest_meeting: 'The cheapest agent likely to reach the target quality',
  target_unmet: 'No agent was likely enough to reach the target quality; the likeliest was taken',
};

const THOMPSON_HELP =
  'Thompson sampling: for each agent a plausible score is drawn at random from what its past scores say; the highest draw wins. Well-proven agents usually win, and little-tried ones still get a chance to prove themselves.';
const DRAW_HELP =
  'The score drawn for this decision (after any load penalty): the router picks the highest draw, so the chosen agent need not have the highest expected score.';

const EXCLUSION_LABEL: Record<NonNullable<AgentEvaluation['excluded_because']>, string> = {
  inactive: 'inactive',
  over_cost: 'over the cost limit',
  over_duration: 'over the duration limit',
};

/** Two decimals, exactly as the server writes the figures into the explanation sentence. */
function formatRoutingScore(value: number | null): string {
  return value === null ? '–' : value.toFixed(2);
}

function formatInterval(interval: { lower: number; upper: number }): string {
  return `${formatRoutingScore(interval.lower)}–${formatRoutingScore(interval.upper)}`;
}

function describeRow(row: RoutingCandidateRow): string {
  if (row.excluded_because) return `excluded: ${EXCLUSION_LABEL[row.excluded_because]}`;
  const evidence = `${row.observations} scored task${row.observations === 1 ? '' : 's'}`;
  return row.specialist ? `${evidence}, declared specialty` : evidence;
}

function formatShare(value: number | null): string {
  return value === null ? '–' : `${Math.round(value * 100)}%`;
}

function DecisionDetails({ decision }: { decision: StoredRoutingDecision }) {
  // The rows the sentence was written from, in the server's order: never re-sorted or recomputed here.
  const { candidates } = decision;
  const constraints = readConstraints(decision.constraints);
  return (
    <>
      <p className="why-explanation" data-testid="why-explanation">
        {decision.explanation}
      </p>
      <dl className="why-facts">
        <div>
          <dt>Category</dt>
          <dd>
            {decision.category} ({formatShare(decision.category_confidence)} confident,{' '}
            {decision.category_source})
          </dd>
        </div>
        <div>
          <dt>Expected score</dt>
          <dd data-testid="why-expected">
            {formatRoutingScore(decision.expected_score)}{' '}
            <span className="muted">
              (90% interval {formatInterval(decision.interval)}, {decision.observations} observations)
            </span>
          </dd>
        </div>
        <div>
          <dt>Rule</dt>
          <dd>
            {REASON_LABEL[decision.reason] ?? decision.reason}
            {decision.reason === 'thompson' && (
              <>
                {' '}
                <InfoTip label="What is Thompson sampling?">{THOMPSON_HELP}</InfoTip>
              </>
            )}
          </dd>
        </div>
        <div>
          <dt>Constraints</dt>
          <dd>
            max cost {constraints.max_cost === null ? 'none' : formatCost(constraints.max_cost)}, max duration{' '}
            {constraints.max_duration_ms === null ? 'none' : formatDuration(constraints.max_duration_ms)},
            load penalty {constraints.load_penalty}
            {constraints.excluded_agent_ids.length > 0 &&
              `, excluded: ${constraints.excluded_agent_ids.join(', ')}`}
          </dd>
        </div>
        {decision.outcome.reward !== null && (
          <div>
            <dt>Outcome</dt>
            <dd>reward {formatRoutingScore(decision.outcome.reward)}</dd>
          </div>
        )}
      </dl>
      {candidates.length > 1 && (
        <div className="table-wrap">
          <table className="why-table" data-testid="why-runners-up">
            <caption className="eval-caption">
              Agents weighed, by expected score (0–1, as in the sentence above)
            </caption>
            <thead>
              <tr>
                <th scope="col">Agent</th>
                <th scope="col">Expected</th>
                <th scope="col">90% interval</th>
                <th scope="col">
                  Draw <InfoTip label="What is the draw?">{DRAW_HELP}</InfoTip>
                </th>
                <th scope="col">Note</th>
              </tr>
            </thead>
            <tbody>
              {candidates.map((row) => (
                <tr
                  key={row.agent_id}
                  className={row.chosen ? 'why-chosen' : undefined}
                  data-testid={row.chosen ? 'why-chosen-row' : 'why-candidate-row'}
                >
                  <th scope="row">
                    @{row.nickname}
                    {row.chosen && <span className="muted"> (chosen)</span>}
                  </th>
                  <td>{formatRoutingScore(row.expected_score)}</td>
                  <td>{formatInterval(row.interval)}</td>
                  <td>{formatRoutingScore(row.adjusted_score)}</td>
                  <td>{describeRow(row)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}

/** The stored decision's constraints as the router wrote them (the document types them loosely). */
function readConstraints(stored: Record<string, unknown>): RoutingConstraints {
  const figure = (value: unknown) => (typeof value === 'number' ? value : null);
  const excluded = stored.excluded_agent_ids;
  return {
    max_cost: figure(stored.max_cost),
    max_duration_ms: figure(stored.max_duration_ms),
    load_penalty: figure(stored.load_penalty) ?? 0,
    excluded_agent_ids: Array.isArray(excluded)
      ? excluded.filter((id): id is string => typeof id === 'string')
      : [],
  };
}

/** "Why @nick?": the stored routing decision behind a task the router assigned, fetched when opened. */
export function RoutingExplanation({ taskId, nickname }: { taskId: string; nickname: string }) {
  const api = useApi();
  const panelId = useId();
  const [open, setOpen] = useState(false);
  const result = useQuery({ ...routingDecisionQuery(api, taskId), enabled: open });
  const decision = result.data ?? null;
  const error = result.error ? describeError(result.error) : null;

  return (
    <div className="why" data-testid="why-agent">
      <button
        type="button"
        className="link-button"
        aria-expanded={open}
        aria-controls={panelId}
        onClick={() => setOpen((value) => !value)}
        data-testid="why-agent-toggle"
      >
        <span aria-hidden="true" className="details-caret">
          {open ? '▾' : '▸'}
        </span>
        Why @{nickname}?
      </button>
      <div id={panelId} className="why-panel" hidden={!open} data-testid="why-agent-panel">
        {open && error && (
          <p className="notice notice-error" role="alert">
            {error}
          </p>
        )}
        {open && decision === null && error === null && (
          <p className="muted small" role="status">
            Loading the routing decision…
          </p>
        )}
        {decision && <DecisionDetails decision={decision} />}
      </div>
    </div>
  );
}
