import { formatDay } from '../../lib/format.js';
import { scaleLinear } from './chart-scale.js';

/** Shared geometry and axes of the charts that plot 0-1 figures over days. */
export const TIME_CHART = {
  width: 480,
  height: 220,
  pad: { top: 14, right: 14, bottom: 30, left: 36 },
} as const;

/** Scales for dated points: x over the dates' span, y over 0-1. */
export function createTimeScales(dates: readonly string[]) {
  const { width, height, pad } = TIME_CHART;
  const times = dates.map((date) => new Date(date).getTime());
  const x = scaleLinear([times[0] ?? 0, times[times.length - 1] ?? 0], [pad.left, width - pad.right]);
  const y = scaleLinear([0, 1], [height - pad.bottom, pad.top]);
  return { times, x, y };
}

export function toPath(points: readonly { x: number; y: number }[]): string {
  return points
    .map((point, index) => `${index === 0 ? 'M' : 'L'}${point.x.toFixed(1)},${point.y.toFixed(1)}`)
    .join(' ');
}

/** Horizontal grid lines at 0, 25, 50, 75 and 100 (percent of the 0-1 scale), labelled on the left. */
export function PercentGrid({ y }: { y: (value: number) => number }) {
  const { width, pad } = TIME_CHART;
  return (
    <>
      {[0, 0.25, 0.5, 0.75, 1].map((tick) => (
        <g key={tick}>
          <line className="grid" x1={pad.left} x2={width - pad.right} y1={y(tick)} y2={y(tick)} />
          <text className="axis-label" x={pad.left - 6} y={y(tick) + 4} textAnchor="end">
            {Math.round(tick * 100)}
          </text>
        </g>
      ))}
    </>
  );
}

/** Day labels under the x axis: first, middle and last date (or every date when there are few). */
export function DayLabels({
  dates,
  x,
  times,
}: {
  dates: readonly string[];
  x: (time: number) => number;
  times: readonly number[];
}) {
  const last = dates.length - 1;
  const indexes = dates.length > 2 ? [0, Math.floor(last / 2), last] : dates.map((_, i) => i);
  const anchorOf = (index: number) =>
    dates.length === 1 ? 'middle' : index === 0 ? 'start' : index === last ? 'end' : 'middle';
  return (
    <>
      {indexes.map((index) => (
        <text
          key={index}
          className="axis-label"
          x={x(times[index] ?? 0)}
          y={TIME_CHART.height - 10}
          textAnchor={anchorOf(index)}
        >
          {formatDay(dates[index] ?? '')}
        </text>
      ))}
    </>
  );
}
