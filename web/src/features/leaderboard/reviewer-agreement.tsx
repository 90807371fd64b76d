import { useQuery } from '@tanstack/react-query';
import { useId, useState } from 'react';
import { InfoTip } from '../../components/info-tip.js';
import { describeRange, RangePicker } from '../../components/range-picker.js';
import { describeError } from '../../lib/api-client.js';
import { useApi } from '../../lib/api-context.js';
import type { CalibrationEstimate, EvaluatorCalibration, ReviewerAgreement } from '../../lib/api-schemas.js';
import { formatDay } from '../../lib/format.js';
import type { Range } from '../../lib/route.js';
import { calibrationQuery, reviewersQuery } from './api/get-reviewers.js';

function formatFigure(value: number | null, digits = 2): string {
  return value === null ? '–' : value.toFixed(digits);
}

const EVALUATOR_LABELS: Record<string, string> = {
  judge: 'LLM judge (mean)',
  'judge.accuracy': 'Judge · accuracy',
  'judge.relevance': 'Judge · relevance',
  'judge.completeness': 'Judge · completeness',
  offline: 'Offline evaluator',
};

function labelEvaluator(evaluator: string, reviewers: readonly ReviewerAgreement[] | null): string {
  if (evaluator.startsWith('reviewer:')) {
    const agentId = evaluator.slice('reviewer:'.length);
    const nickname = reviewers?.find((reviewer) => reviewer.agent_id === agentId)?.nickname;
    return `Reviewer @${nickname ?? agentId}`;
  }
  return EVALUATOR_LABELS[evaluator] ?? evaluator;
}

function EstimateCell({ estimate, reason }: { estimate: CalibrationEstimate | null; reason: string | null }) {
  if (estimate === null) {
    return (
      <td>
        <span className="muted small">{reason ?? 'unknown'}</span>
      </td>
    );
  }
  return (
    <td>
      {estimate.value.toFixed(2)}{' '}
      <span className="muted small">
        ({estimate.lower.toFixed(2)} to {estimate.upper.toFixed(2)})
      </span>
    </td>
  );
}

/** Every automatic evaluator's agreement with the users' ratings, and the weight its scores get. */
function CalibrationTable({
  evaluators,
  reviewers,
}: {
  evaluators: readonly EvaluatorCalibration[];
  reviewers: readonly ReviewerAgreement[] | null;
}) {
  return (
    <div className="table-wrap">
      <table className="leaderboard-table" data-testid="calibration">
        <caption className="visually-hidden">
          Automatic evaluators with the number of tasks they and the users scored, Spearman rank correlation
          and quadratic weighted kappa with the ratings (95% intervals in brackets), and weight
        </caption>
        <thead>
          <tr>
            <th scope="col">Evaluator</th>
            <th scope="col">
              <abbr title="Tasks scored by the evaluator and rated by a user">n</abbr>
            </th>
            <th scope="col">
              <abbr title="Spearman rank correlation with the ratings (-1 to 1), 95% interval">Spearman</abbr>
            </th>
            <th scope="col">
              <abbr title="Quadratic weighted kappa of the scores as stars against the ratings (-1 to 1), 95% interval">
                Kappa
              </abbr>
            </th>
            <th scope="col">
              <abbr title="How much its scores count in overall scores (0-1)">Weight</abbr>
            </th>
          </tr>
        </thead>
        <tbody>
          {evaluators.map((entry) => (
            <tr key={entry.evaluator} data-testid="calibration-row" data-evaluator={entry.evaluator}>
              <th scope="row">{labelEvaluator(entry.evaluator, reviewers)}</th>
              <td>{entry.n}</td>
              <EstimateCell estimate={entry.spearman} reason={entry.reason} />
              <EstimateCell estimate={entry.qwk} reason={entry.reason} />
              <td>{entry.weight.toFixed(2)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** Each reviewer's agreement with the user's ratings and the weight its peer reviews get. */
export function ReviewerAgreementSection() {
  const api = useApi();
  const titleId = useId();
  // The server's default window, until the user picks another.
  const [range, setRange] = useState<Range>('30d');
  const reviewersResult = useQuery(reviewersQuery(api, range));
  const reviewers = reviewersResult.data?.reviewers ?? null;
  const since = reviewersResult.data?.window.since ?? null;
  const error = reviewersResult.error ? describeError(reviewersResult.error) : null;
  const calibrationResult = useQuery(calibrationQuery(api));
  const calibration = calibrationResult.data ?? null;
  const calibrationError = calibrationResult.error ? describeError(calibrationResult.error) : null;
  const calibrationTitleId = useId();

  return (
    <section className="reviewers" aria-labelledby={titleId} data-testid="reviewers">
      <h3 id={titleId} className="panel-title">
        Reviewers
      </h3>
      <RangePicker range={range} onChange={setRange} legend="Reviews over" testIdPrefix="reviewers-window" />
      <p className="muted small" data-testid="reviewers-window-label">
        Peer reviews of {describeRange(range)}
        {since !== null && ` (since ${formatDay(since)})`} are compared with your star ratings: a reviewer who
        disagrees with you counts less.
      </p>
      {error && (
        <p className="notice notice-error" role="alert">
          {error}
        </p>
      )}
      {reviewersResult.isPending && !error && (
        <p className="muted small" role="status">
          Loading the reviewers…
        </p>
      )}
      {reviewers && reviewers.length === 0 && <p className="muted small">No reviewer is configured.</p>}
      {reviewers && reviewers.length > 0 && (
        <div className="table-wrap">
          <table className="leaderboard-table">
            <caption className="visually-hidden">
              Reviewers with the number of reviews of tasks you rated, correlation with your ratings, mean
              absolute error and weight
            </caption>
            <thead>
              <tr>
                <th scope="col">Reviewer</th>
                <th scope="col">
                  Tasks <InfoTip label="What are these tasks?">Reviews of tasks you also rated</InfoTip>
                </th>
                <th scope="col">
                  Agreement{' '}
                  <InfoTip label="What is agreement?">
                    Correlation (CORR.) of the reviewer's scores with your ratings, from -1 (opposite) through
                    0 (unrelated) to 1 (always agrees)
                  </InfoTip>
                </th>
                <th scope="col">
                  Average miss{' '}
                  <InfoTip label="What is the average miss?">
                    Mean absolute error (MAE): how far the reviewer's score is from your rating on average, on
                    a 0-1 scale (0 is a perfect match)
                  </InfoTip>
                </th>
                <th scope="col">Weight</th>
              </tr>
            </thead>
            <tbody>
              {reviewers.map((reviewer) => (
                <tr key={reviewer.agent_id} data-testid="reviewer-row" data-agent={reviewer.agent_id}>
                  <th scope="row">
                    @{reviewer.nickname}
                    {reviewer.perspective && <span className="muted small"> · {reviewer.perspective}</span>}
                  </th>
                  <td>{reviewer.n}</td>
                  <td>{formatFigure(reviewer.correlation)}</td>
                  <td>{formatFigure(reviewer.mean_abs_error)}</td>
                  <td>{reviewer.weight.toFixed(2)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <section aria-labelledby={calibrationTitleId} data-testid="evaluator-calibration">
        <h4 id={calibrationTitleId} className="panel-title">
          Evaluator calibration
        </h4>
        <p className="muted small">
          How well each automatic evaluator agrees with the users' star ratings of the tasks both scored: rank
          correlation and weighted kappa (1 is full agreement, 0 chance), with 95% intervals. The judge counts
          less when it disagrees with them.
        </p>
        {calibrationError && (
          <p className="notice notice-error" role="alert">
            {calibrationError}
          </p>
        )}
        {calibration && <CalibrationTable evaluators={calibration} reviewers={reviewers} />}
      </section>
    </section>
  );
}
