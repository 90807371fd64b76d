import { describe, expect, it } from 'vitest';
import { createRng } from '../../src/lib/random.js';
import { summarizeStarCounts } from '../../src/ranking/ranking.js';
import { buildLeaderboard, type StatsInput } from '../../src/stats/leaderboard.js';

const DAY = new Date('2025-03-01T10:00:00Z');

/** A statistics row with running sums; everything not given is zero. */
function stats(agentId: string, extra: Partial<StatsInput> = {}): StatsInput {
  return {
    agent_id: agentId,
    nickname: agentId.replace('agent_', ''),
    total_tasks: 0,
    successful_tasks: 0,
    failed_tasks: 0,
    scored_tasks: 0,
    sum_overall_score: 0,
    rated_tasks: 0,
    sum_user_rating: 0,
    ratings: [0, 0, 0, 0, 0],
    total_tokens: 0,
    total_cost: 0,
    priced_tasks: 0,
    metered_tasks: 0,
    total_duration_ms: 0,
    reward_points: 0,
    first_task_at: DAY,
    last_task_at: DAY,
    avg_overall_score: null,
    avg_user_rating: null,
    ...extra,
  };
}

const options = { minSample: 1, level: 0.9 };

describe('buildLeaderboard', () => {
  it('gives one perfect score the Beta(2, 1) interval [sqrt(0.05), sqrt(0.95)]', () => {
    // Beta(2, 1) has CDF x², so its 5% and 95% quantiles are √0.05 and √0.95.
    const [entry] = buildLeaderboard(
      [stats('agent_a', { total_tasks: 1, successful_tasks: 1, scored_tasks: 1, sum_overall_score: 1 })],
      options,
    );
    expect(entry).toMatchObject({ rank: 1, provisional: false, avg_overall_score: 1, success_rate: 1 });
    expect(entry?.score_lower).toBeCloseTo(Math.sqrt(0.05), 4);
    expect(entry?.score_upper).toBeCloseTo(Math.sqrt(0.95), 4);
  });

  it('gives two perfect scores the Beta(3, 1) interval [0.05^(1/3), 0.95^(1/3)]', () => {
    const [entry] = buildLeaderboard(
      [stats('agent_a', { total_tasks: 2, successful_tasks: 2, scored_tasks: 2, sum_overall_score: 2 })],
      options,
    );
    expect(entry?.score_lower).toBeCloseTo(0.05 ** (1 / 3), 4);
    expect(entry?.score_upper).toBeCloseTo(0.95 ** (1 / 3), 4);
  });

  it('gives one zero score the Beta(1, 2) interval [1 - sqrt(0.95), 1 - sqrt(0.05)]', () => {
    const [entry] = buildLeaderboard(
      [stats('agent_a', { total_tasks: 1, successful_tasks: 1, scored_tasks: 1, sum_overall_score: 0 })],
      options,
    );
    expect(entry?.score_lower).toBeCloseTo(1 - Math.sqrt(0.95), 4);
    expect(entry?.score_upper).toBeCloseTo(1 - Math.sqrt(0.05), 4);
  });

  it('summarises one 5-star rating with the Dirichlet prior: mean 10/3, 1.6449 posterior sds either side', () => {
    // Counts with the prior: [1, 1, 1, 1, 2] (6 in all). Mean 20/6; E[x²] = 80/6; sd = sqrt((80/6 - (20/6)²) / 7).
    const mean = 20 / 6;
    const sd = Math.sqrt((80 / 6 - mean * mean) / 7);
    const [entry] = buildLeaderboard(
      [
        stats('agent_a', {
          total_tasks: 1,
          successful_tasks: 1,
          rated_tasks: 1,
          sum_user_rating: 5,
          ratings: [0, 0, 0, 0, 1],
        }),
      ],
      options,
    );
    expect(entry?.avg_user_rating).toBe(5);
    expect(entry?.rating_lower).toBeCloseTo(mean - 1.644854 * sd, 3);
    expect(entry?.rating_upper).toBeCloseTo(mean + 1.644854 * sd, 3);
    expect(entry?.rating_lower).toBeCloseTo(2.407, 3);
    expect(entry?.rating_upper).toBeCloseTo(4.26, 3);
    const direct = summarizeStarCounts([0, 0, 0, 0, 1], { level: 0.9 });
    expect(direct).toMatchObject({ n: 1 });
    expect(direct.mean).toBeCloseTo(mean, 10);
  });

  it("reports a 4 and a 5 (bob's plain average 4.5) with the posterior mean 24/7 its interval 2.615-4.243 qualifies", () => {
    const [entry] = buildLeaderboard(
      [
        stats('agent_bob', {
          total_tasks: 2,
          successful_tasks: 2,
          rated_tasks: 2,
          sum_user_rating: 9,
          ratings: [0, 0, 0, 1, 1],
        }),
      ],
      options,
    );
    expect(entry).toMatchObject({
      avg_user_rating: 4.5,
      rating_estimate: 3.429,
      rating_lower: 2.615,
      rating_upper: 4.243,
    });
  });

  it('reports one perfect score with the Beta(2, 1) posterior mean 2/3 that its interval qualifies', () => {
    const [entry] = buildLeaderboard(
      [stats('agent_a', { total_tasks: 1, successful_tasks: 1, scored_tasks: 1, sum_overall_score: 1 })],
      options,
    );
    expect(entry).toMatchObject({ avg_overall_score: 1, score_estimate: 0.6667 });
  });

  it('puts every estimate inside its interval for 2,000 random agents', () => {
    const random = createRng(912);
    for (let trial = 0; trial < 2000; trial++) {
      const scored = Math.floor(random() * (trial % 5 === 0 ? 2000 : 10));
      const ratings: StatsInput['ratings'] = [0, 0, 0, 0, 0];
      const rated = Math.floor(random() * (trial % 7 === 0 ? 500 : 6));
      const favourite = Math.floor(random() * 5);
      for (let i = 0; i < rated; i++) {
        const star = random() < 0.7 ? favourite : Math.floor(random() * 5);
        ratings[star] = (ratings[star] ?? 0) + 1;
      }
      const [entry] = buildLeaderboard(
        [
          stats('agent_a', {
            total_tasks: Math.max(scored, rated),
            successful_tasks: Math.max(scored, rated),
            scored_tasks: scored,
            sum_overall_score: scored * random(),
            rated_tasks: rated,
            sum_user_rating: ratings.reduce((sum, count, i) => sum + count * (i + 1), 0),
            ratings,
          }),
        ],
        { minSample: 1, level: 0.5 + random() * 0.49 },
      );
      if (!entry) throw new Error('the leaderboard lost the agent');
      if (scored > 0) {
        expect(entry.score_lower).toBeLessThanOrEqual(entry.score_estimate as number);
        expect(entry.score_estimate).toBeLessThanOrEqual(entry.score_upper as number);
      } else expect(entry.score_estimate).toBeNull();
      if (rated > 0) {
        expect(entry.rating_lower, `ratings ${ratings}`).toBeLessThanOrEqual(entry.rating_estimate as number);
        expect(entry.rating_estimate).toBeLessThanOrEqual(entry.rating_upper as number);
      } else expect(entry.rating_estimate).toBeNull();
    }
  });

  it('shares a rank while intervals overlap and ranks below an agent whose lower bound beats its upper', () => {
    const rows = [
      // Lower bounds ~0.82 (90 of 100), upper ~0.6 (40 of 100 and 45 of 100): strong beats both, they tie.
      stats('agent_strong', {
        total_tasks: 100,
        successful_tasks: 100,
        scored_tasks: 100,
        sum_overall_score: 90,
      }),
      stats('agent_mid', {
        total_tasks: 100,
        successful_tasks: 100,
        scored_tasks: 100,
        sum_overall_score: 45,
      }),
      stats('agent_low', {
        total_tasks: 100,
        successful_tasks: 100,
        scored_tasks: 100,
        sum_overall_score: 40,
      }),
      stats('agent_new', { total_tasks: 1, successful_tasks: 1, scored_tasks: 1, sum_overall_score: 1 }),
    ];
    const board = buildLeaderboard(rows, { minSample: 3, level: 0.9 });
    expect(board.map((entry) => [entry.agent_id, entry.rank, entry.provisional])).toEqual([
      ['agent_strong', 1, false],
      ['agent_mid', 2, false],
      ['agent_low', 2, false],
      ['agent_new', null, true],
    ]);
  });

  it('computes cost efficiency against the cheapest agent: score × cheapest cost / own cost', () => {
    const board = buildLeaderboard(
      [
        stats('agent_a', {
          total_tasks: 2,
          successful_tasks: 2,
          scored_tasks: 2,
          sum_overall_score: 1.6,
          total_cost: 0.4,
          priced_tasks: 2,
        }),
        stats('agent_b', {
          total_tasks: 2,
          successful_tasks: 2,
          scored_tasks: 2,
          sum_overall_score: 1.2,
          total_cost: 0.1,
          priced_tasks: 2,
        }),
      ],
      options,
    );
    const byId = Object.fromEntries(board.map((entry) => [entry.agent_id, entry]));
    // a: 0.8 × (0.05 / 0.2) = 0.2; b is the cheapest: 0.6 × 1.
    expect(byId.agent_a).toMatchObject({
      avg_overall_score: 0.8,
      avg_cost_per_task: 0.2,
      cost_efficiency_score: 0.2,
    });
    expect(byId.agent_b).toMatchObject({
      avg_overall_score: 0.6,
      avg_cost_per_task: 0.05,
      cost_efficiency_score: 0.6,
    });
  });

  it('averages cost over priced tasks only and leaves an unpriced agent without cost figures', () => {
    const board = buildLeaderboard(
      [
        // 4 tasks, 2 priced at 0.1 in all: 0.05 per priced task, not 0.025.
        stats('agent_a', {
          total_tasks: 4,
          successful_tasks: 4,
          scored_tasks: 4,
          sum_overall_score: 3.2,
          total_cost: 0.1,
          priced_tasks: 2,
          total_tokens: 3000,
          metered_tasks: 3,
        }),
        // Nothing priced: unknown, neither free (cost 0, full cost efficiency) nor the cheapest.
        stats('agent_b', {
          total_tasks: 3,
          successful_tasks: 3,
          scored_tasks: 3,
          sum_overall_score: 2.7,
        }),
        stats('agent_c', {
          total_tasks: 2,
          successful_tasks: 2,
          scored_tasks: 2,
          sum_overall_score: 1.2,
          total_cost: 0.2,
          priced_tasks: 2,
          metered_tasks: 2,
        }),
      ],
      options,
    );
    const byId = Object.fromEntries(board.map((entry) => [entry.agent_id, entry]));
    expect(byId.agent_a).toMatchObject({
      total_cost: 0.1,
      avg_cost_per_task: 0.05,
      priced_tasks: 2,
      unpriced_tasks: 2,
      cost_efficiency_score: 0.8,
      total_tokens: 3000,
      unmetered_tasks: 1,
    });
    expect(byId.agent_b).toMatchObject({
      total_cost: null,
      avg_cost_per_task: null,
      priced_tasks: 0,
      unpriced_tasks: 3,
      cost_efficiency_score: null,
      total_tokens: null,
      unmetered_tasks: 3,
    });
    // c: 0.6 × (0.05 / 0.1).
    expect(byId.agent_c).toMatchObject({ avg_cost_per_task: 0.1, cost_efficiency_score: 0.3 });
  });

  it("ranks a hand-inserted row by its stored average counted once per task (the seed's troubleshooting INSERT)", () => {
    const [entry] = buildLeaderboard(
      [
        stats('agent_a', {
          total_tasks: 10,
          avg_overall_score: 0.85,
          first_task_at: null,
          last_task_at: null,
        }),
      ],
      { minSample: 3, level: 0.9 },
    );
    expect(entry).toMatchObject({ rank: 1, avg_overall_score: 0.85, scored_tasks: 10, days_active: 0 });
    expect(entry?.rating_lower).toBeNull();
  });

  it('reports success rate, averages and days active from the running sums, and honours the limit', () => {
    const board = buildLeaderboard(
      [
        stats('agent_a', {
          total_tasks: 4,
          successful_tasks: 3,
          failed_tasks: 1,
          total_duration_ms: 40_000,
          first_task_at: new Date('2025-03-01T10:00:00Z'),
          last_task_at: new Date('2025-03-03T09:00:00Z'),
        }),
        stats('agent_b'),
      ],
      { ...options, limit: 1 },
    );
    expect(board).toHaveLength(1);
    expect(board[0]).toMatchObject({ success_rate: 0.75, avg_duration_ms: 10_000, score_lower: null });
  });
});
