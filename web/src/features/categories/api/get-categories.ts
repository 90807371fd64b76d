import { queryOptions, useQuery } from '@tanstack/react-query';
import type { ApiClient } from '../../../lib/api-client.js';
import { useApi } from '../../../lib/api-context.js';
import { queryKeys } from '../../../lib/query-keys.js';

export interface CategoryOption {
  category: string;
  display_name: string;
}

const NO_CATEGORIES: CategoryOption[] = [];

/** The project's categories (built-in and its own) as the server has them, for filters and pickers. */
export const categoriesQuery = (api: ApiClient) =>
  queryOptions({
    queryKey: queryKeys.categories(api.scope),
    queryFn: async ({ signal }) =>
      (await api.listCategories(signal)).categories.map(({ category, display_name }) => ({
        category,
        display_name,
      })),
    // Categories change rarely (an admin edits them; a `categories` event says so).
    staleTime: 5 * 60_000,
  });

/** The categories; empty until (or unless) they load: the pickers then offer "All" alone. */
export function useCategories(): CategoryOption[] {
  const api = useApi();
  return useQuery(categoriesQuery(api)).data ?? NO_CATEGORIES;
}
