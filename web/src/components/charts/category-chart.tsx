import type { CategoryStats } from '../../lib/api-schemas.js';
import { formatScore } from '../../lib/format.js';
import { ChartFrame } from './chart-frame.js';

const WIDTH = 480;
const ROW = 28;
const LABEL = 96;
const VALUE = 96;

/** Average score per objective category, one horizontal bar each. */
export function CategoryChart({ categories }: { categories: CategoryStats[] }) {
  const rows = [...categories].sort((a, b) => (b.avg_overall_score ?? -1) - (a.avg_overall_score ?? -1));
  const height = Math.max(ROW, rows.length * ROW) + 8;
  const barSpace = WIDTH - LABEL - VALUE;
  const best = rows[0];
  const summary =
    best === undefined
      ? 'No categories yet.'
      : `${rows.length} categories; strongest is ${best.objective_category} with average score ${formatScore(
          best.avg_overall_score,
        )}.`;
  return (
    <ChartFrame
      testId="chart-categories"
      title="Performance by category"
      summary={summary}
      width={WIDTH}
      height={height}
      empty={rows.length === 0}
      emptyText="No completed tasks yet."
    >
      {rows.map((row, index) => {
        const top = 4 + index * ROW;
        const width = Math.max(1, (row.avg_overall_score ?? 0) * barSpace);
        return (
          <g key={row.objective_category}>
            <text className="bar-label" x={LABEL - 8} y={top + ROW / 2 + 4} textAnchor="end">
              {row.objective_category}
            </text>
            <rect className="bar-track" x={LABEL} y={top + 5} width={barSpace} height={ROW - 10} rx={4} />
            <rect className="bar bar-score" x={LABEL} y={top + 5} width={width} height={ROW - 10} rx={4}>
              <title>{`${row.objective_category}: score ${formatScore(row.avg_overall_score)}, ${row.total_tasks} tasks`}</title>
            </rect>
            <text className="bar-value" x={LABEL + barSpace + 8} y={top + ROW / 2 + 4}>
              {`${formatScore(row.avg_overall_score)} · ${row.total_tasks} task${row.total_tasks === 1 ? '' : 's'}`}
            </text>
          </g>
        );
      })}
    </ChartFrame>
  );
}
