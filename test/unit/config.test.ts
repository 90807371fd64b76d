import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { DEFAULT_OVERALL_WEIGHTS } from '../../src/evaluation/scores.js';
import { DEFAULT_REVIEWERS } from '../../src/reviews/peer-review.js';
import { DEFAULT_REWARD_CONFIG } from '../../src/rewards/reward-rules.js';

const BASE = { MERIT_DATA_DIR: '/nonexistent' };

describe('scoring configuration', () => {
  it('gives the default weights, reward rules and reviewers when nothing is set', () => {
    const { evaluation } = loadConfig(BASE);
    expect(evaluation.weights).toEqual(DEFAULT_OVERALL_WEIGHTS);
    expect(evaluation.rewards).toEqual(DEFAULT_REWARD_CONFIG);
    expect(evaluation.peerReviewers).toEqual(DEFAULT_REVIEWERS);
  });

  it('parses MERIT_OVERALL_WEIGHTS, MERIT_REWARD_RULES and MERIT_REVIEWERS once, at load', () => {
    const { evaluation } = loadConfig({
      ...BASE,
      MERIT_OVERALL_WEIGHTS: 'peer=0,rating=0.7',
      MERIT_REWARD_RULES: '{"failure": {"points": -15}}',
      MERIT_REVIEWERS: 'agent-kai:kai:a careful engineer',
    });
    expect(evaluation.weights).toEqual({ ...DEFAULT_OVERALL_WEIGHTS, peer: 0, userRating: 0.7 });
    expect(evaluation.rewards.failure.points).toBe(-15);
    expect(evaluation.rewards.excellence).toEqual(DEFAULT_REWARD_CONFIG.excellence);
    expect(evaluation.peerReviewers).toEqual([
      { agentId: 'agent-kai', nickname: 'kai', perspective: 'a careful engineer' },
    ]);
  });

  it.each([
    ['MERIT_OVERALL_WEIGHTS', 'speed=0.2', 'overall_weights: cannot read "speed=0.2"'],
    ['MERIT_OVERALL_WEIGHTS', 'rating=0,accuracy=0,relevance=0,completeness=0,peer=0', 'positive weight'],
    ['MERIT_REWARD_RULES', '{', 'reward_config: is not valid JSON'],
    ['MERIT_REWARD_RULES', '{"failure": {"points": 10}}', 'reward_config:'],
    ['MERIT_REVIEWERS', '[', 'reviewers: is not valid JSON'],
  ])('fails at load when %s is %j, naming the variable', (name, value, message) => {
    expect(() => loadConfig({ ...BASE, [name]: value })).toThrow(`Invalid configuration:\n  ${name}: `);
    expect(() => loadConfig({ ...BASE, [name]: value })).toThrow(message);
  });
});
