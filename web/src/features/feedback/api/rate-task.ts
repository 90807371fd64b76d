import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useApi } from '../../../lib/api-context.js';
import { queryKeys } from '../../../lib/query-keys.js';
import { patchRating } from '../../../lib/task-cache.js';

export interface RateTaskInput {
  taskId: string;
  /** The agent that executed the task: its figures change with the rating. */
  agentId: string;
  rating: number;
  feedback: string | null;
}

/**
 * Rates a task. The stream shows the rating at once; the task's evaluation, the leaderboard and the
 * agent's figures are marked stale (the `leaderboard` event that follows would do the same).
 */
export function useRateTask() {
  const api = useApi();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: ({ taskId, rating, feedback }: RateTaskInput) =>
      api.submitFeedback(taskId, rating, feedback ?? undefined),
    onSuccess: (_result, { taskId, agentId, rating, feedback }) => {
      patchRating(queryClient, api, taskId, rating, feedback);
      void queryClient.invalidateQueries({ queryKey: queryKeys.task(api.scope, taskId) });
      void queryClient.invalidateQueries({ queryKey: queryKeys.leaderboards(api.scope) });
      void queryClient.invalidateQueries({ queryKey: queryKeys.agent(api.scope, agentId) });
      void queryClient.invalidateQueries({ queryKey: queryKeys.reviewers(api.scope) });
    },
  });
}
