import { runLoadWithFaults } from '../fault-load.js';
import type { ScenarioDefinition } from '../scenario.js';
import { terminateBackends } from '../servers.js';

/**
 * pg_terminate_backend of every session on Merit's database (pool, worker, worker-leader client)
 * during a mixed load, several times (issue 8, item 3).
 */
export const terminateBackendsScenario: ScenarioDefinition = {
  name: 'terminate-backends',
  title: 'pg_terminate_backend of every Merit connection during load',
  async run(env) {
    const durationMs = env.options.quick ? 3000 : 12_000;
    const faultAtMs = env.options.quick ? [1000] : [3000, 6000, 9000];
    const workload = env.workload({
      agents: ['agent_a', 'agent_b', 'agent_c'],
      categories: ['research', 'coding'],
    });
    const notes: string[] = [];
    const result = await runLoadWithFaults(env, workload, {
      durationMs,
      concurrency: env.options.quick ? 16 : 32,
      faultAtMs,
      async inject(index) {
        const terminated = await terminateBackends(env.server, env.databaseName);
        const at = performance.now();
        env.log(`fault ${index + 1}: terminated ${terminated} sessions of Merit`);
        notes.push(`fault ${index + 1}: ${terminated} sessions terminated`);
        return at;
      },
    });
    return { recoveryMs: result.recoveryMs, notes };
  },
};
