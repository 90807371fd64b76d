import type { Task } from 'graphile-worker';
import { type Kysely, sql } from 'kysely';
import type { Database } from '../db/database.js';
import type { EventBus } from '../events/event-bus.js';
import { runTransactionWithEvents } from '../events/transactional-events.js';
import { DEFAULT_LEVEL } from '../ranking/ranking.js';
import { buildLeaderboard, DEFAULT_MIN_SAMPLE, toStatsInput } from './leaderboard.js';
import { findRollupDrift, type RollupRepair, rebuildRollup, TRIGGER_ROLLUPS } from './rollup-upkeep.js';
import { findAllAgentStats, recomputeAllStats, saveOverallRanks } from './stats.queries.js';

export const RECOMPUTE_STATS_JOB = 'recompute_stats';
const RECOMPUTE_STATEMENT_TIMEOUT = '15min';

/** A trigger-kept rollup's check and, when it drifted, rebuild: what it changed and how long both took. */
export interface RollupRebuild extends RollupRepair {
  /** Keys (and copied values) the check found wrong: 0 means no rebuild ran. */
  drifted: number;
  ms: number;
}

/**
 * Rebuilds statistics from raw rows and stores ranks, then each trigger-kept rollup from its raw rows;
 * returns what it rebuilt. Every project's statistics may have changed: that is announced to every
 * process in the statistics transaction.
 */
export async function runStatsRecompute(db: Kysely<Database>, events?: EventBus) {
  const counts = await recomputeStatistics(db, events);
  const rollups = await rebuildTriggerRollups(db, events);
  return { ...counts, rollups };
}

async function recomputeStatistics(db: Kysely<Database>, events?: EventBus) {
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

/**
 * Each trigger-kept rollup checked against its raw rows, and rebuilt only when it drifted: the check is
 * one read (a snapshot, no lock), while a rebuild locks the rollup and its raw table against writers (at
 * 1M routed tasks, routing quality's rebuild holds routing_decisions ~20 s), which an hourly job must not
 * do when nothing is wrong. A rebuild runs in its own short transaction after the statistics
 * transaction, so the writers of one rollup wait only for its rebuild; one that changed rows announces
 * it as the statistics' does.
 */
async function rebuildTriggerRollups(db: Kysely<Database>, events?: EventBus): Promise<RollupRebuild[]> {
  const rebuilt: RollupRebuild[] = [];
  for (const rollup of TRIGGER_ROLLUPS) {
    const started = performance.now();
    const drift = await db.transaction().execute(async (trx) => {
      await sql`SET LOCAL statement_timeout = ${sql.lit(RECOMPUTE_STATEMENT_TIMEOUT)}`.execute(trx);
      return findRollupDrift(trx, rollup);
    });
    if (drift.length === 0) {
      rebuilt.push({
        rollup,
        drifted: 0,
        rowsChanged: 0,
        rawRowsFixed: 0,
        ms: Math.round(performance.now() - started),
      });
      continue;
    }
    const repair = await runTransactionWithEvents(db, events, async (trx, emit) => {
      await sql`SET LOCAL statement_timeout = ${sql.lit(RECOMPUTE_STATEMENT_TIMEOUT)}`.execute(trx);
      const repaired = await rebuildRollup(trx, rollup);
      if (repaired.rowsChanged > 0) emit({ type: 'leaderboard', projectId: null, agentIds: [] });
      return repaired;
    });
    rebuilt.push({ ...repair, drifted: drift.length, ms: Math.round(performance.now() - started) });
  }
  return rebuilt;
}

/** The recompute job's log line: the statistics rebuilt and, per rollup, what its rebuild repaired. */
export function describeStatsRecompute(result: {
  agents: number;
  categories: number;
  rollups: readonly RollupRebuild[];
}): string {
  const rollups = result.rollups.map((rebuild) => {
    const raw =
      rebuild.rawRowsFixed > 0
        ? `, ${rebuild.rawRowsFixed} ${RAW_COPIES[rebuild.rollup] ?? 'copied values'} set again`
        : '';
    if (rebuild.drifted === 0) return `${rebuild.rollup} consistent (${rebuild.ms} ms)`;
    return `${rebuild.rollup} ${rebuild.drifted} drifted, ${rebuild.rowsChanged} rows changed${raw} (${rebuild.ms} ms)`;
  });
  return `Recomputed statistics: ${result.agents} agents, ${result.categories} agent-category pairs; rollups: ${rollups.join(', ')}`;
}

/** What a rollup's raw rows copy from elsewhere (set again by its rebuild when wrong). */
const RAW_COPIES: Partial<Record<RollupRebuild['rollup'], string>> = {
  routing_quality_hourly: "decisions' outcome_reward",
  reviewer_hourly_stats: "reviews' user_rating",
};

export function createStatsJobs(db: Kysely<Database>, events?: EventBus): Record<string, Task> {
  return {
    [RECOMPUTE_STATS_JOB]: async (_payload, helpers) => {
      helpers.logger.info(describeStatsRecompute(await runStatsRecompute(db, events)));
    },
  };
}
