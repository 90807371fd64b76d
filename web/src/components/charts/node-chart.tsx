import type { NodeStats } from '../../lib/api-schemas.js';
import { formatDuration, formatTokens } from '../../lib/format.js';
import { ChartFrame } from './chart-frame.js';

const WIDTH = 480;
const ROW = 40;
const LABEL = 110;
const VALUE = 86;

/** Per node: average duration and average tokens, each bar scaled to its own maximum. */
export function NodeChart({ nodes }: { nodes: NodeStats[] }) {
  const maxDuration = Math.max(1, ...nodes.map((node) => node.avg_duration_ms ?? 0));
  const maxTokens = Math.max(1, ...nodes.map((node) => node.avg_tokens ?? 0));
  const barSpace = WIDTH - LABEL - VALUE;
  const height = Math.max(ROW, nodes.length * ROW) + 8;
  const slowest = [...nodes].sort((a, b) => (b.avg_duration_ms ?? 0) - (a.avg_duration_ms ?? 0))[0];
  const summary =
    slowest === undefined
      ? 'No nodes recorded.'
      : `${nodes.length} nodes; slowest on average is ${slowest.node_name} at ${formatDuration(slowest.avg_duration_ms)}.`;
  return (
    <ChartFrame
      testId="chart-nodes"
      title="Node breakdown"
      summary={summary}
      width={WIDTH}
      height={height}
      empty={nodes.length === 0}
      emptyText="No node timings recorded yet."
      legend={
        <p className="chart-legend">
          <span className="legend-item">
            <span className="swatch swatch-duration" /> Average duration
          </span>
          <span className="legend-item">
            <span className="swatch swatch-tokens" /> Average tokens
          </span>
        </p>
      }
    >
      {nodes.map((node, index) => {
        const top = 4 + index * ROW;
        const durationWidth = Math.max(1, ((node.avg_duration_ms ?? 0) / maxDuration) * barSpace);
        const tokenWidth = Math.max(1, ((node.avg_tokens ?? 0) / maxTokens) * barSpace);
        return (
          <g key={node.node_name}>
            <text className="bar-label" x={LABEL - 8} y={top + ROW / 2 + 4} textAnchor="end">
              {node.node_name}
            </text>
            <rect className="bar bar-duration" x={LABEL} y={top + 6} width={durationWidth} height={12} rx={3}>
              <title>{`${node.node_name}: ${formatDuration(node.avg_duration_ms)} on average over ${node.runs} runs`}</title>
            </rect>
            <text className="bar-value" x={LABEL + barSpace + 8} y={top + 16}>
              {formatDuration(node.avg_duration_ms)}
            </text>
            <rect className="bar bar-tokens" x={LABEL} y={top + 21} width={tokenWidth} height={12} rx={3}>
              <title>{`${node.node_name}: ${formatTokens(node.avg_tokens)} on average`}</title>
            </rect>
            <text className="bar-value" x={LABEL + barSpace + 8} y={top + 31}>
              {formatTokens(node.avg_tokens)}
            </text>
          </g>
        );
      })}
    </ChartFrame>
  );
}
