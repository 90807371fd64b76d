import { useQuery } from '@tanstack/react-query';
import { describeError } from '../../lib/api-client.js';
import { useApi } from '../../lib/api-context.js';
import type {
  EvaluationState,
  EvaluatorSpend,
  EvaluatorState,
  EvaluatorVerdict,
  PeerReview,
  ScoreKind,
  TaskEvaluation,
} from '../../lib/api-schemas.js';
import {
  formatCost,
  formatDateTime,
  formatOverallScore,
  formatScore,
  formatTokens,
} from '../../lib/format.js';
import { TaskNodes } from '../task-nodes/task-nodes.js';
import { taskEvaluationQuery } from './api/get-task-evaluation.js';

const SCORE_ROWS: { kind: ScoreKind; label: string }[] = [
  { kind: 'accuracy', label: 'Accuracy' },
  { kind: 'relevance', label: 'Relevance' },
  { kind: 'completeness', label: 'Completeness' },
  { kind: 'efficiency', label: 'Efficiency' },
  { kind: 'peer', label: 'Peer review' },
  { kind: 'user_rating', label: 'Your rating' },
  { kind: 'overall', label: 'Overall' },
];

const STATE_LABEL: Record<EvaluationState['status'], string> = {
  pending: 'Pending',
  done: 'Done',
  failed: 'Failed',
  not_scheduled: 'Not scheduled',
};

function describeState(state: EvaluationState): string {
  const parts: string[] = [];
  if (state.status === 'pending' && state.attempts > 0) parts.push(`attempt ${state.attempts + 1}`);
  if (state.status === 'failed' && state.attempts > 0)
    parts.push(`after ${state.attempts} attempt${state.attempts === 1 ? '' : 's'}`);
  if (state.next_attempt_at) parts.push(`next try ${formatDateTime(state.next_attempt_at)}`);
  if (state.reason) parts.push(state.reason);
  return parts.join(' · ');
}

function JobState({ label, state, testId }: { label: string; state: EvaluationState; testId: string }) {
  const detail = describeState(state);
  return (
    <div className="eval-state" data-testid={testId} data-status={state.status}>
      <dt>{label}</dt>
      <dd>
        <span className={`status-badge job-${state.status}`}>{STATE_LABEL[state.status]}</span>
        {detail && <span className="muted small"> {detail}</span>}
      </dd>
    </div>
  );
}

function describeSpend(spend: EvaluatorSpend): string {
  if (spend.prompt_tokens === null && spend.completion_tokens === null) return 'spend not recorded yet';
  return `${formatTokens((spend.prompt_tokens ?? 0) + (spend.completion_tokens ?? 0))}, ${formatCost(spend.estimated_cost)}`;
}

function evaluatorLabel(state: EvaluatorState, nicknames: ReadonlyMap<string, string>): string {
  if (state.role === 'evaluation') return state.evaluator === 'judge' ? 'LLM judge' : 'Offline evaluator';
  const id = state.reviewer_agent_id ?? state.evaluator;
  return `Review by @${nicknames.get(id) ?? id}`;
}

/** Each evaluator's own state, attempts, last error and spend. */
function EvaluatorStates({ evaluation }: { evaluation: TaskEvaluation }) {
  if (evaluation.evaluators.length === 0) return null;
  const nicknames = new Map(
    evaluation.peer_reviews.map((review) => [review.reviewer_agent_id, review.reviewer_nickname]),
  );
  return (
    <dl className="eval-states" data-testid="evaluator-states">
      {evaluation.evaluators.map((state) => {
        const detail = describeState(state);
        return (
          <div
            key={`${state.role}-${state.evaluator}`}
            className="eval-state"
            data-testid="evaluator-state"
            data-evaluator={state.evaluator}
            data-status={state.status}
          >
            <dt>{evaluatorLabel(state, nicknames)}</dt>
            <dd>
              <span className={`status-badge job-${state.status}`}>{STATE_LABEL[state.status]}</span>
              {detail && <span className="muted small"> {detail}</span>}
              <span className="muted small"> · {describeSpend(state.spend)}</span>
            </dd>
          </div>
        );
      })}
    </dl>
  );
}

function formatSignedPoints(points: number): string {
  return points > 0 ? `+${points}` : String(points);
}

function Verdict({ verdict }: { verdict: EvaluatorVerdict }) {
  return (
    <li className="eval-card" data-testid="evaluator-verdict" data-status={verdict.status}>
      <p className="eval-card-head">
        <strong>{verdict.kind === 'judge' ? 'LLM judge' : 'Offline evaluator'}</strong>
        <code className="eval-source">
          {verdict.source} · {verdict.evaluator_version}
        </code>
        {verdict.status === 'failed' && <span className="status-badge status-failed">failed</span>}
      </p>
      {verdict.status === 'failed' && verdict.failure_reason && (
        <p className="task-error">{verdict.failure_reason}</p>
      )}
      {verdict.reasoning && <p className="eval-text">{verdict.reasoning}</p>}
      <p className="muted small">
        Evaluator's own usage (never charged to the agent): {verdict.usage.model ?? 'no model'},{' '}
        {verdict.usage.prompt_tokens === null || verdict.usage.completion_tokens === null
          ? 'tokens unknown'
          : formatTokens(verdict.usage.prompt_tokens + verdict.usage.completion_tokens)}
        , {formatCost(verdict.usage.estimated_cost)}
      </p>
    </li>
  );
}

function ReviewList({ title, items }: { title: string; items: string[] }) {
  if (items.length === 0) return null;
  return (
    <div className="review-list">
      <h6>{title}</h6>
      <ul>
        {items.map((item) => (
          <li key={item}>{item}</li>
        ))}
      </ul>
    </div>
  );
}

function Review({ review }: { review: PeerReview }) {
  return (
    <li className="eval-card" data-testid="peer-review" data-reviewer={review.reviewer_agent_id}>
      <p className="eval-card-head">
        <strong>@{review.reviewer_nickname}</strong>
        <span className="chip">{review.perspective}</span>
        {review.status === 'failed' ? (
          <span className="eval-failed" role="status">
            Failed after {review.attempts} attempt{review.attempts === 1 ? '' : 's'}: {review.failure_reason}
          </span>
        ) : (
          <span>
            Score <strong>{formatScore(review.score)}</strong>
          </span>
        )}
        <span className="muted" title="How much this reviewer counts, from its agreement with your ratings">
          weight {review.reviewer_weight.toFixed(2)}
        </span>
        <code className="eval-source">
          {review.source} · {review.evaluator_version}
        </code>
      </p>
      {review.review_text && <p className="eval-text">{review.review_text}</p>}
      <div className="review-lists">
        <ReviewList title="Strengths" items={review.strengths} />
        <ReviewList title="Weaknesses" items={review.weaknesses} />
        <ReviewList title="Suggestions" items={review.suggestions} />
      </div>
    </li>
  );
}

export interface TaskEvaluationPanelProps {
  id: string;
  taskId: string;
}

/** Every score of one task with its source, the evaluator's reasoning, peer reviews, reward rules and its steps. */
export function TaskEvaluationPanel({ id, taskId }: TaskEvaluationPanelProps) {
  const api = useApi();
  const result = useQuery(taskEvaluationQuery(api, taskId));
  const evaluation = result.data ?? null;
  const error = result.error ? describeError(result.error) : null;

  const headingId = `${id}-title`;
  return (
    <section
      id={id}
      className="task-evaluation"
      aria-labelledby={headingId}
      aria-busy={evaluation === null && error === null}
      data-testid="task-evaluation"
    >
      <h4 id={headingId} className="visually-hidden">
        Evaluation details
      </h4>
      {error && (
        <p className="notice notice-error" role="alert">
          {error}
        </p>
      )}
      {evaluation === null && error === null && (
        <p className="muted" role="status">
          Loading the evaluation…
        </p>
      )}
      {evaluation && (
        <>
          <dl className="eval-states">
            <JobState label="Evaluation" state={evaluation.evaluation} testId="evaluation-state" />
            <JobState label="Peer review" state={evaluation.peer_review} testId="peer-review-state" />
          </dl>
          <EvaluatorStates evaluation={evaluation} />
          <div className="table-wrap">
            <table className="eval-table">
              <caption className="eval-caption">Scores (0–100; your rating in stars)</caption>
              <thead>
                <tr>
                  <th scope="col">Score</th>
                  <th scope="col">Value</th>
                  <th scope="col">Source</th>
                  <th scope="col">Version</th>
                </tr>
              </thead>
              <tbody>
                {SCORE_ROWS.map(({ kind, label }) => {
                  const entry = evaluation.scores[kind];
                  return (
                    <tr key={kind} data-testid="evaluation-score" data-kind={kind}>
                      <th scope="row">{label}</th>
                      <td>
                        {kind === 'user_rating'
                          ? entry.value === null
                            ? '–'
                            : `${entry.value} ★`
                          : kind === 'overall'
                            ? formatOverallScore(entry.value)
                            : formatScore(entry.value)}
                      </td>
                      <td data-testid="score-source">{entry.source ?? '–'}</td>
                      <td>{entry.version ?? '–'}</td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
          <h5 className="eval-heading">Evaluator's reasoning</h5>
          {evaluation.evaluations.length === 0 ? (
            <p className="muted small">No evaluator verdict yet.</p>
          ) : (
            <ul className="eval-cards">
              {evaluation.evaluations.map((verdict) => (
                <Verdict key={`${verdict.kind}-${verdict.created_at}`} verdict={verdict} />
              ))}
            </ul>
          )}
          {evaluation.external_scores.length > 0 && (
            <>
              <h5 className="eval-heading">The agent's own evaluators</h5>
              <p className="muted small">
                Reported with the agent's traces (OpenTelemetry); shown as reported, not part of the overall
                score.
              </p>
              <ul className="eval-cards" data-testid="external-scores">
                {evaluation.external_scores.map((score) => (
                  <li key={`${score.name}-${score.evaluated_at}`} className="eval-card">
                    <strong>{score.name}</strong>
                    {score.value !== null && <span> · {score.value}</span>}
                    {score.label !== null && <span className="muted"> · {score.label}</span>}
                    {score.explanation !== null && <p className="small">{score.explanation}</p>}
                  </li>
                ))}
              </ul>
            </>
          )}
          <h5 className="eval-heading">Peer reviews</h5>
          {evaluation.peer_reviews.length === 0 ? (
            <p className="muted small">No peer review yet.</p>
          ) : (
            <ul className="eval-cards">
              {evaluation.peer_reviews.map((review) => (
                <Review key={review.reviewer_agent_id} review={review} />
              ))}
            </ul>
          )}
          <h5 className="eval-heading">Rewards and penalties</h5>
          {evaluation.rewards.applied.length === 0 ? (
            <p className="muted small">No reward rule applied.</p>
          ) : (
            <ul className="reward-list" data-testid="reward-rules">
              {evaluation.rewards.applied.map((reward) => (
                <li key={reward.rule}>
                  <span className={reward.points < 0 ? 'points points-negative' : 'points'}>
                    {formatSignedPoints(reward.points)}
                  </span>{' '}
                  <strong>{reward.rule.replaceAll('_', ' ')}</strong>
                  <span className="muted"> · {reward.reason}</span>
                </li>
              ))}
            </ul>
          )}
          <p className="reward-net" data-testid="reward-net">
            Net points: <strong>{formatSignedPoints(evaluation.rewards.points)}</strong>
          </p>
        </>
      )}
      <TaskNodes taskId={taskId} />
    </section>
  );
}
