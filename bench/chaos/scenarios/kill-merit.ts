import { runLoadWithFaults } from '../fault-load.js';
import type { ScenarioDefinition } from '../scenario.js';

/**
 * kill -9 of Merit during a mixed load, then a start on the same database: every write acknowledged
 * before the kill must be there, and the restarted Merit must serve.
 */
export const killMerit: ScenarioDefinition = {
  name: 'kill-merit',
  title: 'kill -9 of Merit during load, then restart',
  async run(env) {
    const durationMs = env.options.quick ? 3000 : 12_000;
    const workload = env.workload({
      agents: ['agent_a', 'agent_b', 'agent_c'],
      categories: ['research', 'planning'],
    });
    const notes: string[] = [];
    const result = await runLoadWithFaults(env, workload, {
      durationMs,
      concurrency: env.options.quick ? 16 : 32,
      faultAtMs: [env.options.quick ? 1000 : 4000],
      async inject(index) {
        const at = performance.now();
        await env.merit.killHard();
        env.log(`fault ${index + 1}: Merit killed with SIGKILL; starting it again on the same database`);
        const restarting = performance.now();
        await env.merit.start();
        notes.push(
          `restart ${index + 1}: Merit printed its URL ${((performance.now() - restarting) / 1000).toFixed(2)} s after start`,
        );
        return at;
      },
    });
    return { recoveryMs: result.recoveryMs, notes };
  },
};
