import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useApi } from '../../../lib/api-context.js';
import { queryKeys } from '../../../lib/query-keys.js';
import { patchTask } from '../../../lib/task-cache.js';

/** Sends a command: the new task joins the stream at once, and the agents' running counts are stale. */
export function useSendCommand() {
  const api = useApi();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (command: string) => api.postCommand(command),
    onSuccess: (task) => {
      patchTask(queryClient, api, task);
      void queryClient.invalidateQueries({ queryKey: queryKeys.agents(api.scope) });
    },
  });
}
