import { describe, expect, it } from 'vitest';
import { LlmError } from '../../src/errors.js';
import {
  decideFailure,
  describeJobState,
  isTaskSampled,
  type RewardContext,
  rescoreTask,
} from '../../src/evaluation/evaluation.js';
import { DEFAULT_OVERALL_WEIGHTS } from '../../src/evaluation/scores.js';
import { DEFAULT_REWARD_CONFIG } from '../../src/rewards/reward-rules.js';

const BEFORE = {
  accuracy_score: null,
  relevance_score: null,
  completeness_score: null,
  efficiency_score: 0.5,
  peer_score: null,
  user_rating: 5,
  overall_score: 0.83,
  reward_points: 0,
  score_sources: { efficiency: { source: 'formula' as const, version: 'efficiency-1' } },
};
const CONTEXT: RewardContext = {
  durationMs: 10_000,
  totalTokens: 1000,
  categoryMedianDurationMs: 30_000,
  categoryMedianTokens: 1000,
  isFirstSuccessInCategory: true,
  recentScores: [],
};
const OPTIONS = { weights: DEFAULT_OVERALL_WEIGHTS, rewards: DEFAULT_REWARD_CONFIG };

describe('isTaskSampled', () => {
  const ids = Array.from(
    { length: 2000 },
    (_, i) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
  );

  it('gives the same answer for the same task every time', () => {
    expect(ids.map((id) => isTaskSampled(id, 0.3))).toEqual(ids.map((id) => isTaskSampled(id, 0.3)));
  });

  it('samples close to the configured share, and all or nothing at 1 and 0', () => {
    const share = ids.filter((id) => isTaskSampled(id, 0.3)).length / ids.length;
    expect(share).toBeGreaterThan(0.25);
    expect(share).toBeLessThan(0.35);
    expect(ids.every((id) => isTaskSampled(id, 1))).toBe(true);
    expect(ids.some((id) => isTaskSampled(id, 0))).toBe(false);
  });
});

describe('rescoreTask', () => {
  it('recombines the overall score with the user rating and records every source', () => {
    const after = rescoreTask(
      BEFORE,
      {
        accuracy: 1,
        relevance: 1,
        completeness: 1,
        sources: { accuracy: { source: 'judge', version: 'judge-1:m' } },
      },
      CONTEXT,
      OPTIONS,
    );
    // (0.4*1 + 0.45*1 + 0.05*0.5) / 0.9
    expect(after.overall_score).toBe(0.97);
    expect(after.score_sources).toMatchObject({
      efficiency: { source: 'formula' },
      accuracy: { source: 'judge', version: 'judge-1:m' },
      overall: { source: 'formula' },
    });
    expect(after.reward_rules.map((rule) => rule.rule)).toEqual(['excellence', 'speed', 'first_success']);
    // excellence 10 + speed 2 + first success 2
    expect(after.reward_points).toBe(14);
  });

  it('keeps a dimension the change leaves out', () => {
    const after = rescoreTask(
      { ...BEFORE, accuracy_score: 0.4 },
      { peer: 0.5, sources: {} },
      CONTEXT,
      OPTIONS,
    );
    expect(after.accuracy_score).toBe(0.4);
    expect(after.peer_score).toBe(0.5);
  });
});

describe('decideFailure', () => {
  const transient = new LlmError('llm_unavailable', 'HTTP 429', { retryable: true });
  const permanent = new LlmError('llm_bad_response', 'no valid JSON', { retryable: false });

  it('retries a transient error while attempts remain, then gives up with its reason', () => {
    expect(decideFailure(transient, { attempts: 1, maxAttempts: 6 })).toEqual({
      retry: true,
      reason: 'HTTP 429',
    });
    expect(decideFailure(transient, { attempts: 6, maxAttempts: 6 })).toEqual({
      retry: false,
      reason: 'HTTP 429',
    });
  });

  it('never retries a permanent error', () => {
    expect(decideFailure(permanent, { attempts: 1, maxAttempts: 6 }).retry).toBe(false);
  });
});

describe('describeJobState', () => {
  const job = {
    attempts: 2,
    max_attempts: 6,
    last_error: 'HTTP 500',
    run_at: new Date('2026-01-01T00:00:00Z'),
  };

  it('reports a finished record as done, a queued job as pending with its last error', () => {
    expect(describeJobState({ status: 'done', failure_reason: null, attempts: 1 }, null).status).toBe('done');
    expect(describeJobState(null, job)).toEqual({
      status: 'pending',
      reason: 'HTTP 500',
      attempts: 2,
      next_attempt_at: '2026-01-01T00:00:00.000Z',
    });
  });

  it('reports a job graphile-worker gave up on, or a failed record, as failed', () => {
    expect(describeJobState(null, { ...job, attempts: 6 }).status).toBe('failed');
    expect(describeJobState({ status: 'failed', failure_reason: 'bad', attempts: 3 }, null)).toMatchObject({
      status: 'failed',
      reason: 'bad',
    });
    expect(describeJobState(null, null).status).toBe('not_scheduled');
  });
});
