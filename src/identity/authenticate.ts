import { z } from '@hono/zod-openapi';
import type { Context, MiddlewareHandler } from 'hono';
import { getCookie } from 'hono/cookie';
import { matchedRoutes } from 'hono/route';
import type { AppContext } from '../app-context.js';
import { DEFAULT_USER_ID } from '../config.js';
import { ForbiddenError, UnauthorizedError, ValidationError } from '../errors.js';
import type { AppEnv } from '../http/app-env.js';
import { parseKeySecret, sameHash, sha256 } from './credentials.js';
import { endUserId } from './end-user.js';
import { findActiveKeyByPrefix, findSession, listMemberships, touchApiKey } from './identity.queries.js';
import { type RouteRule, ruleForRoute } from './permissions.js';
import { PERMISSIONS_BY_ROLE, type Principal, permissionsOfScopes } from './principal.js';
import {
  configuredRateLimits,
  enforceRateLimit,
  RATE_LIMIT_WINDOW_SECONDS,
  type RateLimits,
  rateLimitBuckets,
  resolveRateLimits,
} from './rate-limits.js';
import { DEFAULT_PROJECT_ID, DEFAULT_PROJECT_SLUG } from './scope.js';

export const SESSION_COOKIE = 'merit_session';
export const CSRF_HEADER = 'X-CSRF-Token';
export const PROJECT_HEADER = 'X-Merit-Project';

const UNSAFE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * Resolves who is calling and whether the route allows it, for every /api route, in one place:
 * 1. the route's rule (src/identity/permissions.ts); a route without one is refused (fail closed);
 * 2. the principal: an API key (`Authorization: Bearer`), else a session cookie, else in local mode the
 *    seed's `?user_id=`; in required mode a request with none of them is 401 unless the route is public;
 * 3. the permission (403 when the role or the key's scopes lack it), the CSRF token of cookie-
 *    authenticated writes, and a key's allowed browser origins.
 */
export function authenticate(
  ctx: AppContext,
  extraRules: Readonly<Record<string, RouteRule>> = {},
): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    // The first handler that is not middleware answers (a later catch-all, like the web app's, never does).
    const route = matchedRoutes(c).find((candidate) => candidate.method !== 'ALL');
    if (!route) return next(); // No such route: the 404 handler answers, with nothing to leak.
    const method = c.req.method === 'HEAD' ? 'GET' : c.req.method;
    const rule = ruleForRoute(method, route.path, extraRules);
    if (rule === undefined) throw new ForbiddenError(`${method} ${route.path} has no permission rule`);
    const principal = await resolvePrincipal(ctx, c, rule);
    if (principal) c.set('principal', principal);
    if (rule === 'public') return next();
    if (!principal) throw new UnauthorizedError();
    if (!principal.permissions.has(rule)) {
      throw new ForbiddenError(
        principal.key
          ? `This API key lacks the "${rule}" scope`
          : `The ${principal.role} role may not do this (it needs the "${rule}" permission)`,
      );
    }
    if (principal.via === 'session' && UNSAFE_METHODS.has(method)) checkCsrf(c, principal);
    if (principal.key) checkOrigin(c, principal.key.allowedOrigins);
    // Requests per minute per key or signed-in account, counted in PostgreSQL (shared by every process).
    const requester = principal.key
      ? rateLimitBuckets.keyRequests(principal.key.id)
      : principal.account
        ? `account:${principal.account.id}:requests`
        : undefined;
    if (requester) {
      await enforceRateLimit(ctx.db, {
        bucket: requester,
        windowSeconds: RATE_LIMIT_WINDOW_SECONDS.requests,
        limit: principal.rateLimits.requestsPerMinute,
        name: 'requests per minute',
      });
    }
    return next();
  };
}

async function resolvePrincipal(
  ctx: AppContext,
  c: Context<AppEnv>,
  rule: RouteRule,
): Promise<Principal | undefined> {
  const authorization = c.req.header('Authorization');
  if (authorization !== undefined) return keyPrincipal(ctx, c, authorization);
  const token = getCookie(c, SESSION_COOKIE);
  if (token !== undefined && token !== '') {
    const principal = await sessionPrincipal(ctx, c, token);
    if (principal) return principal;
    if (rule !== 'public' && ctx.config.auth.mode === 'required') {
      throw new UnauthorizedError('The session has expired or was signed out; sign in again');
    }
  }
  if (ctx.config.auth.mode === 'local') return localPrincipal(ctx, c, rule);
  return undefined;
}

/** Local mode: the seed's contract, `?user_id=<uuid>`, in the one implicit project, with every permission. */
function localPrincipal(ctx: AppContext, c: Context<AppEnv>, rule: RouteRule): Principal {
  const raw = c.req.query('user_id');
  let userId = DEFAULT_USER_ID;
  if (raw === undefined || raw === '') {
    if (rule !== 'public') throw new ValidationError('user_id', 'is required (a UUID query parameter)');
  } else {
    const parsed = z.guid().safeParse(raw);
    if (!parsed.success) throw new ValidationError('user_id', 'must be a UUID');
    userId = parsed.data.toLowerCase();
  }
  return {
    mode: 'local',
    via: 'local',
    projectId: DEFAULT_PROJECT_ID,
    projectSlug: DEFAULT_PROJECT_SLUG,
    projectName: 'Default',
    userId,
    ownTasksOnly: true,
    account: null,
    key: null,
    role: 'owner',
    permissions: new Set(PERMISSIONS_BY_ROLE.owner),
    csrfToken: null,
    rateLimits: configuredLimits(ctx),
  };
}

function configuredLimits(ctx: AppContext): RateLimits {
  return configuredRateLimits(ctx.config.auth.rateLimits);
}

/** The project a signed-in request asks for: the header, or `?project=` (an EventSource sends no headers). */
export function requestedProjectSlug(c: Context<AppEnv>): string | undefined {
  return c.req.header(PROJECT_HEADER) ?? c.req.query('project');
}

async function keyPrincipal(ctx: AppContext, c: Context<AppEnv>, authorization: string): Promise<Principal> {
  const match = /^Bearer\s+(\S+)$/i.exec(authorization.trim());
  const parsed = match?.[1] ? parseKeySecret(match[1]) : undefined;
  if (!parsed) throw new UnauthorizedError('The Authorization header must be `Bearer merit_<key>`');
  const key = await findActiveKeyByPrefix(ctx.db, parsed.prefix);
  if (!key || !sameHash(key.secret_hash, parsed.secretHash)) {
    throw new UnauthorizedError('The API key is unknown or revoked');
  }
  // Its last use is recorded at most once a minute: a busy key does not write on every request.
  if (key.last_used_at === null || Date.now() - new Date(key.last_used_at).getTime() > 60_000) {
    await touchApiKey(ctx.db, key.id);
  }
  return {
    mode: ctx.config.auth.mode,
    via: 'key',
    projectId: key.project_id,
    projectSlug: key.project_slug,
    projectName: key.project_name,
    userId:
      endUserId(key.project_id, c.req.query('user_id')) ?? endUserId(key.project_id, `key:${key.id}`) ?? '',
    ownTasksOnly: false,
    account: null,
    key: { id: key.id, name: key.name, allowedOrigins: key.allowed_origins },
    role: null,
    permissions: new Set(permissionsOfScopes(key.scopes)),
    csrfToken: null,
    rateLimits: resolveRateLimits(key.project_settings, configuredLimits(ctx)),
  };
}

async function sessionPrincipal(
  ctx: AppContext,
  c: Context<AppEnv>,
  token: string,
): Promise<Principal | undefined> {
  const session = await findSession(ctx.db, sha256(token));
  if (!session) return undefined;
  const memberships = await listMemberships(ctx.db, session.account_id);
  const wanted = requestedProjectSlug(c);
  const membership = wanted ? memberships.find((m) => m.slug === wanted) : memberships[0];
  if (!membership) {
    throw new ForbiddenError(
      wanted ? `You are not a member of project "${wanted}"` : 'Your account is not a member of any project',
    );
  }
  return {
    mode: ctx.config.auth.mode,
    via: 'session',
    projectId: membership.id,
    projectSlug: membership.slug,
    projectName: membership.name,
    userId: session.account_id,
    ownTasksOnly: false,
    account: { id: session.account_id, email: session.email },
    key: null,
    role: membership.role,
    permissions: new Set(PERMISSIONS_BY_ROLE[membership.role]),
    csrfToken: session.csrf_token,
    rateLimits: resolveRateLimits(membership.settings, configuredLimits(ctx)),
  };
}

function checkCsrf(c: Context<AppEnv>, principal: Principal): void {
  const sent = c.req.header(CSRF_HEADER);
  if (!sent || !principal.csrfToken || !sameHash(sha256(sent), sha256(principal.csrfToken))) {
    throw new ForbiddenError(
      `A signed-in write needs the ${CSRF_HEADER} header from /api/auth/session`,
      'csrf_failed',
    );
  }
}

/** A key used from a browser (an Origin header) works only from its allowed origins. */
function checkOrigin(c: Context<AppEnv>, allowed: readonly string[]): void {
  const origin = c.req.header('Origin');
  if (origin === undefined) return;
  if (!allowed.includes(origin)) {
    throw new ForbiddenError(`This API key may not be used from ${origin} (not in its allowed origins)`);
  }
}
