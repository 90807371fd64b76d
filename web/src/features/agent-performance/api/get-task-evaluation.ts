import { queryOptions } from '@tanstack/react-query';
import type { ApiClient } from '../../../lib/api-client.js';
import { queryKeys } from '../../../lib/query-keys.js';

/** Every score of one task with its source; a `task` event for it, or a rating, marks it stale. */
export const taskEvaluationQuery = (api: ApiClient, taskId: string) =>
  queryOptions({
    queryKey: queryKeys.taskEvaluation(api.scope, taskId),
    queryFn: ({ signal }) => api.getTaskEvaluation(taskId, signal),
  });
