import { queryOptions } from '@tanstack/react-query';
import type { ApiClient } from '../../../lib/api-client.js';
import type { Node } from '../../../lib/api-schemas.js';
import { queryKeys } from '../../../lib/query-keys.js';

/**
 * One task's steps (nodes) in order, read from the one-task endpoint (the API has no GET of the nodes
 * alone); a `task` event for it marks them stale, so a running task's new steps arrive.
 */
export const taskNodesQuery = (api: ApiClient, taskId: string) =>
  queryOptions({
    queryKey: queryKeys.taskNodes(api.scope, taskId),
    queryFn: async ({ signal }): Promise<Node[]> => {
      const task = await api.getTask(taskId, signal);
      return [...(task.nodes ?? [])].sort((a, b) => a.sequence - b.sequence);
    },
  });
