import { useQuery } from '@tanstack/react-query';
import { reviewersQuery } from './api/admin-queries.js';
import { describeRequestError, type MeritConnection } from './api/request.js';
import { ScrollRegion } from './scroll-region.js';

const figure = (value: number | null, digits = 2) => (value === null ? 'unknown' : value.toFixed(digits));

/**
 * Each reviewer's agreement with users' ratings and the weight its reviews get. Reviewers are configured
 * with MERIT_REVIEWERS; the API offers no way to change them, so this tab only reads.
 */
export function ReviewersTab({ connection }: { connection: MeritConnection }) {
  const reviewers = useQuery(reviewersQuery(connection));
  if (reviewers.isPending)
    return (
      <p className="muted" role="status">
        Loading reviewers…
      </p>
    );
  if (reviewers.isError)
    return (
      <div className="notice notice-error" role="alert">
        {describeRequestError(reviewers.error)}
      </div>
    );
  return (
    <>
      <ScrollRegion label="Reviewers and their agreement with users' ratings over the last 30 days">
        <table className="keys-table" data-testid="reviewers-table">
          <caption className="visually-hidden">
            Reviewers and their agreement with users' ratings over the last 30 days
          </caption>
          <thead>
            <tr>
              <th scope="col">Reviewer</th>
              <th scope="col">Perspective</th>
              <th scope="col">Reviews</th>
              <th scope="col" title="Reviews of tasks the user also rated">
                Pairs with ratings
              </th>
              <th scope="col" title="Pearson correlation of its scores with users' ratings">
                Agreement
              </th>
              <th scope="col" title="Mean absolute difference from the user's rating, on a 0-1 scale">
                Mean error
              </th>
              <th scope="col">Weight</th>
            </tr>
          </thead>
          <tbody>
            {reviewers.data.reviewers.map((reviewer) => (
              <tr key={reviewer.agent_id}>
                <th scope="row">
                  @{reviewer.nickname}
                  {!reviewer.configured && <div className="muted small">no longer configured</div>}
                </th>
                <td>{reviewer.perspective ?? '—'}</td>
                <td>{reviewer.reviews}</td>
                <td>{reviewer.n}</td>
                <td>{figure(reviewer.correlation)}</td>
                <td>{figure(reviewer.mean_abs_error)}</td>
                <td>{figure(reviewer.weight)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </ScrollRegion>
      <p className="muted small">Reviewers are set with MERIT_REVIEWERS when Merit starts.</p>
    </>
  );
}
