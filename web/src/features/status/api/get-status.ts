import { queryOptions } from '@tanstack/react-query';

export interface StatusConnection {
  /** Local mode's user id (`?user_id=`); null when signed in. */
  userId: string | null;
  /** The project slug chosen in the shell (X-Merit-Project); null: the server's choice. */
  project: string | null;
}

export interface MeritStatus {
  version: string;
  generated_at: string;
  database: {
    reachable: boolean;
    kind: 'embedded' | 'external';
    label: string;
    server_version: string | null;
    latency_ms: number | null;
    error: string | null;
  };
  worker: {
    alive: boolean | null;
    live_workers: number | null;
    runs_in_this_process: boolean;
    running_jobs: number | null;
    ready_jobs: number | null;
    oldest_ready_age_ms: number | null;
    stalled: boolean | null;
    last_activity_at: string | null;
    queue: {
      task_identifier: string;
      ready: number;
      scheduled: number;
      running: number;
      failed: number;
      oldest_ready_age_ms: number | null;
    }[];
    error: string | null;
  };
  llm: {
    mode: 'online' | 'offline';
    message: string | null;
    provider: 'openai' | 'anthropic' | null;
    observed_in: string;
    models: {
      model: string;
      roles: string[];
      reachable: boolean | null;
      calls: number;
      failures: number;
      last_success_at: string | null;
      last_failure_at: string | null;
      last_error: string | null;
      last_error_status: number | null;
    }[];
  };
  evaluation: {
    enabled: boolean;
    evaluator: 'llm' | 'offline';
    sample_rate: number;
    pending_tasks: number | null;
    oldest_pending_age_ms: number | null;
    abandoned_tasks: number | null;
    unscored_tasks: number | null;
    failed_evaluations_24h: number | null;
    failed_reviews_24h: number | null;
    error: string | null;
  };
}

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
