import type {
  Agent,
  AgentPerformance,
  ApiKey,
  ArenaLeaderboard,
  AuthSession,
  CostQualityCell,
  CreatedApiKey,
  EvaluatorCalibrationList,
  FeedbackResult,
  KeyScope,
  Leaderboard,
  NodeStats,
  ReviewerAgreement,
  RoutingQuality,
  StoredRoutingDecision,
  Task,
  TaskEvaluation,
  TaskPage,
  TrendPoint,
} from './api-schemas.js';
import type { paths } from './openapi.generated.js';
import type { StreamFilters } from './route.js';

/** An error answered by the server (`{"error": {"code", "message"}}`) or a failure to reach it. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly field: string | undefined;

  constructor(status: number, code: string, message: string, field?: string) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.field = field;
  }
}

/** Turns a non-2xx response body into an ApiError, using the server's own message when it sent one. */
export function parseErrorBody(status: number, body: string): ApiError {
  try {
    const parsed: unknown = JSON.parse(body);
    if (parsed !== null && typeof parsed === 'object' && 'error' in parsed) {
      const error = (parsed as { error: unknown }).error;
      if (error !== null && typeof error === 'object') {
        const { code, message, field } = error as { code?: unknown; message?: unknown; field?: unknown };
        if (typeof message === 'string' && message.length > 0) {
          return new ApiError(
            status,
            typeof code === 'string' ? code : 'http_error',
            message,
            typeof field === 'string' ? field : undefined,
          );
        }
      }
    }
  } catch {
    // Not JSON (a proxy page or a plain 500): fall through to the generic message.
  }
  return new ApiError(status, 'http_error', describeStatus(status));
}

function describeStatus(status: number): string {
  if (status === 413) return 'The request is too large.';
  if (status >= 500) return `The server failed to answer (HTTP ${status}). Try again in a moment.`;
  return `The request failed (HTTP ${status}).`;
}

export type QueryValue = string | number | undefined | null;

/** The read endpoints' `window` (the period ending now; `all`: the whole history), as the server defines it. */
export type ReadWindow = NonNullable<
  NonNullable<paths['/api/agents/{agent_id}/trend']['get']['parameters']['query']>['window']
>;

/** The instants a read covered: since (inclusive) to until (exclusive); null is unbounded. */
export interface ReadPeriod {
  since: string | null;
  until: string | null;
}

/** Builds `/api/...?user_id=...&...`, skipping empty values. */
export function buildApiUrl(
  baseUrl: string,
  path: string,
  userId: string,
  query: Record<string, QueryValue> = {},
) {
  const params = new URLSearchParams({ user_id: userId });
  for (const [key, value] of Object.entries(query)) {
    if (value !== undefined && value !== null && value !== '') params.set(key, String(value));
  }
  return `${baseUrl}/api${path}?${params.toString()}`;
}

/** What a signed-in browser adds to every request in required mode (the cookie itself travels alone). */
export interface ApiAuth {
  /** Sent as `X-CSRF-Token` on every write. */
  csrfToken: string | null;
  /** Sent as `X-Merit-Project` on every request, and as `?project=` on the event stream (no headers there). */
  project: string | null;
  /** Called when a call outside /auth answers 401: the session ended. */
  onUnauthorized?: () => void;
  /** The signed-in account: a CSRF token is taken over from a newer session only when it is the same. */
  accountId?: string | null;
}

export interface ApiClientOptions {
  userId: string;
  /** Origin to prefix paths with; '' (same origin) in the browser. */
  baseUrl?: string;
  auth?: ApiAuth;
}

export type ApiClient = ReturnType<typeof createApiClient>;

/** `/tasks/{task_id}` -> `/tasks/${string}`: a documented path with its parameters filled in. */
type FillParams<S extends string> = S extends `${infer Head}{${string}}${infer Tail}`
  ? `${Head}${string}${FillParams<Tail>}`
  : S;
/**
 * The paths the OpenAPI document serves, without `/api`: a call to a path the server does not have is a
 * type error here.
 */
export type ClientPath = {
  [P in keyof paths]: P extends `/api${infer Rest}` ? FillParams<Rest> : never;
}[keyof paths];

type Method = 'GET' | 'POST' | 'DELETE';

/** The headers of one request: JSON, and the session's project and CSRF token when there is a session. */
export function buildHeaders(method: Method, hasBody: boolean, auth: ApiAuth | undefined) {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (hasBody) headers['content-type'] = 'application/json';
  if (auth?.project) headers['x-merit-project'] = auth.project;
  if (auth?.csrfToken && method !== 'GET') headers['x-csrf-token'] = auth.csrfToken;
  return headers;
}

export function createApiClient({ userId, baseUrl = '', auth }: ApiClientOptions) {
  // The session's CSRF token; replaced when this account signed in again in another tab.
  let csrfToken = auth?.csrfToken ?? null;

  async function send<T>(
    method: Method,
    path: string,
    options: { query?: Record<string, QueryValue>; body?: unknown; signal?: AbortSignal },
  ): Promise<{ ok: true; value: T } | { ok: false; error: ApiError }> {
    const init: RequestInit = {
      method,
      headers: buildHeaders(method, options.body !== undefined, auth && { ...auth, csrfToken }),
      // Same origin in the browser; said outright so the session cookie always travels.
      credentials: 'same-origin',
    };
    if (options.signal) init.signal = options.signal;
    if (options.body !== undefined) init.body = JSON.stringify(options.body);
    let response: Response;
    try {
      response = await fetch(buildApiUrl(baseUrl, path, userId, options.query), init);
    } catch (cause) {
      if (cause instanceof DOMException && cause.name === 'AbortError') throw cause;
      throw new ApiError(0, 'network_error', 'Cannot reach the Merit server. Check that it is running.');
    }
    const text = await response.text();
    if (!response.ok) return { ok: false, error: parseErrorBody(response.status, text) };
    // Only calls typed `void` (logout) are answered 204.
    if (response.status === 204) return { ok: true, value: undefined as T };
    try {
      return { ok: true, value: JSON.parse(text) as T };
    } catch {
      throw new ApiError(response.status, 'bad_response', 'The server sent a response that is not JSON.');
    }
  }

  /**
   * A signed-in write refused for its CSRF token: the cookie now belongs to a newer session (a sign-in in
   * another tab). The same account's new token is taken over; another account's session ends this one.
   */
  async function renewCsrfToken(): Promise<boolean> {
    const answer = await send<AuthSession>('GET', '/auth/session', {});
    if (!answer.ok || !answer.value.authenticated || answer.value.csrf_token === null) return false;
    if (answer.value.account?.id !== auth?.accountId) return false;
    csrfToken = answer.value.csrf_token;
    return true;
  }

  async function request<T>(
    method: Method,
    path: ClientPath,
    options: { query?: Record<string, QueryValue>; body?: unknown; signal?: AbortSignal } = {},
  ): Promise<T> {
    let answer = await send<T>(method, path, options);
    if (!answer.ok && answer.error.code === 'csrf_failed' && auth?.accountId) {
      if (await renewCsrfToken()) answer = await send<T>(method, path, options);
      else auth.onUnauthorized?.();
    }
    if (answer.ok) return answer.value;
    // A wrong password is the login form's own error, not the end of a session.
    if (answer.error.status === 401 && !path.startsWith('/auth/')) auth?.onUnauthorized?.();
    throw answer.error;
  }

  const id = encodeURIComponent;

  return {
    userId,
    /** Who this client reads as (project and user): the first part of every query key. */
    scope: `${auth?.project ?? ''}/${userId}`,
    eventsUrl: buildApiUrl(baseUrl, '/events', userId, { project: auth?.project }),
    /** The same client with a session's project, CSRF token and 401 handler. */
    withAuth: (next: ApiAuth) => createApiClient({ userId, baseUrl, auth: next }),
    getSession: (signal?: AbortSignal) => request<AuthSession>('GET', '/auth/session', { signal }),
    login: (email: string, password: string) =>
      request<AuthSession>('POST', '/auth/login', { body: { email, password } }),
    logout: () => request<void>('POST', '/auth/logout'),
    listKeys: (signal?: AbortSignal) => request<{ keys: ApiKey[] }>('GET', '/keys', { signal }),
    createKey: (input: { name: string; scopes: KeyScope[]; allowed_origins?: string[] }) =>
      request<CreatedApiKey>('POST', '/keys', { body: input }),
    revokeKey: (keyId: string) => request<{ key: ApiKey }>('DELETE', `/keys/${id(keyId)}`),
    listAgents: (signal?: AbortSignal) => request<{ agents: Agent[] }>('GET', '/agents', { signal }),
    /** The project's categories (built-in and its own), for filters and pickers. */
    listCategories: (signal?: AbortSignal) =>
      request<{ categories: { category: string; display_name: string }[] }>('GET', '/categories', { signal }),
    /** A page of the task list (previews of long texts); `cursor` is the previous page's `next_cursor`. */
    listTasks: (query: TaskListQuery = {}, signal?: AbortSignal) =>
      request<TaskPage>('GET', '/tasks', { query: toTaskListQuery(query), signal }),
    /** One task with its texts whole, its nodes and its score. */
    getTask: (taskId: string, signal?: AbortSignal) =>
      request<Task>('GET', `/tasks/${id(taskId)}`, { signal }),
    postCommand: (command: string) => request<Task>('POST', '/commands', { body: { command } }),
    submitFeedback: (taskId: string, userRating: number, userFeedback?: string) =>
      request<FeedbackResult>('POST', `/tasks/${id(taskId)}/feedback`, {
        body: userFeedback
          ? { user_rating: userRating, user_feedback: userFeedback }
          : { user_rating: userRating },
      }),
    getLeaderboard: (query: { category?: string; limit?: number } = {}, signal?: AbortSignal) =>
      request<Leaderboard>('GET', '/agents/leaderboard', { query, signal }),
    getAgentPerformance: (
      agentId: string,
      query: { limit?: number; cursor?: string; window?: ReadWindow } = {},
      signal?: AbortSignal,
    ) => request<AgentPerformance>('GET', `/agents/${id(agentId)}/performance`, { query, signal }),
    getAgentTrend: (
      agentId: string,
      query: { bucket: 'hour' | 'day' | 'week'; window: ReadWindow },
      signal?: AbortSignal,
    ) =>
      request<{ points: TrendPoint[]; cost_quality: CostQualityCell[]; cost_quality_truncated: boolean }>(
        'GET',
        `/agents/${id(agentId)}/trend`,
        { query, signal },
      ),
    getAgentNodes: (agentId: string, window: ReadWindow, signal?: AbortSignal) =>
      request<{ nodes: NodeStats[] }>('GET', `/agents/${id(agentId)}/nodes`, { query: { window }, signal }),
    getTaskEvaluation: (taskId: string, signal?: AbortSignal) =>
      request<TaskEvaluation>('GET', `/tasks/${id(taskId)}/evaluation`, { signal }),
    /** The reviewers' figures over a window (the server's default: the last 30 days), and the window read. */
    listReviewers: (window: ReadWindow, signal?: AbortSignal) =>
      request<{ reviewers: ReviewerAgreement[]; window: ReadPeriod }>('GET', '/reviewers', {
        query: { window },
        signal,
      }),
    getTaskRoutingDecision: (taskId: string, signal?: AbortSignal) =>
      request<StoredRoutingDecision>('GET', `/tasks/${id(taskId)}/routing-decision`, { signal }),
    getCalibration: (signal?: AbortSignal) =>
      request<EvaluatorCalibrationList>('GET', '/evaluators/calibration', { signal }),
    getArenaLeaderboard: (query: { category?: string } = {}, signal?: AbortSignal) =>
      request<ArenaLeaderboard>('GET', '/arena/leaderboard', { query, signal }),
    getRoutingQuality: (days = 30, signal?: AbortSignal) =>
      request<RoutingQuality>('GET', '/routing/quality', { query: { days }, signal }),
  };
}

/** A page of the task list and the stream's filters. */
export interface TaskListQuery {
  limit?: number;
  cursor?: string | undefined;
  filters?: StreamFilters;
}

/** The task list's query parameters: filters as the server names them, absent ones left out. */
export function toTaskListQuery({ limit, cursor, filters = {} }: TaskListQuery): Record<string, QueryValue> {
  return {
    limit,
    cursor,
    agent_id: filters.agent,
    category: filters.category,
    status: filters.status,
    unrated: filters.unrated ? 'true' : undefined,
    mine: filters.mine ? 'true' : undefined,
    q: filters.q,
  };
}

/** The message to show for anything thrown by the client. */
export function describeError(error: unknown): string {
  if (error instanceof Error && error.message) return error.message;
  return 'Something went wrong.';
}
