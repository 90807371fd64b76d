import { queryOptions } from '@tanstack/react-query';
import type { ApiClient } from '../../../lib/api-client.js';
import { queryKeys } from '../../../lib/query-keys.js';

/** The project's agents (roster, mention list, filters); refreshed when tasks start and finish. */
export const agentsQuery = (api: ApiClient) =>
  queryOptions({
    queryKey: queryKeys.agents(api.scope),
    queryFn: async ({ signal }) => (await api.listAgents(signal)).agents,
  });
