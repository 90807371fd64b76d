import { OpenAPIHono } from '@hono/zod-openapi';
import { bodyLimit } from 'hono/body-limit';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { ZodError } from 'zod';
import { registerAgentRoutes } from '../agents/agents.routes.js';
import type { AppContext } from '../app-context.js';
import { registerArenaRoutes } from '../arena/arena.routes.js';
import { registerCategoryRoutes } from '../categories/categories.routes.js';
import { registerCommandRoutes } from '../commands/commands.routes.js';
import { ServiceUnavailableError, toServiceUnavailableError } from '../db/errors.js';
import { isRetryableTransactionError } from '../db/transaction.js';
import { type ErrorCode, MeritError, ValidationError } from '../errors.js';
import { registerCalibrationRoutes } from '../evaluation/calibration.routes.js';
import { registerEvaluationRoutes } from '../evaluation/evaluation.routes.js';
import { registerExportRoutes } from '../export/export.routes.js';
import { registerFeedbackRoutes } from '../feedback/feedback.routes.js';
import { registerAuditRoutes } from '../identity/audit.routes.js';
import { registerAuthRoutes } from '../identity/auth.routes.js';
import { authenticate } from '../identity/authenticate.js';
import { registerKeyRoutes } from '../identity/keys.routes.js';
import { registerMemberRoutes } from '../identity/members.routes.js';
import type { RouteRule } from '../identity/permissions.js';
import { registerProjectRoutes } from '../identity/project.routes.js';
import { RateLimitedError } from '../identity/rate-limits.js';
import { registerOtelRoutes, registerOtlpErrorAnswers } from '../otel/otel.routes.js';
import { registerPriceRoutes } from '../prices/prices.routes.js';
import { registerRoutingRoutes } from '../routing/routing.routes.js';
import { registerStatusRoutes } from '../status/status.routes.js';
import { registerTaskRoutes } from '../tasks/tasks.routes.js';
import type { AppEnv } from './app-env.js';
import { corsForKeyRoutes } from './cors.js';
import { registerDocsRoutes } from './docs.routes.js';
import { registerHealthRoutes } from './health.routes.js';
import { hostGuard } from './host-guard.js';
import { registerWidgetRoutes } from './widget.routes.js';

const STATUS_BY_CODE: Record<ErrorCode, ContentfulStatusCode> = {
  validation_failed: 400,
  unknown_agent_mention: 400,
  agent_external: 409,
  not_found: 404,
  task_not_found: 404,
  agent_not_found: 404,
  category_not_found: 404,
  task_not_completed: 409,
  task_already_finished: 409,
  conflict: 409,
  payload_too_large: 413,
  unauthorized: 401,
  forbidden: 403,
  csrf_failed: 403,
  rate_limited: 429,
  llm_unavailable: 503,
  llm_bad_response: 502,
  service_unavailable: 503,
};

/** The OpenAPI app type every feature registers its routes on. */
export type MeritApp = OpenAPIHono<AppEnv>;

export function createRouter(): MeritApp {
  return new OpenAPIHono<AppEnv>({
    defaultHook: (result) => {
      if (!result.success) throw toValidationError(result.error);
      // PostgreSQL cannot store U+0000 in text or jsonb: refuse it in every route's params, query and body.
      const field = findNulCharacter(result.data, []);
      if (field !== undefined) throw new ValidationError(field, NUL_RULE);
    },
  });
}

/** Builds the whole HTTP app from its parts; the one place where errors become HTTP statuses. */
export function createApp(
  ctx: AppContext,
  options: {
    registerExtra?: (app: MeritApp) => void;
    /** The permission rules of the extra routes (every route needs one; see src/identity/permissions.ts). */
    extraRouteRules?: Readonly<Record<string, RouteRule>>;
  } = {},
): MeritApp {
  const app = createRouter();
  // First of all: a DNS-rebinding page must not reach any route, the web app included.
  app.use('*', hostGuard(ctx.config.host, ctx.config.allowedHosts));
  // Before authentication: a preflight carries no key (see src/http/cors.ts for why that is safe).
  app.use('*', corsForKeyRoutes(options.extraRouteRules));
  // OTLP routes answer errors as google.rpc.Status: this wraps the body limit and authentication below.
  registerOtlpErrorAnswers(app);
  app.use(
    '/api/*',
    bodyLimit({
      maxSize: ctx.config.maxBodyBytes,
      onError: () => {
        throw new MeritError(
          'payload_too_large',
          `Request body is larger than ${ctx.config.maxBodyBytes} bytes`,
        );
      },
    }),
  );
  registerHealthRoutes(app, ctx);
  registerDocsRoutes(app);
  registerWidgetRoutes(app);
  app.use('/api/*', authenticate(ctx, options.extraRouteRules));
  registerTaskRoutes(app, ctx);
  registerFeedbackRoutes(app, ctx);
  registerAgentRoutes(app, ctx);
  registerEvaluationRoutes(app, ctx);
  registerCategoryRoutes(app, ctx);
  registerRoutingRoutes(app, ctx);
  registerCommandRoutes(app, ctx);
  registerCalibrationRoutes(app, ctx);
  registerAuthRoutes(app, ctx);
  registerKeyRoutes(app, ctx);
  registerMemberRoutes(app, ctx);
  registerAuditRoutes(app, ctx);
  registerProjectRoutes(app, ctx);
  registerArenaRoutes(app, ctx);
  registerStatusRoutes(app, ctx);
  registerExportRoutes(app, ctx);
  registerPriceRoutes(app, ctx);
  registerOtelRoutes(app, ctx);
  options.registerExtra?.(app);

  app.notFound((c) =>
    c.json({ error: { code: 'not_found', message: `No route for ${c.req.method} ${c.req.path}` } }, 404),
  );
  app.onError((error, c) => {
    const unavailable = toServiceUnavailableError(error) ?? conflictAfterRetries(error);
    if (unavailable) {
      ctx.log.warn(
        { err: error, method: c.req.method, path: c.req.path, reason: unavailable.kind },
        'request answered 503',
      );
      c.header('Retry-After', String(unavailable.retryAfterSeconds));
      return c.json(
        { error: { code: unavailable.code, message: unavailable.message, reason: unavailable.kind } },
        503,
      );
    }
    if (error instanceof MeritError) {
      if (error instanceof RateLimitedError) c.header('Retry-After', String(error.retryAfterSeconds));
      const field =
        error instanceof ValidationError
          ? error.field
          : typeof error.details?.field === 'string'
            ? error.details.field
            : undefined;
      return c.json(
        { error: { code: error.code, message: error.message, ...(field ? { field } : {}) } },
        STATUS_BY_CODE[error.code],
      );
    }
    if (error instanceof HTTPException && error.status < 500) {
      // Hono's own 4xx, e.g. a body that is not valid JSON.
      const code = error.message.toLowerCase().includes('json') ? 'invalid_json' : 'bad_request';
      return c.json({ error: { code, message: error.message } }, error.status as ContentfulStatusCode);
    }
    // 22021 and 22P05: a NUL character that slipped past validation (text and jsonb cannot hold one).
    if (['23503', '23514', '22P02', '22021', '22P05'].some((code) => isPgError(error, code))) {
      return c.json(
        {
          error: {
            code: 'validation_failed',
            message: 'The request refers to something that does not exist or breaks a rule',
          },
        },
        400,
      );
    }
    ctx.log.error({ err: error, method: c.req.method, path: c.req.path }, 'request failed');
    // Every answer has the error shape, and none leaks internals.
    return c.json({ error: { code: 'internal_error', message: 'Internal server error' } }, 500);
  });
  return app;
}

const NUL_RULE = 'must not contain NUL (U+0000) characters';

/** The dotted path of the first string or object key holding U+0000 in validated input, if any. */
function findNulCharacter(value: unknown, path: readonly (string | number)[]): string | undefined {
  if (typeof value === 'string') return value.includes('\u0000') ? describeFieldPath(path) : undefined;
  if (Array.isArray(value)) {
    for (const [index, item] of value.entries()) {
      const found = findNulCharacter(item, [...path, index]);
      if (found !== undefined) return found;
    }
    return undefined;
  }
  if (typeof value === 'object' && value !== null) {
    for (const [key, item] of Object.entries(value)) {
      if (key.includes('\u0000')) return describeFieldPath([...path, key]);
      const found = findNulCharacter(item, [...path, key]);
      if (found !== undefined) return found;
    }
  }
  return undefined;
}

function describeFieldPath(path: readonly (string | number)[]): string {
  // The field name itself may hold the NUL: show it escaped.
  return path.length === 0 ? 'body' : path.join('.').replaceAll('\u0000', '\\u0000');
}

/** A transaction still a deadlock victim after its bounded retries: the client may send it again. */
function conflictAfterRetries(error: unknown): ServiceUnavailableError | undefined {
  if (!isRetryableTransactionError(error)) return undefined;
  return new ServiceUnavailableError('busy', {
    cause: error,
    message: 'The write conflicted with concurrent writes; send it again',
  });
}

function toValidationError(error: ZodError): ValidationError {
  const issue = error.issues[0];
  const field = issue && issue.path.length > 0 ? issue.path.join('.') : 'body';
  return new ValidationError(field, issue?.message ?? 'is invalid', { cause: error });
}

function isPgError(error: unknown, code: string): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === code;
}
