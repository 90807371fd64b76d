import { useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { describeRange, RangePicker } from '../../components/range-picker.js';
import { formatDay } from '../../lib/format.js';
import type { Range } from '../../lib/route.js';
import { type Reviewer, reviewersQuery } from './api/admin-queries.js';
import { describeRequestError, type MeritConnection } from './api/request.js';
import { ScrollRegion } from './scroll-region.js';

const figure = (value: number | null, digits = 2) => (value === null ? 'unknown' : value.toFixed(digits));

/**
 * Each reviewer's agreement with users' ratings and the weight its reviews get. Reviewers are configured
 * with MERIT_REVIEWERS; the API offers no way to change them, so this tab only reads.
 */
export function ReviewersTab({ connection }: { connection: MeritConnection }) {
  // The server's default window, until the admin picks another.
  const [range, setRange] = useState<Range>('30d');
  const reviewers = useQuery(reviewersQuery(connection, range));
  const since = reviewers.data?.window.since ?? null;
  const period = `${describeRange(range)}${since === null ? '' : ` (since ${formatDay(since)})`}`;
  return (
    <>
      <RangePicker range={range} onChange={setRange} legend="Reviews over" testIdPrefix="reviewers-window" />
      {reviewers.isPending && (
        <p className="muted" role="status">
          Loading reviewers…
        </p>
      )}
      {reviewers.isError && (
        <div className="notice notice-error" role="alert">
          {describeRequestError(reviewers.error)}
        </div>
      )}
      {reviewers.isSuccess && <ReviewersTable reviewers={reviewers.data.reviewers} period={period} />}
      <p className="muted small">Reviewers are set with MERIT_REVIEWERS when Merit starts.</p>
    </>
  );
}

/** The reviewers' figures over the period (said in words: "the last 30 days (since Oct 31)"). */
function ReviewersTable({ reviewers, period }: { reviewers: readonly Reviewer[]; period: string }) {
  return (
    <>
      <p className="muted small" data-testid="reviewers-window-label">
        Reviews and ratings of {period}.
      </p>
      <ScrollRegion label={`Reviewers and their agreement with users' ratings over ${period}`}>
        <table className="keys-table" data-testid="reviewers-table">
          <caption className="visually-hidden">
            Reviewers and their agreement with users' ratings over {period}
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
            {reviewers.map((reviewer) => (
              <tr key={reviewer.agent_id} data-testid="reviewer-row" data-agent={reviewer.agent_id}>
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
    </>
  );
}
