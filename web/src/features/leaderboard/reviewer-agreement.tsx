import { useEffect, useId, useState } from 'react';
import { describeError } from '../../lib/api-client.js';
import { useApi } from '../../lib/api-context.js';
import type { ReviewerAgreement } from '../../lib/api-types.js';

function formatFigure(value: number | null, digits = 2): string {
  return value === null ? '–' : value.toFixed(digits);
}

/** Each reviewer's agreement with the user's ratings and the weight its peer reviews get. */
export function ReviewerAgreementSection({ refreshKey }: { refreshKey: number }) {
  const api = useApi();
  const titleId = useId();
  const [reviewers, setReviewers] = useState<ReviewerAgreement[] | null>(null);
  const [error, setError] = useState<string | null>(null);

  // biome-ignore lint/correctness/useExhaustiveDependencies: refreshKey only triggers the refetch
  useEffect(() => {
    const controller = new AbortController();
    api.listReviewers(controller.signal).then(
      (result) => {
        setReviewers(result.reviewers);
        setError(null);
      },
      (cause: unknown) => {
        if (!controller.signal.aborted) setError(describeError(cause));
      },
    );
    return () => controller.abort();
  }, [api, refreshKey]);

  return (
    <section className="reviewers" aria-labelledby={titleId} data-testid="reviewers">
      <h3 id={titleId} className="panel-title">
        Reviewers
      </h3>
      <p className="muted small">
        Peer reviewers are compared with your star ratings: a reviewer who disagrees with you counts less.
      </p>
      {error && (
        <p className="notice notice-error" role="alert">
          {error}
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
                  <abbr title="Reviews of tasks you also rated">n</abbr>
                </th>
                <th scope="col">
                  <abbr title="Correlation with your ratings (-1 to 1)">Corr.</abbr>
                </th>
                <th scope="col">
                  <abbr title="Mean absolute error against your ratings (0-1)">MAE</abbr>
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
    </section>
  );
}
