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
  | 'payload_too_large'
  | 'unauthorized'
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
