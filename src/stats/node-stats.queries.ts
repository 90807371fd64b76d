import { type Kysely, type RawBuilder, sql } from 'kysely';
import type { Database } from '../db/database.js';
import type { ReadRange } from './read-window.js';
import { findAllNodeDayDrift } from './rollup-upkeep.js';
import { daysOn, splitRangeByDay } from './stats.queries.js';

/**
 * When a node ran, as the node breakdown's window reads it: started_at, else when it was stored
 * (created_at is a UTC timestamp without time zone). `agent_node_performance_agent_ran_idx` is on it.
 */
const NODE_RAN_AT = sql`coalesce(n.started_at, n.created_at AT TIME ZONE 'UTC')`;

/** The per-node sums of one part of a window, the columns every part of the breakdown has. */
const RAW_NODE_SUMS = sql`
  count(*)::bigint AS runs,
  (count(*) FILTER (WHERE n.success))::bigint AS successful_runs,
  count(n.duration_ms)::bigint AS timed_runs,
  coalesce(sum(n.duration_ms), 0)::bigint AS sum_duration_ms,
  count(n.total_tokens)::bigint AS metered_runs,
  coalesce(sum(n.total_tokens), 0)::bigint AS sum_total_tokens`;

/**
 * The parts of an agent's node breakdown over a window, each per node name with RAW_NODE_SUMS: the
 * window's whole UTC days from agent_node_daily_stats (migration 020, kept at commit by triggers on
 * agent_node_performance) and the nodes of its partial first and last days from agent_node_performance,
 * through `agent_node_performance_agent_ran_idx` alone. Summed, they are the raw rows' sums over the
 * window, as long as retention has deleted none of its nodes (the rollup keeps deleted days).
 */
export function buildNodeWindowParts(
  projectId: string,
  agentId: string,
  userId: string | undefined,
  range: ReadRange,
): RawBuilder<unknown>[] {
  const split = splitRangeByDay(range);
  const rawParts = split.raw.map((part) => rawNodePart(projectId, agentId, userId, rangeOnRan(part)));
  // A node with neither time is in no day (the rollup skips it): a window without bounds still counts it.
  if (range.since === undefined && range.until === undefined)
    rawParts.push(rawNodePart(projectId, agentId, userId, sql`AND ${NODE_RAN_AT} IS NULL`));
  if (split.days === null) return rawParts;
  const mine = userId === undefined ? sql`` : sql`AND d.user_id = ${userId}`;
  return [
    ...rawParts,
    sql`
      SELECT d.node_name,
        sum(d.runs)::bigint AS runs,
        sum(d.successful_runs)::bigint AS successful_runs,
        sum(d.timed_runs)::bigint AS timed_runs,
        sum(d.sum_duration_ms)::bigint AS sum_duration_ms,
        sum(d.metered_runs)::bigint AS metered_runs,
        sum(d.sum_total_tokens)::bigint AS sum_total_tokens
      FROM agent_node_daily_stats d
      WHERE d.project_id = ${projectId} AND d.agent_id = ${agentId} ${mine} ${daysOn(sql`d.day`, split.days)}
      GROUP BY d.node_name`,
  ];
}

function rawNodePart(
  projectId: string,
  agentId: string,
  userId: string | undefined,
  condition: RawBuilder<unknown>,
): RawBuilder<unknown> {
  const mine = userId === undefined ? sql`` : sql`AND n.user_id = ${userId}`;
  return sql`
    SELECT n.node_name, ${RAW_NODE_SUMS}
    FROM agent_node_performance n
    WHERE n.project_id = ${projectId} AND n.agent_id = ${agentId} ${condition} ${mine}
    GROUP BY n.node_name`;
}

function rangeOnRan(part: { since: Date | undefined; until: Date | undefined }): RawBuilder<unknown> {
  const since = part.since === undefined ? sql`` : sql`AND ${NODE_RAN_AT} >= ${part.since}::timestamptz`;
  const until = part.until === undefined ? sql`` : sql`AND ${NODE_RAN_AT} < ${part.until}::timestamptz`;
  return sql`${since} ${until}`;
}

/** A key of agent_node_daily_stats whose sums differ from those of its raw node rows. */
export interface NodeDailyDrift {
  project_id: string;
  agent_id: string;
  user_id: string;
  day: string;
  node_name: string;
  /** The rollup's sums (null: no row, or a row of zeros). */
  rolled: string | null;
  /** The raw rows' sums (null: no node). */
  raw: string | null;
}

/**
 * The keys of agent_node_daily_stats that differ from a recompute from agent_node_performance, each
 * with both sums (runs/successful/timed/duration/metered/tokens), over every day: none while no node was
 * deleted with its task (retention's deleted days stay in the rollup only; `findRollupDrift` compares
 * only the days after them). A rollup row of zeros counts as no row.
 */
export async function findNodeDailyDrift(db: Kysely<Database>): Promise<NodeDailyDrift[]> {
  const drift = await findAllNodeDayDrift(db);
  return drift.map(({ key, stored, recomputed }) => ({
    project_id: key.project_id ?? '',
    agent_id: key.agent_id ?? '',
    user_id: key.user_id ?? '',
    day: key.day ?? '',
    node_name: key.node_name ?? '',
    rolled: stored,
    raw: recomputed,
  }));
}
