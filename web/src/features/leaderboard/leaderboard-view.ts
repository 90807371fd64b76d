import type { Ranking } from '../../lib/api-schemas.js';

/** "1st", "2nd", "3rd", "11th"… */
export function formatOrdinal(value: number): string {
  const tens = value % 100;
  if (tens >= 11 && tens <= 13) return `${value}th`;
  const suffix = ['th', 'st', 'nd', 'rd'][value % 10] ?? 'th';
  return `${value}${value % 10 > 3 ? 'th' : suffix}`;
}

/**
 * How a rank reads: "1st", or "tied 1st" when other agents share it (their intervals overlap, so none
 * is surely better), or "provisional" without one.
 */
export function describeRank(
  ranking: Pick<Ranking, 'rank'>,
  rankings: readonly Pick<Ranking, 'rank'>[],
): string {
  if (ranking.rank === null) return 'provisional';
  const sharing = rankings.filter((other) => other.rank === ranking.rank).length;
  return sharing > 1 ? `tied ${formatOrdinal(ranking.rank)}` : formatOrdinal(ranking.rank);
}

export type SortKey = 'rank' | 'agent' | 'score' | 'rating' | 'success' | 'reward' | 'cost' | 'tasks';
export type SortDirection = 'ascending' | 'descending';

/** The direction a column sorts in first: best first (cheapest first for cost, A first for names). */
export function defaultDirection(key: SortKey): SortDirection {
  return key === 'rank' || key === 'agent' || key === 'cost' ? 'ascending' : 'descending';
}

function sortValue(ranking: Ranking, key: SortKey): number | string | null {
  switch (key) {
    case 'rank':
      return ranking.rank;
    case 'agent':
      return ranking.nickname.toLowerCase();
    case 'score':
      return ranking.avg_overall_score;
    case 'rating':
      return ranking.avg_user_rating;
    case 'success':
      return ranking.success_rate;
    case 'reward':
      return ranking.reward_points;
    case 'cost':
      return ranking.avg_cost_per_task;
    case 'tasks':
      return ranking.total_tasks;
  }
}

/** Sorts leaderboard rows by one column; unknown values (null) always go last, ties keep the server's order. */
export function sortRankings(
  rankings: readonly Ranking[],
  key: SortKey,
  direction: SortDirection,
): Ranking[] {
  const sign = direction === 'ascending' ? 1 : -1;
  return rankings
    .map((ranking, index) => ({ ranking, index, value: sortValue(ranking, key) }))
    .sort((a, b) => {
      if (a.value === null || b.value === null) {
        if (a.value === b.value) return a.index - b.index;
        return a.value === null ? 1 : -1;
      }
      if (a.value < b.value) return -sign;
      if (a.value > b.value) return sign;
      return a.index - b.index;
    })
    .map((item) => item.ranking);
}
