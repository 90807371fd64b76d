import type { CostQualityCell } from '../../lib/api-schemas.js';
import { formatCost, formatScore } from '../../lib/format.js';
import { ChartFrame } from './chart-frame.js';
import { niceCeiling, scaleLinear } from './chart-scale.js';

const WIDTH = 480;
const HEIGHT = 240;
const PAD = { top: 14, right: 16, bottom: 40, left: 44 };

/**
 * What the agent's tasks cost against the score they earned, over every scored task of the range: the
 * server groups them into cells, each drawn as a dot whose area grows with its number of tasks.
 */
export function CostQualityChart({
  cells,
  rangeLabel,
  truncated = false,
}: {
  cells: CostQualityCell[];
  rangeLabel: string;
  /** The grid shows only the range's newest scored, priced tasks (the server's sample). */
  truncated?: boolean;
}) {
  const total = cells.reduce((sum, cell) => sum + cell.tasks, 0);
  const counted = truncated ? `the newest ${total} scored tasks` : `${total} scored tasks`;
  const maxCost = niceCeiling(Math.max(0, ...cells.map((cell) => cell.avg_cost)));
  const maxTasks = Math.max(1, ...cells.map((cell) => cell.tasks));
  const x = scaleLinear([0, maxCost], [PAD.left, WIDTH - PAD.right]);
  const y = scaleLinear([0, 1], [HEIGHT - PAD.bottom, PAD.top]);
  const weighted = (pick: (cell: CostQualityCell) => number) =>
    cells.reduce((sum, cell) => sum + pick(cell) * cell.tasks, 0) / Math.max(1, total);
  const summary = `${counted} ${rangeLabel}; average cost ${formatCost(
    weighted((cell) => cell.avg_cost),
  )}, average score ${formatScore(weighted((cell) => cell.avg_score))} out of 100.`;
  return (
    <ChartFrame
      testId="chart-cost-quality"
      title="Cost against quality"
      summary={summary}
      width={WIDTH}
      height={HEIGHT}
      empty={cells.length === 0}
      emptyText={`No scored tasks with a known cost ${rangeLabel}.`}
      legend={
        <p className="chart-legend">
          <span className="legend-item" data-testid="cost-quality-total">
            {truncated ? `the newest ${total}` : total} tasks {rangeLabel}; bigger dots stand for more tasks
          </span>
        </p>
      }
    >
      {[0, 0.5, 1].map((tick) => (
        <g key={`y${tick}`}>
          <line className="grid" x1={PAD.left} x2={WIDTH - PAD.right} y1={y(tick)} y2={y(tick)} />
          <text className="axis-label" x={PAD.left - 6} y={y(tick) + 5} textAnchor="end">
            {Math.round(tick * 100)}
          </text>
        </g>
      ))}
      <text
        className="axis-title"
        x={12}
        y={(PAD.top + HEIGHT - PAD.bottom) / 2}
        textAnchor="middle"
        transform={`rotate(-90 12 ${(PAD.top + HEIGHT - PAD.bottom) / 2})`}
      >
        Score (0–100)
      </text>
      {[0, 0.5, 1].map((share) => (
        <text
          key={`x${share}`}
          className="axis-label"
          x={x(maxCost * share)}
          y={HEIGHT - 22}
          textAnchor={share === 0 ? 'start' : share === 1 ? 'end' : 'middle'}
        >
          {formatCost(maxCost * share)}
        </text>
      ))}
      <text className="axis-title" x={(PAD.left + WIDTH - PAD.right) / 2} y={HEIGHT - 4} textAnchor="middle">
        Cost per task
      </text>
      {cells.map((cell) => (
        <circle
          key={`${cell.avg_cost}-${cell.avg_score}`}
          className="dot dot-scatter"
          cx={x(cell.avg_cost)}
          cy={y(cell.avg_score)}
          r={3.5 + 6 * Math.sqrt(cell.tasks / maxTasks)}
        >
          <title>{`${cell.tasks} task${cell.tasks === 1 ? '' : 's'}: about ${formatCost(cell.avg_cost)} each, score ${formatScore(cell.avg_score)}`}</title>
        </circle>
      ))}
    </ChartFrame>
  );
}
