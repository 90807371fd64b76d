import { describe, expect, it } from 'vitest';
import type { AgentStats, PairStats, RoutingCandidate } from '../../src/routing/router.js';
import {
  computeTeamSuccessMean,
  correctForPendingScores,
  estimateCandidates,
} from '../../src/routing/router.js';
import { combineAgentStats } from '../../src/routing/routing.js';

const candidate = (agentId: string): RoutingCandidate => ({
  agentId,
  nickname: agentId.replace('agent_', ''),
  active: true,
  load: 0,
});

describe('correction for pending scores', () => {
  // 2 failures (0 each), 3 scored successes summing 2.4, 6 completed tasks whose score has not arrived.
  const record = { n: 5, rewardSum: 2.4, failures: 2, unscored: 6 };

  it('counts each unscored success at the mean scored success, smoothed by one observation at the prior', () => {
    const corrected = correctForPendingScores(record, 'impute', 0.6);
    // (2.4 + 0.6) / (3 + 1) = 0.75 per unscored success
    expect(corrected.n).toBe(11);
    expect(corrected.rewardSum).toBeCloseTo(2.4 + 6 * 0.75, 12);
  });

  it('downweight counts failures only as often as successes are scored', () => {
    const corrected = correctForPendingScores(record, 'downweight');
    // 2 × (3 + 1) / (3 + 6 + 1) = 0.8 failures beside the 3 scored successes
    expect(corrected.n).toBeCloseTo(3.8, 12);
    expect(corrected.failures).toBeCloseTo(0.8, 12);
    expect(corrected.rewardSum).toBe(2.4);
  });

  it('leaves a record alone when nothing is pending, when it carries no counts, or with none', () => {
    expect(correctForPendingScores({ ...record, unscored: 0 }, 'impute', 0.6)).toEqual({
      ...record,
      unscored: 0,
    });
    expect(correctForPendingScores({ n: 4, rewardSum: 2 }, 'impute', 0.6)).toEqual({ n: 4, rewardSum: 2 });
    expect(correctForPendingScores(record, 'none', 0.6)).toBe(record);
  });

  it("takes the team's mean scored success as the prior (0.5 before any)", () => {
    const agents: AgentStats[] = [
      { agentId: 'agent_a', n: 4, rewardSum: 2.4, failures: 1 },
      { agentId: 'agent_b', n: 2, rewardSum: 1.2, failures: 1 },
    ];
    // (2.4 + 1.2) / (3 + 1)
    expect(computeTeamSuccessMean(agents)).toBeCloseTo(0.9, 12);
    expect(computeTeamSuccessMean([])).toBe(0.5);
  });

  it('ranks a busy agent by its successes as well as its failures, and still reports what it observed', () => {
    // agent_a: 2 failures known at once, 3 scores of 0.8 in, 10 successes awaiting their scores;
    // agent_b: 5 scores of 0.6, nothing pending. Recorded means: 0.48 against 0.6.
    const pairStats: PairStats[] = [
      { agentId: 'agent_a', category: 'research', n: 5, rewardSum: 2.4, failures: 2, unscored: 10 },
      { agentId: 'agent_b', category: 'research', n: 5, rewardSum: 3, failures: 0, unscored: 0 },
    ];
    const request = {
      category: 'research',
      candidates: [candidate('agent_a'), candidate('agent_b')],
      pairStats,
      agentStats: combineAgentStats(
        pairStats.map((stats) => ({ ...stats, rewardSquareSum: 0, costCount: 0, durationCount: 0 })),
      ),
    };
    const expected = (mode: 'none' | 'impute') =>
      Object.fromEntries(
        estimateCandidates(request, { pendingCorrection: mode }).map((e) => [e.agentId, e.expectedScore]),
      );
    const recorded = expected('none');
    expect(recorded.agent_a).toBeLessThan(recorded.agent_b ?? 0);
    // Corrected, agent_a's record is (2.4 + 10 × (2.4 + 0.675) / 4) / 15 = 0.6725 (its failure rate is
    // 2 in 15, not 2 in 5), above agent_b's 0.6; the team's mean scored success is 5.4 / 8 = 0.675.
    const corrected = expected('impute');
    expect(corrected.agent_a).toBeGreaterThan(corrected.agent_b ?? 1);
    const [evaluation] = estimateCandidates(request);
    expect(evaluation).toMatchObject({ agentId: 'agent_a', observations: 5 });
    expect(evaluation?.expectedScore).toBeCloseTo(corrected.agent_a ?? 0, 12);
  });
});

describe('combineAgentStats with pending scores', () => {
  it("sums each agent's failures and unscored tasks over its categories", () => {
    const [agent] = combineAgentStats([
      {
        agentId: 'agent_a',
        category: 'research',
        n: 3,
        rewardSum: 1.5,
        rewardSquareSum: 1,
        failures: 1,
        unscored: 4,
        meanCost: null,
        costCount: 0,
        meanDurationMs: null,
        durationCount: 0,
      },
      {
        agentId: 'agent_a',
        category: 'writing',
        n: 2,
        rewardSum: 0.5,
        rewardSquareSum: 0.25,
        failures: 1,
        unscored: 1,
        meanCost: null,
        costCount: 0,
        meanDurationMs: null,
        durationCount: 0,
      },
    ]);
    expect(agent).toMatchObject({ agentId: 'agent_a', n: 5, failures: 2, unscored: 5 });
  });
});
