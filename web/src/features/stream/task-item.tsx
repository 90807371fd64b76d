import { useQuery } from '@tanstack/react-query';
import { useId, useLayoutEffect, useRef, useState } from 'react';
import { MarkdownView } from '../../components/markdown-view.js';
import { Spinner } from '../../components/spinner.js';
import { describeError } from '../../lib/api-client.js';
import { useApi } from '../../lib/api-context.js';
import type { Task } from '../../lib/api-schemas.js';
import { formatCost, formatDateTime, formatDuration, formatScore, formatTokens } from '../../lib/format.js';
import { isCut, isRoutedByRouter } from '../../lib/tasks.js';
import { TaskFeedbackWidget } from '../feedback/task-feedback-widget.js';
import { TaskNodes } from '../task-nodes/task-nodes.js';
import { wholeTaskQuery } from './api/get-tasks.js';
import { RoutingExplanation } from './routing-explanation.js';

const STATUS_LABEL: Record<Task['status'], string> = {
  queued: 'Queued',
  running: 'Running',
  completed: 'Completed',
  failed: 'Failed',
};

export interface TaskItemProps {
  task: Task;
  onOpenAgent: (agentId: string) => void;
}

/** Results taller than this are folded to it until the reader expands them. */
const FOLDED_HEIGHT_PX = 320;

/** A result that folds when it is long, with a control to show it all. */
function FoldableResult({ source }: { source: string }) {
  const ref = useRef<HTMLDivElement | null>(null);
  const id = useId();
  const [tall, setTall] = useState(false);
  const [open, setOpen] = useState(false);
  // biome-ignore lint/correctness/useExhaustiveDependencies: a new text is measured again
  useLayoutEffect(() => {
    const element = ref.current;
    if (element) setTall(element.scrollHeight > FOLDED_HEIGHT_PX + 40);
  }, [source]);
  const folded = tall && !open;
  return (
    <>
      <div
        id={id}
        ref={ref}
        className={folded ? 'result-fold result-folded' : 'result-fold'}
        data-testid="task-result"
        data-folded={folded ? 'true' : 'false'}
      >
        <MarkdownView source={source} />
      </div>
      {tall && (
        <button
          type="button"
          className="link-button result-toggle"
          aria-expanded={open}
          aria-controls={id}
          onClick={() => setOpen((value) => !value)}
          data-testid="task-result-toggle"
        >
          {open ? 'Collapse the result' : 'Expand the result'}
        </button>
      )}
    </>
  );
}

export function TaskItem({ task, onOpenAgent }: TaskItemProps) {
  const api = useApi();
  const nickname = task.nickname ?? task.agent_id;
  // The list carries previews of long texts; the whole task is fetched when the user asks for it.
  const [showWhole, setShowWhole] = useState(false);
  // A task that changed since it was fetched whole is fetched again (its status is part of the key).
  const wholeResult = useQuery({ ...wholeTaskQuery(api, task.id, task.status), enabled: showWhole });
  const whole = wholeResult.data ?? null;
  const wholeLoading = showWhole && wholeResult.isFetching && whole === null;
  const wholeError = showWhole && wholeResult.error ? describeError(wholeResult.error) : null;
  const texts = showWhole && whole ? whole : task;
  const resultCut = isCut(task.result, task.result_length);
  const toggleWhole = () => setShowWhole((current) => !current);
  // The steps are fetched only when the user opens them.
  const [showSteps, setShowSteps] = useState(false);
  const stepsId = useId();

  return (
    <li className="task" data-testid="task-item" data-status={task.status} data-task-id={task.id}>
      <div className="bubble bubble-user">
        <span className="visually-hidden">You: </span>
        {texts.command}
        {texts === task && isCut(task.command, task.command_length) && '…'}
      </div>
      <article className={`bubble bubble-agent status-${task.status}`} aria-label={`Task for @${nickname}`}>
        <header className="task-head">
          <button type="button" className="agent-link" onClick={() => onOpenAgent(task.agent_id)}>
            @{nickname}
          </button>
          {task.objective_category && <span className="chip">{task.objective_category}</span>}
          <span className={`status-badge status-${task.status}`} data-testid="task-status">
            {STATUS_LABEL[task.status]}
          </span>
          {task.simulated && (
            <span className="chip chip-sim" title="Produced by a simulated agent, not a real model">
              simulated
            </span>
          )}
          <time className="task-time" dateTime={task.created_at}>
            {formatDateTime(task.created_at)}
          </time>
        </header>
        {isRoutedByRouter(task) && <RoutingExplanation taskId={task.id} nickname={nickname} />}
        {task.status === 'queued' && <p className="task-wait">Waiting for a worker…</p>}
        {task.status === 'running' && (
          <p className="task-wait" data-testid="task-progress">
            <Spinner />
            <span>
              Running{task.current_node ? ' · ' : ''}
              {task.current_node && <code className="node-name">{task.current_node}</code>}
            </span>
          </p>
        )}
        {task.status === 'completed' && <FoldableResult source={texts.result ?? ''} />}
        {task.status === 'failed' && (
          <p className="task-error" role="alert">
            <strong>{task.failure_reason === 'timed_out' ? 'Timed out:' : 'Failed:'}</strong>{' '}
            {texts.error ?? 'The agent stopped without giving a reason.'}
            {texts === task && isCut(task.error, task.error_length) && '…'}
          </p>
        )}
        {task.truncated && (
          <p className="task-whole">
            <button
              type="button"
              className="link-button"
              onClick={toggleWhole}
              aria-expanded={showWhole}
              disabled={wholeLoading}
              data-testid="task-show-whole"
            >
              {showWhole
                ? 'Show less'
                : resultCut
                  ? `Show the whole result (${(task.result_length ?? 0).toLocaleString()} characters)`
                  : 'Show the whole text'}
            </button>
            {wholeLoading && <Spinner />}
            {wholeError && (
              <span className="task-error" role="alert">
                {' '}
                {wholeError}
              </span>
            )}
          </p>
        )}
        <dl className="task-meta">
          <div>
            <dt>Tokens</dt>
            <dd>{formatTokens(task.total_tokens)}</dd>
          </div>
          <div>
            <dt>Cost</dt>
            <dd>{formatCost(task.estimated_cost)}</dd>
          </div>
          <div>
            <dt>Duration</dt>
            <dd>{formatDuration(task.duration_ms)}</dd>
          </div>
          {task.status === 'completed' && (
            <div data-testid="task-score">
              <dt>Score (0–100)</dt>
              <dd>
                {task.score?.overall_score == null ? (
                  <span className="muted">
                    {task.evaluation_status === 'failed' ? 'evaluation failed' : 'not evaluated yet'}
                  </span>
                ) : (
                  formatScore(task.score.overall_score)
                )}
              </dd>
            </div>
          )}
        </dl>
        <div className="task-steps">
          <button
            type="button"
            className="link-button details-toggle"
            aria-expanded={showSteps}
            aria-controls={showSteps ? stepsId : undefined}
            onClick={() => setShowSteps((current) => !current)}
            data-testid="task-steps-toggle"
          >
            <span aria-hidden="true" className="details-caret">
              {showSteps ? '▾' : '▸'}
            </span>
            Steps<span className="visually-hidden"> of “{texts.command}”</span>
          </button>
          {showSteps && (
            <div id={stepsId}>
              <TaskNodes taskId={task.id} />
            </div>
          )}
        </div>
        {task.status === 'completed' && (
          <TaskFeedbackWidget
            taskId={task.id}
            initialRating={task.score?.user_rating ?? null}
            initialFeedback={task.score?.user_feedback ?? null}
            agentId={task.agent_id}
          />
        )}
      </article>
    </li>
  );
}
