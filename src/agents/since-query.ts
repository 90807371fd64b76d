import { z } from '@hono/zod-openapi';

/** `?since=` of the chart endpoints: an ISO 8601 instant; absent means the whole history. */
export const sinceQuery = z.iso
  .datetime({ offset: true })
  .optional()
  .openapi({ description: 'Only tasks from this instant on (ISO 8601); absent: the whole history' });

export function toSinceDate(since: string | undefined): Date | undefined {
  return since === undefined ? undefined : new Date(since);
}
