import type { TrendPoint } from '../../lib/api-schemas.js';
import { formatDay, formatRating, formatScore } from '../../lib/format.js';
import { ChartFrame } from './chart-frame.js';
import { createTimeScales, DayLabels, PercentGrid, TIME_CHART, toPath } from './time-series.js';

/** Average score per time bucket (and the average rating, as a share of 5 stars, when there is one). */
export function TrendChart({ points }: { points: TrendPoint[] }) {
  const dates = points.map((point) => point.bucket_start);
  const { times, x, y } = createTimeScales(dates);
  const scored = points.flatMap((point, index) =>
    point.avg_overall_score === null
      ? []
      : [{ point, x: x(times[index] ?? 0), y: y(point.avg_overall_score) }],
  );
  const rated = points.flatMap((point, index) =>
    point.avg_user_rating === null
      ? []
      : [{ point, x: x(times[index] ?? 0), y: y((point.avg_user_rating - 1) / 4) }],
  );
  const latest = scored[scored.length - 1]?.point;
  const summary =
    scored.length === 0
      ? 'No scored tasks yet.'
      : `${scored.length} periods from ${formatDay(points[0]?.bucket_start ?? '')} to ${formatDay(
          points[points.length - 1]?.bucket_start ?? '',
        )}; latest average score ${formatScore(latest?.avg_overall_score)} out of 100.`;

  return (
    <ChartFrame
      testId="chart-trend"
      title="Score trend"
      summary={summary}
      width={TIME_CHART.width}
      height={TIME_CHART.height}
      empty={scored.length === 0}
      emptyText="No scored tasks in this period yet."
      legend={
        <p className="chart-legend">
          <span className="legend-item">
            <span className="swatch swatch-score" /> Average score (0–100)
          </span>
          {rated.length > 0 && (
            <span className="legend-item">
              <span className="swatch swatch-rating" /> Average rating (1 star at 0, 5 stars at 100)
            </span>
          )}
        </p>
      }
    >
      <PercentGrid y={y} />
      <DayLabels dates={dates} x={x} times={times} />
      {rated.length > 1 && <path className="line line-rating" d={toPath(rated)} />}
      {scored.length > 1 && <path className="line line-score" d={toPath(scored)} />}
      {/* Points as well as lines: one day of data is one point, and a line needs two. */}
      {rated.map(({ point, x: cx, y: cy }) => (
        <rect
          key={`r${point.bucket_start}`}
          className="dot dot-rating"
          x={cx - 3.5}
          y={cy - 3.5}
          width={7}
          height={7}
          data-testid="trend-rating-point"
        >
          <title>{`${formatDay(point.bucket_start)}: average rating ${formatRating(point.avg_user_rating)}`}</title>
        </rect>
      ))}
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
