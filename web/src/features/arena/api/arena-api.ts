import type { components } from '../../../lib/openapi.generated.js';
/** The Arena's calls to the Merit API, for this feature only (the shell passes who it acts as). */

/** Who the Arena page acts as: local mode's user, the signed-in project and its CSRF token. */
export interface ArenaConnection {
  /** Local mode's user id (`?user_id=`); null when signed in. */
  userId: string | null;
  /** The project slug (sent as X-Merit-Project); null: the server's choice. */
  project: string | null;
  /** The session's CSRF token, sent on writes; null in local mode. */
  csrfToken: string | null;
}

type Schemas = components['schemas'];

export type Comparison = Schemas['ArenaComparison'];
export type ArenaVote = NonNullable<Comparison['vote']>;
export type ComparisonAnswer = Comparison['answers']['A'];
export type AnswerStatus = NonNullable<ComparisonAnswer['status']>;
export type RevealedAgent = NonNullable<Comparison['agents']>['A'];
export type ArenaLeaderboard = Schemas['ArenaLeaderboard'];
export type ArenaRatingRow = ArenaLeaderboard['ratings'][number];

export interface AgentChoice {
  agent_id: string;
  nickname: string;
  display_name: string;
  active: boolean;
  origin?: 'merit' | 'external';
  is_orchestrator?: boolean;
}

/** A refusal the server explained (`{ error: { code, message } }`), or a failure to reach it. */
export class ArenaRequestError extends Error {
  readonly status: number;
  readonly code: string;

  constructor(status: number, code: string, message: string) {
    super(message);
    this.name = 'ArenaRequestError';
    this.status = status;
    this.code = code;
  }
}

async function requestJson<T>(
  connection: ArenaConnection,
  method: 'GET' | 'POST',
  path: string,
  options: { query?: Record<string, string | undefined>; body?: unknown; signal?: AbortSignal } = {},
): Promise<T> {
  const params = new URLSearchParams();
  if (connection.userId) params.set('user_id', connection.userId);
  for (const [name, value] of Object.entries(options.query ?? {})) if (value) params.set(name, value);
  const search = params.toString();
  const headers: Record<string, string> = { accept: 'application/json' };
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  if (connection.project) headers['x-merit-project'] = connection.project;
  if (connection.csrfToken && method !== 'GET') headers['x-csrf-token'] = connection.csrfToken;
  let response: Response;
  try {
    response = await fetch(`/api${path}${search ? `?${search}` : ''}`, {
      method,
      headers,
      credentials: 'same-origin',
      ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
      ...(options.signal ? { signal: options.signal } : {}),
    });
  } catch (cause) {
    if (cause instanceof DOMException && cause.name === 'AbortError') throw cause;
    throw new ArenaRequestError(
      0,
      'network_error',
      'Cannot reach the Merit server. Check that it is running.',
    );
  }
  const text = await response.text();
  if (!response.ok) {
    let message = `The request failed (HTTP ${response.status}).`;
    let code = 'http_error';
    try {
      const body = JSON.parse(text) as { error?: { code?: string; message?: string } };
      if (body.error?.message) message = body.error.message;
      if (body.error?.code) code = body.error.code;
    } catch {
      // Not JSON: a proxy page or a plain 500.
    }
    throw new ArenaRequestError(response.status, code, message);
  }
  return JSON.parse(text) as T;
}

export function describeArenaError(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export function fetchArenaLeaderboard(
  connection: ArenaConnection,
  category: string | null,
  signal?: AbortSignal,
) {
  return requestJson<ArenaLeaderboard>(connection, 'GET', '/arena/leaderboard', {
    query: { category: category ?? undefined },
    ...(signal ? { signal } : {}),
  });
}

export function createComparison(
  connection: ArenaConnection,
  input: { command: string; agents?: [string, string]; llm_judge?: boolean },
) {
  return requestJson<Comparison>(connection, 'POST', '/arena/compare', { body: input });
}

export function fetchComparison(connection: ArenaConnection, id: string, signal?: AbortSignal) {
  return requestJson<Comparison>(connection, 'GET', `/arena/compare/${encodeURIComponent(id)}`, {
    ...(signal ? { signal } : {}),
  });
}

export function voteOnComparison(connection: ArenaConnection, id: string, winner: ArenaVote) {
  return requestJson<Comparison>(connection, 'POST', `/arena/compare/${encodeURIComponent(id)}/vote`, {
    body: { winner },
  });
}

export async function fetchComparableAgents(connection: ArenaConnection, signal?: AbortSignal) {
  const answer = await requestJson<{ agents: AgentChoice[] }>(connection, 'GET', '/agents', {
    ...(signal ? { signal } : {}),
  });
  return answer.agents.filter(
    (agent) => agent.active && agent.origin !== 'external' && !agent.is_orchestrator,
  );
}
