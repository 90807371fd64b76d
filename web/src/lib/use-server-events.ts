import { useEffect, useRef, useState } from 'react';
import type { Task } from './api-schemas.js';

export type ConnectionState = 'connecting' | 'open' | 'reconnecting';

export interface ServerEventHandlers {
  onTask: (task: Task) => void;
  /** Statistics of these agents changed (an empty list: possibly every agent's). */
  onLeaderboard: (agentIds: string[]) => void;
  /** The project's categories changed. */
  onCategories?: () => void;
  /** The project's agents changed (added, renamed, deactivated). */
  onAgents?: () => void;
  /** Called when the stream comes back after a drop, so missed updates can be fetched. */
  onReconnect: () => void;
  /**
   * Called when the server refused the stream (an error status, such as 401 for a session that ended)
   * rather than dropping it; the hook still tries again after a pause.
   */
  onRefused?: () => void;
}

const RETRY_AFTER_CLOSE_MS = 5000;

/**
 * Subscribes to `/api/events` (Server-Sent Events). The browser retries a dropped stream by itself; when it
 * gives up (the server answered with an error status) a new connection is opened after a pause. Same origin,
 * so the session cookie goes with it; EventSource cannot send headers, so the project is in the URL.
 */
export function useServerEvents(url: string, handlers: ServerEventHandlers): ConnectionState {
  const [state, setState] = useState<ConnectionState>('connecting');
  const handlersRef = useRef(handlers);
  handlersRef.current = handlers;

  useEffect(() => {
    let source: EventSource | null = null;
    let retryTimer: number | undefined;
    let dropped = false;

    const connect = () => {
      source = new EventSource(url);
      const current = source;
      current.addEventListener('open', () => {
        setState('open');
        if (dropped) handlersRef.current.onReconnect();
        dropped = false;
      });
      current.addEventListener('error', () => {
        dropped = true;
        setState('reconnecting');
        if (current.readyState === EventSource.CLOSED) {
          handlersRef.current.onRefused?.();
          retryTimer = window.setTimeout(connect, RETRY_AFTER_CLOSE_MS);
        }
      });
      current.addEventListener('task', (event) => {
        let task: Task;
        try {
          task = JSON.parse((event as MessageEvent<string>).data) as Task;
        } catch {
          // A malformed event is skipped; the next history fetch brings the task back in line.
          return;
        }
        handlersRef.current.onTask(task);
      });
      current.addEventListener('leaderboard', (event) =>
        handlersRef.current.onLeaderboard(readAgentIds((event as MessageEvent<string>).data)),
      );
      current.addEventListener('categories', () => handlersRef.current.onCategories?.());
      current.addEventListener('agents', () => handlersRef.current.onAgents?.());
    };

    connect();
    return () => {
      window.clearTimeout(retryTimer);
      source?.close();
    };
  }, [url]);

  return state;
}

/** The agents a `leaderboard` event names (`{"agent_ids": [...]}`); empty (every agent) when unreadable. */
export function readAgentIds(data: string): string[] {
  try {
    const parsed: unknown = JSON.parse(data);
    if (parsed !== null && typeof parsed === 'object' && 'agent_ids' in parsed) {
      const ids = (parsed as { agent_ids: unknown }).agent_ids;
      if (Array.isArray(ids) && ids.every((id) => typeof id === 'string')) return ids;
    }
  } catch {
    // Not JSON: treat it as a change of every agent.
  }
  return [];
}
