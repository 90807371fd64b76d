import { z } from '@hono/zod-openapi';

/** The query of every paged list: a page size and the cursor of the previous page. */
export const pageQuery = {
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z
    .string()
    .min(1)
    .max(512)
    .optional()
    .openapi({ description: 'The next_cursor of the previous page; absent for the first page' }),
  // A client still paging by time would get the first page again and again: refuse it by name.
  before: z
    .string()
    .optional()
    .refine((value) => value === undefined, {
      error: 'is replaced by cursor: pass the next_cursor of the previous page',
    })
    .openapi({
      description: 'No longer accepted (it skipped rows sharing a timestamp): use cursor',
      param: { deprecated: true },
    }),
};

export const nextCursorSchema = z
  .string()
  .nullable()
  .openapi({ description: 'Pass as `cursor` to get the next page; null on the last page' });
