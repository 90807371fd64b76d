import type { Task } from 'graphile-worker';
import { type Kysely, sql } from 'kysely';
import type { Database } from '../db/database.js';
import type { EventBus } from '../events/event-bus.js';
import { runTransactionWithEvents } from '../events/transactional-events.js';
import { DEFAULT_LEVEL } from '../ranking/ranking.js';
import { buildLeaderboard, DEFAULT_MIN_SAMPLE, toStatsInput } from './leaderboard.js';
import { findRollupDrift, type RollupRepair, rebuildRollup, TRIGGER_ROLLUPS } from './rollup-upkeep.js';
import {
  findAllAgentStats,
  findStatsDrift,
  recomputeAllStats,
  type StatsCheck,
  saveOverallRanks,
  toPgDay,
} from './stats.queries.js';

export const RECOMPUTE_STATS_JOB = 'recompute_stats';
/**
 * The daily full checks (MERIT_ROLLUP_CHECK_CRON): the statistics against every task, then the
 * trigger-kept rollups, each rebuilt when it drifted.
 */
export const CHECK_ROLLUPS_JOB = 'check_rollups';
const RECOMPUTE_STATEMENT_TIMEOUT = '15min';
/** The whole UTC days before today that the hourly recent check compares with their tasks. */
export const RECENT_CHECK_DAYS = 2;
const DAY_MS = 86_400_000;

/** The start of the recent check's period: the UTC midnight RECENT_CHECK_DAYS days before today's. */
export function recentCheckStart(now: Date): Date {
  return new Date((Math.floor(now.getTime() / DAY_MS) - RECENT_CHECK_DAYS) * DAY_MS);
}

/** A trigger-kept rollup's check and, when it drifted, rebuild: what it changed and how long both took. */
export interface RollupRebuild extends RollupRepair {
  /** Keys (and copied values) the check found wrong: 0 means no rebuild ran. */
  drifted: number;
  ms: number;
}

/**
 * The scheduled repair: checks the statistics tables against a recompute from the raw rows in one
 * snapshot without a lock (findStatsDrift) and rebuilds them under their table locks only when a key
 * drifted (or with `force`), then stores the agents' ranks, then checks (and when drifted rebuilds) each
 * trigger-kept rollup. A rebuild locks every writer of statistics out for as long as it reads every
 * task (seconds at a million tasks), so an hourly job that finds nothing wrong must not run one. Every
 * project's statistics may have changed: a rebuild is announced to every process in its transaction.
 * The check is the full one (every task) unless `recent` (the hourly job's): the days from
 * recentCheckStart(`now`) on against their tasks, and the all-time rows against the daily rows; either
 * one that finds drift is followed by the full rebuild.
 */
export async function runStatsRecompute(
  db: Kysely<Database>,
  events?: EventBus,
  options: { force?: boolean; rollups?: boolean; recent?: boolean; now?: Date } = {},
) {
  const started = performance.now();
  const check: StatsCheck | undefined = options.force
    ? undefined
    : options.recent
      ? { kind: 'recent', since: recentCheckStart(options.now ?? new Date()) }
      : { kind: 'full' };
  const drift =
    check === undefined
      ? undefined
      : await db
          .transaction()
          .setIsolationLevel('repeatable read')
          .execute(async (trx) => {
            await sql`SET LOCAL statement_timeout = ${sql.lit(RECOMPUTE_STATEMENT_TIMEOUT)}`.execute(trx);
            return findStatsDrift(trx, check);
          });
  const drifted = drift === undefined ? undefined : Object.values(drift).reduce((sum, n) => sum + n, 0);
  const rebuilt = drifted === undefined || drifted > 0;
  const counts = rebuilt ? await recomputeStatistics(db, events) : await saveRanks(db);
  const statistics = {
    drifted,
    rebuilt,
    ms: Math.round(performance.now() - started),
    /** The check that ran: 'full', the recent period's first day, or null (forced, no check). */
    checked: check === undefined ? null : check.kind === 'full' ? 'full' : `since ${toPgDay(check.since)}`,
  };
  const rollups = options.rollups === false ? [] : await checkTriggerRollups(db, events);
  return { ...counts, statistics, rollups };
}

/** Each project's agents ranked from their statistics, stored in the seed's `overall_rank` column. */
async function storeRanks(trx: Kysely<Database>): Promise<number> {
  const projects = await trx.selectFrom('projects').select('id').execute();
  let agents = 0;
  for (const { id: projectId } of projects) {
    const rows = await findAllAgentStats(trx, projectId);
    const rankings = buildLeaderboard(rows.map(toStatsInput), {
      minSample: DEFAULT_MIN_SAMPLE,
      level: DEFAULT_LEVEL,
    });
    agents += rankings.length;
    await saveOverallRanks(
      trx,
      projectId,
      new Map(rankings.map((ranking) => [ranking.agent_id, ranking.rank])),
    );
  }
  return agents;
}

/** The ranks alone (the statistics were found consistent): a short transaction of row updates. */
async function saveRanks(db: Kysely<Database>) {
  const agents = await db.transaction().execute(storeRanks);
  return { agents, categories: 0 };
}

async function recomputeStatistics(db: Kysely<Database>, events?: EventBus) {
  return runTransactionWithEvents(db, events, async (trx, emit) => {
    // A rebuild over millions of tasks outlasts the per-statement timeout meant for requests; it still
    // gives up (lock_timeout) rather than queue behind a stuck writer.
    await sql`SET LOCAL statement_timeout = ${sql.lit(RECOMPUTE_STATEMENT_TIMEOUT)}`.execute(trx);
    const counts = await recomputeAllStats(trx);
    // Ranks are within a project: each project's leaderboard is its own.
    await storeRanks(trx);
    emit({ type: 'leaderboard', projectId: null, agentIds: [] });
    return counts;
  });
}

/**
 * Each trigger-kept rollup checked against its raw rows, and rebuilt only when it drifted: the check is
 * one read (a snapshot, no lock), while a rebuild locks the rollup and its raw table against writers (at
 * 1M routed tasks, routing quality's rebuild holds routing_decisions ~20 s), which a scheduled job must
 * not do when nothing is wrong. A rebuild runs in its own short transaction after the statistics
 * transaction, so the writers of one rollup wait only for its rebuild; one that changed rows announces
 * it as the statistics' does.
 */
export async function checkTriggerRollups(db: Kysely<Database>, events?: EventBus): Promise<RollupRebuild[]> {
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
  statistics: { drifted: number | undefined; rebuilt: boolean; ms: number; checked: string | null };
  rollups: readonly RollupRebuild[];
}): string {
  const { drifted, rebuilt, ms, checked } = result.statistics;
  const statistics = !rebuilt
    ? `statistics consistent (${checked} check), ${result.agents} agents ranked (${ms} ms)`
    : `statistics rebuilt${drifted === undefined ? '' : ` (${drifted} rows differed, ${checked} check)`}: ${result.agents} agents, ${result.categories} agent-category pairs (${ms} ms)`;
  return result.rollups.length === 0
    ? `Recompute: ${statistics}`
    : `Recompute: ${statistics}; ${describeRollupChecks(result.rollups)}`;
}

/** The rollup check's log line: per rollup, consistent or what its rebuild repaired. */
export function describeRollupChecks(rebuilds: readonly RollupRebuild[]): string {
  const rollups = rebuilds.map((rebuild) => {
    const raw =
      rebuild.rawRowsFixed > 0
        ? `, ${rebuild.rawRowsFixed} ${RAW_COPIES[rebuild.rollup] ?? 'copied values'} set again`
        : '';
    if (rebuild.drifted === 0) return `${rebuild.rollup} consistent (${rebuild.ms} ms)`;
    return `${rebuild.rollup} ${rebuild.drifted} drifted, ${rebuild.rowsChanged} rows changed${raw} (${rebuild.ms} ms)`;
  });
  return `rollups: ${rollups.join(', ')}`;
}

/** What a rollup's raw rows copy from elsewhere (set again by its rebuild when wrong). */
const RAW_COPIES: Partial<Record<RollupRebuild['rollup'], string>> = {
  routing_quality_hourly: "decisions' outcome_reward",
  reviewer_hourly_stats: "reviews' user_rating",
};

export function createStatsJobs(db: Kysely<Database>, events?: EventBus): Record<string, Task> {
  return {
    // Hourly by default: the statistics' recent check (the last days' tasks and the daily rows, not
    // every task) and the ranks.
    [RECOMPUTE_STATS_JOB]: async (_payload, helpers) => {
      helpers.logger.info(
        describeStatsRecompute(await runStatsRecompute(db, events, { rollups: false, recent: true })),
      );
    },
    // Daily by default: the checks that read every row (the statistics' ~15 s and the trigger-kept
    // rollups' ~90 s at 1M tasks); the writing transactions and triggers keep them exact between checks.
    [CHECK_ROLLUPS_JOB]: async (_payload, helpers) => {
      helpers.logger.info(describeStatsRecompute(await runStatsRecompute(db, events)));
    },
  };
}
