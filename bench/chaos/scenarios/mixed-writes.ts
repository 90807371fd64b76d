import { createProgress } from '../../../src/lib/progress.js';
import type { ScenarioDefinition } from '../scenario.js';
import { runBounded } from '../workload.js';

const AGENTS = ['agent_a', 'agent_b', 'agent_c'];
const CATEGORIES = ['research', 'analysis'];
const TASKS_PER_BATCH = 5;

/**
 * 1,000 valid writes at once on three agents and two categories: completions, batches of finished
 * tasks and ratings, all touching the same statistics rows (the deadlocks of issue 8, item 2).
 */
export const mixedWrites: ScenarioDefinition = {
  name: 'mixed-writes',
  title: '1,000 concurrent mixed writes on a few agents',
  connectionPerRequest: true,
  async run(env) {
    const total = env.options.quick ? 300 : 1000;
    const completes = Math.floor(total / 3);
    const ratings = Math.floor(total / 3);
    const batches = total - completes - ratings;
    const workload = env.workload({ agents: AGENTS, categories: CATEGORIES });
    env.log(`preparing ${completes} running tasks and ${ratings} completed tasks to rate`);
    const running: string[] = [];
    await runBounded(completes, 64, async () => {
      const id = await workload.createTask();
      if (id) running.push(id);
    });
    // Finished, unrated tasks to rate during the burst (the workload queues them as rateable).
    while (workload.rateable.length < ratings) {
      const before = workload.rateable.length;
      await workload.recordFinished(100);
      if (workload.rateable.length === before) throw new Error('could not record tasks to rate');
    }
    const toRate = workload.rateable.splice(0, ratings);
    const operations: (() => Promise<unknown>)[] = [
      ...running.map((id) => () => workload.completeTask(id)),
      ...toRate.map((id) => () => workload.rateTask(id)),
      ...Array.from({ length: batches }, () => () => workload.recordFinished(TASKS_PER_BATCH)),
    ];
    // Interleave the kinds so that they really race each other.
    for (let i = operations.length - 1; i > 0; i--) {
      const j = Math.floor(env.random() * (i + 1));
      [operations[i], operations[j]] = [
        operations[j] as () => Promise<unknown>,
        operations[i] as () => Promise<unknown>,
      ];
    }
    env.log(
      `sending ${operations.length} writes at once: ${running.length} completes, ${toRate.length} ratings, ${batches} batches of ${TASKS_PER_BATCH}`,
    );
    const progress = createProgress('[mixed-writes] writes', operations.length, env.options.progress);
    let done = 0;
    await Promise.all(
      operations.map(async (operation) => {
        await operation();
        progress.update(++done);
      }),
    );
    progress.finish();
    return {};
  },
};
