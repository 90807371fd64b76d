/**
 * The status page's figures as pure functions of what was measured: the worker from its lock and the job
 * queue, each configured model from the last outcome of its calls.
 */
import type { LlmSettings } from '../config.js';
import type { LlmModelHealth } from './llm-health.js';
import type { QueueRow } from './status.queries.js';

/** A job ready this long that no worker has taken means the workers are stuck (as src/worker.ts judges). */
export const STALLED_JOB_MS = 15_000;

export const OFFLINE_MESSAGE = 'offline: deterministic evaluators, simulated team';

export interface QueueView {
  task_identifier: string;
  ready: number;
  scheduled: number;
  running: number;
  failed: number;
  oldest_ready_age_ms: number | null;
}

export interface WorkerView {
  alive: boolean;
  live_workers: number;
  runs_in_this_process: boolean;
  running_jobs: number;
  ready_jobs: number;
  oldest_ready_age_ms: number | null;
  /** Jobs are ready and have waited past STALLED_JOB_MS: no worker is taking them. */
  stalled: boolean;
  last_activity_at: string | null;
  queue: QueueView[];
}

/** The worker's state from its alive locks and the queue (ages measured against `now`). */
export function describeWorker(
  input: { liveWorkers: number; runsInThisProcess: boolean; queue: readonly QueueRow[] },
  now: Date,
): WorkerView {
  const ageOf = (at: Date | null) => (at === null ? null : Math.max(0, now.getTime() - at.getTime()));
  const queue = input.queue.map((row) => ({
    task_identifier: row.task_identifier,
    ready: row.ready,
    scheduled: row.scheduled,
    running: row.running,
    failed: row.failed,
    oldest_ready_age_ms: ageOf(row.oldest_ready_run_at),
  }));
  const ages = queue.map((row) => row.oldest_ready_age_ms).filter((age): age is number => age !== null);
  const oldest = ages.length > 0 ? Math.max(...ages) : null;
  const activity = input.queue
    .map((row) => row.last_activity_at)
    .filter((at): at is Date => at !== null)
    .reduce<Date | null>((latest, at) => (latest === null || at > latest ? at : latest), null);
  return {
    alive: input.liveWorkers > 0,
    live_workers: input.liveWorkers,
    runs_in_this_process: input.runsInThisProcess,
    running_jobs: queue.reduce((sum, row) => sum + row.running, 0),
    ready_jobs: queue.reduce((sum, row) => sum + row.ready, 0),
    oldest_ready_age_ms: oldest,
    stalled: oldest !== null && oldest > STALLED_JOB_MS,
    last_activity_at: activity?.toISOString() ?? null,
    queue,
  };
}

export interface ModelView {
  model: string;
  /** What the model is configured for: `default`, `judge`, `agent <nickname>`; empty when only seen in calls. */
  roles: string[];
  /** Null until this process has made a call to it. */
  reachable: boolean | null;
  calls: number;
  failures: number;
  last_success_at: string | null;
  last_failure_at: string | null;
  last_error: string | null;
  last_error_status: number | null;
}

/** Every configured model (and any other model called), each with the last outcome of its calls. */
export function describeModels(llm: LlmSettings, health: readonly LlmModelHealth[]): ModelView[] {
  const roles = new Map<string, string[]>();
  const addRole = (model: string, role: string) => roles.set(model, [...(roles.get(model) ?? []), role]);
  addRole(llm.model, 'default');
  addRole(llm.judgeModel, 'judge');
  for (const [nickname, model] of Object.entries(llm.agentModels).sort(([a], [b]) => a.localeCompare(b)))
    addRole(model, `agent ${nickname}`);
  for (const seen of health) if (!roles.has(seen.model)) roles.set(seen.model, []);
  const healthOf = new Map(health.map((entry) => [entry.model, entry]));
  return [...roles.entries()].map(([model, modelRoles]) => {
    const seen = healthOf.get(model);
    return {
      model,
      roles: modelRoles,
      reachable: seen === undefined ? null : seen.lastOutcome === 'ok',
      calls: seen?.calls ?? 0,
      failures: seen?.failures ?? 0,
      last_success_at: seen?.lastSuccessAt?.toISOString() ?? null,
      last_failure_at: seen?.lastFailureAt?.toISOString() ?? null,
      last_error: seen?.lastError ?? null,
      last_error_status: seen?.lastErrorStatus ?? null,
    };
  });
}
