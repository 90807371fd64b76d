import { isIP } from 'node:net';
import type { MiddlewareHandler } from 'hono';
import { isLoopbackAddress } from '../lib/addresses.js';

export { isLoopbackAddress };

/**
 * Whether a request's host is one this server answers to: the loopback names, any IP address (an
 * address cannot be rebound), the address it is bound to, and the configured names (`*` for any,
 * `.example.com` for a domain and its subdomains).
 */
export function isAllowedHost(hostname: string, bindHost: string, allowed: readonly string[]): boolean {
  const name = unbracket(hostname.toLowerCase().replace(/\.$/, ''));
  // DNS rebinding needs a name: a request for an IP address (a LAN client, a health probe) is safe.
  if (isLoopbackAddress(name) || isIP(name) !== 0) return true;
  if (name === unbracket(bindHost.toLowerCase()) && !isWildcardAddress(bindHost)) return true;
  return allowed.some(
    (entry) =>
      entry === '*' ||
      entry === name ||
      (entry.startsWith('.') && (name.endsWith(entry) || name === entry.slice(1))),
  );
}

function unbracket(host: string): string {
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}

export function isWildcardAddress(host: string): boolean {
  return host === '0.0.0.0' || host === '::' || host === '[::]';
}

/** Answers 403 to a request whose Host header names a host this server does not answer to. */
export function hostGuard(bindHost: string, allowed: readonly string[]): MiddlewareHandler {
  return async (c, next) => {
    const hostname = new URL(c.req.url).hostname;
    if (isAllowedHost(hostname, bindHost, allowed)) return next();
    return c.json(
      {
        error: {
          code: 'host_not_allowed',
          message: `Requests for host '${hostname}' are refused; add it to MERIT_ALLOWED_HOSTS to allow it`,
        },
      },
      403,
    );
  };
}
