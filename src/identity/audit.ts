import type { Kysely } from 'kysely';
import type { AuditActorKind, Database } from '../db/database.js';
import { ValidationError } from '../errors.js';

/**
 * The audit log: who changed what in a project (keys, categories, agents, members and roles, prices).
 * An entry is written in the same transaction as the change it records, so a change that rolls back
 * leaves no entry and no committed change lacks one. Listed newest first, a page at a time by id.
 */

export type AuditAction =
  | 'key.create'
  | 'key.revoke'
  | 'category.create'
  | 'category.update'
  | 'agent.create'
  | 'agent.update'
  | 'member.add'
  | 'member.role'
  | 'prices.update'
  | 'project.create'
  | 'project.update';

export interface AuditActor {
  readonly kind: AuditActorKind;
  /** The account's or key's id, the local user's id; null when there is none (the CLI). */
  readonly id: string | null;
  /** What a reader recognises: an email, `key <name>`, `local user <id>`, `cli`. */
  readonly label: string;
}

export interface AuditEntry {
  readonly projectId: string;
  readonly actor: AuditActor;
  readonly action: AuditAction;
  /** What was changed, e.g. `key <id>`, `category research`, `agent agent_a`. */
  readonly target: string;
  /** The change itself (fields before and after, scopes granted...); never a secret. */
  readonly details?: Record<string, unknown>;
}

export interface AuditEvent {
  readonly id: number;
  readonly at: Date;
  readonly actor: AuditActor;
  readonly action: string;
  readonly target: string;
  readonly details: Record<string, unknown>;
}

/** Entries per page at most. */
export const MAX_AUDIT_PAGE = 200;

/**
 * Records one entry. Pass the transaction that makes the change (`trx`), so both commit or neither.
 * Returns the entry's id.
 */
export async function recordAudit(db: Kysely<Database>, entry: AuditEntry): Promise<number> {
  const row = await db
    .insertInto('audit_log')
    .values({
      project_id: entry.projectId,
      actor_kind: entry.actor.kind,
      actor_id: entry.actor.id,
      actor_label: entry.actor.label,
      action: entry.action,
      target: entry.target,
      details: JSON.stringify(entry.details ?? {}),
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return Number(row.id);
}

/**
 * One page of a project's entries, newest first: those with an id below the cursor's, and the cursor
 * of the next page (null on the last). Entries of other projects are never read.
 */
export async function listAudit(
  db: Kysely<Database>,
  projectId: string,
  page: { cursor?: string | undefined; limit: number },
): Promise<{ events: AuditEvent[]; nextCursor: string | null }> {
  if (!Number.isInteger(page.limit) || page.limit < 1 || page.limit > MAX_AUDIT_PAGE)
    throw new ValidationError('limit', `must be a whole number from 1 to ${MAX_AUDIT_PAGE}`);
  const beforeId = page.cursor === undefined ? undefined : decodeAuditCursor(page.cursor);
  const rows = await db
    .selectFrom('audit_log')
    .select(['id', 'at', 'actor_kind', 'actor_id', 'actor_label', 'action', 'target', 'details'])
    .where('project_id', '=', projectId)
    .$if(beforeId !== undefined, (query) => query.where('id', '<', String(beforeId)))
    .orderBy('id', 'desc')
    .limit(page.limit + 1)
    .execute();
  const events = rows.slice(0, page.limit).map(toAuditEvent);
  const last = events[events.length - 1];
  const nextCursor = rows.length > page.limit && last ? encodeAuditCursor(last.id) : null;
  return { events, nextCursor };
}

function toAuditEvent(row: {
  id: string | number;
  at: Date;
  actor_kind: AuditActorKind;
  actor_id: string | null;
  actor_label: string;
  action: string;
  target: string;
  details: Record<string, unknown>;
}): AuditEvent {
  return {
    // BIGINT: connect.ts parses it as a number (ids stay far below 2^53).
    id: Number(row.id),
    at: row.at,
    actor: { kind: row.actor_kind, id: row.actor_id, label: row.actor_label },
    action: row.action,
    target: row.target,
    details: row.details,
  };
}

/**
 * The cursor after an entry: base64url of `{"k":"audit","id":"<id>"}`, opaque to clients like the
 * cursors of src/lib/paging.ts (which order by created_at and a UUID; the audit log orders by its id).
 */
export function encodeAuditCursor(id: number): string {
  return Buffer.from(JSON.stringify({ k: 'audit', id: String(id) })).toString('base64url');
}

/** The id a client's cursor stands for; anything else is a 400 naming `cursor`. */
export function decodeAuditCursor(cursor: string): number {
  const invalid = (cause?: unknown) =>
    new ValidationError('cursor', 'must be a next_cursor returned by this list (audit)', { cause });
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch (cause) {
    throw invalid(cause);
  }
  if (value === null || typeof value !== 'object') throw invalid();
  const { k, id } = value as Record<string, unknown>;
  if (k !== 'audit' || typeof id !== 'string' || !/^[1-9][0-9]{0,15}$/.test(id)) throw invalid();
  const parsed = Number(id);
  if (!Number.isSafeInteger(parsed)) throw invalid();
  return parsed;
}
