import { createProgress } from '../../../src/lib/progress.js';
import type { ScenarioDefinition } from '../scenario.js';
import { CHAOS_USER_ID, isSuccess, runBounded } from '../workload.js';

const AGENTS = ['agent_a', 'agent_b', 'agent_c', 'agent_d'];

/**
 * 500 completions at once in categories nobody has used (no efficiency baseline cached), plus 50
 * concurrent completions of one task: the pool-starvation hang of issue 8, item 1.
 */
export const coldCompletes: ScenarioDefinition = {
  name: 'cold-completes',
  title: '500 concurrent completes over cold caches',
  connectionPerRequest: true,
  async run(env) {
    const taskCount = env.options.quick ? 200 : 500;
    const sameTaskCompletes = 50;
    const categoryCount = env.options.quick ? 5 : 10;
    const { client } = env;
    const categories: string[] = [];
    for (let i = 0; i < categoryCount; i++) {
      const category = `chaos_cold_${env.options.seed}_${i}`;
      const { outcome } = await client.sendJson({
        method: 'POST',
        path: `/api/categories?user_id=${CHAOS_USER_ID}`,
        body: {
          category,
          description: `A category first used by the fault campaign (${i})`,
          evaluation_criteria: ['does the task'],
          typical_tokens: 2000 + i * 100,
          typical_duration_ms: 20_000 + i * 1000,
        },
      });
      if (isSuccess(outcome)) {
        env.ledger.categories.add(category);
        categories.push(category);
      }
    }
    if (categories.length === 0) throw new Error('no category could be created');
    const workload = env.workload({ agents: AGENTS, categories });
    const ids: string[] = [];
    env.log(`creating ${taskCount + 1} running tasks in ${categories.length} new categories`);
    await runBounded(taskCount + 1, 64, async () => {
      const id = await workload.createTask();
      if (id) ids.push(id);
    });
    const [shared, ...rest] = ids;
    if (!shared) throw new Error('no task could be created');
    const total = rest.length + sameTaskCompletes;
    const progress = createProgress(`[cold-completes] completes`, total, env.options.progress);
    let done = 0;
    const track = async (promise: Promise<unknown>) => {
      await promise;
      progress.update(++done);
    };
    env.log(`completing ${rest.length} tasks and one task ${sameTaskCompletes} times, all at once`);
    await Promise.all([
      ...rest.map((id) => track(workload.completeTask(id))),
      ...Array.from({ length: sameTaskCompletes }, () => track(workload.completeTask(shared))),
    ]);
    progress.finish();
    return {};
  },
};
