import { type KeyboardEvent, useCallback, useEffect, useRef, useState } from 'react';
import { AgentPerformanceView } from './features/agent-performance/agent-performance-view.js';
import { CommandBox } from './features/command/command-box.js';
import { AgentLeaderboardPanel } from './features/leaderboard/agent-leaderboard-panel.js';
import { QuickActionsPanel } from './features/quick-actions/quick-actions-panel.js';
import { RoutingQualityPanel } from './features/routing/routing-quality-panel.js';
import { ConversationStream } from './features/stream/conversation-stream.js';
import { describeError } from './lib/api-client.js';
import { useApi } from './lib/api-context.js';
import type { Agent, Task } from './lib/api-types.js';
import { buildAgentHash } from './lib/route.js';
import { applyRating, mergeTasks, upsertTask } from './lib/tasks.js';
import { useHashRoute } from './lib/use-hash-route.js';
import { useServerEvents } from './lib/use-server-events.js';

const HISTORY_PAGE = 50;
// Bursts of events (a task's nodes finishing one after another) cause one refetch, not many.
const REFRESH_DELAY_MS = 400;

type Panel = 'actions' | 'leaderboard' | 'routing';
const PANELS: { id: Panel; label: string }[] = [
  { id: 'actions', label: 'Quick Actions' },
  { id: 'leaderboard', label: 'Leaderboard' },
  { id: 'routing', label: 'Routing' },
];

export function App() {
  const api = useApi();
  const route = useHashRoute();
  const [agents, setAgents] = useState<Agent[]>([]);
  const [agentsError, setAgentsError] = useState<string | null>(null);
  const [tasks, setTasks] = useState<Task[]>([]);
  const [tasksLoading, setTasksLoading] = useState(true);
  const [tasksError, setTasksError] = useState<string | null>(null);
  // The cursor of the page before the oldest task shown: undefined until the first page, null at the start.
  const [earlierCursor, setEarlierCursor] = useState<string | null | undefined>(undefined);
  const [draft, setDraft] = useState('');
  const [sending, setSending] = useState(false);
  const [commandError, setCommandError] = useState<string | null>(null);
  const [panel, setPanel] = useState<Panel>('actions');
  const [refreshKey, setRefreshKey] = useState(0);
  const inputRef = useRef<HTMLTextAreaElement | null>(null);
  const tabRefs = useRef<Record<Panel, HTMLButtonElement | null>>({
    actions: null,
    leaderboard: null,
    routing: null,
  });
  const refreshTimer = useRef<number | undefined>(undefined);
  const scoreTimer = useRef<number | undefined>(undefined);

  const loadAgents = useCallback(async () => {
    try {
      const result = await api.listAgents();
      setAgents(result.agents);
      setAgentsError(null);
    } catch (error) {
      setAgentsError(describeError(error));
    }
  }, [api]);

  const loadHistory = useCallback(async () => {
    setTasksLoading(true);
    try {
      const result = await api.listTasks({ limit: HISTORY_PAGE });
      setTasks((current) => mergeTasks(current, result.tasks));
      // A refetch after a reconnect keeps the cursor of the earlier pages already loaded.
      setEarlierCursor((cursor) => (cursor === undefined ? result.next_cursor : cursor));
      setTasksError(null);
    } catch (error) {
      setTasksError(describeError(error));
    } finally {
      setTasksLoading(false);
    }
  }, [api]);

  const loadEarlier = async () => {
    if (!earlierCursor) return;
    setTasksLoading(true);
    try {
      const result = await api.listTasks({ limit: HISTORY_PAGE, cursor: earlierCursor });
      setTasks((current) => mergeTasks(current, result.tasks));
      setEarlierCursor(result.next_cursor);
      setTasksError(null);
    } catch (error) {
      setTasksError(describeError(error));
    } finally {
      setTasksLoading(false);
    }
  };

  useEffect(() => {
    void loadAgents();
    void loadHistory();
  }, [loadAgents, loadHistory]);

  useEffect(() => () => window.clearTimeout(refreshTimer.current), []);
  useEffect(() => () => window.clearTimeout(scoreTimer.current), []);

  // Evaluations and reviews finish after the completion event: the newest page is fetched again, quietly,
  // so a task shown as "not evaluated yet" gets its score.
  const refreshScores = useCallback(() => {
    window.clearTimeout(scoreTimer.current);
    scoreTimer.current = window.setTimeout(() => {
      api.listTasks({ limit: HISTORY_PAGE }).then(
        (result) => setTasks((current) => mergeTasks(current, result.tasks)),
        () => {
          // The next leaderboard event or a reconnect fetches again.
        },
      );
    }, REFRESH_DELAY_MS);
  }, [api]);

  const scheduleRefresh = useCallback(
    (leaderboard: boolean) => {
      window.clearTimeout(refreshTimer.current);
      if (leaderboard) setRefreshKey((key) => key + 1);
      refreshTimer.current = window.setTimeout(() => void loadAgents(), REFRESH_DELAY_MS);
    },
    [loadAgents],
  );

  const connection = useServerEvents(api.eventsUrl, {
    onTask: (task) => {
      setTasks((current) => upsertTask(current, task));
      scheduleRefresh(task.status === 'completed');
    },
    onLeaderboard: () => {
      setRefreshKey((key) => key + 1);
      refreshScores();
    },
    onReconnect: () => {
      void loadHistory();
      scheduleRefresh(true);
    },
  });

  const goHome = () => {
    if (route.name !== 'home') window.location.hash = '#/';
  };

  const openAgent = (agentId: string) => {
    window.location.hash = buildAgentHash(agentId);
  };

  const sendCommand = async (command: string): Promise<boolean> => {
    setSending(true);
    setCommandError(null);
    try {
      const task = await api.postCommand(command);
      setTasks((current) => upsertTask(current, task));
      setDraft((current) => (current.trim() === command.trim() ? '' : current));
      scheduleRefresh(false);
      return true;
    } catch (error) {
      setCommandError(describeError(error));
      return false;
    } finally {
      setSending(false);
    }
  };

  const fillCommand = (command: string) => {
    setDraft(command);
    setCommandError(null);
    goHome();
    requestAnimationFrame(() => {
      const input = inputRef.current;
      if (!input) return;
      input.focus();
      input.setSelectionRange(command.length, command.length);
    });
  };

  const onTabKeyDown = (event: KeyboardEvent<HTMLButtonElement>) => {
    const index = PANELS.findIndex((item) => item.id === panel);
    let next: number | null = null;
    if (event.key === 'ArrowRight') next = (index + 1) % PANELS.length;
    if (event.key === 'ArrowLeft') next = (index - 1 + PANELS.length) % PANELS.length;
    if (event.key === 'Home') next = 0;
    if (event.key === 'End') next = PANELS.length - 1;
    const target = next === null ? undefined : PANELS[next];
    if (!target) return;
    event.preventDefault();
    setPanel(target.id);
    tabRefs.current[target.id]?.focus();
  };

  const simulated = agents.some((agent) => agent.simulated);

  return (
    <div className="app">
      <header className="app-header">
        <h1 className="brand">
          Merit <span aria-hidden="true">·</span> <span className="brand-sub">Mission Control</span>
        </h1>
        <div className="header-meta">
          {simulated && (
            <span
              className="badge badge-sim"
              title="These agents produce simulated results, not real model output"
              data-testid="simulated-badge"
            >
              Simulated agents
            </span>
          )}
          <span className={`connection connection-${connection}`} data-testid="connection" role="status">
            {connection === 'open' ? 'Live' : connection === 'connecting' ? 'Connecting…' : 'Reconnecting…'}
          </span>
          <span className="user" title={api.userId} data-testid="user-id">
            <span className="visually-hidden">Signed in as user </span>
            <span aria-hidden="true">User </span>
            {api.userId.slice(0, 8)}…{api.userId.slice(-4)}
          </span>
        </div>
      </header>
      <div className="layout">
        <main className="main-column" id="main">
          {route.name === 'agent' ? (
            <AgentPerformanceView
              key={route.agentId}
              agentId={route.agentId}
              refreshKey={refreshKey}
              onBack={goHome}
            />
          ) : (
            <>
              <h2 className="visually-hidden">Conversation</h2>
              <ConversationStream
                tasks={tasks}
                loading={tasksLoading}
                error={tasksError}
                hasEarlier={Boolean(earlierCursor)}
                onLoadEarlier={loadEarlier}
                onRetry={() => void loadHistory()}
                onOpenAgent={openAgent}
                onRated={(taskId, rating, feedback) => {
                  setTasks((current) => applyRating(current, taskId, rating, feedback));
                  scheduleRefresh(true);
                }}
              />
              <CommandBox
                value={draft}
                onChange={(value) => {
                  setDraft(value);
                  setCommandError(null);
                }}
                agents={agents}
                submitting={sending}
                error={commandError}
                onSubmit={sendCommand}
                inputRef={inputRef}
              />
            </>
          )}
        </main>
        <aside className="side-panel" aria-label="Quick actions, leaderboard and routing">
          <div role="tablist" aria-label="Side panel" className="tabs">
            {PANELS.map((item) => (
              <button
                key={item.id}
                ref={(element) => {
                  tabRefs.current[item.id] = element;
                }}
                type="button"
                role="tab"
                id={`tab-${item.id}`}
                aria-selected={panel === item.id}
                aria-controls={`tabpanel-${item.id}`}
                tabIndex={panel === item.id ? 0 : -1}
                className="tab"
                onClick={() => setPanel(item.id)}
                onKeyDown={onTabKeyDown}
                data-testid={`panel-tab-${item.id}`}
              >
                {item.label}
              </button>
            ))}
          </div>
          <div
            role="tabpanel"
            id={`tabpanel-${panel}`}
            aria-labelledby={`tab-${panel}`}
            className="tabpanel"
            data-testid={`panel-${panel}`}
          >
            {panel === 'routing' ? (
              <RoutingQualityPanel refreshKey={refreshKey} />
            ) : panel === 'actions' ? (
              <QuickActionsPanel
                agents={agents}
                agentsError={agentsError}
                sending={sending}
                onFill={fillCommand}
                onSend={(command) => {
                  goHome();
                  void sendCommand(command);
                }}
                onOpenAgent={openAgent}
              />
            ) : (
              <AgentLeaderboardPanel refreshKey={refreshKey} onOpenAgent={openAgent} />
            )}
          </div>
        </aside>
      </div>
    </div>
  );
}
