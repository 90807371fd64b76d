import { runLoadWithFaults } from '../fault-load.js';
import type { ScenarioDefinition } from '../scenario.js';

/**
 * A restart of Merit's PostgreSQL server (an embedded server the campaign owns) during a mixed load:
 * Merit must answer while the database is away and recover by itself once it is back.
 */
export const postgresRestart: ScenarioDefinition = {
  name: 'postgres-restart',
  title: 'PostgreSQL restart during load',
  ownsServer: true,
  async run(env) {
    const restart = env.server.restart;
    if (!restart) throw new Error('this scenario needs a database server it can restart');
    const durationMs = env.options.quick ? 3000 : 12_000;
    const downMs = env.options.quick ? 500 : 2000;
    const workload = env.workload({
      agents: ['agent_a', 'agent_b', 'agent_c'],
      categories: ['research', 'writing'],
    });
    const notes: string[] = [];
    const result = await runLoadWithFaults(env, workload, {
      durationMs,
      concurrency: env.options.quick ? 16 : 32,
      faultAtMs: [env.options.quick ? 1000 : 4000],
      async inject(index) {
        env.log(`fault ${index + 1}: stopping PostgreSQL for ${downMs} ms`);
        const { downAt, upAt } = await restart(downMs);
        env.log(`fault ${index + 1}: PostgreSQL is back after ${((upAt - downAt) / 1000).toFixed(1)} s`);
        notes.push(
          `PostgreSQL down for ${((upAt - downAt) / 1000).toFixed(1)} s; recovery counted from its return`,
        );
        return upAt;
      },
    });
    return { recoveryMs: result.recoveryMs, notes };
  },
};
