/** Who the admin page acts as: local mode's user (`?user_id=`) and the signed-in project (its slug). */
export interface MeritConnection {
  /** Local mode's user id; null when signed in. */
  userId: string | null;
  /** The project slug chosen in the shell (sent as X-Merit-Project); null: the server's choice. */
  project: string | null;
}

/** A refusal answered by the server (`{ error: { code, message, field? } }`) or a failure to reach it. */
export class RequestError extends Error {
  readonly status: number;
  readonly code: string;
  readonly field: string | undefined;

  constructor(status: number, code: string, message: string, field?: string) {
    super(message);
    this.name = 'RequestError';
    this.status = status;
    this.code = code;
    this.field = field;
  }
}

export function buildUrl(
  connection: MeritConnection,
  path: string,
  query: Record<string, string | undefined> = {},
): string {
  const params = new URLSearchParams();
  if (connection.userId) params.set('user_id', connection.userId);
  for (const [name, value] of Object.entries(query))
    if (value !== undefined && value !== '') params.set(name, value);
  const search = params.toString();
  return `/api${path}${search ? `?${search}` : ''}`;
}

/** Sends one JSON request; a non-2xx answer throws a RequestError carrying the server's own message. */
export async function requestJson<T>(
  connection: MeritConnection,
  method: 'GET' | 'POST' | 'PUT' | 'PATCH',
  path: string,
  options: {
    body?: unknown;
    csrfToken?: string | null;
    signal?: AbortSignal;
    query?: Record<string, string | undefined>;
  } = {},
): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  if (connection.project) headers['x-merit-project'] = connection.project;
  if (options.csrfToken && method !== 'GET') headers['x-csrf-token'] = options.csrfToken;
  let response: Response;
  try {
    response = await fetch(buildUrl(connection, path, options.query), {
      method,
      headers,
      credentials: 'same-origin',
      ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
      ...(options.signal ? { signal: options.signal } : {}),
    });
  } catch (cause) {
    if (cause instanceof DOMException && cause.name === 'AbortError') throw cause;
    throw new RequestError(0, 'network_error', 'Cannot reach the Merit server. Check that it is running.');
  }
  const text = await response.text();
  if (!response.ok) throw readError(response.status, text);
  return JSON.parse(text) as T;
}

function readError(status: number, text: string): RequestError {
  try {
    const body = JSON.parse(text) as { error?: { code?: unknown; message?: unknown; field?: unknown } };
    const error = body.error;
    if (error && typeof error.message === 'string') {
      return new RequestError(
        status,
        typeof error.code === 'string' ? error.code : 'http_error',
        error.message,
        typeof error.field === 'string' ? error.field : undefined,
      );
    }
  } catch {
    // Not JSON: a proxy page or a plain 500.
  }
  return new RequestError(status, 'http_error', `The request failed (HTTP ${status}).`);
}

export function describeRequestError(error: unknown): string {
  if (error instanceof RequestError) return error.field ? `${error.field}: ${error.message}` : error.message;
  return error instanceof Error ? error.message : String(error);
}
