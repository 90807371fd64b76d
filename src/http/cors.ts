import type { MiddlewareHandler } from 'hono';
import { ROUTE_RULES, type RouteRule } from '../identity/permissions.js';
import type { AppEnv } from './app-env.js';

/** Headers a browser may send cross-origin to these routes (the key, JSON or OTLP bodies, gzip, a project). */
const ALLOWED_REQUEST_HEADERS = 'Authorization, Content-Type, Content-Encoding, X-Merit-Project';
/** How long a browser may reuse a preflight answer. */
const PREFLIGHT_MAX_AGE_SECONDS = 600;
/** The permissions of routes a page on another site may call with a project key. */
const CROSS_ORIGIN_RULES: ReadonlySet<RouteRule> = new Set(['feedback', 'ingest']);

export interface CrossOriginRoute {
  readonly method: string;
  readonly pattern: RegExp;
}

/** The feedback and ingest routes of the rules, as method and path pattern (`{task_id}` matches one segment). */
export function listCrossOriginRoutes(rules: Readonly<Record<string, RouteRule>>): CrossOriginRoute[] {
  const routes: CrossOriginRoute[] = [];
  for (const [key, rule] of Object.entries(rules)) {
    if (!CROSS_ORIGIN_RULES.has(rule)) continue;
    const [method, path] = key.split(' ');
    if (method === undefined || path === undefined) continue;
    const source = path
      .split(/\{[^}]+\}/)
      .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
      .join('[^/]+');
    routes.push({ method, pattern: new RegExp(`^${source}$`) });
  }
  return routes;
}

/** The methods a cross-origin page may use on a path (empty when the path is no feedback or ingest route). */
export function findCrossOriginMethods(routes: readonly CrossOriginRoute[], path: string): string[] {
  return [...new Set(routes.filter((route) => route.pattern.test(path)).map((route) => route.method))];
}

/**
 * CORS for the routes a host app's page calls with a project key: the feedback widget's ratings and
 * browser-side ingestion. Nothing else (Mission Control, admin routes, sessions) is reachable cross-origin.
 *
 * A preflight carries no key, so it cannot tell which origins are allowed: it is answered for any origin
 * on these routes, and that grants nothing. The real request still needs a key, which authenticate()
 * refuses (403) from an origin outside the key's allowed origins; only when the key allows the origin
 * does the answer carry Access-Control-Allow-Origin, so a page elsewhere can neither use a key nor read
 * an answer. Credentials (cookies) are never allowed cross-origin, so a signed-in session cannot be
 * borrowed by another site.
 */
export function corsForKeyRoutes(
  extraRules: Readonly<Record<string, RouteRule>> = {},
): MiddlewareHandler<AppEnv> {
  const routes = listCrossOriginRoutes({ ...extraRules, ...ROUTE_RULES });
  return async (c, next) => {
    const origin = c.req.header('Origin');
    if (origin === undefined) return next();
    const methods = findCrossOriginMethods(routes, c.req.path);
    if (methods.length === 0) return next();
    const requestedMethod = c.req.header('Access-Control-Request-Method');
    if (c.req.method === 'OPTIONS' && requestedMethod !== undefined) {
      if (!methods.includes(requestedMethod.toUpperCase())) return next();
      return c.body(null, 204, {
        'Access-Control-Allow-Origin': origin,
        'Access-Control-Allow-Methods': methods.join(', '),
        'Access-Control-Allow-Headers': ALLOWED_REQUEST_HEADERS,
        'Access-Control-Max-Age': String(PREFLIGHT_MAX_AGE_SECONDS),
        Vary: 'Origin',
      });
    }
    if (!methods.includes(c.req.method)) return next();
    await next();
    c.header('Vary', 'Origin', { append: true });
    const key = c.get('principal')?.key;
    if (key?.allowedOrigins.includes(origin)) {
      c.header('Access-Control-Allow-Origin', origin);
      // A client that was told to slow down can read for how long.
      c.header('Access-Control-Expose-Headers', 'Retry-After');
    }
  };
}
