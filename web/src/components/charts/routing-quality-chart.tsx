import type { RoutingQualityDay } from '../../lib/api-schemas.js';
import { formatDay, formatScore } from '../../lib/format.js';
import { ChartFrame } from './chart-frame.js';
import { createTimeScales, DayLabels, PercentGrid, TIME_CHART, toPath } from './time-series.js';

type Series = 'mean_reward' | 'best_agent_share';

function formatShare(value: number | null): string {
  return value === null ? '–' : `${Math.round(value * 100)}%`;
}

/** Per day: the mean outcome reward of routed tasks and the share routed to the posterior-best agent. */
export function RoutingQualityChart({ days }: { days: RoutingQualityDay[] }) {
  const dates = days.map((day) => day.day);
  const { times, x, y } = createTimeScales(dates);
  const pointsOf = (series: Series) =>
    days.flatMap((day, index) => {
      const value = day[series];
      return value === null ? [] : [{ day, x: x(times[index] ?? 0), y: y(value) }];
    });
  const rewards = pointsOf('mean_reward');
  const shares = pointsOf('best_agent_share');
  const latest = days[days.length - 1];
  const summary =
    latest === undefined
      ? 'No routing decisions yet.'
      : `${days.length} days from ${formatDay(days[0]?.day ?? '')} to ${formatDay(latest.day)}; on the last day ` +
        `mean reward ${formatScore(latest.mean_reward)} out of 100 and ${formatShare(
          latest.best_agent_share,
        )} routed to the best agent.`;

  return (
    <ChartFrame
      testId="chart-routing-quality"
      title="Routing quality"
      summary={summary}
      width={TIME_CHART.width}
      height={TIME_CHART.height}
      empty={rewards.length === 0 && shares.length === 0}
      emptyText="No routed commands in this period yet."
      legend={
        <p className="chart-legend">
          <span className="legend-item">
            <span className="swatch swatch-score" /> Mean outcome reward (0–100)
          </span>
          <span className="legend-item">
            <span className="swatch swatch-tokens" /> Routed to the best agent (%)
          </span>
        </p>
      }
    >
      <PercentGrid y={y} />
      <DayLabels dates={dates} x={x} times={times} />
      {shares.length > 1 && <path className="line line-share" d={toPath(shares)} />}
      {rewards.length > 1 && <path className="line line-score" d={toPath(rewards)} />}
      {shares.map(({ day, x: cx, y: cy }) => (
        <rect key={`share-${day.day}`} className="dot-share" x={cx - 3.5} y={cy - 3.5} width={7} height={7}>
          <title>{`${formatDay(day.day)}: ${formatShare(day.best_agent_share)} of ${day.routed} routed commands to the best agent`}</title>
        </rect>
      ))}
      {rewards.map(({ day, x: cx, y: cy }) => (
        <circle key={`reward-${day.day}`} className="dot dot-score" cx={cx} cy={cy} r={3.5}>
          <title>{`${formatDay(day.day)}: mean reward ${formatScore(day.mean_reward)} over ${day.rewarded} rewarded tasks`}</title>
        </circle>
      ))}
    </ChartFrame>
  );
}
