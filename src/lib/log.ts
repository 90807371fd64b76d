import { Logger as WorkerLogger } from 'graphile-worker';
import { pino } from 'pino';

/**
 * Merit's structured log: one JSON line per event on stdout (pino), with the ids that tie it to a
 * task, job or request (`task_id`, `job_id`, `job`, `request_id`). The CLI's banners stay plain text.
 */
export type Log = pino.Logger;

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';

export function createLog(level: LogLevel, destination?: pino.DestinationStream): Log {
  const options: pino.LoggerOptions = {
    level,
    base: { service: 'merit' },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
  };
  return destination ? pino(options, destination) : pino(options);
}

const WORKER_LEVELS: Record<string, 'debug' | 'info' | 'warn' | 'error'> = {
  debug: 'debug',
  info: 'info',
  warning: 'warn',
  error: 'error',
};

/** graphile-worker's own log lines, as Merit's structured events with the worker and job ids. */
export function createWorkerLogger(log: Log): WorkerLogger {
  return new WorkerLogger((scope) => {
    const child = log.child({
      component: 'worker',
      ...(scope.workerId ? { worker_id: scope.workerId } : {}),
      ...(scope.taskIdentifier ? { job: scope.taskIdentifier } : {}),
      ...(scope.jobId ? { job_id: scope.jobId } : {}),
    });
    return (level, message, meta) => {
      const mapped = WORKER_LEVELS[level] ?? 'info';
      const error = meta?.error;
      if (error !== undefined) child[mapped]({ err: error }, message);
      else child[mapped](message);
    };
  });
}

/** graphile-worker's log lines discarded (its own migrations, tests that run jobs by hand). */
export function silentWorkerLogger(): WorkerLogger {
  return new WorkerLogger(() => () => {});
}
