import type { KeyScope } from '../../lib/api-schemas.js';

export const SCOPE_HINTS: Record<KeyScope, string> = {
  ingest: 'record tasks and nodes, send commands',
  feedback: 'rate tasks only; safe in a browser widget when limited to your origins',
  read: 'read tasks, scores and statistics',
  admin: 'everything, including keys and members',
};

export type KeyFormResult =
  | { ok: true; value: { name: string; scopes: KeyScope[]; allowed_origins?: string[] } }
  | { ok: false; field: 'name' | 'scopes' | 'allowed_origins'; message: string };

/**
 * Reads one allowed origin per line (or comma-separated): each must be a bare origin such as
 * `https://app.example.com`, since that is all a browser's Origin header carries.
 */
export function parseAllowedOrigins(
  text: string,
): { ok: true; origins: string[] } | { ok: false; message: string } {
  const entries = text
    .split(/[\n,]/)
    .map((entry) => entry.trim())
    .filter((entry) => entry.length > 0);
  const origins: string[] = [];
  for (const entry of entries) {
    let url: URL;
    try {
      url = new URL(entry);
    } catch {
      return { ok: false, message: `"${entry}" is not an origin (write it as https://host[:port])` };
    }
    if ((url.protocol !== 'https:' && url.protocol !== 'http:') || url.origin !== entry.replace(/\/$/, '')) {
      return { ok: false, message: `"${entry}" is not an origin: only scheme, host and port, no path` };
    }
    if (!origins.includes(url.origin)) origins.push(url.origin);
  }
  return { ok: true, origins };
}

/** Checks the new-key form; the server checks again and its message wins when it disagrees. */
export function readKeyForm(name: string, scopes: KeyScope[], originsText: string): KeyFormResult {
  const trimmed = name.trim();
  if (trimmed.length === 0)
    return { ok: false, field: 'name', message: 'Name the key (for example "CI ingest").' };
  if (scopes.length === 0) return { ok: false, field: 'scopes', message: 'Choose at least one scope.' };
  const origins = parseAllowedOrigins(originsText);
  if (!origins.ok) return { ok: false, field: 'allowed_origins', message: origins.message };
  return {
    ok: true,
    value:
      origins.origins.length > 0
        ? { name: trimmed, scopes, allowed_origins: origins.origins }
        : { name: trimmed, scopes },
  };
}
