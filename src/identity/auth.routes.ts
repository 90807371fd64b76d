import { createRoute, z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import type { AppContext } from '../app-context.js';
import { ForbiddenError, UnauthorizedError } from '../errors.js';
import type { MeritApp } from '../http/app.js';
import type { AppEnv } from '../http/app-env.js';
import { errorSchema, jsonContent } from '../http/schemas.js';
import { CSRF_HEADER, requestedProjectSlug, SESSION_COOKIE } from './authenticate.js';
import { decoyPasswordHash, randomToken, sameHash, sha256, verifyPassword } from './credentials.js';
import {
  deleteSession,
  findAccountByEmail,
  findSession,
  insertSession,
  listMemberships,
} from './identity.queries.js';
import { checkRateLimit, RateLimitedError, recordRateLimitUsage } from './rate-limits.js';
import { DEFAULT_PROJECT_ID, DEFAULT_PROJECT_SLUG } from './scope.js';

const roleSchema = z.enum(['owner', 'admin', 'member', 'viewer']);

const sessionSchema = z
  .object({
    mode: z.enum(['local', 'required']),
    authenticated: z.boolean(),
    account: z.object({ id: z.string(), email: z.string() }).nullable(),
    project: z.object({ id: z.string(), slug: z.string(), name: z.string() }).nullable(),
    role: roleSchema.nullable(),
    projects: z.array(z.object({ id: z.string(), slug: z.string(), name: z.string(), role: roleSchema })),
    csrf_token: z
      .string()
      .nullable()
      .openapi({
        description: `Send it as the ${CSRF_HEADER} header on every signed-in write (POST, PUT, PATCH, DELETE)`,
      }),
  })
  .openapi('Session');

type SessionView = z.infer<typeof sessionSchema>;

const loginSchema = z
  .strictObject({
    email: z.string().trim().min(3).max(254),
    password: z.string().min(1).max(1024),
  })
  .openapi('Login');

const unauthorized = {
  401: { description: 'Wrong email or password', content: { 'application/json': { schema: errorSchema } } },
  429: {
    description: 'Too many wrong passwords for this email; see Retry-After',
    content: { 'application/json': { schema: errorSchema } },
  },
};

/** Wrong passwords allowed per email in LOGIN_WINDOW_SECONDS (sliding), shared by every process. */
const LOGIN_FAILURES_ALLOWED = 10;
const LOGIN_WINDOW_SECONDS = 15 * 60;

/**
 * Signing in to Mission Control: who am I (`/api/auth/session`), log in (a session cookie: httpOnly,
 * SameSite=Lax, Secure when MERIT_COOKIE_SECURE) and log out. In local mode the session answer says so,
 * and there is nothing to sign in to.
 */
export function registerAuthRoutes(app: MeritApp, ctx: AppContext): void {
  const { db } = ctx;
  const ttlMs = ctx.config.auth.sessionTtlHours * 60 * 60 * 1000;

  async function describe(c: Context<AppEnv>, token: string | undefined): Promise<SessionView> {
    const session = token ? await findSession(db, sha256(token)) : undefined;
    if (!session) {
      if (ctx.config.auth.mode === 'local') {
        return {
          mode: 'local',
          authenticated: true,
          account: null,
          project: { id: DEFAULT_PROJECT_ID, slug: DEFAULT_PROJECT_SLUG, name: 'Default' },
          role: 'owner',
          projects: [{ id: DEFAULT_PROJECT_ID, slug: DEFAULT_PROJECT_SLUG, name: 'Default', role: 'owner' }],
          csrf_token: null,
        };
      }
      return {
        mode: 'required',
        authenticated: false,
        account: null,
        project: null,
        role: null,
        projects: [],
        csrf_token: null,
      };
    }
    const memberships = await listMemberships(db, session.account_id);
    const wanted = requestedProjectSlug(c);
    const current = (wanted ? memberships.find((m) => m.slug === wanted) : undefined) ?? memberships[0];
    return {
      mode: ctx.config.auth.mode,
      authenticated: true,
      account: { id: session.account_id, email: session.email },
      project: current ? { id: current.id, slug: current.slug, name: current.name } : null,
      role: current?.role ?? null,
      projects: memberships.map((m) => ({ id: m.id, slug: m.slug, name: m.name, role: m.role })),
      csrf_token: session.csrf_token,
    };
  }

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/auth/session',
      tags: ['Identity'],
      summary: 'Who is signed in, in which project and role, and the CSRF token for writes',
      responses: { 200: jsonContent(sessionSchema, 'The session (or the lack of one)') },
    }),
    async (c) => c.json(await describe(c, getCookie(c, SESSION_COOKIE)), 200),
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/auth/login',
      tags: ['Identity'],
      summary: 'Sign in with email and password; sets the session cookie',
      request: { body: { content: { 'application/json': { schema: loginSchema } }, required: true } },
      responses: {
        200: jsonContent(sessionSchema, 'Signed in'),
        400: { description: 'Invalid input', content: { 'application/json': { schema: errorSchema } } },
        ...unauthorized,
      },
    }),
    async (c) => {
      const { email, password } = c.req.valid('json');
      // Guessing is slowed down per email: after LOGIN_FAILURES_ALLOWED wrong passwords in the window,
      // every attempt (the right password included) answers 429 until the window slides on.
      const guesses = { bucket: `login:${email.trim().toLowerCase()}`, windowSeconds: LOGIN_WINDOW_SECONDS };
      const allowed = await checkRateLimit(db, { ...guesses, limit: LOGIN_FAILURES_ALLOWED });
      if (!allowed.allowed) {
        throw new RateLimitedError('Too many wrong passwords for this account; try again later', {
          retryAfterSeconds: allowed.retryAfterSeconds,
        });
      }
      const account = await findAccountByEmail(db, email);
      // The same work and the same answer for an unknown email and a wrong password.
      const valid = await verifyPassword(password, account?.password_hash ?? (await decoyPasswordHash()));
      if (!account || !valid || account.disabled_at !== null) {
        await recordRateLimitUsage(db, { ...guesses, amount: 1 });
        throw new UnauthorizedError('Wrong email or password');
      }
      const token = randomToken(32);
      await insertSession(db, {
        tokenHash: sha256(token),
        accountId: account.id,
        csrfToken: randomToken(24),
        expiresAt: new Date(Date.now() + ttlMs),
      });
      setCookie(c, SESSION_COOKIE, token, {
        httpOnly: true,
        sameSite: 'Lax',
        secure: ctx.config.auth.cookieSecure,
        path: '/',
        maxAge: Math.floor(ttlMs / 1000),
      });
      return c.json(await describe(c, token), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/auth/logout',
      tags: ['Identity'],
      summary: `Sign out: ends the session (send ${CSRF_HEADER})`,
      responses: {
        204: { description: 'Signed out' },
        403: { description: 'Missing CSRF token', content: { 'application/json': { schema: errorSchema } } },
      },
    }),
    async (c) => {
      const token = getCookie(c, SESSION_COOKIE);
      if (token) {
        const tokenHash = sha256(token);
        const session = await findSession(db, tokenHash);
        if (session) {
          const sent = c.req.header(CSRF_HEADER);
          if (!sent || !sameHash(sha256(sent), sha256(session.csrf_token))) {
            throw new ForbiddenError(`Signing out needs the ${CSRF_HEADER} header`, 'csrf_failed');
          }
          await deleteSession(db, tokenHash);
        }
      }
      deleteCookie(c, SESSION_COOKIE, { path: '/' });
      return c.body(null, 204);
    },
  );
}
