import { queryOptions } from '@tanstack/react-query';
import type { ApiClient } from '../../../lib/api-client.js';
import { queryKeys } from '../../../lib/query-keys.js';

/** Routing quality over the last `days` days; outcomes arrive with ratings and scores (`leaderboard` events). */
export const routingQualityQuery = (api: ApiClient, days: number) =>
  queryOptions({
    queryKey: queryKeys.routingQuality(api.scope, days),
    queryFn: ({ signal }) => api.getRoutingQuality(days, signal),
  });
