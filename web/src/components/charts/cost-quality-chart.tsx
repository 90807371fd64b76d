import type { ScoredTask } from '../../lib/api-types.js';
import { formatCost, formatScore } from '../../lib/format.js';
import { ChartFrame } from './chart-frame.js';
import { niceCeiling, scaleLinear } from './chart-scale.js';

const WIDTH = 480;
const HEIGHT = 220;
const PAD = { top: 14, right: 16, bottom: 34, left: 36 };

/** One dot per task: what it cost against the score it earned. */
export function CostQualityChart({ tasks }: { tasks: ScoredTask[] }) {
  const dots = tasks.filter(
    (task): task is ScoredTask & { estimated_cost: number; overall_score: number } =>
      task.estimated_cost !== null && task.overall_score !== null,
  );
  const maxCost = niceCeiling(Math.max(0, ...dots.map((task) => task.estimated_cost)));
  const x = scaleLinear([0, maxCost], [PAD.left, WIDTH - PAD.right]);
  const y = scaleLinear([0, 1], [HEIGHT - PAD.bottom, PAD.top]);
  const average = (values: number[]) =>
    values.reduce((sum, value) => sum + value, 0) / Math.max(1, values.length);
  const summary = `${dots.length} tasks; average cost ${formatCost(
    average(dots.map((task) => task.estimated_cost)),
  )}, average score ${formatScore(average(dots.map((task) => task.overall_score)))}.`;
  return (
    <ChartFrame
      testId="chart-cost-quality"
      title="Cost against quality"
      summary={summary}
      width={WIDTH}
      height={HEIGHT}
      empty={dots.length === 0}
      emptyText="No scored tasks with a cost on this page."
    >
      {[0, 0.5, 1].map((tick) => (
        <g key={`y${tick}`}>
          <line className="grid" x1={PAD.left} x2={WIDTH - PAD.right} y1={y(tick)} y2={y(tick)} />
          <text className="axis-label" x={PAD.left - 6} y={y(tick) + 4} textAnchor="end">
            {Math.round(tick * 100)}
          </text>
        </g>
      ))}
      {[0, 0.5, 1].map((share) => (
        <text
          key={`x${share}`}
          className="axis-label"
          x={x(maxCost * share)}
          y={HEIGHT - 18}
          textAnchor={share === 0 ? 'start' : share === 1 ? 'end' : 'middle'}
        >
          {formatCost(maxCost * share)}
        </text>
      ))}
      <text className="axis-title" x={(PAD.left + WIDTH - PAD.right) / 2} y={HEIGHT - 3} textAnchor="middle">
        Estimated cost per task
      </text>
      {dots.map((task) => (
        <circle
          key={task.task_id}
          className="dot dot-scatter"
          cx={x(task.estimated_cost)}
          cy={y(task.overall_score)}
          r={4.5}
        >
          <title>{`${task.command}: ${formatCost(task.estimated_cost)}, score ${formatScore(task.overall_score)}`}</title>
        </circle>
      ))}
    </ChartFrame>
  );
}
