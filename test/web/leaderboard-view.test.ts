import { describe, expect, it } from 'vitest';
import {
  describeRank,
  formatOrdinal,
  sortRankings,
} from '../../web/src/features/leaderboard/leaderboard-view.js';
import type { Ranking } from '../../web/src/lib/api-schemas.js';

function ranking(agent: string, fields: Partial<Ranking>): Ranking {
  return {
    agent_id: agent,
    nickname: agent,
    rank: null,
    total_tasks: 0,
    successful_tasks: 0,
    avg_overall_score: null,
    avg_user_rating: null,
    total_cost: null,
    priced_tasks: 0,
    unpriced_tasks: 0,
    unmetered_tasks: 0,
    cost_efficiency_score: null,
    days_active: 0,
    rated_tasks: 0,
    reward_points: 0,
    provisional: false,
    failed_tasks: 0,
    success_rate: null,
    score_estimate: null,
    score_lower: null,
    score_upper: null,
    scored_tasks: 0,
    not_evaluated_tasks: 0,
    rating_estimate: null,
    rating_lower: null,
    rating_upper: null,
    avg_cost_per_task: null,
    total_tokens: null,
    avg_duration_ms: null,
    ...fields,
  };
}

describe('leaderboard ranks and sorting', () => {
  it('writes ordinals, 11th to 13th included', () => {
    expect([1, 2, 3, 4, 11, 12, 13, 21, 22, 101].map(formatOrdinal)).toEqual([
      '1st',
      '2nd',
      '3rd',
      '4th',
      '11th',
      '12th',
      '13th',
      '21st',
      '22nd',
      '101st',
    ]);
  });

  it('says "tied" when agents share a rank, and "provisional" without one', () => {
    const rows = [{ rank: 1 }, { rank: 1 }, { rank: 3 }, { rank: null }];
    expect(rows.map((row) => describeRank(row, rows))).toEqual([
      'tied 1st',
      'tied 1st',
      '3rd',
      'provisional',
    ]);
  });

  it('sorts cost per task cheapest first and puts unknown costs last in both directions', () => {
    const rows = [
      ranking('busy', { avg_cost_per_task: 0.0039 }),
      ranking('unknown', { avg_cost_per_task: null }),
      ranking('cheap', { avg_cost_per_task: 0.0021 }),
    ];
    expect(sortRankings(rows, 'cost', 'ascending').map((row) => row.agent_id)).toEqual([
      'cheap',
      'busy',
      'unknown',
    ]);
    expect(sortRankings(rows, 'cost', 'descending').map((row) => row.agent_id)).toEqual([
      'busy',
      'cheap',
      'unknown',
    ]);
  });

  it('keeps the server order among equal values', () => {
    const rows = [ranking('a', { rank: 1 }), ranking('b', { rank: 1 }), ranking('c', { rank: 1 })];
    expect(sortRankings(rows, 'rank', 'ascending').map((row) => row.agent_id)).toEqual(['a', 'b', 'c']);
  });
});
