import { describe, expect, it } from 'vitest';
import {
  classifyDatabaseError,
  ServiceUnavailableError,
  toServiceUnavailableError,
} from '../../src/db/errors.js';

/** Literal errors shaped as pg, pg-pool and Node raise them (test/db/database-errors.test.ts raises real ones). */
function pgError(code: string, message: string): Error {
  return Object.assign(new Error(message), { code, severity: 'FATAL' });
}

describe('classifyDatabaseError', () => {
  it.each([
    [pgError('57P01', 'terminating connection due to administrator command'), 'unavailable'],
    [pgError('57P02', 'terminating connection because of crash of another server process'), 'unavailable'],
    [pgError('57P03', 'the database system is starting up'), 'unavailable'],
    [pgError('53300', 'sorry, too many clients already'), 'unavailable'],
    [pgError('08006', 'connection failure'), 'unavailable'],
    [pgError('55000', 'database "merit" is not currently accepting connections'), 'unavailable'],
    [
      Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }),
      'unavailable',
    ],
    [new Error('Connection terminated unexpectedly'), 'unavailable'],
    [new Error('Client has encountered a connection error and is not queryable'), 'unavailable'],
    [
      new Error('Connection terminated due to connection timeout', { cause: new Error('timeout expired') }),
      'unavailable',
    ],
    [new AggregateError([Object.assign(new Error('refused'), { code: 'ECONNREFUSED' })], ''), 'unavailable'],
    [new Error('timeout exceeded when trying to connect'), 'busy'],
    [pgError('57014', 'canceling statement due to statement timeout'), 'timeout'],
    [pgError('55P03', 'canceling statement due to lock timeout'), 'timeout'],
    [pgError('25P03', 'terminating connection due to idle-in-transaction timeout'), 'timeout'],
  ])('%s is %s', (error, kind) => {
    expect(classifyDatabaseError(error)).toBe(kind);
  });

  it.each([
    [pgError('57014', 'canceling statement due to user request')],
    [pgError('55000', 'cannot do this now')],
    [pgError('23505', 'duplicate key value violates unique constraint')],
    [pgError('40P01', 'deadlock detected')],
    [new Error('anything else')],
    ['a string'],
    [undefined],
  ])('%s is not an availability failure', (error) => {
    expect(classifyDatabaseError(error)).toBeUndefined();
  });

  it('looks through causes (an error wrapping the pool timeout)', () => {
    const wrapped = new Error('loading the baseline failed', {
      cause: new Error('timeout exceeded when trying to connect'),
    });
    expect(classifyDatabaseError(wrapped)).toBe('busy');
  });
});

describe('toServiceUnavailableError', () => {
  it('builds the 503 service_unavailable error with its Retry-After, keeping the cause', () => {
    const cause = pgError('57P01', 'terminating connection due to administrator command');
    const error = toServiceUnavailableError(cause);
    expect(error).toBeInstanceOf(ServiceUnavailableError);
    expect(error).toMatchObject({
      code: 'service_unavailable',
      kind: 'unavailable',
      retryAfterSeconds: 5,
      details: { reason: 'unavailable' },
      cause,
    });
    expect(toServiceUnavailableError(error)).toBe(error);
    expect(toServiceUnavailableError(new Error('other'))).toBeUndefined();
  });
});
