import { type Config, DEFAULT_USER_ID, loadConfig } from '../../src/config.js';
import { DEFAULT_PROJECT_ID, type Scope } from '../../src/identity/scope.js';
import { createServices, type MeritServices } from '../../src/server.js';
import { createTestDatabase, type DatabaseKind, type TestDatabase } from './database.js';

export const USER = DEFAULT_USER_ID;
export const OTHER_USER = '00000000-0000-0000-0000-000000000002';
export { DEFAULT_PROJECT_ID };

/** A local-mode user's scope (the default project, own tasks only), as a `?user_id=` request has it. */
export function scopeOf(userId: string): Scope {
  return { projectId: DEFAULT_PROJECT_ID, userId, ownTasksOnly: true };
}

export interface TestApp extends MeritServices {
  readonly database: TestDatabase;
  /** Sends a request to the app in-process (Hono's app.request), JSON in and out. */
  call(
    method: string,
    path: string,
    body?: unknown,
    options?: { user?: string | null; raw?: string; headers?: Record<string, string> },
  ): Promise<{ status: number; body: any }>;
  close(): Promise<void>;
}

export function testConfig(overrides: Record<string, string> = {}): Config {
  return loadConfig({
    MERIT_DATA_DIR: '/nonexistent',
    MERIT_WORKER: 'false',
    MERIT_LOG_LEVEL: 'error',
    ...overrides,
  });
}

/** Sends a request to the services' app in-process (Hono's app.request), JSON in and out. */
export async function callApp(
  services: Pick<MeritServices, 'app'>,
  method: string,
  path: string,
  body?: unknown,
  options: { user?: string | null; raw?: string; headers?: Record<string, string> } = {},
): Promise<{ status: number; body: any }> {
  const user = options.user === undefined ? USER : options.user;
  const url = user === null ? path : `${path}${path.includes('?') ? '&' : '?'}user_id=${user}`;
  const init: RequestInit = { method, headers: { ...options.headers } };
  if (body !== undefined || options.raw !== undefined) {
    init.body = options.raw ?? JSON.stringify(body);
    init.headers = { 'content-type': 'application/json', ...options.headers };
  }
  const response = await services.app.request(url, init);
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // Plain-text answers (e.g. a 500) stay text.
  }
  return { status: response.status, body: parsed };
}

/** The whole HTTP app over a fresh database of its own. */
export async function createTestApp(
  kind: DatabaseKind = 'embedded',
  env: Record<string, string> = {},
): Promise<TestApp> {
  const database = await createTestDatabase(kind);
  const services = createServices(testConfig(env), {
    handle: database,
    kind: 'external',
    label: database.name,
  });
  return {
    ...services,
    database,
    call: (method, path, body, options) => callApp(services, method, path, body, options),
    close: () => database.drop(),
  };
}
