/** Domain errors. Each has a literal `code`; `src/http/app.ts` maps them to HTTP statuses in one place. */

export type ErrorCode =
  | 'validation_failed'
  | 'not_found'
  | 'task_not_found'
  | 'agent_not_found'
  | 'category_not_found'
  | 'task_not_completed'
  | 'task_already_finished'
  | 'conflict'
  | 'unknown_agent_mention'
  | 'agent_external'
  | 'payload_too_large'
  | 'unauthorized'
  | 'forbidden'
  | 'csrf_failed'
  | 'rate_limited'
  | 'llm_unavailable'
  | 'llm_bad_response'
  | 'service_unavailable';

export class MeritError extends Error {
  readonly code: ErrorCode;
  readonly details: Record<string, unknown> | undefined;

  constructor(
    code: ErrorCode,
    message: string,
    options?: { cause?: unknown; details?: Record<string, unknown> },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'MeritError';
    this.code = code;
    this.details = options?.details;
  }
}

export class NotFoundError extends MeritError {
  constructor(
    code: 'not_found' | 'task_not_found' | 'agent_not_found' | 'category_not_found',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(code, message, options);
    this.name = 'NotFoundError';
  }
}

export class ValidationError extends MeritError {
  readonly field: string;

  constructor(field: string, message: string, options?: { cause?: unknown }) {
    super('validation_failed', `${field}: ${message}`, { ...options, details: { field } });
    this.name = 'ValidationError';
    this.field = field;
  }
}

export class ConflictError extends MeritError {
  constructor(
    code: 'conflict' | 'task_not_completed' | 'task_already_finished',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(code, message, options);
    this.name = 'ConflictError';
  }
}

/** An LLM provider failed (network, HTTP status, timeout) or answered something unusable. */
export class LlmError extends MeritError {
  readonly retryable: boolean;

  constructor(
    code: 'llm_unavailable' | 'llm_bad_response',
    message: string,
    options: { cause?: unknown; retryable: boolean },
  ) {
    super(code, message, { cause: options.cause });
    this.name = 'LlmError';
    this.retryable = options.retryable;
  }
}

/** No valid session or API key (required mode), or a bad login. */
export class UnauthorizedError extends MeritError {
  constructor(message = 'Sign in, or send an API key as `Authorization: Bearer <key>`') {
    super('unauthorized', message);
    this.name = 'UnauthorizedError';
  }
}

/** Authenticated, but the role or key scope does not allow this; or a cookie write without its CSRF token. */
export class ForbiddenError extends MeritError {
  constructor(message: string, code: 'forbidden' | 'csrf_failed' = 'forbidden') {
    super(code, message);
    this.name = 'ForbiddenError';
  }
}
