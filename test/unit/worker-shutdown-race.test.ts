import { describe, expect, it } from 'vitest';
import { isListenClientDoubleRelease } from '../../src/worker.js';

const MESSAGE = 'Release called on client which has already been released to the pool.';

function errorWithStack(frames: string[]): Error {
  const error = new Error(MESSAGE);
  error.stack = [`Error: ${MESSAGE}`, ...frames.map((frame) => `    at ${frame}`)].join('\n');
  return error;
}

describe('isListenClientDoubleRelease', () => {
  it("recognises graphile-worker's second release of its LISTEN client, and nothing else", () => {
    // The stack a clean-clone run of test/process/db-faults.test.ts ended the process with.
    const fromWorker = errorWithStack([
      'throwOnDoubleRelease (/app/node_modules/pg-pool/index.js:27:9)',
      '/app/node_modules/pg-pool/index.js:374:9',
      '<anonymous> (/app/node_modules/graphile-worker/src/main.ts:479:21)',
    ]);
    expect(isListenClientDoubleRelease(fromWorker)).toBe(true);
    // The same error from Merit's own code is a bug: it still ends the process.
    const fromMerit = errorWithStack([
      'throwOnDoubleRelease (/app/node_modules/pg-pool/index.js:27:9)',
      'withClient (/app/src/db/transaction.ts:40:5)',
    ]);
    expect(isListenClientDoubleRelease(fromMerit)).toBe(false);
    expect(isListenClientDoubleRelease(new Error('Connection terminated unexpectedly'))).toBe(false);
    expect(isListenClientDoubleRelease(MESSAGE)).toBe(false);
  });
});
