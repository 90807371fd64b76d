import { queryOptions } from '@tanstack/react-query';
import type { ApiClient } from '../../../lib/api-client.js';
import { queryKeys } from '../../../lib/query-keys.js';

/** The Arena ratings of the project (one category or, with '', all), shown beside the leaderboard score. */
export const arenaRatingsQuery = (api: ApiClient, category: string) =>
  queryOptions({
    queryKey: queryKeys.arenaRatings(api.scope, category),
    queryFn: ({ signal }) => api.getArenaLeaderboard(category ? { category } : {}, signal),
  });
