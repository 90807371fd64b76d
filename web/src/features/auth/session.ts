import type { AuthSession, ProjectMembership, ProjectRole } from '../../lib/api-schemas.js';

export const PROJECT_STORAGE_KEY = 'merit.project';

interface KeyValueStore {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
}

/** The project slug chosen earlier in this browser, or null. */
export function readStoredProject(storage: KeyValueStore | null): string | null {
  try {
    return storage?.getItem(PROJECT_STORAGE_KEY)?.trim() || null;
  } catch {
    return null;
  }
}

export function storeProject(storage: KeyValueStore | null, slug: string): void {
  try {
    storage?.setItem(PROJECT_STORAGE_KEY, slug);
  } catch {
    // Storage can be disabled (private mode); the choice still holds until the page is reloaded.
  }
}

/**
 * The project the browser works in: the one chosen earlier when the account is still a member of it,
 * else the server's choice (the account's first project). Null when the account has no project.
 */
export function chooseProject(session: AuthSession, stored: string | null): ProjectMembership | null {
  const chosen = stored === null ? undefined : session.projects.find((project) => project.slug === stored);
  if (chosen) return chosen;
  const current = session.project;
  if (current === null) return session.projects[0] ?? null;
  const membership = session.projects.find((project) => project.id === current.id);
  // The server named a project without listing it: its role is the session's.
  return membership ?? (session.role === null ? null : { ...current, role: session.role });
}

/** Viewers read; every other role may send commands and rate results. */
export function canWrite(role: ProjectRole | null): boolean {
  return role === 'owner' || role === 'admin' || role === 'member';
}

export function canManageKeys(role: ProjectRole | null): boolean {
  return role === 'owner' || role === 'admin';
}

/** The session after a logout or an expired cookie: still required mode, nobody signed in. */
export function signedOut(session: AuthSession): AuthSession {
  return {
    mode: session.mode,
    authenticated: false,
    account: null,
    project: null,
    role: null,
    projects: [],
    csrf_token: null,
  };
}
