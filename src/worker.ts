import { EventEmitter } from 'node:events';
import {
  type CronItem,
  parseCronItems,
  type Runner,
  run,
  type TaskList,
  type WorkerEvents,
} from 'graphile-worker';
import { createAgentJobs } from './agents/agents.jobs.js';
import type { AppContext } from './app-context.js';
import { createArenaJobs } from './arena/arena.jobs.js';
import type { Config } from './config.js';
import type { DatabaseHandle } from './db/connect.js';
import { WorkerLiveness } from './db/worker-liveness.js';
import { countStalledJobs, findDeadWorkers, unlockJobsOfWorkers } from './db/worker-locks.queries.js';
import { buildEvaluationDeps, createEvaluationJobs } from './evaluation/evaluation.jobs.js';
import { EVALUATE_TASK_JOB, REVIEW_TASK_JOB } from './evaluation/evaluation.js';
import { createRateLimitJobs, DELETE_OLD_RATE_LIMIT_WINDOWS_JOB } from './identity/rate-limits.jobs.js';
import { createWorkerLogger } from './lib/log.js';
import { APPLY_RETENTION_JOB, createRetentionJobs } from './retention/retention.jobs.js';
import { createReviewJobs } from './reviews/review.jobs.js';
import { CHECK_ROLLUPS_JOB, createStatsJobs, RECOMPUTE_STATS_JOB } from './stats/stats.jobs.js';
import { createTaskJobs, FAIL_IDLE_TASKS_JOB } from './tasks/tasks.jobs.js';

/** What a scheduled job receives from graphile-worker's cron. */
interface CronPayload {
  _cron?: { ts: string; backfilled: boolean };
}

// The payload of every job Merit enqueues, for graphile-worker's typed addJob (declared once, here).
declare global {
  namespace GraphileWorker {
    interface Tasks {
      run_agent_task: { task_id: string; user_id: string; project_id?: string };
      evaluate_task: { task_id: string };
      /** reviewer_agent_id is absent in jobs queued by earlier versions (one job for all reviewers). */
      review_task: { task_id: string; reviewer_agent_id?: string };
      recompute_stats: CronPayload;
      check_rollups: CronPayload;
      fail_idle_tasks: CronPayload;
      delete_old_rate_limit_windows: CronPayload;
      apply_retention: CronPayload;
    }
  }
}

export interface WorkerHandle {
  /** The graphile-worker runner now running users' jobs (a new one replaces it after a database failure). */
  readonly runner: Runner;
  /** Every lane's runner now running, by lane. */
  readonly runners: ReadonlyMap<LaneName, Runner>;
  stop(): Promise<void>;
}

const FIRST_RESTART_DELAY_MS = 250;
/** A job ready this long that no worker takes, while the lane is idle, means its workers are gone. */
const STALLED_JOB_MS = 15_000;
const STALL_CHECK_MS = 5_000;
const MAX_RESTART_DELAY_MS = 2000;
/**
 * How often the jobs of dead worker processes are looked for. A worker is released once two checks in a
 * row found it holding jobs without its alive lock (a live process re-takes its locks within that time
 * after a lost connection), so a killed worker's jobs run again within about two periods.
 */
const DEAD_WORKER_CHECK_MS = 10_000;

/**
 * The lanes of a worker process, each a runner with workers of its own: users' work (agent runs, idle
 * tasks, housekeeping) never waits behind evaluations and reviews, whose LLM judges may be slow.
 */
export type LaneName = 'commands' | 'evaluations';
const EVALUATION_JOBS: ReadonlySet<string> = new Set([EVALUATE_TASK_JOB, REVIEW_TASK_JOB]);

/** Every background job Merit runs, by name. */
const DOUBLE_RELEASE_MESSAGE = 'Release called on client which has already been released to the pool.';

/**
 * graphile-worker 0.16 releases its LISTEN client twice when that client's connection is cut while its
 * runner is being stopped (the error handler's release and the shutdown's release both end in
 * `releaseClient()`), and the second one rejects in a promise nobody awaits. The client is back in the
 * pool already and the runner is being replaced, so nothing is lost: the process must not end for it.
 */
export function isListenClientDoubleRelease(reason: unknown): boolean {
  return (
    reason instanceof Error &&
    reason.message === DOUBLE_RELEASE_MESSAGE &&
    (reason.stack ?? '').includes('graphile-worker')
  );
}

export function buildTaskList(ctx: AppContext): TaskList {
  // Jobs that change statistics announce it in their own transaction (see runTransactionWithEvents).
  const evaluationDeps = { ...buildEvaluationDeps(ctx.config, ctx.db, ctx.log), events: ctx.events };
  return {
    ...createStatsJobs(ctx.db, ctx.events),
    ...createAgentJobs(ctx),
    ...createEvaluationJobs(evaluationDeps),
    ...createReviewJobs(evaluationDeps),
    ...createTaskJobs(ctx.tracker, ctx.config.taskTimeoutMinutes),
    ...createRateLimitJobs(ctx.db),
    ...createRetentionJobs(ctx.db, ctx.config.retentionDays),
    ...createArenaJobs(ctx),
  };
}

/** Splits the task list into lanes: evaluations and reviews on their own. */
export function splitTaskList(taskList: TaskList): Map<LaneName, TaskList> {
  const commands: TaskList = {};
  const evaluations: TaskList = {};
  for (const [name, task] of Object.entries(taskList)) {
    if (task === undefined) continue;
    if (EVALUATION_JOBS.has(name)) evaluations[name] = task;
    else commands[name] = task;
  }
  const lanes = new Map<LaneName, TaskList>([['commands', commands]]);
  if (Object.keys(evaluations).length > 0) lanes.set('evaluations', evaluations);
  return lanes;
}

export function scheduledJobs(config: Config): CronItem[] {
  // Hourly: each run deletes a bounded number of batches, so a backlog is worked off run by run.
  const retention: CronItem[] =
    config.retentionDays === undefined
      ? []
      : [
          {
            task: APPLY_RETENTION_JOB,
            match: '17 * * * *',
            identifier: APPLY_RETENTION_JOB,
            options: { backfillPeriod: 0 },
          },
        ];
  return [
    ...retention,
    // Hourly by default: the statistics' recent check reads the last days' tasks and the daily rows.
    {
      task: RECOMPUTE_STATS_JOB,
      match: config.statsCron,
      identifier: RECOMPUTE_STATS_JOB,
      options: { backfillPeriod: 0 },
    },
    // Daily by default: the checks read every task, decision and review (~105 s at 1M tasks).
    {
      task: CHECK_ROLLUPS_JOB,
      match: config.rollupCheckCron,
      identifier: CHECK_ROLLUPS_JOB,
      options: { backfillPeriod: 0 },
    },
    {
      task: FAIL_IDLE_TASKS_JOB,
      match: '* * * * *',
      identifier: FAIL_IDLE_TASKS_JOB,
      options: { backfillPeriod: 0 },
    },
    {
      task: DELETE_OLD_RATE_LIMIT_WINDOWS_JOB,
      match: '*/10 * * * *',
      identifier: DELETE_OLD_RATE_LIMIT_WINDOWS_JOB,
      options: { backfillPeriod: 0 },
    },
  ];
}

interface Lane {
  readonly name: LaneName;
  readonly current: Runner;
  stop(): Promise<void>;
}

/**
 * Runs graphile-worker in this process, on the same database, with the scheduled jobs, and keeps it
 * running through database failures and through the death of other worker processes:
 * - each lane's runner is supervised: graphile-worker 0.16 re-opens its LISTEN connection itself (with
 *   backoff) and retries a failed job fetch every poll interval, but a worker that cannot record a job's
 *   outcome exits for good ("committing seppuku") and is never replaced, and a cron tick that fails
 *   stops the whole runner. Either starts a new runner (retried with backoff until the database
 *   answers), lets the old one finish its jobs, and unlocks the dead workers' jobs so they run again;
 * - every worker of this process holds an alive lock (WorkerLiveness); jobs locked by a worker whose
 *   lock nobody holds belong to a dead process and are unlocked (force_unlock_workers), so any number
 *   of worker processes may share a database and a killed one's jobs run again within ~20 s rather
 *   than after graphile-worker's 4-hour lock timeout.
 */
export async function startWorker(
  config: Config,
  handle: DatabaseHandle,
  ctx: AppContext,
  options: { taskList?: TaskList } = {},
): Promise<WorkerHandle> {
  const logger = createWorkerLogger(ctx.log);
  const warn = (message: string) => logger.warn(message);
  const liveness = await WorkerLiveness.open(handle, warn);
  let stopping = false;
  const lanes: Lane[] = [];
  const taskLists = splitTaskList(options.taskList ?? buildTaskList(ctx));

  let suspects = new Set<string>();
  const releaseDeadWorkers = async () => {
    if (stopping || !liveness.holding()) return;
    try {
      const own = liveness.workerIds();
      const dead = (await findDeadWorkers(handle.pool, DEAD_WORKER_CHECK_MS)).filter((id) => !own.has(id));
      const confirmed = dead.filter((id) => suspects.has(id));
      suspects = new Set(dead);
      if (confirmed.length === 0 || stopping) return;
      await unlockJobsOfWorkers(handle.pool, confirmed);
      warn(
        `Released the jobs of ${confirmed.length} worker(s) of a stopped process: ${confirmed.join(', ')}`,
      );
    } catch {
      // The database is down: the next check tries again.
    }
  };
  const deadWorkerCheck = setInterval(() => void releaseDeadWorkers(), DEAD_WORKER_CHECK_MS);
  deadWorkerCheck.unref();
  // A process started after a crash finds the crashed one's workers at once (released on the next check).
  await releaseDeadWorkers();

  try {
    for (const [name, taskList] of taskLists) {
      lanes.push(
        await superviseLane({
          name,
          taskList,
          handle,
          concurrency: config.workerConcurrency,
          cron: name === 'commands' && options.taskList === undefined ? scheduledJobs(config) : [],
          logger,
          liveness,
          ctx,
          isStopping: () => stopping,
        }),
      );
    }
  } catch (error) {
    stopping = true;
    clearInterval(deadWorkerCheck);
    await Promise.allSettled(lanes.map((lane) => lane.stop()));
    await liveness.release();
    throw error;
  }
  return {
    get runner() {
      return (lanes[0] as Lane).current;
    },
    get runners() {
      return new Map(lanes.map((lane) => [lane.name, lane.current]));
    },
    async stop() {
      stopping = true;
      clearInterval(deadWorkerCheck);
      await Promise.allSettled(lanes.map((lane) => lane.stop()));
      await liveness.release();
    },
  };
}

interface LaneOptions {
  readonly name: LaneName;
  readonly taskList: TaskList;
  readonly handle: DatabaseHandle;
  readonly concurrency: number;
  readonly cron: CronItem[];
  readonly logger: ReturnType<typeof createWorkerLogger>;
  readonly liveness: WorkerLiveness;
  readonly ctx: AppContext;
  isStopping(): boolean;
}

/** Starts one lane's runner and replaces it whenever it (or one of its workers) stops. */
async function superviseLane(options: LaneOptions): Promise<Lane> {
  const { handle, logger, liveness, ctx } = options;
  const warn = (message: string) => logger.warn(`[${options.name}] ${message}`);
  const runners = new Set<Runner>();
  const deadWorkerIds = new Set<string>();
  const stopping = () => stopped || options.isStopping();
  let stopped = false;
  let replacing: Promise<void> | undefined;
  let current: Runner;
  let currentStartedAt = Date.now();

  const activity = new Map<Runner, { inFlight: number; lastJobStartedAt: number }>();
  const startRunner = async (): Promise<Runner> => {
    // Listeners attached before run(): its workers are created (and may take jobs) before it resolves.
    const events: WorkerEvents = new EventEmitter();
    const seen = { inFlight: 0, lastJobStartedAt: 0 };
    events.on('worker:create', ({ worker }) => void liveness.markAlive(worker.workerId));
    events.on('worker:stop', ({ worker }) => void liveness.markGone(worker.workerId));
    events.on('job:start', () => {
      seen.inFlight++;
      seen.lastJobStartedAt = Date.now();
    });
    events.on('job:complete', () => {
      seen.inFlight = Math.max(0, seen.inFlight - 1);
    });
    const runner = await run({
      pgPool: handle.pool,
      taskList: options.taskList,
      concurrency: options.concurrency,
      noHandleSignals: true,
      pollInterval: 1000,
      logger,
      events,
      parsedCronItems: parseCronItems(options.cron),
    });
    runners.add(runner);
    activity.set(runner, seen);
    currentStartedAt = Date.now();
    runner.events.on('job:failed', ({ job, error }) => {
      // A job with attempts left is retried (graphile-worker logs that); the last failure is final.
      if (job.attempts < job.max_attempts) return;
      const payload = job.payload as { task_id?: unknown } | null;
      ctx.log.error(
        {
          err: error,
          job_id: job.id,
          job: job.task_identifier,
          attempts: job.attempts,
          ...(typeof payload?.task_id === 'string' ? { task_id: payload.task_id } : {}),
        },
        'job failed for good',
      );
    });
    runner.events.on('worker:fatalError', ({ worker, error }) => {
      deadWorkerIds.add(worker.workerId);
      if (runner === current) replaceRunner(`worker ${worker.workerId} stopped (${describe(error)})`);
    });
    runner.promise.then(
      () => {
        runners.delete(runner);
        activity.delete(runner);
        if (runner === current) replaceRunner('the job runner stopped');
      },
      (error: unknown) => {
        runners.delete(runner);
        activity.delete(runner);
        if (runner === current) replaceRunner(`the job runner stopped (${describe(error)})`);
      },
    );
    return runner;
  };

  const replaceRunner = (reason: string) => {
    if (stopping() || replacing) return;
    warn(`${reason}: starting a new job runner`);
    const old = current;
    replacing = (async () => {
      for (let attempt = 0; !stopping(); attempt++) {
        try {
          current = await startRunner();
          break;
        } catch (error) {
          const delay = Math.min(FIRST_RESTART_DELAY_MS * 2 ** attempt, MAX_RESTART_DELAY_MS);
          warn(`Starting a job runner failed (${describe(error)}); trying again in ${delay} ms`);
          await sleep(delay);
        }
      }
      // The old runner lets its remaining workers finish their jobs, then ends.
      if (runners.has(old)) void old.stop().catch(() => {});
      await unlockDeadWorkersJobs();
    })().finally(() => {
      replacing = undefined;
    });
  };

  const unlockDeadWorkersJobs = async () => {
    for (let attempt = 0; deadWorkerIds.size > 0 && !stopping(); attempt++) {
      const ids = [...deadWorkerIds];
      try {
        await unlockJobsOfWorkers(handle.pool, ids);
        for (const id of ids) {
          deadWorkerIds.delete(id);
          await liveness.markGone(id);
        }
      } catch {
        await sleep(Math.min(FIRST_RESTART_DELAY_MS * 2 ** attempt, MAX_RESTART_DELAY_MS));
      }
    }
  };

  // The last line of defence, whatever the cause (a worker that died while its runner was being
  // replaced, a pool left without workers): jobs of this lane that wait while its workers sit idle.
  const checkForStalledJobs = async () => {
    const now = Date.now();
    if (stopping() || replacing || now - currentStartedAt < STALLED_JOB_MS) return;
    const seen = activity.get(current);
    if (seen && (seen.inFlight > 0 || now - seen.lastJobStartedAt < STALLED_JOB_MS)) return;
    try {
      const stalled = await countStalledJobs(handle.pool, STALLED_JOB_MS, Object.keys(options.taskList));
      if (stalled > 0 && !stopping() && !replacing) {
        replaceRunner(`${stalled} jobs waited over ${STALLED_JOB_MS / 1000} s with no worker taking them`);
      }
    } catch {
      // The database is down: the runner's own failures start a new one when it is back.
    }
  };
  const stallCheck = setInterval(() => void checkForStalledJobs(), STALL_CHECK_MS);
  stallCheck.unref();

  try {
    current = await startRunner();
  } catch (error) {
    clearInterval(stallCheck);
    throw error;
  }
  return {
    name: options.name,
    get current() {
      return current;
    },
    async stop() {
      stopped = true;
      clearInterval(stallCheck);
      await replacing;
      await Promise.allSettled([...runners].map((runner) => runner.stop()));
      if (deadWorkerIds.size > 0) await unlockJobsOfWorkers(handle.pool, [...deadWorkerIds]).catch(() => {});
    },
  };
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
