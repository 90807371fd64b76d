import { describe, expect, it } from 'vitest';
import {
  type ArenaBattle,
  type ArenaOutcome,
  computeArenaLeaderboard,
  fitArenaRatings,
  quantileOfSorted,
  rankByIntervals,
  tallyPairs,
} from '../../src/arena/bradley-terry.js';
import { createRng } from '../../src/lib/random.js';

function repeat(agentA: string, agentB: string, winner: ArenaOutcome, times: number): ArenaBattle[] {
  return Array.from({ length: times }, () => ({ agentA, agentB, winner }));
}

/** Battles between random pairs, each won with the Bradley-Terry probability of the true ratings. */
function simulateBattles(truth: Record<string, number>, count: number, random: () => number): ArenaBattle[] {
  const agents = Object.keys(truth);
  const battles: ArenaBattle[] = [];
  for (let n = 0; n < count; n++) {
    const a = agents[Math.floor(random() * agents.length)] as string;
    let b = a;
    while (b === a) b = agents[Math.floor(random() * agents.length)] as string;
    const p = 1 / (1 + 10 ** (((truth[b] as number) - (truth[a] as number)) / 400));
    // Ties that keep A's expected points at p, so they carry no bias (a tie is half a win).
    const tie = 0.3 * Math.min(p, 1 - p);
    const draw = random();
    const winner: ArenaOutcome =
      draw < p - tie / 2 ? 'model_a' : draw < p + tie / 2 ? (draw < p ? 'tie' : 'tie (bothbad)') : 'model_b';
    battles.push({ agentA: a, agentB: b, winner });
  }
  return battles;
}

describe('Bradley-Terry ratings', () => {
  it('matches the closed form for two players: rating difference = 400 log10(p / (1 - p))', () => {
    // 7 wins, 2 losses, 2 ties (one of each kind): p = (7 + 1) / 11.
    const battles = [
      ...repeat('alpha', 'beta', 'model_a', 4),
      ...repeat('beta', 'alpha', 'model_b', 3),
      ...repeat('alpha', 'beta', 'model_b', 2),
      ...repeat('alpha', 'beta', 'tie', 1),
      ...repeat('beta', 'alpha', 'tie (bothbad)', 1),
    ];
    const ratings = fitArenaRatings(battles);
    const p = 8 / 11;
    const expected = 400 * Math.log10(p / (1 - p));
    const alpha = ratings.get('alpha') as number;
    const beta = ratings.get('beta') as number;
    expect(alpha - beta).toBeCloseTo(expected, 1);
    expect(expected).toBeCloseTo(170.34, 1);
    expect((alpha + beta) / 2).toBeCloseTo(1000, 9);
  });

  it('gives equal ratings of 1000 when two agents only tied', () => {
    const ratings = fitArenaRatings([...repeat('a', 'b', 'tie', 3), ...repeat('a', 'b', 'tie (bothbad)', 3)]);
    expect(ratings.get('a')).toBeCloseTo(1000, 9);
    expect(ratings.get('b')).toBeCloseTo(1000, 9);
  });

  it('counts both tie kinds alike', () => {
    const base = [
      ...repeat('a', 'b', 'model_a', 5),
      ...repeat('b', 'c', 'model_a', 4),
      ...repeat('a', 'c', 'model_b', 1),
    ];
    const withTies = fitArenaRatings([...base, ...repeat('a', 'c', 'tie', 2)]);
    const withBadTies = fitArenaRatings([...base, ...repeat('a', 'c', 'tie (bothbad)', 2)]);
    for (const agent of ['a', 'b', 'c'])
      expect(withTies.get(agent)).toBeCloseTo(withBadTies.get(agent) as number, 9);
  });

  it('recovers a three-player chain on literal data, mean 1000, order-independent', () => {
    const battles = [
      ...repeat('gpt', 'claude', 'model_a', 6),
      ...repeat('gpt', 'claude', 'model_b', 4),
      ...repeat('claude', 'llama', 'model_a', 8),
      ...repeat('claude', 'llama', 'model_b', 2),
      ...repeat('gpt', 'llama', 'model_a', 9),
      ...repeat('gpt', 'llama', 'model_b', 1),
    ];
    const ratings = fitArenaRatings(battles);
    const reversed = fitArenaRatings([...battles].reverse());
    const values = ['gpt', 'claude', 'llama'].map((agent) => ratings.get(agent) as number);
    expect(values[0]).toBeGreaterThan(values[1] as number);
    expect(values[1]).toBeGreaterThan(values[2] as number);
    expect(values.reduce((sum, value) => sum + value, 0) / 3).toBeCloseTo(1000, 9);
    for (const agent of ['gpt', 'claude', 'llama'])
      expect(reversed.get(agent)).toBeCloseTo(ratings.get(agent) as number, 6);
    // The likelihood equations hold: each agent's expected points equal its points.
    const theta = (agent: string) => ((ratings.get(agent) as number) * Math.LN10) / 400;
    const expectedPoints = (a: string, b: string, games: number) =>
      games / (1 + Math.exp(theta(b) - theta(a)));
    expect(expectedPoints('gpt', 'claude', 10) + expectedPoints('gpt', 'llama', 10)).toBeCloseTo(15, 2);
  });

  it('keeps an agent that never lost finite and on top', () => {
    const battles = [
      ...repeat('champ', 'a', 'model_a', 5),
      ...repeat('a', 'b', 'model_a', 3),
      ...repeat('a', 'b', 'model_b', 2),
    ];
    const ratings = fitArenaRatings(battles);
    const champ = ratings.get('champ') as number;
    expect(Number.isFinite(champ)).toBe(true);
    expect(champ).toBeGreaterThan((ratings.get('a') as number) + 400);
    const board = computeArenaLeaderboard(battles, { rounds: 100, seed: 3 });
    expect(board.ratings[0]?.agentId).toBe('champ');
    for (const rating of board.ratings) {
      expect(Number.isFinite(rating.lower)).toBe(true);
      expect(Number.isFinite(rating.upper)).toBe(true);
    }
  });

  it('tallies pair records with ties as half points', () => {
    const pairs = tallyPairs([
      { agentA: 'a', agentB: 'b', winner: 'model_a' },
      { agentA: 'b', agentB: 'a', winner: 'model_a' },
      { agentA: 'a', agentB: 'b', winner: 'tie (bothbad)' },
      { agentA: 'a', agentB: 'c', winner: 'model_b' },
    ]);
    expect(pairs.a?.b).toEqual({ battles: 3, wins: 1, ties: 1, winRate: 0.5 });
    expect(pairs.b?.a).toEqual({ battles: 3, wins: 1, ties: 1, winRate: 0.5 });
    expect(pairs.c?.a).toEqual({ battles: 1, wins: 1, ties: 0, winRate: 1 });
    expect(pairs.b?.c).toBeUndefined();
  });

  it('ranks by intervals: 1 + the agents whose lower bound is above this upper bound', () => {
    expect(
      rankByIntervals([
        { lower: 1100, upper: 1200 },
        { lower: 1050, upper: 1150 },
        { lower: 900, upper: 1000 },
        { lower: 700, upper: 1080 },
        { lower: null, upper: null },
      ]),
    ).toEqual([1, 1, 3, 2, 1]);
  });

  it('interpolates quantiles linearly', () => {
    expect(quantileOfSorted([1, 2, 3, 4], 0.5)).toBe(2.5);
    expect(quantileOfSorted([10, 20], 0.975)).toBeCloseTo(19.75, 10);
    expect(quantileOfSorted([], 0.5)).toBeNull();
  });
});

describe('the bootstrap', () => {
  const truth = { a: 1250, b: 1100, c: 1050, d: 1000, e: 900, f: 700 };

  it('is reproducible with a seed and changes with another seed', () => {
    const battles = simulateBattles(truth, 300, createRng(11));
    const first = computeArenaLeaderboard(battles, { rounds: 100, seed: 7 });
    const again = computeArenaLeaderboard(battles, { rounds: 100, seed: 7 });
    const other = computeArenaLeaderboard(battles, { rounds: 100, seed: 8 });
    expect(again).toEqual(first);
    expect(other.ratings.map((r) => r.rating)).toEqual(first.ratings.map((r) => r.rating));
    expect(other.ratings.map((r) => r.lower)).not.toEqual(first.ratings.map((r) => r.lower));
    expect(first.bootstrapRounds).toBe(100);
    expect(first.seed).toBe(7);
    expect(first.totalBattles).toBe(300);
    expect(first.ratings.reduce((sum, r) => sum + r.battles, 0)).toBe(600);
  });

  it('recovers known strengths within its 95% intervals in at least 85% of cases over 40 simulations', () => {
    let inside = 0;
    let total = 0;
    let widthSum = 0;
    for (let simulation = 0; simulation < 40; simulation++) {
      const battles = simulateBattles(truth, 600, createRng(1000 + simulation));
      const board = computeArenaLeaderboard(battles, { rounds: 100, seed: simulation });
      for (const rating of board.ratings) {
        const real = truth[rating.agentId as keyof typeof truth];
        total++;
        if ((rating.lower as number) <= real && real <= (rating.upper as number)) inside++;
        widthSum += (rating.upper as number) - (rating.lower as number);
      }
    }
    const coverage = inside / total;
    expect(total).toBe(240);
    expect(coverage).toBeGreaterThanOrEqual(0.85);
    // Intervals that cover because they are uselessly wide would prove nothing.
    expect(widthSum / total).toBeLessThan(200);
    console.log(
      `coverage ${(coverage * 100).toFixed(1)}%, mean width ${(widthSum / total).toFixed(0)} points`,
    );
  });

  it('orders agents as their true strengths when battles are plentiful', () => {
    const board = computeArenaLeaderboard(simulateBattles(truth, 4000, createRng(5)), { rounds: 100 });
    expect(board.ratings.map((rating) => rating.agentId)).toEqual(['a', 'b', 'c', 'd', 'e', 'f']);
    expect(board.ratings[0]?.rank).toBe(1);
    expect(board.ratings.at(-1)?.rank).toBe(6);
    for (const rating of board.ratings) {
      expect(Math.abs(rating.rating - truth[rating.agentId as keyof typeof truth])).toBeLessThan(40);
    }
  });

  it('answers an empty leaderboard for no battles', () => {
    const board = computeArenaLeaderboard([], { rounds: 100 });
    expect(board.ratings).toEqual([]);
    expect(board.totalBattles).toBe(0);
  });
});
