import { queryOptions } from '@tanstack/react-query';
import type { ApiClient } from '../../../lib/api-client.js';
import { queryKeys } from '../../../lib/query-keys.js';

/** Each reviewer's agreement with the user's ratings; ratings change it (a `leaderboard` event). */
export const reviewersQuery = (api: ApiClient) =>
  queryOptions({
    queryKey: queryKeys.reviewers(api.scope),
    queryFn: async ({ signal }) => (await api.listReviewers(signal)).reviewers,
  });

/** How each automatic evaluator's scores compare with users' ratings. */
export const calibrationQuery = (api: ApiClient) =>
  queryOptions({
    queryKey: queryKeys.calibration(api.scope),
    queryFn: async ({ signal }) => (await api.getCalibration(signal)).evaluators,
  });
