import { describe, expect, it } from 'vitest';
import {
  canManageKeys,
  canWrite,
  chooseProject,
  PROJECT_STORAGE_KEY,
  readStoredProject,
  signedOut,
  storeProject,
} from '../../web/src/features/auth/session.js';
import { parseAllowedOrigins, readKeyForm } from '../../web/src/features/keys/key-form.js';
import type { AuthSession } from '../../web/src/lib/api-schemas.js';

const ALPHA = { id: 'p1', slug: 'alpha', name: 'Alpha' };
const BETA = { id: 'p2', slug: 'beta', name: 'Beta' };

function session(overrides: Partial<AuthSession> = {}): AuthSession {
  return {
    mode: 'required',
    authenticated: true,
    account: { id: 'a1', email: 'ada@example.com' },
    project: ALPHA,
    role: 'owner',
    projects: [
      { ...ALPHA, role: 'owner' },
      { ...BETA, role: 'viewer' },
    ],
    csrf_token: 'csrf-1',
    ...overrides,
  };
}

function memoryStorage(initial: Record<string, string> = {}) {
  const values = new Map(Object.entries(initial));
  return {
    values,
    getItem: (key: string) => values.get(key) ?? null,
    setItem: (key: string, value: string) => void values.set(key, value),
  };
}

describe('chooseProject', () => {
  it("keeps the project chosen earlier, with that project's role", () => {
    expect(chooseProject(session(), 'beta')).toEqual({ ...BETA, role: 'viewer' });
  });

  it("falls back to the server's project when the stored one is no longer the account's", () => {
    expect(chooseProject(session(), 'gone')).toEqual({ ...ALPHA, role: 'owner' });
    expect(chooseProject(session(), null)).toEqual({ ...ALPHA, role: 'owner' });
  });

  it('is null for an account without projects', () => {
    expect(chooseProject(session({ project: null, role: null, projects: [] }), 'alpha')).toBeNull();
  });
});

describe('roles', () => {
  it('lets every role but viewer write, and only admins and owners manage keys', () => {
    expect(['owner', 'admin', 'member', 'viewer', null].map((role) => canWrite(role as never))).toEqual([
      true,
      true,
      true,
      false,
      false,
    ]);
    expect(['owner', 'admin', 'member', 'viewer', null].map((role) => canManageKeys(role as never))).toEqual([
      true,
      true,
      false,
      false,
      false,
    ]);
  });

  it('forgets the account, its projects and its CSRF token when signed out', () => {
    expect(signedOut(session())).toEqual({
      mode: 'required',
      authenticated: false,
      account: null,
      project: null,
      role: null,
      projects: [],
      csrf_token: null,
    });
  });
});

describe('the stored project', () => {
  it('round-trips through storage and survives a storage that throws', () => {
    const storage = memoryStorage();
    storeProject(storage, 'beta');
    expect(storage.values.get(PROJECT_STORAGE_KEY)).toBe('beta');
    expect(readStoredProject(storage)).toBe('beta');
    const broken = {
      getItem: () => {
        throw new Error('denied');
      },
      setItem: () => {
        throw new Error('denied');
      },
    };
    expect(readStoredProject(broken)).toBeNull();
    expect(() => storeProject(broken, 'beta')).not.toThrow();
    expect(readStoredProject(memoryStorage({ [PROJECT_STORAGE_KEY]: '  ' }))).toBeNull();
  });
});

describe('the new-key form', () => {
  it('accepts bare origins, one per line or comma-separated, without duplicates', () => {
    expect(
      parseAllowedOrigins('https://app.example.com\nhttp://localhost:5173, https://app.example.com/'),
    ).toEqual({
      ok: true,
      origins: ['https://app.example.com', 'http://localhost:5173'],
    });
    expect(parseAllowedOrigins('  \n ')).toEqual({ ok: true, origins: [] });
  });

  it('refuses an origin with a path, another scheme or no scheme, naming it', () => {
    expect(parseAllowedOrigins('https://app.example.com/widget')).toMatchObject({
      ok: false,
      message: expect.stringContaining('"https://app.example.com/widget"'),
    });
    expect(parseAllowedOrigins('ftp://files.example.com').ok).toBe(false);
    expect(parseAllowedOrigins('app.example.com').ok).toBe(false);
  });

  it('names the field that is wrong', () => {
    expect(readKeyForm('  ', ['ingest'], '')).toMatchObject({ ok: false, field: 'name' });
    expect(readKeyForm('CI', [], '')).toMatchObject({ ok: false, field: 'scopes' });
    expect(readKeyForm('CI', ['feedback'], 'example.com')).toMatchObject({
      ok: false,
      field: 'allowed_origins',
    });
  });

  it('sends allowed origins only when there are some', () => {
    expect(readKeyForm(' CI ingest ', ['ingest', 'read'], '')).toEqual({
      ok: true,
      value: { name: 'CI ingest', scopes: ['ingest', 'read'] },
    });
    expect(readKeyForm('Widget', ['feedback'], 'https://app.example.com')).toEqual({
      ok: true,
      value: { name: 'Widget', scopes: ['feedback'], allowed_origins: ['https://app.example.com'] },
    });
  });
});
