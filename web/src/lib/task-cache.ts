import type { InfiniteData, QueryClient } from '@tanstack/react-query';
import type { ApiClient } from './api-client.js';
import type { Task, TaskPage } from './api-schemas.js';
import { queryKeys } from './query-keys.js';
import type { StreamFilters } from './route.js';
import { applyRating, matchesFilters, mergeTasks, upsertTask } from './tasks.js';

/**
 * The cached task lists (the stream's pages under each filter set), patched in place by live events and
 * mutations so a change to one task never refetches the whole list.
 */

export const STREAM_PAGE_SIZE = 50;

type TaskPages = InfiniteData<TaskPage, string | null>;

/** Every cached task list of this client, with the filters it was fetched under. */
function forEachTaskList(
  queryClient: QueryClient,
  api: ApiClient,
  update: (pages: TaskPages, filters: StreamFilters) => TaskPages,
): void {
  for (const [key, data] of queryClient.getQueriesData<TaskPages>({
    queryKey: queryKeys.taskLists(api.scope),
  })) {
    if (!data) continue;
    const filters = (key[3] ?? {}) as StreamFilters;
    queryClient.setQueryData<TaskPages>(key, update(data, filters));
  }
}

function replacePage(pages: TaskPages, index: number, tasks: Task[]): TaskPages {
  const page = pages.pages[index];
  if (!page) return pages;
  const next = [...pages.pages];
  next[index] = { ...page, tasks };
  return { ...pages, pages: next };
}

/**
 * A task from a live event or a response: the page holding it gets the newer copy; a task no page holds
 * joins the newest page of each list whose filters it matches (a new command, a task that just started).
 */
export function patchTask(queryClient: QueryClient, api: ApiClient, task: Task): void {
  forEachTaskList(queryClient, api, (pages, filters) => {
    const index = pages.pages.findIndex((page) => page.tasks.some((item) => item.id === task.id));
    if (index !== -1) return replacePage(pages, index, upsertTask(pages.pages[index]?.tasks ?? [], task));
    if (!matchesFilters(task, filters, api.userId)) return pages;
    return replacePage(pages, 0, upsertTask(pages.pages[0]?.tasks ?? [], task));
  });
}

/** A rating the user just gave, shown in the page holding the task without fetching it again. */
export function patchRating(
  queryClient: QueryClient,
  api: ApiClient,
  taskId: string,
  rating: number,
  feedback: string | null,
): void {
  forEachTaskList(queryClient, api, (pages) => {
    const index = pages.pages.findIndex((page) => page.tasks.some((item) => item.id === taskId));
    if (index === -1) return pages;
    return replacePage(pages, index, applyRating(pages.pages[index]?.tasks ?? [], taskId, rating, feedback));
  });
}

/**
 * Scores arrive after the completion event (evaluations, reviews): the newest page of a list whose newest
 * page holds a task of these agents (any agent when empty) is fetched again and merged, leaving the older
 * pages alone.
 */
export async function refreshNewestPages(
  queryClient: QueryClient,
  api: ApiClient,
  agentIds: readonly string[],
): Promise<void> {
  const lists = queryClient
    .getQueriesData<TaskPages>({ queryKey: queryKeys.taskLists(api.scope), type: 'active' })
    .filter(([, data]) =>
      (data?.pages[0]?.tasks ?? []).some((task) => agentIds.length === 0 || agentIds.includes(task.agent_id)),
    );
  await Promise.all(
    lists.map(async ([key]) => {
      const filters = (key[3] ?? {}) as StreamFilters;
      const newest = await api.listTasks({ limit: STREAM_PAGE_SIZE, filters });
      queryClient.setQueryData<TaskPages>(key, (pages) =>
        pages ? replacePage(pages, 0, mergeTasks(pages.pages[0]?.tasks ?? [], newest.tasks)) : pages,
      );
    }),
  );
}
