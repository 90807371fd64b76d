import { describe, expect, it } from 'vitest';
import { createRng } from '../../src/lib/random.js';
import { chooseAgent } from '../../src/routing/router.js';
import {
  combineAgentStats,
  computeOutcomeReward,
  type DecisionOutcome,
  findPosteriorBest,
  summarizeRoutingQuality,
} from '../../src/routing/routing.js';

function outcome(extra: Partial<DecisionOutcome>): DecisionOutcome {
  return {
    createdAt: new Date('2025-03-01T10:00:00Z'),
    reason: 'thompson',
    chosenAgentId: 'agent_a',
    bestAgentId: 'agent_a',
    taskId: 'task',
    taskStatus: 'completed',
    userRating: null,
    judgeScore: null,
    peerScore: null,
    ...extra,
  };
}

describe('combineAgentStats', () => {
  it('sums rewards and weights mean cost and duration by the tasks behind them', () => {
    const [agent] = combineAgentStats([
      {
        agentId: 'agent_a',
        category: 'research',
        n: 2,
        rewardSum: 1.5,
        rewardSquareSum: 1.25,
        meanCost: 0.1,
        costCount: 1,
        meanDurationMs: 1000,
        durationCount: 3,
      },
      {
        agentId: 'agent_a',
        category: 'writing',
        n: 1,
        rewardSum: 0.5,
        rewardSquareSum: 0.25,
        meanCost: 0.4,
        costCount: 3,
        meanDurationMs: null,
        durationCount: 0,
      },
    ]);
    expect(agent).toMatchObject({
      agentId: 'agent_a',
      n: 3,
      rewardSum: 2,
      rewardSquareSum: 1.5,
      meanDurationMs: 1000,
    });
    expect(agent?.meanCost).toBeCloseTo((0.1 + 1.2) / 4, 12);
  });
});

describe('computeOutcomeReward', () => {
  it('is 0 for a failure, null until feedback exists, and blends rating, judge and peer scores', () => {
    expect(computeOutcomeReward(outcome({ taskStatus: 'failed' }))).toBe(0);
    expect(computeOutcomeReward(outcome({ taskStatus: 'running', userRating: 5 }))).toBeNull();
    expect(computeOutcomeReward(outcome({}))).toBeNull();
    expect(computeOutcomeReward(outcome({ userRating: 4 }))).toBe(0.75);
    // (0.5 × 1 + 0.3 × 0.5) / 0.8
    expect(computeOutcomeReward(outcome({ userRating: 5, judgeScore: 0.5 }))).toBeCloseTo(0.8125, 10);
  });
});

describe('summarizeRoutingQuality', () => {
  it('groups by UTC day, leaves mentions out of routed figures, and counts choices of the posterior-best agent', () => {
    const summary = summarizeRoutingQuality([
      outcome({ userRating: 5 }),
      outcome({ chosenAgentId: 'agent_b', userRating: 3 }),
      outcome({ reason: 'mention', chosenAgentId: 'agent_c', userRating: 1 }),
      outcome({ createdAt: new Date('2025-03-02T23:59:00Z'), taskStatus: 'failed' }),
      outcome({ createdAt: new Date('2025-03-02T01:00:00Z'), taskStatus: null, taskId: null }),
    ]);
    expect(summary.days).toEqual([
      { day: '2025-03-01', decisions: 3, routed: 2, rewarded: 2, meanReward: 0.75, bestAgentShare: 0.5 },
      { day: '2025-03-02', decisions: 2, routed: 2, rewarded: 1, meanReward: 0, bestAgentShare: 1 },
    ]);
    expect(summary.overall).toEqual({
      decisions: 5,
      routed: 4,
      rewarded: 3,
      meanReward: 0.5,
      bestAgentShare: 0.75,
    });
  });
});

describe('findPosteriorBest', () => {
  it('names the eligible agent with the highest posterior mean, whoever the draw chose', () => {
    const decision = chooseAgent({
      category: 'research',
      candidates: [
        { agentId: 'agent_a', nickname: 'a', active: true, load: 0 },
        { agentId: 'agent_b', nickname: 'b', active: true, load: 0 },
        { agentId: 'agent_c', nickname: 'c', active: false, load: 0 },
      ],
      pairStats: [
        { agentId: 'agent_a', category: 'research', n: 20, rewardSum: 16, meanCost: 1 },
        { agentId: 'agent_b', category: 'research', n: 20, rewardSum: 10, meanCost: 0.1 },
        { agentId: 'agent_c', category: 'research', n: 20, rewardSum: 19 },
      ],
      agentStats: [
        { agentId: 'agent_a', n: 20, rewardSum: 16, meanCost: 1 },
        { agentId: 'agent_b', n: 20, rewardSum: 10, meanCost: 0.1 },
        { agentId: 'agent_c', n: 20, rewardSum: 19 },
      ],
      random: createRng(4),
    });
    expect(findPosteriorBest(decision)?.agentId).toBe('agent_a');
    const limited = chooseAgent({
      category: 'research',
      candidates: [
        { agentId: 'agent_a', nickname: 'a', active: true, load: 0 },
        { agentId: 'agent_b', nickname: 'b', active: true, load: 0 },
      ],
      pairStats: [
        { agentId: 'agent_a', category: 'research', n: 20, rewardSum: 16, meanCost: 1 },
        { agentId: 'agent_b', category: 'research', n: 20, rewardSum: 10, meanCost: 0.1 },
      ],
      agentStats: [],
      constraints: { maxCost: 0.5 },
      random: createRng(4),
    });
    expect(findPosteriorBest(limited)?.agentId).toBe('agent_b');
  });
});
