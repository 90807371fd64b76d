import { useQuery } from '@tanstack/react-query';
import { Fragment, useEffect, useId, useRef, useState } from 'react';
import { CategoryChart } from '../../components/charts/category-chart.js';
import { CostQualityChart } from '../../components/charts/cost-quality-chart.js';
import { NodeChart } from '../../components/charts/node-chart.js';
import { TrendChart } from '../../components/charts/trend-chart.js';
import { describeRange, RangePicker } from '../../components/range-picker.js';
import { describeError } from '../../lib/api-client.js';
import { useApi } from '../../lib/api-context.js';
import {
  describeUnpriced,
  formatCost,
  formatDateTime,
  formatDuration,
  formatRating,
  formatScore,
  formatShare,
} from '../../lib/format.js';
import type { Range } from '../../lib/route.js';
import { isCut } from '../../lib/tasks.js';
import {
  agentNodesQuery,
  agentPerformanceQuery,
  agentTrendQuery,
  HISTORY_PAGE_SIZE,
} from './api/get-agent-performance.js';
import { TaskEvaluationPanel } from './task-evaluation-panel.js';

const PAGE_SIZE = HISTORY_PAGE_SIZE;

export interface AgentPerformanceViewProps {
  agentId: string;
  /** The charts' time range (kept in the URL). */
  range: Range;
  onRangeChange: (range: Range) => void;
  onBack: () => void;
}

function Stat({ label, value }: { label: string; value: string }) {
  return (
    <div className="stat">
      <dt>{label}</dt>
      <dd>{value}</dd>
    </div>
  );
}

/** One agent's figures: stats, charts and its task history for the current user. Render it keyed by agentId. */
export function AgentPerformanceView({ agentId, range, onRangeChange, onBack }: AgentPerformanceViewProps) {
  const api = useApi();
  // The cursor of every page reached so far (the first page has none): "Newer" goes back one.
  const [cursors, setCursors] = useState<(string | null)[]>([null]);
  const pageIndex = cursors.length - 1;
  const cursor = cursors[pageIndex] ?? null;
  const performanceResult = useQuery(agentPerformanceQuery(api, agentId, cursor));
  const trendResult = useQuery(agentTrendQuery(api, agentId, range));
  const nodesResult = useQuery(agentNodesQuery(api, agentId, range));
  const performance = performanceResult.data ?? null;
  const loading = performanceResult.isFetching;
  const error = performanceResult.error ? describeError(performanceResult.error) : null;
  const trend = trendResult.data?.points ?? null;
  const costQuality = trendResult.data?.cost_quality ?? null;
  const costQualityTruncated = trendResult.data?.cost_quality_truncated ?? false;
  const nodes = nodesResult.data ?? null;
  const sideFailure = trendResult.error ?? nodesResult.error;
  const sideError = sideFailure ? describeError(sideFailure) : null;
  const [expanded, setExpanded] = useState<ReadonlySet<string>>(() => new Set());
  const headingRef = useRef<HTMLHeadingElement | null>(null);
  const detailsId = useId();

  const toggleDetails = (taskId: string) =>
    setExpanded((current) => {
      const next = new Set(current);
      if (!next.delete(taskId)) next.add(taskId);
      return next;
    });

  // The view is keyed by agent, so this runs once per agent opened: move focus to its title.
  useEffect(() => {
    headingRef.current?.focus();
  }, []);

  const agent = performance?.agent;
  const stats = performance?.stats;
  const total = performance?.total ?? 0;
  const nextCursor = performance?.next_cursor ?? null;
  const first = pageIndex * PAGE_SIZE;
  const successShare =
    stats?.success_rate ??
    (stats && stats.total_tasks > 0 ? stats.successful_tasks / stats.total_tasks : null);
  const successRate = formatShare(successShare);

  return (
    <section
      className="agent-view"
      aria-labelledby="agent-view-title"
      data-testid="agent-view"
      data-agent={agentId}
    >
      <div className="agent-view-bar">
        <button type="button" className="button" onClick={onBack} data-testid="agent-back">
          ← Back
        </button>
      </div>
      <header className="agent-header">
        <h2 id="agent-view-title" ref={headingRef} tabIndex={-1}>
          {agent ? `${agent.display_name || agent.nickname}` : agentId}
          {agent && <span className="roster-nick"> @{agent.nickname}</span>}
        </h2>
        {agent && (
          <p className="muted">
            {agent.role}
            {agent.model ? ` · ${agent.model}` : ''}
            {agent.simulated && <span className="chip chip-sim">simulated</span>}
          </p>
        )}
        {agent && agent.specializations.length > 0 && (
          <ul className="tags" aria-label="Specialties">
            {agent.specializations.map((item) => (
              <li key={item} className="chip">
                {item}
              </li>
            ))}
          </ul>
        )}
      </header>
      {error && (
        <p className="notice notice-error" role="alert">
          {error}
        </p>
      )}
      {stats && (
        <dl className="stats" data-testid="agent-stats">
          <Stat label="Rank" value={stats.rank === null ? 'Provisional' : `#${stats.rank}`} />
          <Stat label="Tasks" value={String(stats.total_tasks)} />
          <Stat label="Success" value={successRate} />
          <Stat label="Avg score (0–100)" value={formatScore(stats.avg_overall_score)} />
          <Stat label="Not evaluated" value={String(stats.not_evaluated_tasks)} />
          <Stat label="Avg rating" value={formatRating(stats.avg_user_rating)} />
          <Stat label="Cost per task" value={formatCost(stats.avg_cost_per_task)} />
          <Stat label="Total cost" value={formatCost(stats.total_cost)} />
          <Stat label="Reward points" value={String(stats.reward_points)} />
          <Stat
            label="Unpriced"
            value={describeUnpriced(stats.unpriced_tasks, stats.total_tasks) ?? 'none'}
          />
        </dl>
      )}
      {performance && stats === null && (
        <p className="muted">No finished tasks yet, so there are no figures.</p>
      )}
      {sideError && (
        <p className="notice notice-error" role="alert">
          {sideError}
        </p>
      )}
      <RangePicker range={range} onChange={onRangeChange} legend="Charts over" />
      <div className="charts">
        {trend && <TrendChart points={trend} />}
        {performance && <CategoryChart categories={performance.categories} />}
        {costQuality && (
          <CostQualityChart
            cells={costQuality}
            rangeLabel={`in ${describeRange(range)}`}
            truncated={costQualityTruncated}
          />
        )}
        {nodes && <NodeChart nodes={nodes} />}
      </div>
      <section aria-labelledby="history-title" className="history">
        <h3 id="history-title">History</h3>
        {performance && performance.tasks.length === 0 && (
          <p className="muted">This agent has no tasks for you yet.</p>
        )}
        {performance && performance.tasks.length > 0 && (
          <div className="table-wrap">
            <table className="history-table" aria-busy={loading}>
              <thead>
                <tr>
                  <th scope="col">When</th>
                  <th scope="col">Command</th>
                  <th scope="col">Category</th>
                  <th scope="col">Score (0–100)</th>
                  <th scope="col">Rating</th>
                  <th scope="col">Cost</th>
                  <th scope="col">Duration</th>
                  <th scope="col">
                    <span className="visually-hidden">Evaluation details</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {performance.tasks.map((task) => {
                  const open = expanded.has(task.task_id);
                  const panelId = `${detailsId}-${task.task_id}`;
                  return (
                    <Fragment key={task.task_id}>
                      <tr data-testid="history-row" data-status={task.status} data-task-id={task.task_id}>
                        <td data-label="When">
                          <time dateTime={task.created_at}>{formatDateTime(task.created_at)}</time>
                        </td>
                        <td className="history-command" data-label="Command">
                          {task.command}
                          {isCut(task.command, task.command_length) && '…'}
                          {task.status === 'failed' && (
                            <span className="status-badge status-failed">failed</span>
                          )}
                        </td>
                        <td data-label="Category">{task.objective_category ?? '–'}</td>
                        <td data-testid="history-score" data-label="Score (0–100)">
                          {task.status === 'completed' && task.overall_score === null ? (
                            <span className="muted">not evaluated</span>
                          ) : (
                            formatScore(task.overall_score)
                          )}
                        </td>
                        <td data-label="Rating">
                          {task.user_rating === null ? '–' : `${task.user_rating} ★`}
                        </td>
                        <td data-label="Cost">{formatCost(task.estimated_cost)}</td>
                        <td data-label="Duration">{formatDuration(task.duration_ms)}</td>
                        <td className="history-details-toggle-cell">
                          <button
                            type="button"
                            className="link-button details-toggle"
                            aria-expanded={open}
                            aria-controls={open ? panelId : undefined}
                            onClick={() => toggleDetails(task.task_id)}
                            data-testid="history-details-toggle"
                          >
                            <span aria-hidden="true" className="details-caret">
                              {open ? '▾' : '▸'}
                            </span>
                            Details<span className="visually-hidden"> of “{task.command}”</span>
                          </button>
                        </td>
                      </tr>
                      {open && (
                        <tr className="history-details">
                          <td colSpan={8} className="history-details-cell">
                            <TaskEvaluationPanel id={panelId} taskId={task.task_id} />
                          </td>
                        </tr>
                      )}
                    </Fragment>
                  );
                })}
              </tbody>
            </table>
          </div>
        )}
        {total > PAGE_SIZE && (
          <nav className="pager" aria-label="History pages">
            <button
              type="button"
              className="button"
              onClick={() => setCursors((current) => (current.length > 1 ? current.slice(0, -1) : current))}
              disabled={pageIndex === 0 || loading}
              data-testid="history-prev"
            >
              Newer
            </button>
            <span aria-live="polite">
              {first + 1}–{first + (performance?.tasks.length ?? 0)} of {total}
            </span>
            <button
              type="button"
              className="button"
              onClick={() => {
                if (nextCursor) setCursors((current) => [...current, nextCursor]);
              }}
              disabled={nextCursor === null || loading}
              data-testid="history-next"
            >
              Older
            </button>
          </nav>
        )}
      </section>
    </section>
  );
}
