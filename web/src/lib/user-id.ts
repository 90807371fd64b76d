export const DEFAULT_USER_ID = '00000000-0000-0000-0000-000000000001';
export const USER_ID_STORAGE_KEY = 'merit.user_id';

interface KeyValueStore {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
}

/**
 * The user id comes from `?user_id=` in the page URL, else from storage, else the default. A URL value is
 * remembered so that later visits without it keep the same user.
 */
export function resolveUserId(search: string, storage: KeyValueStore | null): string {
  const fromUrl = new URLSearchParams(search).get('user_id')?.trim();
  if (fromUrl) {
    try {
      storage?.setItem(USER_ID_STORAGE_KEY, fromUrl);
    } catch {
      // Storage can be disabled (private mode); the URL value still applies to this visit.
    }
    return fromUrl;
  }
  try {
    const stored = storage?.getItem(USER_ID_STORAGE_KEY)?.trim();
    if (stored) return stored;
  } catch {
    // Unreadable storage: use the default.
  }
  return DEFAULT_USER_ID;
}
