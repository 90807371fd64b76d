import { z } from '@hono/zod-openapi';
import { ValidationError } from '../errors.js';

/**
 * The time window of every read endpoint (issue 12, "read paths at scale"): `window=24h|7d|30d|90d|all`
 * (a period ending at `until`, or now), or an explicit `since` (and optional `until`). A read endpoint
 * answers over its window only, so its cost follows the window and not the size of the history; `all`
 * keeps the whole history possible.
 */
export const READ_WINDOWS = ['24h', '7d', '30d', '90d', 'all'] as const;
export type ReadWindowName = (typeof READ_WINDOWS)[number];

/** The window of a read endpoint that names none (the leaderboard keeps `all`: see its route). */
export const DEFAULT_READ_WINDOW: ReadWindowName = '30d';

const HOUR_MS = 3_600_000;
const WINDOW_MS: Record<Exclude<ReadWindowName, 'all'>, number> = {
  '24h': 24 * HOUR_MS,
  '7d': 7 * 24 * HOUR_MS,
  '30d': 30 * 24 * HOUR_MS,
  '90d': 90 * 24 * HOUR_MS,
};

/** A resolved window: rows at or after `since` (absent: from the start) and before `until` (absent: now on). */
export interface ReadRange {
  readonly since?: Date | undefined;
  readonly until?: Date | undefined;
}

/** The query parameters of a windowed read endpoint; `defaultWindow` is named in the description. */
export function windowQuery(defaultWindow: ReadWindowName = DEFAULT_READ_WINDOW) {
  return {
    window: z
      .enum(READ_WINDOWS)
      .optional()
      .openapi({
        description: `The period to read over, ending at until (absent: now; default ${defaultWindow}), from the whole UTC hour at or before its start; \`all\`: the whole history. Not combined with since`,
        example: '30d',
      }),
    since: z.iso
      .datetime({ offset: true })
      .optional()
      .openapi({ description: 'From this instant on (ISO 8601, inclusive); replaces window' }),
    until: z.iso
      .datetime({ offset: true })
      .optional()
      .openapi({ description: 'Before this instant (ISO 8601, exclusive); absent: up to now' }),
  };
}

/**
 * The range a request's window parameters name: an explicit `since` wins, else `window`, else the
 * endpoint's default. 400 naming the field for a window combined with since, or an until not after since.
 */
export function resolveReadWindow(
  query: { window?: ReadWindowName | undefined; since?: string | undefined; until?: string | undefined },
  options: { defaultWindow?: ReadWindowName; now?: Date } = {},
): ReadRange {
  const now = options.now ?? new Date();
  if (query.since !== undefined && query.window !== undefined)
    throw new ValidationError('window', 'cannot be combined with since: pass one of them');
  const until = query.until === undefined ? undefined : new Date(query.until);
  const name = query.window ?? options.defaultWindow ?? DEFAULT_READ_WINDOW;
  // A named window starts at the whole UTC hour at or before its length back (the answer says which):
  // a window of whole hours reads the statistics rollups' rows only, none of the tasks of a partial hour.
  const since =
    query.since !== undefined
      ? new Date(query.since)
      : name === 'all'
        ? undefined
        : floorToHour(new Date((until ?? now).getTime() - WINDOW_MS[name]));
  if (since && until && until <= since) throw new ValidationError('until', 'must be later than since');
  return { since, until };
}

/** The whole UTC hour at or before an instant. */
export function floorToHour(at: Date): Date {
  return new Date(Math.floor(at.getTime() / HOUR_MS) * HOUR_MS);
}
