import { createProgress } from '../../src/lib/progress.js';
import { waitForHealth } from './checks.js';
import type { ScenarioEnv } from './scenario.js';
import { runSteadyLoad, type Workload } from './workload.js';

export interface FaultPlan {
  /** How long the load runs at least (it also runs until every fault's recovery was measured). */
  durationMs: number;
  concurrency: number;
  /** When each fault strikes, in milliseconds from the start of the load. */
  faultAtMs: readonly number[];
  /**
   * Strikes fault `index`; resolves with the instant (performance.now()) from which recovery counts,
   * e.g. the moment the database is back.
   */
  inject(index: number): Promise<number>;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));

/**
 * A steady mixed load with faults struck during it; recovery is the first 2xx on /api/health after
 * each fault (the slowest one is returned; null when one did not recover within the bounded wait).
 */
export async function runLoadWithFaults(
  env: ScenarioEnv,
  workload: Workload,
  plan: FaultPlan,
): Promise<{ recoveryMs: number | null }> {
  const started = performance.now();
  let faultsDone = false;
  const stop = () => faultsDone && performance.now() - started >= plan.durationMs;
  const seconds = Math.ceil(plan.durationMs / 1000);
  const progress = createProgress(`[${env.name}] load`, seconds, env.options.progress);
  const ticker = setInterval(() => {
    const elapsed = Math.min(seconds, Math.floor((performance.now() - started) / 1000));
    progress.update(elapsed, env.client.tally.describe());
  }, 500);
  const load = runSteadyLoad(plan.concurrency, stop, () => workload.mixedOperation());
  const recoveries: (number | undefined)[] = [];
  try {
    for (const [index, at] of plan.faultAtMs.entries()) {
      await sleep(started + at - performance.now());
      const from = await plan.inject(index);
      const recovery = await waitForHealth(env.client, from, env.options.recoveryBoundMs);
      recoveries.push(recovery);
      env.log(
        `fault ${index + 1}: ${recovery === undefined ? `no 2xx on /api/health within ${env.options.recoveryBoundMs / 1000} s` : `recovered in ${(recovery / 1000).toFixed(2)} s`}`,
      );
    }
  } finally {
    faultsDone = true;
    await load;
    clearInterval(ticker);
    progress.finish(env.client.tally.describe());
  }
  if (recoveries.some((recovery) => recovery === undefined)) return { recoveryMs: null };
  return { recoveryMs: Math.max(...(recoveries as number[])) };
}
