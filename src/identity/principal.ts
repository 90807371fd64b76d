import type { KeyScope, Role } from '../db/database.js';
import type { RateLimits } from './rate-limits.js';
import type { Scope } from './scope.js';

/**
 * What a route needs. `read`: see the project's data; `feedback`: rate tasks; `ingest`: record tasks,
 * nodes and spans and send commands (which run agents and may spend money); `admin`: change agents,
 * categories, prices, reviewers, members and keys, and read the audit log.
 */
export type Permission = 'read' | 'feedback' | 'ingest' | 'admin';

export const PERMISSIONS_BY_ROLE: Readonly<Record<Role, readonly Permission[]>> = {
  viewer: ['read'],
  member: ['read', 'feedback', 'ingest'],
  admin: ['read', 'feedback', 'ingest', 'admin'],
  owner: ['read', 'feedback', 'ingest', 'admin'],
};

/** A key holds exactly its scopes, except `admin`, which includes the others. */
export function permissionsOfScopes(scopes: readonly KeyScope[]): Permission[] {
  return scopes.includes('admin') ? ['read', 'feedback', 'ingest', 'admin'] : [...scopes];
}

/** Who is calling, resolved once per request by `authenticate` (src/identity/authenticate.ts). */
export interface Principal extends Scope {
  readonly mode: 'local' | 'required';
  readonly via: 'local' | 'session' | 'key';
  readonly projectSlug: string;
  readonly projectName: string;
  /** The signed-in account (session), null for keys and local mode. */
  readonly account: { readonly id: string; readonly email: string } | null;
  /** The API key used, null otherwise. */
  readonly key: {
    readonly id: string;
    readonly name: string;
    readonly allowedOrigins: readonly string[];
  } | null;
  /** The member's role (owner in local mode), null for keys. */
  readonly role: Role | null;
  readonly permissions: ReadonlySet<Permission>;
  /** The session's CSRF token: a cookie-authenticated write must echo it. */
  readonly csrfToken: string | null;
  /** The project's rate limits (its settings over the configured defaults). */
  readonly rateLimits: RateLimits;
}

/** Who an audit entry names. */
export function auditActor(principal: Principal): {
  kind: 'account' | 'key' | 'local';
  id: string | null;
  label: string;
} {
  if (principal.account) return { kind: 'account', id: principal.account.id, label: principal.account.email };
  if (principal.key) return { kind: 'key', id: principal.key.id, label: `key ${principal.key.name}` };
  return { kind: 'local', id: principal.userId, label: `local user ${principal.userId}` };
}
