import { useLayoutEffect, useRef } from 'react';
import type { Task } from '../../lib/api-schemas.js';
import { TaskItem } from './task-item.js';

export interface ConversationStreamProps {
  /** True when filters narrow the list (the empty message says so). */
  filtered?: boolean;
  tasks: Task[];
  loading: boolean;
  error: string | null;
  hasEarlier: boolean;
  onLoadEarlier: () => Promise<void>;
  onRetry: () => void;
  onOpenAgent: (agentId: string) => void;
}

const STICK_DISTANCE_PX = 120;

/** The task history, oldest at the top, following new activity while the reader is at the bottom. */
export function ConversationStream(props: ConversationStreamProps) {
  const { tasks, loading, error, hasEarlier, onLoadEarlier, onRetry, onOpenAgent } = props;
  const filtered = props.filtered ?? false;
  const scrollRef = useRef<HTMLDivElement | null>(null);
  const stickToBottom = useRef(true);
  const heightBeforePrepend = useRef<number | null>(null);

  // Runs on every change of the list (new task, status change, longer result).
  // biome-ignore lint/correctness/useExhaustiveDependencies: tasks is the trigger; the DOM is read through the ref
  useLayoutEffect(() => {
    const element = scrollRef.current;
    if (!element) return;
    if (heightBeforePrepend.current !== null) {
      // Keep the reader's place when older tasks are added above.
      element.scrollTop += element.scrollHeight - heightBeforePrepend.current;
      heightBeforePrepend.current = null;
    } else if (stickToBottom.current) {
      element.scrollTop = element.scrollHeight;
    }
  }, [tasks]);

  const loadEarlier = async () => {
    heightBeforePrepend.current = scrollRef.current?.scrollHeight ?? null;
    await onLoadEarlier();
  };

  return (
    <div
      className="stream-scroll"
      ref={scrollRef}
      onScroll={(event) => {
        const element = event.currentTarget;
        stickToBottom.current =
          element.scrollHeight - element.scrollTop - element.clientHeight < STICK_DISTANCE_PX;
      }}
      data-testid="stream"
    >
      {hasEarlier && (
        <div className="stream-earlier">
          <button type="button" className="button" onClick={() => void loadEarlier()} disabled={loading}>
            Load earlier tasks
          </button>
        </div>
      )}
      {error && (
        <div className="notice notice-error" role="alert">
          <span>{error}</span>
          <button type="button" className="button" onClick={onRetry}>
            Retry
          </button>
        </div>
      )}
      {!loading && !error && tasks.length === 0 && filtered && (
        <div className="stream-empty" data-testid="stream-no-match">
          <p>No task matches these filters.</p>
        </div>
      )}
      {!loading && !error && tasks.length === 0 && !filtered && (
        <div className="stream-empty">
          <p>No tasks yet.</p>
          <p>
            Type a command below, for example <code>@bob research quantum computing</code>, or pick a quick
            action.
          </p>
        </div>
      )}
      <ol
        className="stream"
        aria-live="polite"
        aria-relevant="additions text"
        aria-label="Conversation"
        aria-busy={loading}
      >
        {tasks.map((task) => (
          <TaskItem key={task.id} task={task} onOpenAgent={onOpenAgent} />
        ))}
      </ol>
    </div>
  );
}
