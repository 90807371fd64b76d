import { useQuery } from '@tanstack/react-query';
import { describeError } from '../../lib/api-client.js';
import { useApi } from '../../lib/api-context.js';
import type { Node } from '../../lib/api-schemas.js';
import { formatCost, formatDuration } from '../../lib/format.js';
import { taskNodesQuery } from './api/get-task-nodes.js';
import './task-nodes.css';

/** What a figure Merit was not told reads as: never 0. */
const UNKNOWN = '—';
const integerFormat = new Intl.NumberFormat('en-US');

const count = (value: number | null) => (value === null ? UNKNOWN : integerFormat.format(value));

/** "1,200 in · 300 out"; a step that gave only a total shows it; one with no tokens at all is unknown. */
export function describeNodeTokens(node: Node): string {
  if (node.prompt_tokens === null && node.completion_tokens === null) {
    // The stored total is 0 when the step reported no tokens.
    return node.total_tokens > 0 ? `${integerFormat.format(node.total_tokens)} total` : UNKNOWN;
  }
  return `${count(node.prompt_tokens)} in · ${count(node.completion_tokens)} out`;
}

/** "800 cache read · 120 reasoning", each part only when the step reported it; null when neither. */
export function describeTokenDetail(node: Node): string | null {
  const parts: string[] = [];
  if (node.cache_read_tokens !== null) parts.push(`${count(node.cache_read_tokens)} cache read`);
  if (node.reasoning_tokens !== null) parts.push(`${count(node.reasoning_tokens)} reasoning`);
  return parts.length === 0 ? null : parts.join(' · ');
}

/** One step; `position` counts from 1 in the task's order (stored sequences may start anywhere). */
function NodeRow({ node, position }: { node: Node; position: number }) {
  const detail = describeTokenDetail(node);
  return (
    <tr data-testid="task-node-row" data-node={node.node_name} data-status={node.status}>
      <td className="node-seq">{position}</td>
      <th scope="row">
        <code className="node-name">{node.node_name}</code>
        {node.error && <div className="node-error">{node.error}</div>}
      </th>
      <td>
        <span className={node.success ? 'node-status' : 'node-status node-status-failed'}>{node.status}</span>
      </td>
      <td className="node-number" data-testid="node-duration">
        {node.duration_ms === null ? UNKNOWN : formatDuration(node.duration_ms)}
      </td>
      <td data-testid="node-model">
        {node.model ?? UNKNOWN}
        {node.provider && <span className="muted"> · {node.provider}</span>}
      </td>
      <td className="node-number" data-testid="node-tokens">
        {describeNodeTokens(node)}
        {detail && <div className="muted small">{detail}</div>}
      </td>
      <td className="node-number" data-testid="node-cost">
        {node.estimated_cost === null ? UNKNOWN : formatCost(node.estimated_cost)}
      </td>
    </tr>
  );
}

/** One task's steps (nodes) in order: status, duration, the model that answered, tokens and cost. */
export function TaskNodes({ taskId }: { taskId: string }) {
  const api = useApi();
  const result = useQuery(taskNodesQuery(api, taskId));
  const nodes = result.data ?? null;
  const error = result.error ? describeError(result.error) : null;
  if (error)
    return (
      <p className="notice notice-error" role="alert">
        {error}
      </p>
    );
  if (nodes === null)
    return (
      <p className="muted small" role="status">
        Loading the steps…
      </p>
    );
  if (nodes.length === 0)
    return (
      <p className="muted small" data-testid="task-nodes-empty">
        No steps recorded for this task.
      </p>
    );
  return (
    <div className="table-wrap">
      <table className="eval-table node-table" data-testid="task-nodes">
        <caption className="eval-caption">
          Steps ({nodes.length}; {UNKNOWN} is not reported)
        </caption>
        <thead>
          <tr>
            <th scope="col">#</th>
            <th scope="col">Step</th>
            <th scope="col">Status</th>
            <th scope="col">Duration</th>
            <th scope="col">Model</th>
            <th scope="col">Tokens</th>
            <th scope="col">Cost</th>
          </tr>
        </thead>
        <tbody>
          {nodes.map((node, index) => (
            <NodeRow key={node.id} node={node} position={index + 1} />
          ))}
        </tbody>
      </table>
    </div>
  );
}
