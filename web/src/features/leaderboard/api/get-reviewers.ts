import { queryOptions } from '@tanstack/react-query';
import type { ApiClient } from '../../../lib/api-client.js';
import { queryKeys } from '../../../lib/query-keys.js';
import type { Range } from '../../../lib/route.js';

/**
 * Each reviewer's agreement with the user's ratings over the window, and the period read; ratings change
 * it (a `leaderboard` event).
 */
export const reviewersQuery = (api: ApiClient, window: Range) =>
  queryOptions({
    queryKey: queryKeys.reviewersOver(api.scope, window),
    queryFn: ({ signal }) => api.listReviewers(window, signal),
  });

/** How each automatic evaluator's scores compare with users' ratings. */
export const calibrationQuery = (api: ApiClient) =>
  queryOptions({
    queryKey: queryKeys.calibration(api.scope),
    queryFn: async ({ signal }) => (await api.getCalibration(signal)).evaluators,
  });
