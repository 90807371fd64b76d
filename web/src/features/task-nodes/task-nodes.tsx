import { useQuery } from '@tanstack/react-query';
import { describeError } from '../../lib/api-client.js';
import { useApi } from '../../lib/api-context.js';
import type { Node } from '../../lib/api-schemas.js';
import { formatCost, formatDuration, formatTokens } from '../../lib/format.js';
import { taskNodesQuery } from './api/get-task-nodes.js';
import './task-nodes.css';

/** What a figure Merit was not told reads as, as lib/format.ts prints it: never 0. */
const UNKNOWN = '–';
const integerFormat = new Intl.NumberFormat('en-US');

const count = (value: number | null) => (value === null ? UNKNOWN : integerFormat.format(value));

/**
 * "1,200 in · 300 out · 800 cache read · 120 reasoning": the parts the step reported (in and out
 * together when it reported either, the other one '–'); null when it reported none.
 */
export function describeTokenDetail(node: Node): string | null {
  const parts: string[] = [];
  if (node.prompt_tokens !== null || node.completion_tokens !== null)
    parts.push(`${count(node.prompt_tokens)} in · ${count(node.completion_tokens)} out`);
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
        {formatDuration(node.duration_ms)}
      </td>
      <td data-testid="node-model">
        {node.model ?? UNKNOWN}
        {node.provider && <span className="muted"> · {node.provider}</span>}
      </td>
      <td className="node-number" data-testid="node-tokens">
        {/* A null total was not reported; 0 is a step that used no tokens. */}
        {formatTokens(node.total_tokens)}
        {detail && <div className="muted small">{detail}</div>}
      </td>
      <td className="node-number" data-testid="node-cost">
        {formatCost(node.estimated_cost)}
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
