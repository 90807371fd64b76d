import { queryOptions } from '@tanstack/react-query';
import type { components } from '../../../lib/openapi.generated.js';

export interface StatusConnection {
  /** Local mode's user id (`?user_id=`); null when signed in. */
  userId: string | null;
  /** The project slug chosen in the shell (X-Merit-Project); null: the server's choice. */
  project: string | null;
}

/** GET /api/status, as the OpenAPI document describes it. */
export type MeritStatus = components['schemas']['Status'];

/** How often the page asks again: the queue and the connections change by the second. */
export const STATUS_REFRESH_MS = 5_000;

export async function fetchStatus(connection: StatusConnection, signal?: AbortSignal): Promise<MeritStatus> {
  const query = connection.userId ? `?user_id=${encodeURIComponent(connection.userId)}` : '';
  const response = await fetch(`/api/status${query}`, {
    headers: {
      accept: 'application/json',
      ...(connection.project ? { 'x-merit-project': connection.project } : {}),
    },
    credentials: 'same-origin',
    ...(signal ? { signal } : {}),
  });
  const text = await response.text();
  if (!response.ok) {
    let message = `The status could not be read (HTTP ${response.status}).`;
    try {
      const body = JSON.parse(text) as { error?: { message?: unknown } };
      if (typeof body.error?.message === 'string') message = body.error.message;
    } catch {
      // Not JSON: keep the generic message.
    }
    throw new Error(message);
  }
  return JSON.parse(text) as MeritStatus;
}

export const statusQuery = (connection: StatusConnection) =>
  queryOptions({
    queryKey: ['status', connection.project ?? '', connection.userId ?? ''] as const,
    queryFn: ({ signal }) => fetchStatus(connection, signal),
    refetchInterval: STATUS_REFRESH_MS,
  });
