import { type Kysely, sql } from 'kysely';
import type { AgentStatsRow, CategoryStatsRow, Database } from '../db/database.js';
import { isEmptyDelta, type StatsDelta, sumDeltas } from './stats.js';

function round6(value: number): number {
  return Math.round(value * 1e6) / 1e6;
}

/** The shared SET list of both statistics upserts: add the delta's sums and derive the averages. */
function deltaColumns(d: StatsDelta) {
  const at = d.at ? d.at.toISOString() : null;
  return {
    tasks: d.tasks,
    successful: d.successful,
    failed: d.failed,
    scored: d.scored,
    sumOverall: round6(d.sumOverall),
    sumSqOverall: round6(d.sumSqOverall),
    rated: d.rated,
    sumRating: d.sumRating,
    r: d.ratingCounts,
    tokens: d.tokens,
    cost: round6(d.cost),
    durationMs: d.durationMs,
    rewardPoints: d.rewardPoints,
    at,
  };
}

export interface StatsChange {
  agentId: string;
  category: string;
  delta: StatsDelta;
}

/**
 * Applies task-level changes to the agents' statistics rows and their (agent, category) rows.
 * Changes are summed per row and applied in one fixed order (agent, then its categories, by id), so
 * concurrent writers always lock rows in the same order and cannot deadlock.
 * Rows are created on first use (so the seed's manual INSERT of a stats row still works on a fresh
 * database), and an average keeps its stored value until real scores exist for it.
 */
export async function applyStatsChanges(
  db: Kysely<Database>,
  changes: readonly StatsChange[],
): Promise<void> {
  const byAgent = new Map<string, Map<string, StatsDelta[]>>();
  for (const change of changes) {
    const categories = byAgent.get(change.agentId) ?? new Map<string, StatsDelta[]>();
    categories.set(change.category, [...(categories.get(change.category) ?? []), change.delta]);
    byAgent.set(change.agentId, categories);
  }
  for (const agentId of [...byAgent.keys()].sort()) {
    const categories = byAgent.get(agentId) as Map<string, StatsDelta[]>;
    await upsertAgentStats(db, agentId, sumDeltas([...categories.values()].flat()));
    for (const category of [...categories.keys()].sort()) {
      await upsertCategoryStats(db, agentId, category, sumDeltas(categories.get(category) as StatsDelta[]));
    }
  }
}

async function upsertAgentStats(db: Kysely<Database>, agentId: string, delta: StatsDelta): Promise<void> {
  if (isEmptyDelta(delta)) return;
  const v = deltaColumns(delta);
  await sql`
    INSERT INTO agent_performance_stats AS s (
      agent_id, nickname, total_tasks, successful_tasks, failed_tasks, scored_tasks, sum_overall_score,
      sum_sq_overall_score, rated_tasks, sum_user_rating, ratings_1, ratings_2, ratings_3, ratings_4, ratings_5,
      total_tokens, total_cost, total_duration_ms, reward_points, first_task_at, last_task_at,
      avg_overall_score, avg_user_rating, last_updated)
    SELECT a.agent_id, a.nickname, ${v.tasks}::int, ${v.successful}::int, ${v.failed}::int, ${v.scored}::int,
      ${v.sumOverall}::numeric, ${v.sumSqOverall}::numeric, ${v.rated}::int, ${v.sumRating}::numeric,
      ${v.r[0]}::int, ${v.r[1]}::int, ${v.r[2]}::int, ${v.r[3]}::int, ${v.r[4]}::int,
      ${v.tokens}::bigint, ${v.cost}::numeric, ${v.durationMs}::bigint, ${v.rewardPoints}::int,
      ${v.at}::timestamptz, ${v.at}::timestamptz,
      round(${v.sumOverall}::numeric / nullif(${v.scored}::int, 0), 2),
      round(${v.sumRating}::numeric / nullif(${v.rated}::int, 0), 2),
      now() AT TIME ZONE 'UTC'
    FROM agents a WHERE a.agent_id = ${agentId}
    ON CONFLICT (agent_id) DO UPDATE SET
      total_tasks = coalesce(s.total_tasks, 0) + excluded.total_tasks,
      successful_tasks = coalesce(s.successful_tasks, 0) + excluded.successful_tasks,
      failed_tasks = s.failed_tasks + excluded.failed_tasks,
      scored_tasks = s.scored_tasks + excluded.scored_tasks,
      sum_overall_score = s.sum_overall_score + excluded.sum_overall_score,
      sum_sq_overall_score = s.sum_sq_overall_score + excluded.sum_sq_overall_score,
      rated_tasks = s.rated_tasks + excluded.rated_tasks,
      sum_user_rating = s.sum_user_rating + excluded.sum_user_rating,
      ratings_1 = s.ratings_1 + excluded.ratings_1,
      ratings_2 = s.ratings_2 + excluded.ratings_2,
      ratings_3 = s.ratings_3 + excluded.ratings_3,
      ratings_4 = s.ratings_4 + excluded.ratings_4,
      ratings_5 = s.ratings_5 + excluded.ratings_5,
      total_tokens = s.total_tokens + excluded.total_tokens,
      total_cost = s.total_cost + excluded.total_cost,
      total_duration_ms = s.total_duration_ms + excluded.total_duration_ms,
      reward_points = s.reward_points + excluded.reward_points,
      first_task_at = least(s.first_task_at, excluded.first_task_at),
      last_task_at = greatest(s.last_task_at, excluded.last_task_at),
      avg_overall_score = CASE WHEN s.scored_tasks + excluded.scored_tasks > 0
        THEN round((s.sum_overall_score + excluded.sum_overall_score) / (s.scored_tasks + excluded.scored_tasks), 2)
        ELSE s.avg_overall_score END,
      avg_user_rating = CASE WHEN s.rated_tasks + excluded.rated_tasks > 0
        THEN round((s.sum_user_rating + excluded.sum_user_rating) / (s.rated_tasks + excluded.rated_tasks), 2)
        ELSE s.avg_user_rating END,
      last_updated = excluded.last_updated
  `.execute(db);
}

async function upsertCategoryStats(
  db: Kysely<Database>,
  agentId: string,
  category: string,
  delta: StatsDelta,
): Promise<void> {
  if (isEmptyDelta(delta)) return;
  const v = deltaColumns(delta);
  await sql`
    INSERT INTO agent_category_stats AS s (
      agent_id, objective_category, total_tasks, successful_tasks, failed_tasks, scored_tasks, sum_overall_score,
      sum_sq_overall_score, rated_tasks, sum_user_rating, ratings_1, ratings_2, ratings_3, ratings_4, ratings_5,
      total_tokens, total_cost, total_duration_ms, reward_points, first_task_at, last_task_at, last_updated)
    VALUES (${agentId}, ${category}, ${v.tasks}::int, ${v.successful}::int, ${v.failed}::int, ${v.scored}::int,
      ${v.sumOverall}::numeric, ${v.sumSqOverall}::numeric, ${v.rated}::int, ${v.sumRating}::numeric,
      ${v.r[0]}::int, ${v.r[1]}::int, ${v.r[2]}::int, ${v.r[3]}::int, ${v.r[4]}::int,
      ${v.tokens}::bigint, ${v.cost}::numeric, ${v.durationMs}::bigint, ${v.rewardPoints}::int,
      ${v.at}::timestamptz, ${v.at}::timestamptz, now())
    ON CONFLICT (agent_id, objective_category) DO UPDATE SET
      total_tasks = s.total_tasks + excluded.total_tasks,
      successful_tasks = s.successful_tasks + excluded.successful_tasks,
      failed_tasks = s.failed_tasks + excluded.failed_tasks,
      scored_tasks = s.scored_tasks + excluded.scored_tasks,
      sum_overall_score = s.sum_overall_score + excluded.sum_overall_score,
      sum_sq_overall_score = s.sum_sq_overall_score + excluded.sum_sq_overall_score,
      rated_tasks = s.rated_tasks + excluded.rated_tasks,
      sum_user_rating = s.sum_user_rating + excluded.sum_user_rating,
      ratings_1 = s.ratings_1 + excluded.ratings_1,
      ratings_2 = s.ratings_2 + excluded.ratings_2,
      ratings_3 = s.ratings_3 + excluded.ratings_3,
      ratings_4 = s.ratings_4 + excluded.ratings_4,
      ratings_5 = s.ratings_5 + excluded.ratings_5,
      total_tokens = s.total_tokens + excluded.total_tokens,
      total_cost = s.total_cost + excluded.total_cost,
      total_duration_ms = s.total_duration_ms + excluded.total_duration_ms,
      reward_points = s.reward_points + excluded.reward_points,
      first_task_at = least(s.first_task_at, excluded.first_task_at),
      last_task_at = greatest(s.last_task_at, excluded.last_task_at),
      last_updated = excluded.last_updated
  `.execute(db);
}

export async function findAllAgentStats(db: Kysely<Database>): Promise<AgentStatsRow[]> {
  return db
    .selectFrom('agent_performance_stats as s')
    .innerJoin('agents as a', 'a.agent_id', 's.agent_id')
    .selectAll('s')
    .where('a.active', '=', true)
    .execute();
}

export async function findCategoryStats(
  db: Kysely<Database>,
  filter: { category?: string; agentId?: string },
): Promise<(CategoryStatsRow & { nickname: string })[]> {
  let query = db
    .selectFrom('agent_category_stats as c')
    .innerJoin('agents as a', 'a.agent_id', 'c.agent_id')
    .selectAll('c')
    .select('a.nickname')
    .where('a.active', '=', true);
  if (filter.category) query = query.where('c.objective_category', '=', filter.category);
  if (filter.agentId) query = query.where('c.agent_id', '=', filter.agentId);
  return query.orderBy('c.objective_category').execute();
}

export async function findAgentStats(
  db: Kysely<Database>,
  agentId: string,
): Promise<AgentStatsRow | undefined> {
  return db
    .selectFrom('agent_performance_stats')
    .selectAll()
    .where('agent_id', '=', agentId)
    .executeTakeFirst();
}

/**
 * Rebuilds both statistics tables from the raw task and score rows, in one transaction (the caller's):
 * the scheduled repair of any drift in the running sums. Agents without finished tasks lose their row.
 */
export async function recomputeAllStats(
  db: Kysely<Database>,
): Promise<{ agents: number; categories: number }> {
  await sql`
    CREATE TEMP TABLE merit_stats_recompute ON COMMIT DROP AS
    SELECT t.agent_id, t.objective_category,
      count(*)::int AS total_tasks,
      count(*) FILTER (WHERE t.status = 'completed')::int AS successful_tasks,
      count(*) FILTER (WHERE t.status = 'failed')::int AS failed_tasks,
      count(s.overall_score)::int AS scored_tasks,
      coalesce(sum(s.overall_score), 0) AS sum_overall_score,
      coalesce(sum(s.overall_score * s.overall_score), 0) AS sum_sq_overall_score,
      count(s.user_rating)::int AS rated_tasks,
      coalesce(sum(s.user_rating), 0) AS sum_user_rating,
      count(*) FILTER (WHERE s.user_rating = 1)::int AS ratings_1,
      count(*) FILTER (WHERE s.user_rating = 2)::int AS ratings_2,
      count(*) FILTER (WHERE s.user_rating = 3)::int AS ratings_3,
      count(*) FILTER (WHERE s.user_rating = 4)::int AS ratings_4,
      count(*) FILTER (WHERE s.user_rating = 5)::int AS ratings_5,
      coalesce(sum(t.total_tokens), 0)::bigint AS total_tokens,
      coalesce(sum(t.estimated_cost), 0) AS total_cost,
      coalesce(sum(t.duration_ms), 0)::bigint AS total_duration_ms,
      coalesce(sum(s.reward_points), 0)::int AS reward_points,
      min(t.completed_at) AS first_task_at,
      max(t.completed_at) AS last_task_at
    FROM tasks t
    LEFT JOIN agent_performance_scores s ON s.task_id = t.id
    WHERE t.status IN ('completed', 'failed')
    GROUP BY t.agent_id, t.objective_category
  `.execute(db);
  await sql`DELETE FROM agent_category_stats`.execute(db);
  const categories = await sql`
    INSERT INTO agent_category_stats (agent_id, objective_category, total_tasks, successful_tasks, failed_tasks,
      scored_tasks, sum_overall_score, sum_sq_overall_score, rated_tasks, sum_user_rating,
      ratings_1, ratings_2, ratings_3, ratings_4, ratings_5, total_tokens, total_cost, total_duration_ms,
      reward_points, first_task_at, last_task_at, last_updated)
    SELECT agent_id, objective_category, total_tasks, successful_tasks, failed_tasks, scored_tasks,
      sum_overall_score, sum_sq_overall_score, rated_tasks, sum_user_rating,
      ratings_1, ratings_2, ratings_3, ratings_4, ratings_5, total_tokens, total_cost, total_duration_ms,
      reward_points, first_task_at, last_task_at, now()
    FROM merit_stats_recompute
  `.execute(db);
  await sql`DELETE FROM agent_performance_stats WHERE agent_id NOT IN (SELECT agent_id FROM merit_stats_recompute)`.execute(
    db,
  );
  const agents = await sql`
    INSERT INTO agent_performance_stats AS s (agent_id, nickname, total_tasks, successful_tasks, failed_tasks,
      scored_tasks, sum_overall_score, sum_sq_overall_score, rated_tasks, sum_user_rating,
      ratings_1, ratings_2, ratings_3, ratings_4, ratings_5, total_tokens, total_cost, total_duration_ms,
      reward_points, first_task_at, last_task_at, avg_overall_score, avg_user_rating, last_updated)
    SELECT r.agent_id, a.nickname, sum(total_tasks), sum(successful_tasks), sum(failed_tasks), sum(scored_tasks),
      sum(sum_overall_score), sum(sum_sq_overall_score), sum(rated_tasks), sum(sum_user_rating),
      sum(ratings_1), sum(ratings_2), sum(ratings_3), sum(ratings_4), sum(ratings_5), sum(total_tokens),
      sum(total_cost), sum(total_duration_ms), sum(reward_points), min(first_task_at), max(last_task_at),
      round(sum(sum_overall_score) / nullif(sum(scored_tasks), 0), 2),
      round(sum(sum_user_rating) / nullif(sum(rated_tasks), 0), 2),
      now() AT TIME ZONE 'UTC'
    FROM merit_stats_recompute r JOIN agents a ON a.agent_id = r.agent_id
    GROUP BY r.agent_id, a.nickname
    ON CONFLICT (agent_id) DO UPDATE SET
      nickname = excluded.nickname, total_tasks = excluded.total_tasks,
      successful_tasks = excluded.successful_tasks, failed_tasks = excluded.failed_tasks,
      scored_tasks = excluded.scored_tasks, sum_overall_score = excluded.sum_overall_score,
      sum_sq_overall_score = excluded.sum_sq_overall_score, rated_tasks = excluded.rated_tasks,
      sum_user_rating = excluded.sum_user_rating, ratings_1 = excluded.ratings_1, ratings_2 = excluded.ratings_2,
      ratings_3 = excluded.ratings_3, ratings_4 = excluded.ratings_4, ratings_5 = excluded.ratings_5,
      total_tokens = excluded.total_tokens, total_cost = excluded.total_cost,
      total_duration_ms = excluded.total_duration_ms, reward_points = excluded.reward_points,
      first_task_at = excluded.first_task_at, last_task_at = excluded.last_task_at,
      avg_overall_score = excluded.avg_overall_score, avg_user_rating = excluded.avg_user_rating,
      last_updated = excluded.last_updated
  `.execute(db);
  return { agents: Number(agents.numAffectedRows ?? 0), categories: Number(categories.numAffectedRows ?? 0) };
}

/** Stores each agent's current rank in the seed's `overall_rank` column (the API ranks live). */
export async function saveOverallRanks(
  db: Kysely<Database>,
  ranks: ReadonlyMap<string, number | null>,
): Promise<void> {
  for (const [agentId, rank] of ranks) {
    await db
      .updateTable('agent_performance_stats')
      .set({ overall_rank: rank })
      .where('agent_id', '=', agentId)
      .where(sql<boolean>`overall_rank IS DISTINCT FROM ${rank}::int`)
      .execute();
  }
}
