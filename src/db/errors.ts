import { MeritError } from '../errors.js';

/**
 * Why a database call failed, when the failure says nothing about the request itself:
 * - unavailable: the server cannot be reached, refused the connection, or dropped it (restart,
 *   crash, pg_terminate_backend, a database that does not accept connections);
 * - busy: no pooled connection became free within the acquire timeout;
 * - timeout: PostgreSQL cancelled the statement (statement_timeout, lock_timeout) or ended an idle
 *   transaction (idle_in_transaction_session_timeout).
 * Every one is answered 503 with Retry-After: the same request may succeed a moment later.
 */
export type DatabaseErrorKind = 'unavailable' | 'busy' | 'timeout';

/** SQLSTATEs PostgreSQL sends when it will not or can no longer serve this connection. */
const UNAVAILABLE_SQLSTATES = new Set([
  '57P01', // admin_shutdown: pg_terminate_backend, or a fast shutdown
  '57P02', // crash_shutdown: another backend crashed, the server restarts
  '57P03', // cannot_connect_now: starting up, shutting down, recovering
  '53300', // too_many_connections
  '3D000', // invalid_catalog_name: the database is gone (dropped, or not restored yet)
]);

const TIMEOUT_SQLSTATES = new Set([
  '55P03', // lock_not_available: lock_timeout
  '25P03', // idle_in_transaction_session_timeout
]);

/** Node socket errors of a connection that could not be opened or was cut. */
const UNAVAILABLE_SOCKET_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  'ENOTFOUND',
]);

/** Messages of pg (client) and pg-pool errors that carry no code. */
const UNAVAILABLE_MESSAGES = [
  'Connection terminated unexpectedly',
  'Connection terminated due to connection timeout',
  'Client has encountered a connection error and is not queryable',
  'timeout expired',
];
const POOL_ACQUIRE_TIMEOUT_MESSAGE = 'timeout exceeded when trying to connect';

/** Classifies a pg / pg-pool / Kysely error; undefined when it is not about the database's availability. */
export function classifyDatabaseError(error: unknown): DatabaseErrorKind | undefined {
  for (let current = error, depth = 0; current && depth < 5; depth++) {
    // Merit's own errors say what failed (an LLM call whose cause is a refused connection is no
    // database failure); only a wrapped 503 is classified through.
    if (current instanceof MeritError && !(current instanceof ServiceUnavailableError)) return undefined;
    const kind = classifyOne(current);
    if (kind) return kind;
    current = typeof current === 'object' ? (current as { cause?: unknown }).cause : undefined;
  }
  return undefined;
}

function classifyOne(error: unknown): DatabaseErrorKind | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const { code, message } = error as { code?: unknown; message?: unknown };
  const text = typeof message === 'string' ? message : '';
  if (typeof code === 'string') {
    // Class 08 (connection exception) and 53 (insufficient resources: disk full, out of memory).
    if (UNAVAILABLE_SQLSTATES.has(code) || code.startsWith('08') || code.startsWith('53'))
      return 'unavailable';
    if (UNAVAILABLE_SOCKET_CODES.has(code)) return 'unavailable';
    if (TIMEOUT_SQLSTATES.has(code)) return 'timeout';
    // query_canceled is also pg_cancel_backend ("due to user request"), which is not a timeout.
    if (code === '57014' && text.includes('timeout')) return 'timeout';
    // object_not_in_prerequisite_state: ALLOW_CONNECTIONS false on the database.
    if (code === '55000' && text.includes('not currently accepting connections')) return 'unavailable';
  }
  if (text === POOL_ACQUIRE_TIMEOUT_MESSAGE) return 'busy';
  if (UNAVAILABLE_MESSAGES.includes(text)) return 'unavailable';
  // Node reports a refused connection to a name with several addresses as an AggregateError.
  if (error instanceof AggregateError) {
    for (const inner of error.errors) {
      const kind = classifyOne(inner);
      if (kind) return kind;
    }
  }
  return undefined;
}

/** Seconds a client should wait before it tries again, by kind. */
const RETRY_AFTER_SECONDS: Record<DatabaseErrorKind, number> = { unavailable: 5, busy: 1, timeout: 1 };

const MESSAGES: Record<DatabaseErrorKind, string> = {
  unavailable: 'The database is unavailable; try again shortly',
  busy: 'Every database connection is busy; try again shortly',
  timeout: 'The database did not answer in time (statement or lock timeout); try again shortly',
};

/** A 503 `service_unavailable` (with its Retry-After) for a database that is down, saturated or timing out. */
export class ServiceUnavailableError extends MeritError {
  readonly kind: DatabaseErrorKind;
  readonly retryAfterSeconds: number;

  constructor(kind: DatabaseErrorKind, options: { cause?: unknown; message?: string } = {}) {
    super('service_unavailable', options.message ?? MESSAGES[kind], {
      cause: options.cause,
      details: { reason: kind },
    });
    this.name = 'ServiceUnavailableError';
    this.kind = kind;
    this.retryAfterSeconds = RETRY_AFTER_SECONDS[kind];
  }
}

/** The 503 to answer for `error`, or undefined when it is not a database availability failure. */
export function toServiceUnavailableError(error: unknown): ServiceUnavailableError | undefined {
  if (error instanceof ServiceUnavailableError) return error;
  const kind = classifyDatabaseError(error);
  return kind ? new ServiceUnavailableError(kind, { cause: error }) : undefined;
}
