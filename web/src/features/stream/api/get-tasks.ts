import { infiniteQueryOptions, queryOptions } from '@tanstack/react-query';
import type { ApiClient } from '../../../lib/api-client.js';
import { queryKeys } from '../../../lib/query-keys.js';
import type { StreamFilters } from '../../../lib/route.js';
import { STREAM_PAGE_SIZE } from '../../../lib/task-cache.js';

/** The stream's task list under its filters: pages newest first, each older page through `next_cursor`. */
export const taskListQuery = (api: ApiClient, filters: StreamFilters) =>
  infiniteQueryOptions({
    queryKey: queryKeys.taskList(api.scope, filters),
    queryFn: ({ pageParam, signal }) =>
      api.listTasks({ limit: STREAM_PAGE_SIZE, cursor: pageParam ?? undefined, filters }, signal),
    initialPageParam: null as string | null,
    getNextPageParam: (page) => page.next_cursor,
    // Live events keep the list current; it is fetched again after a reconnect, not on a timer.
    staleTime: Number.POSITIVE_INFINITY,
  });

/** One task with its texts whole (the list carries previews), fetched again when its status changes. */
export const wholeTaskQuery = (api: ApiClient, taskId: string, status: string) =>
  queryOptions({
    queryKey: queryKeys.taskWhole(api.scope, taskId, status),
    queryFn: ({ signal }) => api.getTask(taskId, signal),
  });

/** The stored routing decision behind a routed task. */
export const routingDecisionQuery = (api: ApiClient, taskId: string) =>
  queryOptions({
    queryKey: queryKeys.taskRoutingDecision(api.scope, taskId),
    queryFn: ({ signal }) => api.getTaskRoutingDecision(taskId, signal),
    // A decision is written once.
    staleTime: Number.POSITIVE_INFINITY,
  });
