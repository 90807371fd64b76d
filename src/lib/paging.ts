import { ValidationError } from '../errors.js';

/**
 * Keyset paging and bounded previews, shared by every list endpoint.
 *
 * A list is ordered by `(created_at DESC, id DESC)`; its page cursor is the position of the last row
 * returned, `(created_at, id)`, and the next page holds the rows with `(created_at, id) < cursor` (a row
 * comparison, so rows sharing a timestamp are neither skipped nor repeated). The cursor is opaque to
 * clients: base64url of a small JSON object naming the list it belongs to.
 */

/** Characters of a long text (command, result, error, feedback) that a list item carries. */
export const PREVIEW_CHARS = 2000;

/** Which list a cursor belongs to: a cursor of one list is rejected by another. */
export type CursorKind = 'tasks' | 'routing_decisions' | 'scored_tasks';

/** A row's position in a list: its created_at (UTC, microseconds, as PostgreSQL prints it) and id. */
export interface PagePosition {
  /** `YYYY-MM-DDTHH:MM:SS.ffffff` in UTC, exact to the microsecond (a JS Date would drop microseconds). */
  readonly at: string;
  readonly id: string;
}

const AT_PATTERN = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})\.\d{6}$/;
const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * SQL `to_char` format printing a UTC timestamp as a cursor's `at`; use it on `created_at AT TIME ZONE
 * 'UTC'` (timestamptz) or on the seed's plain `timestamp` columns.
 */
export const CURSOR_AT_FORMAT = 'YYYY-MM-DD"T"HH24:MI:SS.US';

export function encodeCursor(kind: CursorKind, position: PagePosition): string {
  return Buffer.from(JSON.stringify({ k: kind, at: position.at, id: position.id })).toString('base64url');
}

/** Decodes a client's cursor; anything that is not a cursor of this list is a 400 naming `cursor`. */
export function decodeCursor(kind: CursorKind, cursor: string): PagePosition {
  const invalid = (rule: string) => new ValidationError('cursor', rule);
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch (cause) {
    throw new ValidationError('cursor', 'must be a next_cursor returned by this list', { cause });
  }
  if (value === null || typeof value !== 'object')
    throw invalid('must be a next_cursor returned by this list');
  const { k, at, id } = value as Record<string, unknown>;
  if (k !== kind) throw invalid(`must be a next_cursor returned by this list (${kind})`);
  if (typeof id !== 'string' || !UUID_PATTERN.test(id)) throw invalid('has an invalid id');
  if (typeof at !== 'string' || !isValidInstant(at)) throw invalid('has an invalid position');
  return { at, id };
}

function isValidInstant(at: string): boolean {
  const match = AT_PATTERN.exec(at);
  if (!match) return false;
  const [year, month, day, hour, minute, second] = match.slice(1).map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  if (year < 1 || hour > 23 || minute > 59 || second > 59) return false;
  const date = new Date(Date.UTC(year, month - 1, day));
  // Rejects 2026-02-30 and the like, which Date.UTC would roll over into the next month.
  return date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
}

/**
 * Cuts a list query's `limit + 1` rows to one page: the rows, and the cursor after the last one when a
 * further row exists (null at the end of the list).
 */
export function toPage<T extends { cursor_at: string; id: string }>(
  kind: CursorKind,
  rows: readonly T[],
  limit: number,
): { rows: T[]; nextCursor: string | null } {
  const page = rows.slice(0, limit);
  const last = page[page.length - 1];
  const nextCursor =
    rows.length > limit && last ? encodeCursor(kind, { at: last.cursor_at, id: last.id }) : null;
  return { rows: page, nextCursor };
}

/** Length in characters (Unicode code points), as PostgreSQL's `char_length` counts them. */
export function countChars(text: string): number {
  let count = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    // The low half of a surrogate pair belongs to the character its high half started.
    if (code < 0xdc00 || code > 0xdfff || i === 0 || !isHighSurrogate(text.charCodeAt(i - 1))) count++;
  }
  return count;
}

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}
