import { keepPreviousData, queryOptions } from '@tanstack/react-query';
import type { ApiClient } from '../../../lib/api-client.js';
import { queryKeys } from '../../../lib/query-keys.js';

/** The leaderboard, of one category or ('') of all; a `leaderboard` event marks it stale. */
export const leaderboardQuery = (api: ApiClient, category: string) =>
  queryOptions({
    queryKey: queryKeys.leaderboard(api.scope, category),
    queryFn: ({ signal }) => api.getLeaderboard(category ? { category } : {}, signal),
    // Another category keeps the current table on screen until its own arrives.
    placeholderData: keepPreviousData,
  });
