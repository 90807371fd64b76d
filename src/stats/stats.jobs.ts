import type { Task } from 'graphile-worker';
import { type Kysely, sql } from 'kysely';
import type { Database } from '../db/database.js';
import type { EventBus } from '../events/event-bus.js';
import { runTransactionWithEvents } from '../events/transactional-events.js';
import { DEFAULT_LEVEL } from '../ranking/ranking.js';
import { buildLeaderboard, DEFAULT_MIN_SAMPLE, toStatsInput } from './leaderboard.js';
import { findAllAgentStats, recomputeAllStats, saveOverallRanks } from './stats.queries.js';

export const RECOMPUTE_STATS_JOB = 'recompute_stats';
const RECOMPUTE_STATEMENT_TIMEOUT = '15min';

/**
 * Rebuilds statistics from raw rows and stores ranks; returns what it rebuilt. Every project's
 * statistics may have changed: that is announced to every process in the same transaction.
 */
export async function runStatsRecompute(db: Kysely<Database>, events?: EventBus) {
  return runTransactionWithEvents(db, events, async (trx, emit) => {
    // A rebuild over millions of tasks outlasts the per-statement timeout meant for requests; it still
    // gives up (lock_timeout) rather than queue behind a stuck writer.
    await sql`SET LOCAL statement_timeout = ${sql.lit(RECOMPUTE_STATEMENT_TIMEOUT)}`.execute(trx);
    const counts = await recomputeAllStats(trx);
    // Ranks are within a project: each project's leaderboard is its own.
    const projects = await trx.selectFrom('projects').select('id').execute();
    for (const { id: projectId } of projects) {
      const rows = await findAllAgentStats(trx, projectId);
      const rankings = buildLeaderboard(rows.map(toStatsInput), {
        minSample: DEFAULT_MIN_SAMPLE,
        level: DEFAULT_LEVEL,
      });
      await saveOverallRanks(
        trx,
        projectId,
        new Map(rankings.map((ranking) => [ranking.agent_id, ranking.rank])),
      );
    }
    emit({ type: 'leaderboard', projectId: null, agentIds: [] });
    return counts;
  });
}

export function createStatsJobs(db: Kysely<Database>, events?: EventBus): Record<string, Task> {
  return {
    [RECOMPUTE_STATS_JOB]: async (_payload, helpers) => {
      const counts = await runStatsRecompute(db, events);
      helpers.logger.info(
        `Recomputed statistics: ${counts.agents} agents, ${counts.categories} agent-category pairs`,
      );
    },
  };
}
