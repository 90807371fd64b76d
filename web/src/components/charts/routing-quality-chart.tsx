import type { RoutingQualityDay } from '../../lib/api-types.js';
import { formatDay, formatScore } from '../../lib/format.js';
import { ChartFrame } from './chart-frame.js';
import { scaleLinear } from './chart-scale.js';

const WIDTH = 480;
const HEIGHT = 220;
const PAD = { top: 14, right: 14, bottom: 30, left: 36 };

type Series = 'mean_reward' | 'best_agent_share';

function toPath(points: { x: number; y: number }[]): string {
  return points
    .map((point, index) => `${index === 0 ? 'M' : 'L'}${point.x.toFixed(1)},${point.y.toFixed(1)}`)
    .join(' ');
}

function formatShare(value: number | null): string {
  return value === null ? '–' : `${Math.round(value * 100)}%`;
}

/** Per day: the mean outcome reward of routed tasks and the share routed to the posterior-best agent. */
export function RoutingQualityChart({ days }: { days: RoutingQualityDay[] }) {
  const times = days.map((day) => new Date(day.day).getTime());
  const first = times[0] ?? 0;
  const last = times[times.length - 1] ?? 0;
  const x = scaleLinear([first, last], [PAD.left, WIDTH - PAD.right]);
  const y = scaleLinear([0, 1], [HEIGHT - PAD.bottom, PAD.top]);
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
  const xLabels =
    days.length > 2 ? [0, Math.floor((days.length - 1) / 2), days.length - 1] : days.map((_, i) => i);

  return (
    <ChartFrame
      testId="chart-routing-quality"
      title="Routing quality"
      summary={summary}
      width={WIDTH}
      height={HEIGHT}
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
      {[0, 0.25, 0.5, 0.75, 1].map((tick) => (
        <g key={tick}>
          <line className="grid" x1={PAD.left} x2={WIDTH - PAD.right} y1={y(tick)} y2={y(tick)} />
          <text className="axis-label" x={PAD.left - 6} y={y(tick) + 4} textAnchor="end">
            {Math.round(tick * 100)}
          </text>
        </g>
      ))}
      {xLabels.map((index) => (
        <text
          key={index}
          className="axis-label"
          x={x(times[index] ?? 0)}
          y={HEIGHT - 10}
          textAnchor={
            days.length === 1
              ? 'middle'
              : index === 0
                ? 'start'
                : index === days.length - 1
                  ? 'end'
                  : 'middle'
          }
        >
          {formatDay(days[index]?.day ?? '')}
        </text>
      ))}
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
