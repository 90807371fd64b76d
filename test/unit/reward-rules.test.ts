import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../src/errors.js';
import {
  applyRewardRules,
  DEFAULT_REWARD_CONFIG,
  parseRewardConfig,
  type RewardInput,
} from '../../src/rewards/reward-rules.js';

// An ordinary task: nothing earns or loses points.
const ordinary: RewardInput = {
  overallScore: 0.7,
  efficiencyScore: 0.5,
  userRating: 4,
  durationMs: 1_000,
  categoryMedianDurationMs: 1_000,
  totalTokens: 1_000,
  categoryMedianTokens: 1_000,
  failed: false,
  isFirstSuccessInCategory: false,
  recentScores: [],
};

function rulesApplied(input: Partial<RewardInput>, config = DEFAULT_REWARD_CONFIG): string[] {
  return applyRewardRules({ ...ordinary, ...input }, config).applied.map((reward) => reward.rule);
}

describe('applyRewardRules', () => {
  it('applies nothing to an ordinary task', () => {
    expect(applyRewardRules(ordinary)).toEqual({ applied: [], netPoints: 0 });
  });

  it('stacks every bonus for an excellent, fast, efficient first success on a streak', () => {
    const outcome = applyRewardRules({
      ...ordinary,
      overallScore: 0.92,
      efficiencyScore: 0.85,
      durationMs: 400,
      isFirstSuccessInCategory: true,
      recentScores: [0.8, 0.9, 0.76, 0.95],
    });
    expect(outcome.applied).toEqual([
      { rule: 'excellence', points: 10, reason: 'overall score 0.92 >= 0.9' },
      { rule: 'consistency', points: 2, reason: 'last 5 scores in the category all >= 0.75' },
      { rule: 'speed', points: 2, reason: "took 0.4x the category's median duration" },
      { rule: 'efficiency', points: 1, reason: 'efficiency score 0.85 >= 0.8' },
      { rule: 'first_success', points: 2, reason: 'first successful task in the category' },
    ]);
    // 10 + 2 + 2 + 1 + 2
    expect(outcome.netPoints).toBe(17);
  });

  it('awards excellence from exactly the threshold', () => {
    expect(rulesApplied({ overallScore: 0.9 })).toEqual(['excellence']);
    expect(rulesApplied({ overallScore: 0.89 })).toEqual([]);
  });

  it('needs a full streak of this score and the four before it for consistency', () => {
    expect(rulesApplied({ overallScore: 0.8, recentScores: [0.8, 0.8, 0.8] })).toEqual([]);
    expect(rulesApplied({ overallScore: 0.8, recentScores: [0.8, 0.7, 0.8, 0.8] })).toEqual([]);
    expect(rulesApplied({ overallScore: 0.7, recentScores: [0.8, 0.8, 0.8, 0.8] })).toEqual([]);
    // only the four newest previous scores count
    expect(rulesApplied({ overallScore: 0.8, recentScores: [0.8, 0.8, 0.8, 0.8, 0.1] })).toEqual([
      'consistency',
    ]);
  });

  it('withholds speed and efficiency bonuses from low-quality work', () => {
    expect(rulesApplied({ overallScore: 0.5, efficiencyScore: 0.95, durationMs: 100 })).toEqual([]);
    expect(rulesApplied({ overallScore: null, efficiencyScore: 0.95, durationMs: 100 })).toEqual([]);
    expect(rulesApplied({ overallScore: 0.6, efficiencyScore: 0.95, durationMs: 500 })).toEqual([
      'speed',
      'efficiency',
    ]);
  });

  it('penalises poor, wasteful and slow work', () => {
    const outcome = applyRewardRules({
      ...ordinary,
      overallScore: 0.35,
      totalTokens: 3_000,
      durationMs: 3_500,
    });
    expect(outcome.applied).toEqual([
      { rule: 'poor_quality', points: -5, reason: 'overall score 0.35 < 0.4' },
      { rule: 'wasteful', points: -3, reason: "used 3x the category's median tokens" },
      { rule: 'too_slow', points: -3, reason: "took 3.5x the category's median duration" },
    ]);
    expect(outcome.netPoints).toBe(-11);
  });

  it('does not call exactly 0.4 poor quality', () => {
    expect(rulesApplied({ overallScore: 0.4 })).toEqual([]);
  });

  it('counts a one-star rating as poor quality even when the score is fair', () => {
    const outcome = applyRewardRules({ ...ordinary, overallScore: 0.6, userRating: 1 });
    expect(outcome.applied).toEqual([{ rule: 'poor_quality', points: -5, reason: 'user rating 1 <= 1' }]);
  });

  it('gives a failed task only the failure penalty', () => {
    const outcome = applyRewardRules({
      ...ordinary,
      failed: true,
      overallScore: 0.95,
      isFirstSuccessInCategory: true,
      totalTokens: 10_000,
    });
    expect(outcome).toEqual({
      applied: [{ rule: 'failure', points: -10, reason: 'the task failed' }],
      netPoints: -10,
    });
  });

  it('skips duration and token rules without a positive category median', () => {
    expect(rulesApplied({ overallScore: 0.7, durationMs: 10, categoryMedianDurationMs: null })).toEqual([]);
    expect(rulesApplied({ totalTokens: 50_000, categoryMedianTokens: 0 })).toEqual([]);
    expect(rulesApplied({ durationMs: null })).toEqual([]);
  });
});

describe('applyRewardRules against par (the team scores)', () => {
  // 20 recent team scores, five each of 0.75, 0.8, 0.88 and 0.95: median (0.8 + 0.88) / 2 = 0.84.
  const team = [0.75, 0.8, 0.88, 0.95].flatMap((score) => Array.from({ length: 5 }, () => score));

  it('awards excellence to a score that beats more than three quarters of the team, and takes as much below a quarter', () => {
    // 0.95 beats 15 and ties 5 (counting half): 17.5 / 20.
    const top = applyRewardRules({ ...ordinary, overallScore: 0.95, teamScores: team });
    expect(top.applied).toEqual([
      {
        rule: 'excellence',
        points: 10,
        reason: "overall score 0.95 in the team's top quarter (beats 88% of its recent scores)",
      },
    ]);
    // 0.75 ties the lowest five: 2.5 / 20.
    const bottom = applyRewardRules({ ...ordinary, overallScore: 0.75, teamScores: team });
    expect(bottom.applied).toEqual([
      {
        rule: 'below_par',
        points: -10,
        reason: "overall score 0.75 in the team's bottom quarter (beats 13% of its recent scores)",
      },
    ]);
    // 0.8 stands at 7.5 / 20 and 0.88 at 12.5 / 20: nothing.
    for (const overallScore of [0.8, 0.84, 0.88]) {
      expect(rulesApplied({ overallScore, teamScores: team })).toEqual([]);
    }
  });

  it('counts ties half, so a team of equal scores puts an equal score at par', () => {
    const flat = Array.from({ length: 20 }, () => 0.9);
    expect(rulesApplied({ overallScore: 0.9, teamScores: flat })).toEqual([]);
    expect(rulesApplied({ overallScore: 0.91, teamScores: flat })).toEqual(['excellence']);
    expect(rulesApplied({ overallScore: 0.89, teamScores: flat })).toEqual(['below_par']);
  });

  it('judges a generous and a strict evaluator alike: the same standing in the team earns the same', () => {
    const strict = team.map((score) => Math.round((score - 0.35) * 100) / 100);
    expect(rulesApplied({ overallScore: 0.6, teamScores: strict })).toEqual(['excellence']);
    expect(rulesApplied({ overallScore: 0.95, teamScores: team })).toEqual(['excellence']);
    // Without par (fewer than 20 team scores), 0.6 earns nothing: the fixed threshold is 0.9.
    expect(rulesApplied({ overallScore: 0.6, teamScores: strict.slice(0, 19) })).toEqual([]);
  });

  it("needs the team's median for a consistency streak and for speed and efficiency bonuses", () => {
    const streak = { recentScores: [0.9, 0.89, 0.95, 0.88] };
    expect(rulesApplied({ overallScore: 0.85, ...streak, teamScores: team })).toEqual(['consistency']);
    expect(rulesApplied({ overallScore: 0.83, ...streak, teamScores: team })).toEqual([]);
    const fast = { efficiencyScore: 0.9, durationMs: 100 };
    expect(rulesApplied({ overallScore: 0.85, ...fast, teamScores: team })).toEqual(['speed', 'efficiency']);
    expect(rulesApplied({ overallScore: 0.83, ...fast, teamScores: team })).toEqual([]);
  });
});

describe('parseRewardConfig', () => {
  it('returns the defaults for empty text', () => {
    expect(parseRewardConfig('')).toEqual(DEFAULT_REWARD_CONFIG);
  });

  it('merges partial overrides over the defaults', () => {
    const config = parseRewardConfig('{"excellence": {"points": 20}, "failure": {"points": -15}}');
    expect(config.excellence).toEqual({ minOverallScore: 0.9, points: 20 });
    expect(config.failure).toEqual({ points: -15 });
    expect(config.speed).toEqual(DEFAULT_REWARD_CONFIG.speed);
    expect(applyRewardRules({ ...ordinary, overallScore: 0.95 }, config).netPoints).toBe(20);
  });

  it('sets the below-par penalty', () => {
    const config = parseRewardConfig('{"belowPar": {"points": -4}}');
    const team = Array.from({ length: 20 }, (_, i) => 0.7 + i / 100);
    expect(applyRewardRules({ ...ordinary, overallScore: 0.6, teamScores: team }, config).netPoints).toBe(-4);
  });

  it('changes thresholds', () => {
    const config = parseRewardConfig(
      '{"consistency": {"streak": 2, "minScore": 0.6}, "bonusMinOverallScore": 0.5}',
    );
    expect(rulesApplied({ overallScore: 0.65, recentScores: [0.7] }, config)).toEqual(['consistency']);
  });

  it('rejects invalid JSON, unknown keys, positive penalties and negative bonuses', () => {
    expect(() => parseRewardConfig('{')).toThrow(ValidationError);
    expect(() => parseRewardConfig('{"excelence": {"points": 1}}')).toThrow(ValidationError);
    expect(() => parseRewardConfig('{"failure": {"points": 10}}')).toThrow(ValidationError);
    expect(() => parseRewardConfig('{"speed": {"points": -3}}')).toThrow(ValidationError);
    expect(() => parseRewardConfig('{"belowPar": {"points": 5}}')).toThrow(ValidationError);
    expect(() => parseRewardConfig('{"excellence": {"minOverallScore": 1.5}}')).toThrow(ValidationError);
  });
});
