import { useQuery } from '@tanstack/react-query';
import { useId } from 'react';
import { RoutingQualityChart } from '../../components/charts/routing-quality-chart.js';
import { describeError } from '../../lib/api-client.js';
import { useApi } from '../../lib/api-context.js';
import { formatScore } from '../../lib/format.js';
import { routingQualityQuery } from './api/get-routing-quality.js';

const PERIOD_DAYS = 30;

function formatShare(value: number | null): string {
  return value === null ? '–' : `${Math.round(value * 100)}%`;
}

/** How well the router chooses over time: outcome reward of routed commands and best-agent share. */
export function RoutingQualityPanel() {
  const api = useApi();
  const titleId = useId();
  const result = useQuery(routingQualityQuery(api, PERIOD_DAYS));
  const quality = result.data ?? null;
  const error = result.error ? describeError(result.error) : null;

  const overall = quality?.overall;
  return (
    <section
      className="routing-quality"
      aria-labelledby={titleId}
      aria-busy={quality === null && error === null}
      data-testid="routing-quality"
    >
      <h2 id={titleId} className="panel-title">
        Routing
      </h2>
      <p className="muted small">
        Commands without an @mention go to the agent the router expects to do best. Over the last{' '}
        {PERIOD_DAYS} days:
      </p>
      {error && (
        <p className="notice notice-error" role="alert">
          {error}
        </p>
      )}
      {overall && (
        <dl className="stats stats-compact" data-testid="routing-overall">
          <div className="stat">
            <dt>Routed</dt>
            <dd>{overall.routed}</dd>
          </div>
          <div className="stat">
            <dt>Mean reward</dt>
            <dd>{formatScore(overall.mean_reward)}</dd>
          </div>
          <div className="stat">
            <dt>Best agent</dt>
            <dd>{formatShare(overall.best_agent_share)}</dd>
          </div>
        </dl>
      )}
      {quality && <RoutingQualityChart days={quality.days} />}
      <p className="muted small">
        The reward blends your rating, the judge's and peers' scores and failures (0–100); it appears once a
        routed task has feedback. "Best agent" is the share routed to the agent with the highest expected
        score; the rest explores.
      </p>
    </section>
  );
}
