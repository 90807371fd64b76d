import { type ChildProcess, spawn } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';

const ROOT = path.resolve(import.meta.dirname, '..', '..');

export interface MeritProcess {
  readonly child: ChildProcess;
  output(): string;
  /** Resolves with the first match of `pattern` in the output (or rejects when the process exits first). */
  waitFor(pattern: RegExp): Promise<RegExpMatchArray>;
  exited: Promise<number | null>;
}

/** Runs `node bin/merit.js <args>` (the `npx merit` entry point) as a real child process. */
export function runMerit(
  args: string[],
  env: Record<string, string>,
  options: { stdin?: string } = {},
): MeritProcess {
  const child = spawn(process.execPath, [path.join(ROOT, 'bin', 'merit.js'), ...args], {
    cwd: ROOT,
    env: { ...process.env, MERIT_LOG_LEVEL: 'warn', ...env },
    stdio: [options.stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
  });
  if (options.stdin !== undefined) child.stdin?.end(options.stdin);
  let output = '';
  const waiters = new Set<() => void>();
  const onData = (chunk: Buffer) => {
    output += chunk.toString();
    for (const waiter of waiters) waiter();
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return {
    child,
    output: () => output,
    exited,
    waitFor(pattern) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const match = output.match(pattern);
          if (match) {
            waiters.delete(check);
            resolve(match);
          }
        };
        waiters.add(check);
        check();
        exited.then(() => {
          if (waiters.has(check)) reject(new Error(`merit exited before printing ${pattern}:\n${output}`));
        });
      });
    },
  };
}

/** Runs a merit command to completion and returns its exit code and output. */
export async function runMeritToEnd(
  args: string[],
  env: Record<string, string>,
  options: { stdin?: string } = {},
): Promise<{ code: number | null; output: string }> {
  const run = runMerit(args, env, options);
  const code = await run.exited;
  return { code, output: run.output() };
}

/** A TCP port that is free on 127.0.0.1 right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

export interface HealthAnswer {
  status: number;
  body: any;
  retryAfter: string | null;
  /** Milliseconds from the first poll to this answer. */
  waitedMs: number;
}

/**
 * Polls `GET /api/health` (each request bounded to 3 s) until it answers `status`, for at most
 * `withinMs` (a generous bound, not a timed assertion); rejects with the last answer otherwise.
 */
export async function waitForHealth(url: string, status: number, withinMs = 60_000): Promise<HealthAnswer> {
  const started = Date.now();
  let last = 'no answer yet';
  while (Date.now() - started < withinMs) {
    try {
      const response = await fetch(`${url}/api/health`, { signal: AbortSignal.timeout(3000) });
      const body = await response.json();
      if (response.status === status) {
        return {
          status,
          body,
          retryAfter: response.headers.get('retry-after'),
          waitedMs: Date.now() - started,
        };
      }
      last = `${response.status} ${JSON.stringify(body)}`;
    } catch (error) {
      last = error instanceof Error ? error.message : String(error);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`/api/health did not answer ${status} within ${withinMs} ms (last: ${last})`);
}

/** Resolves with the exit code, or with 'still running' if the process has not exited within `ms`. */
export function exitWithin(run: MeritProcess, ms: number): Promise<number | null | 'still running'> {
  return Promise.race([
    run.exited,
    new Promise<'still running'>((resolve) => setTimeout(() => resolve('still running'), ms)),
  ]);
}
