import { useInfiniteQuery, useQuery, useQueryClient } from '@tanstack/react-query';
import {
  type KeyboardEvent,
  lazy,
  type ReactNode,
  Suspense,
  useCallback,
  useEffect,
  useMemo,
  useRef,
  useState,
} from 'react';
import { SkipLink } from './components/skip-link.js';
import { Spinner } from './components/spinner.js';
import { ThemeToggle } from './components/theme-toggle.js';
import { AgentPerformanceView } from './features/agent-performance/agent-performance-view.js';
import { agentsQuery } from './features/agents/api/get-agents.js';
import { AccountBar } from './features/auth/account-bar.js';
import { LoginPage } from './features/auth/login-page.js';
import {
  canManageKeys,
  canWrite,
  chooseProject,
  readStoredProject,
  signedOut,
  storeProject,
} from './features/auth/session.js';
import { useCategories } from './features/categories/api/get-categories.js';
import { useSendCommand } from './features/command/api/send-command.js';
import { CommandBox } from './features/command/command-box.js';
import { ExportMenu } from './features/export/export-menu.js';
import { KeysPage } from './features/keys/keys-page.js';
import { AgentLeaderboardPanel } from './features/leaderboard/agent-leaderboard-panel.js';
import { QuickActionsPanel } from './features/quick-actions/quick-actions-panel.js';
import { RoutingQualityPanel } from './features/routing/routing-quality-panel.js';
import { taskListQuery } from './features/stream/api/get-tasks.js';
import { ConversationStream } from './features/stream/conversation-stream.js';
import { StreamFiltersBar } from './features/stream/stream-filters.js';
import { ApiError, describeError } from './lib/api-client.js';
import { ApiProvider, useApi } from './lib/api-context.js';
import type { Agent, AuthSession } from './lib/api-schemas.js';
import { createLiveUpdates } from './lib/live-updates.js';
import {
  buildAgentHash,
  buildHomeHash,
  hasFilters,
  type Panel,
  type Range,
  type StreamFilters,
} from './lib/route.js';
import { mergeTasks, sortTasksOldestFirst } from './lib/tasks.js';
import { replaceHash, useHashRoute } from './lib/use-hash-route.js';
import { useServerEvents } from './lib/use-server-events.js';

const NO_AGENTS: Agent[] = [];

const PANELS: { id: Panel; label: string }[] = [
  { id: 'actions', label: 'Quick Actions' },
  { id: 'leaderboard', label: 'Leaderboard' },
  { id: 'routing', label: 'Routing' },
];
// Quick actions send commands: a read-only role does without them.
const READ_ONLY_PANELS = PANELS.filter((item) => item.id !== 'actions');
const KEYS_HASH = '#/keys';
// Pages most visits never open: loaded on first use, so the conversation's bundle stays small.
const StatusPage = lazy(() =>
  import('./features/status/status-page.js').then((module) => ({ default: module.StatusPage })),
);
const ArenaPage = lazy(() =>
  import('./features/arena/arena-page.js').then((module) => ({ default: module.ArenaPage })),
);
const AdminPage = lazy(() =>
  import('./features/admin/admin-page.js').then((module) => ({ default: module.AdminPage })),
);
/** Pages beside the conversation, each at a hash of its own so a link or a reload opens it. */
const PAGE_HASHES = { status: '#/status', arena: '#/arena', admin: '#/admin' } as const;
type Page = keyof typeof PAGE_HASHES;
const PAGE_LABELS: Record<Page, string> = { status: 'Status', arena: 'Arena', admin: 'Admin' };

/** Who the self-contained pages (status, arena, admin, export links) act as. */
interface Connection {
  /** Local mode's user id (`?user_id=`); null when signed in. */
  userId: string | null;
  /** The signed-in project's slug; null in local mode. */
  project: string | null;
  /** The session's CSRF token; null in local mode. */
  csrfToken: string | null;
}
type SessionState =
  | { status: 'loading' }
  | { status: 'failed'; error: string }
  | { status: 'ready'; session: AuthSession };

function readStorage(): Storage | null {
  try {
    return window.localStorage;
  } catch {
    return null;
  }
}

/**
 * Asks the server how it identifies callers. Local mode is Mission Control as it always was (`?user_id=`);
 * required mode shows the login page until there is a session, then the app for the chosen project.
 */
export function App() {
  const api = useApi();
  const [state, setState] = useState<SessionState>({ status: 'loading' });
  const [loginNotice, setLoginNotice] = useState<string | null>(null);

  const loadSession = useCallback(async () => {
    setState({ status: 'loading' });
    try {
      setState({ status: 'ready', session: await api.getSession() });
    } catch (error) {
      setState({ status: 'failed', error: describeError(error) });
    }
  }, [api]);

  useEffect(() => {
    void loadSession();
  }, [loadSession]);

  // Every request of a session that the server no longer knows (expired, logged out elsewhere) lands here;
  // a late answer for an older session does not sign out a newer one.
  const endSession = useCallback((ended: AuthSession, notice: string | null) => {
    setState((current) =>
      current.status === 'ready' && current.session.csrf_token === ended.csrf_token
        ? { status: 'ready', session: signedOut(current.session) }
        : current,
    );
    setLoginNotice(notice);
  }, []);

  if (state.status === 'loading') {
    return (
      <div className="app-loading" role="status">
        <Spinner /> Loading Mission Control…
      </div>
    );
  }
  if (state.status === 'failed') {
    return (
      <div className="app-loading">
        <div className="notice notice-error" role="alert">
          <span>{state.error}</span>
          <button type="button" className="button" onClick={() => void loadSession()}>
            Retry
          </button>
        </div>
      </div>
    );
  }
  const { session } = state;
  if (session.mode === 'local') return <MissionControl />;
  if (!session.authenticated) {
    return (
      <LoginPage
        notice={loginNotice}
        onLoggedIn={(next) => {
          setLoginNotice(null);
          setState({ status: 'ready', session: next });
        }}
      />
    );
  }
  return <SignedInApp session={session} onSessionEnded={(notice) => endSession(session, notice)} />;
}

function SignedInApp({
  session,
  onSessionEnded,
}: {
  session: AuthSession;
  onSessionEnded: (notice: string | null) => void;
}) {
  const baseApi = useApi();
  const [storedSlug, setStoredSlug] = useState(() => readStoredProject(readStorage()));
  // A new project rebuilds the page under the selector: focus goes back to it for keyboard users.
  const [projectChosen, setProjectChosen] = useState(false);
  const [loggingOut, setLoggingOut] = useState(false);
  const [logoutError, setLogoutError] = useState<string | null>(null);
  const project = chooseProject(session, storedSlug);
  const slug = project?.slug ?? null;
  const endedRef = useRef(onSessionEnded);
  endedRef.current = onSessionEnded;

  const api = useMemo(
    () =>
      baseApi.withAuth({
        csrfToken: session.csrf_token,
        project: slug,
        accountId: session.account?.id ?? null,
        onUnauthorized: () => endedRef.current('Your session has ended. Sign in again.'),
      }),
    [baseApi, session.csrf_token, session.account?.id, slug],
  );

  const logout = async () => {
    setLoggingOut(true);
    setLogoutError(null);
    try {
      await api.logout();
      onSessionEnded('You have logged out.');
    } catch (error) {
      // 401: the session had already ended, which is what the user asked for.
      if (error instanceof ApiError && error.status === 401) {
        onSessionEnded('You have logged out.');
        return;
      }
      setLogoutError(`Logging out failed: ${describeError(error)}`);
      setLoggingOut(false);
    }
  };

  // The server said the stream was refused: a session that ended shows the login page.
  const checkSession = useCallback(async () => {
    try {
      const current = await api.getSession();
      if (!current.authenticated) endedRef.current('Your session has ended. Sign in again.');
    } catch {
      // Unreachable server: the stream keeps retrying and the connection badge says so.
    }
  }, [api]);

  const accountBar = (
    <AccountBar
      account={session.account}
      project={project}
      projects={session.projects}
      onSelectProject={(next) => {
        storeProject(readStorage(), next);
        setStoredSlug(next);
        setProjectChosen(true);
      }}
      focusProjectSelect={projectChosen}
      keysHref={canManageKeys(project?.role ?? null) ? KEYS_HASH : null}
      loggingOut={loggingOut}
      logoutError={logoutError}
      onLogout={() => void logout()}
    />
  );

  if (project === null) {
    return (
      <div className="app">
        <header className="app-header">
          <h1 className="brand">
            Merit <span aria-hidden="true">·</span> <span className="brand-sub">Mission Control</span>
          </h1>
          <div className="header-meta">
            <ThemeToggle />
            {accountBar}
          </div>
        </header>
        <main className="app-empty" data-testid="no-project">
          <p>Your account is not a member of any project yet. Ask a project's owner or admin to add you.</p>
        </main>
      </div>
    );
  }

  return (
    <ApiProvider client={api}>
      <MissionControl
        // Another project is another world: every list, stream and panel starts again.
        key={project.slug}
        accountBar={accountBar}
        readOnlyReason={canWrite(project.role) ? null : `Your role is ${project.role}`}
        keysProject={canManageKeys(project.role) ? project.name : null}
        connection={{ userId: null, project: project.slug, csrfToken: session.csrf_token }}
        onStreamRefused={() => void checkSession()}
      />
    </ApiProvider>
  );
}

/** The page's hash, following changes. */
function useHash(): string {
  const [hash, setHash] = useState(() => window.location.hash);
  useEffect(() => {
    const update = () => setHash(window.location.hash);
    window.addEventListener('hashchange', update);
    return () => window.removeEventListener('hashchange', update);
  }, []);
  return hash;
}

function pageOf(hash: string): Page | null {
  const path = hash.split('?')[0];
  const entry = Object.entries(PAGE_HASHES).find(([, pageHash]) => pageHash === path);
  return entry ? (entry[0] as Page) : null;
}

/** Whether the page's hash is exactly `hash`, following changes. */
function useHashIs(hash: string): boolean {
  const [matches, setMatches] = useState(() => window.location.hash === hash);
  useEffect(() => {
    const update = () => setMatches(window.location.hash === hash);
    window.addEventListener('hashchange', update);
    return () => window.removeEventListener('hashchange', update);
  }, [hash]);
  return matches;
}

interface MissionControlProps {
  /** The signed-in account, project and "Log out" (required mode); null shows the seed's user id. */
  accountBar?: ReactNode;
  /** Why this user may not send commands or rate results; null when they may. */
  readOnlyReason?: string | null;
  /** The project whose API keys this user manages; null when the role may not. */
  keysProject?: string | null;
  onStreamRefused?: () => void;
  /** Who the status, arena, admin and export features act as; local mode's user when absent. */
  connection?: Connection;
}

function MissionControl({
  accountBar = null,
  readOnlyReason = null,
  keysProject = null,
  onStreamRefused,
  connection: givenConnection,
}: MissionControlProps) {
  const api = useApi();
  const route = useHashRoute();
  const keysRequested = useHashIs(KEYS_HASH);
  const showKeys = keysRequested && keysProject !== null && route.name === 'home';
  const hash = useHash();
  const page = route.name === 'home' && !showKeys ? pageOf(hash) : null;
  const actingAs = useMemo<Connection>(
    () => givenConnection ?? { userId: api.userId, project: null, csrfToken: null },
    [givenConnection, api.userId],
  );
  const panels = readOnlyReason === null ? PANELS : READ_ONLY_PANELS;
  const { view } = route;
  const filters: StreamFilters = route.name === 'home' ? view.filters : {};
  const categories = useCategories();
  const queryClient = useQueryClient();
  const agentsResult = useQuery(agentsQuery(api));
  const agents = agentsResult.data ?? NO_AGENTS;
  const agentsError = agentsResult.error ? describeError(agentsResult.error) : null;
  const taskList = useInfiniteQuery(taskListQuery(api, filters));
  const tasks = useMemo(
    () => sortTasksOldestFirst(mergeTasks([], taskList.data?.pages.flatMap((item) => item.tasks) ?? [])),
    [taskList.data],
  );
  const tasksError = taskList.error ? describeError(taskList.error) : null;
  const [draft, setDraft] = useState('');
  const sendCommandMutation = useSendCommand();
  const sending = sendCommandMutation.isPending;
  const [commandError, setCommandError] = useState<string | null>(null);
  const defaultPanel: Panel = readOnlyReason === null ? 'actions' : 'leaderboard';
  const panel: Panel = panels.some((item) => item.id === view.tab) && view.tab ? view.tab : defaultPanel;
  const inputRef = useRef<HTMLTextAreaElement | null>(null);
  const tabRefs = useRef<Record<Panel, HTMLButtonElement | null>>({
    actions: null,
    leaderboard: null,
    routing: null,
  });

  // Each event refreshes or patches only the queries it changes (lib/live-updates.ts).
  const liveUpdates = useMemo(() => createLiveUpdates(queryClient, api), [queryClient, api]);
  useEffect(() => () => liveUpdates.dispose(), [liveUpdates]);

  const connection = useServerEvents(api.eventsUrl, {
    onTask: liveUpdates.onTask,
    onLeaderboard: liveUpdates.onLeaderboard,
    onCategories: liveUpdates.onCategories,
    onAgents: liveUpdates.onAgents,
    onReconnect: liveUpdates.onReconnect,
    onRefused: onStreamRefused,
  });

  const goHome = () => {
    if (route.name !== 'home' || keysRequested || page !== null) {
      window.location.hash = buildHomeHash({ tab: view.tab });
    }
  };

  const openAgent = (agentId: string) => {
    window.location.hash = buildAgentHash(agentId, { tab: view.tab, range: view.range });
  };

  // The hash holds the tab, range and filters: a change replaces it (no history entry per click).
  const pathHash = route.name === 'agent' ? buildAgentHash(route.agentId) : buildHomeHash();
  const setPanel = (next: Panel) => {
    if (keysRequested) return;
    replaceHash(
      route.name === 'agent'
        ? buildAgentHash(route.agentId, { ...view, tab: next })
        : buildHomeHash({ ...view, tab: next }),
    );
  };
  const setFilters = (next: StreamFilters) => replaceHash(buildHomeHash({ ...view, filters: next }));
  const setRange = (next: Range) => {
    if (route.name === 'agent') replaceHash(buildAgentHash(route.agentId, { ...view, range: next }));
  };

  const sendCommand = async (command: string): Promise<boolean> => {
    setCommandError(null);
    try {
      await sendCommandMutation.mutateAsync(command);
      setDraft((current) => (current.trim() === command.trim() ? '' : current));
      return true;
    } catch (error) {
      setCommandError(describeError(error));
      return false;
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
    const index = panels.findIndex((item) => item.id === panel);
    let next: number | null = null;
    if (event.key === 'ArrowRight') next = (index + 1) % panels.length;
    if (event.key === 'ArrowLeft') next = (index - 1 + panels.length) % panels.length;
    if (event.key === 'Home') next = 0;
    if (event.key === 'End') next = panels.length - 1;
    const target = next === null ? undefined : panels[next];
    if (!target) return;
    event.preventDefault();
    setPanel(target.id);
    tabRefs.current[target.id]?.focus();
  };

  const simulated = agents.some((agent) => agent.simulated);

  return (
    <div className={readOnlyReason === null ? 'app' : 'app app-read-only'} data-path={pathHash}>
      <nav className="skip-links" aria-label="Skip links">
        <SkipLink targetId="main">Skip to main content</SkipLink>
        <SkipLink targetId="side-panel">Skip to the side panel</SkipLink>
      </nav>
      <header className="app-header">
        <h1 className="brand">
          Merit <span aria-hidden="true">·</span> <span className="brand-sub">Mission Control</span>
        </h1>
        <div className="header-meta">
          <button
            type="button"
            className="button button-small jump-to-panel"
            onClick={() => {
              const target = document.getElementById('side-panel');
              target?.scrollIntoView({ block: 'start' });
              target?.focus();
            }}
            data-testid="jump-to-panel"
          >
            {panels.map((item) => item.label).join(' · ')} ↓
          </button>
          <nav className="page-links" aria-label="Pages">
            {(Object.keys(PAGE_HASHES) as Page[]).map((name) => (
              <a
                key={name}
                className="button button-small"
                href={PAGE_HASHES[name]}
                aria-current={page === name ? 'page' : undefined}
                data-testid={`page-link-${name}`}
              >
                {PAGE_LABELS[name]}
              </a>
            ))}
          </nav>
          <ThemeToggle />
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
          {accountBar ?? (
            <span className="user" title={api.userId} data-testid="user-id">
              <span className="visually-hidden">Signed in as user </span>
              <span aria-hidden="true">User </span>
              {api.userId.slice(0, 8)}…{api.userId.slice(-4)}
            </span>
          )}
        </div>
      </header>
      <div className="layout">
        <main className="main-column" id="main">
          {showKeys && keysProject !== null ? (
            <KeysPage projectName={keysProject} onBack={goHome} />
          ) : page !== null ? (
            <Suspense
              fallback={
                <div className="app-loading">
                  <Spinner /> Loading…
                </div>
              }
            >
              {page === 'status' ? (
                <StatusPage connection={actingAs} />
              ) : page === 'arena' ? (
                <ArenaPage connection={actingAs} canCompare={readOnlyReason === null} onBack={goHome} />
              ) : (
                <AdminPage
                  connection={actingAs}
                  onOpenKeys={keysProject !== null ? () => (window.location.hash = KEYS_HASH) : undefined}
                />
              )}
            </Suspense>
          ) : route.name === 'agent' ? (
            <AgentPerformanceView
              key={route.agentId}
              agentId={route.agentId}
              range={view.range}
              onRangeChange={setRange}
              onBack={goHome}
            />
          ) : (
            <>
              <h2 className="visually-hidden">Conversation</h2>
              <StreamFiltersBar
                filters={filters}
                agents={agents}
                categories={categories}
                offerMine={accountBar !== null}
                onChange={setFilters}
              />
              <ExportMenu
                kind="tasks"
                params={{
                  user_id: actingAs.userId,
                  project: actingAs.project,
                  agent_id: filters.agent,
                  category: filters.category,
                  status: filters.status,
                  unrated: filters.unrated ? 'true' : undefined,
                  q: filters.q,
                  mine: filters.mine ? 'true' : undefined,
                }}
              />
              <ConversationStream
                filtered={hasFilters(filters)}
                tasks={tasks}
                loading={taskList.isFetching}
                error={tasksError}
                hasEarlier={taskList.hasNextPage}
                onLoadEarlier={async () => {
                  await taskList.fetchNextPage();
                }}
                onRetry={() => void taskList.refetch()}
                onOpenAgent={openAgent}
              />
              {readOnlyReason === null ? (
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
              ) : (
                <p className="read-only-note" data-testid="read-only-note">
                  <strong>{readOnlyReason}:</strong> you can read this project's tasks and scores, but not
                  send commands or rate results.
                </p>
              )}
            </>
          )}
        </main>
        <aside
          className="side-panel"
          id="side-panel"
          tabIndex={-1}
          aria-label="Quick actions, leaderboard and routing"
        >
          <div role="tablist" aria-label="Side panel" className="tabs">
            {panels.map((item) => (
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
              <>
                <RoutingQualityPanel />
                <ExportMenu
                  kind="routing-decisions"
                  params={{ user_id: actingAs.userId, project: actingAs.project }}
                />
              </>
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
              <>
                <AgentLeaderboardPanel categories={categories} onOpenAgent={openAgent} />
                <ExportMenu
                  kind="leaderboard"
                  params={{ user_id: actingAs.userId, project: actingAs.project }}
                />
              </>
            )}
          </div>
        </aside>
      </div>
    </div>
  );
}
