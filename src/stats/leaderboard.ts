import type { AgentStatsRow, CategoryStatsRow } from '../db/database.js';
import { rankWithConfidence, summarizeBetaPosterior, summarizeStarCounts } from '../ranking/ranking.js';
import { computeDaysActive } from './stats.js';

/** The statistics of one agent (overall, or within one category), as the leaderboard reads them. */
export interface StatsInput {
  agent_id: string;
  nickname: string;
  total_tasks: number | null;
  successful_tasks: number | null;
  failed_tasks: number;
  scored_tasks: number;
  sum_overall_score: number;
  rated_tasks: number;
  sum_user_rating: number;
  ratings: [number, number, number, number, number];
  total_tokens: number;
  total_cost: number;
  /** Finished tasks whose cost is known: total_cost sums these only. */
  priced_tasks: number;
  /** Finished tasks whose token count is known: total_tokens sums these only. */
  metered_tasks: number;
  total_duration_ms: number;
  reward_points: number;
  first_task_at: Date | null;
  last_task_at: Date | null;
  /** Stored averages, used for rows that carry no running sums (e.g. inserted by hand, as in the seed). */
  avg_overall_score: number | null;
  avg_user_rating: number | null;
}

/** A statistics row (per agent, or per agent and category with the agent's nickname) as leaderboard input. */
export function toStatsInput(row: (AgentStatsRow | CategoryStatsRow) & { nickname: string }): StatsInput {
  return {
    ...row,
    ratings: [row.ratings_1, row.ratings_2, row.ratings_3, row.ratings_4, row.ratings_5],
    avg_overall_score: 'avg_overall_score' in row ? row.avg_overall_score : null,
    avg_user_rating: 'avg_user_rating' in row ? row.avg_user_rating : null,
  };
}

export interface Ranking {
  agent_id: string;
  nickname: string;
  rank: number | null;
  provisional: boolean;
  total_tasks: number;
  successful_tasks: number;
  failed_tasks: number;
  success_rate: number | null;
  /** The plain mean of the scored tasks' overall scores. */
  avg_overall_score: number | null;
  /** Posterior mean of the overall score (Beta, uniform prior): the estimate score_lower..score_upper qualifies. */
  score_estimate: number | null;
  score_lower: number | null;
  score_upper: number | null;
  scored_tasks: number;
  /** Completed tasks without an overall score yet (no rating, judge or peer score): left out of the averages. */
  not_evaluated_tasks: number;
  /** The plain mean of the user's star ratings. */
  avg_user_rating: number | null;
  /** Posterior mean of the expected star value (Dirichlet, one pseudo-rating per star): what rating_lower..rating_upper qualifies. */
  rating_estimate: number | null;
  rating_lower: number | null;
  rating_upper: number | null;
  rated_tasks: number;
  /** Sum over the priced tasks; null when the agent has finished tasks and none of them is priced. */
  total_cost: number | null;
  /** total_cost / priced_tasks: tasks of unknown cost count neither as free nor in the average. */
  avg_cost_per_task: number | null;
  priced_tasks: number;
  /** Finished tasks of unknown cost (a model without a price, or a provider that reported no usage). */
  unpriced_tasks: number;
  cost_efficiency_score: number | null;
  /** Sum over the tasks of known token count; null when none of the agent's finished tasks has one. */
  total_tokens: number | null;
  unmetered_tasks: number;
  avg_duration_ms: number | null;
  days_active: number;
  reward_points: number;
}

export interface LeaderboardOptions {
  /** Agents with fewer scored tasks are listed as provisional, without a rank. */
  minSample: number;
  /** Credible level of the intervals. */
  level: number;
  limit?: number | undefined;
}

export const DEFAULT_MIN_SAMPLE = 3;

const round = (value: number, decimals: number) => Math.round(value * 10 ** decimals) / 10 ** decimals;

/**
 * Ranks agents by the lower bound of their overall score's posterior (a Beta over 0-1 scores), so an
 * agent with two lucky tasks does not outrank one with a hundred good ones; agents whose intervals
 * overlap share a rank (rank = 1 + the number of agents whose lower bound beats this one's upper bound).
 * Each interval is reported with the posterior mean it qualifies (score_estimate, rating_estimate): the
 * prior pulls that mean toward the middle, so with few observations the plain average can lie outside.
 * cost_efficiency_score = overall score x (cheapest average cost per task / this agent's average cost),
 * over priced tasks only; an agent none of whose tasks is priced has no cost efficiency (null).
 */
export function buildLeaderboard(rows: readonly StatsInput[], options: LeaderboardOptions): Ranking[] {
  const entries = rows.map((row) => describeAgent(row, options.level));
  const costs = entries
    .map((entry) => entry.avg_cost_per_task)
    .filter((cost): cost is number => cost !== null && cost > 0);
  const cheapest = costs.length > 0 ? Math.min(...costs) : null;
  const ranked = rankWithConfidence(
    entries.map((entry) => ({
      ...entry,
      agentId: entry.agent_id,
      lower: entry.score_lower ?? 0,
      upper: entry.score_upper ?? 0,
      n: entry.scored_tasks,
    })),
    { minSample: options.minSample },
  );
  const rankings = ranked.map(({ agentId: _a, lower: _l, upper: _u, n: _n, ...entry }) => ({
    ...entry,
    cost_efficiency_score: computeCostEfficiency(entry.avg_overall_score, entry.avg_cost_per_task, cheapest),
  }));
  return options.limit === undefined ? rankings : rankings.slice(0, options.limit);
}

function describeAgent(
  row: StatsInput,
  level: number,
): Omit<Ranking, 'rank' | 'provisional' | 'cost_efficiency_score'> {
  const totalTasks = row.total_tasks ?? 0;
  // Rows without running sums (hand-inserted) count their stored average once per task.
  const scored = row.scored_tasks > 0 ? row.scored_tasks : row.avg_overall_score !== null ? totalTasks : 0;
  const sumOverall = row.scored_tasks > 0 ? row.sum_overall_score : (row.avg_overall_score ?? 0) * scored;
  const score =
    scored > 0 ? summarizeBetaPosterior(1 + sumOverall, 1 + scored - sumOverall, scored, level) : null;
  const ratingCount = row.ratings.reduce((sum, count) => sum + count, 0);
  const stars = ratingCount > 0 ? summarizeStarCounts(row.ratings, { level }) : null;
  const finished = (row.successful_tasks ?? 0) + row.failed_tasks;
  return {
    agent_id: row.agent_id,
    nickname: row.nickname,
    total_tasks: totalTasks,
    successful_tasks: row.successful_tasks ?? 0,
    failed_tasks: row.failed_tasks,
    success_rate: finished > 0 ? round((row.successful_tasks ?? 0) / finished, 4) : null,
    avg_overall_score: scored > 0 ? round(sumOverall / scored, 2) : row.avg_overall_score,
    score_estimate: score ? round(score.mean, 4) : null,
    score_lower: score ? round(score.lower, 4) : null,
    score_upper: score ? round(score.upper, 4) : null,
    scored_tasks: scored,
    // Only completed tasks are scored, so the rest of them wait for (or never got) a quality signal.
    not_evaluated_tasks: Math.max(0, (row.successful_tasks ?? 0) - scored),
    avg_user_rating:
      row.rated_tasks > 0 ? round(row.sum_user_rating / row.rated_tasks, 2) : row.avg_user_rating,
    rating_estimate: stars ? round(stars.mean, 3) : null,
    rating_lower: stars ? round(stars.lower, 3) : null,
    rating_upper: stars ? round(stars.upper, 3) : null,
    rated_tasks: row.rated_tasks,
    total_cost: totalTasks > 0 && row.priced_tasks === 0 ? null : round(row.total_cost, 6),
    avg_cost_per_task: row.priced_tasks > 0 ? round(row.total_cost / row.priced_tasks, 6) : null,
    priced_tasks: row.priced_tasks,
    unpriced_tasks: Math.max(0, totalTasks - row.priced_tasks),
    total_tokens: totalTasks > 0 && row.metered_tasks === 0 ? null : row.total_tokens,
    unmetered_tasks: Math.max(0, totalTasks - row.metered_tasks),
    avg_duration_ms:
      totalTasks > 0 && row.total_duration_ms > 0 ? Math.round(row.total_duration_ms / totalTasks) : null,
    days_active: computeDaysActive(row.first_task_at, row.last_task_at),
    reward_points: row.reward_points,
  };
}

function computeCostEfficiency(
  score: number | null,
  cost: number | null,
  cheapest: number | null,
): number | null {
  // Unknown cost: no cost efficiency, rather than the full score a free agent gets.
  if (score === null || cost === null) return null;
  if (cost <= 0 || cheapest === null) return score;
  return round(score * (cheapest / cost), 2);
}
