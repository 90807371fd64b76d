import { keepPreviousData, queryOptions } from '@tanstack/react-query';
import type { ApiClient } from '../../../lib/api-client.js';
import { queryKeys } from '../../../lib/query-keys.js';
import type { Range } from '../../../lib/route.js';

export const HISTORY_PAGE_SIZE = 20;

// Hours for a day or less of data, days beyond.
const RANGE_BUCKET: Record<Range, 'hour' | 'day' | 'week'> = {
  '24h': 'hour',
  '7d': 'day',
  '30d': 'day',
  '90d': 'day',
  all: 'day',
};

/**
 * One agent's figures and one page of its whole history (`cursor` null: the newest page): the server's
 * default window is the last 30 days, and keyset paging keeps any depth cheap.
 */
export const agentPerformanceQuery = (api: ApiClient, agentId: string, cursor: string | null) =>
  queryOptions({
    queryKey: queryKeys.agentPerformance(api.scope, agentId, cursor),
    queryFn: ({ signal }) =>
      api.getAgentPerformance(
        agentId,
        cursor
          ? { limit: HISTORY_PAGE_SIZE, cursor, window: 'all' }
          : { limit: HISTORY_PAGE_SIZE, window: 'all' },
        signal,
      ),
    // "Older" keeps the current page on screen until the next arrives.
    placeholderData: keepPreviousData,
  });

/** The agent's score trend and cost-against-quality grid over the range (the server's `window`, ending now). */
export const agentTrendQuery = (api: ApiClient, agentId: string, range: Range) =>
  queryOptions({
    queryKey: queryKeys.agentTrend(api.scope, agentId, range),
    queryFn: ({ signal }) =>
      api.getAgentTrend(agentId, { bucket: RANGE_BUCKET[range], window: range }, signal),
  });

/** The agent's node timings over the range. */
export const agentNodesQuery = (api: ApiClient, agentId: string, range: Range) =>
  queryOptions({
    queryKey: queryKeys.agentNodes(api.scope, agentId, range),
    queryFn: async ({ signal }) => (await api.getAgentNodes(agentId, range, signal)).nodes,
  });
