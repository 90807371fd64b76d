import type { TrendPoint } from '../../lib/api-types.js';
import { formatDay, formatRating, formatScore } from '../../lib/format.js';
import { ChartFrame } from './chart-frame.js';
import { scaleLinear } from './chart-scale.js';

const WIDTH = 480;
const HEIGHT = 220;
const PAD = { top: 14, right: 14, bottom: 30, left: 36 };

function toPath(points: { x: number; y: number }[]): string {
  return points
    .map((point, index) => `${index === 0 ? 'M' : 'L'}${point.x.toFixed(1)},${point.y.toFixed(1)}`)
    .join(' ');
}

/** Average score per time bucket (and the average rating, as a share of 5 stars, when there is one). */
export function TrendChart({ points }: { points: TrendPoint[] }) {
  const times = points.map((point) => new Date(point.bucket_start).getTime());
  const first = times[0] ?? 0;
  const last = times[times.length - 1] ?? 0;
  const x = scaleLinear([first, last], [PAD.left, WIDTH - PAD.right]);
  const y = scaleLinear([0, 1], [HEIGHT - PAD.bottom, PAD.top]);
  const scored = points.flatMap((point, index) =>
    point.avg_overall_score === null
      ? []
      : [{ point, x: x(times[index] ?? 0), y: y(point.avg_overall_score) }],
  );
  const rated = points.flatMap((point, index) =>
    point.avg_user_rating === null ? [] : [{ x: x(times[index] ?? 0), y: y(point.avg_user_rating / 5) }],
  );
  const latest = scored[scored.length - 1]?.point;
  const summary =
    scored.length === 0
      ? 'No scored tasks yet.'
      : `${scored.length} periods from ${formatDay(points[0]?.bucket_start ?? '')} to ${formatDay(
          points[points.length - 1]?.bucket_start ?? '',
        )}; latest average score ${formatScore(latest?.avg_overall_score)} out of 100.`;
  const xLabels =
    points.length > 2 ? [0, Math.floor((points.length - 1) / 2), points.length - 1] : points.map((_, i) => i);

  return (
    <ChartFrame
      testId="chart-trend"
      title="Score trend"
      summary={summary}
      width={WIDTH}
      height={HEIGHT}
      empty={scored.length === 0}
      emptyText="No scored tasks in this period yet."
      legend={
        <p className="chart-legend">
          <span className="legend-item">
            <span className="swatch swatch-score" /> Average score (0–100)
          </span>
          {rated.length > 0 && (
            <span className="legend-item">
              <span className="swatch swatch-rating" /> Average rating (share of 5 stars)
            </span>
          )}
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
            points.length === 1
              ? 'middle'
              : index === 0
                ? 'start'
                : index === points.length - 1
                  ? 'end'
                  : 'middle'
          }
        >
          {formatDay(points[index]?.bucket_start ?? '')}
        </text>
      ))}
      {rated.length > 1 && <path className="line line-rating" d={toPath(rated)} />}
      {scored.length > 1 && <path className="line line-score" d={toPath(scored)} />}
      {scored.map(({ point, x: cx, y: cy }) => (
        <circle key={point.bucket_start} className="dot dot-score" cx={cx} cy={cy} r={3.5}>
          <title>
            {`${formatDay(point.bucket_start)}: score ${formatScore(point.avg_overall_score)}, rating ${formatRating(
              point.avg_user_rating,
            )}, ${point.tasks} tasks`}
          </title>
        </circle>
      ))}
    </ChartFrame>
  );
}
