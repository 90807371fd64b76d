import { useEffect, useState } from 'react';
import { useApi } from './api-context.js';

export interface CategoryOption {
  category: string;
  display_name: string;
}

/** The project's categories as the server has them; empty until (or unless) they load. */
export function useCategories(): CategoryOption[] {
  const api = useApi();
  const [categories, setCategories] = useState<CategoryOption[]>([]);
  useEffect(() => {
    const controller = new AbortController();
    api.listCategories(controller.signal).then(
      (result) =>
        setCategories(result.categories.map(({ category, display_name }) => ({ category, display_name }))),
      () => {
        // Without categories the pickers offer "All" alone; the rest of the page says what failed.
      },
    );
    return () => controller.abort();
  }, [api]);
  return categories;
}
