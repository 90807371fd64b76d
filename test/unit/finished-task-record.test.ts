import { describe, expect, it } from 'vitest';
import { REWARDS_VERSION } from '../../src/evaluation/evaluation.js';
import { DEFAULT_OVERALL_WEIGHTS } from '../../src/evaluation/scores.js';
import { DEFAULT_REWARD_CONFIG } from '../../src/rewards/reward-rules.js';
import { computeLogWork } from '../../src/tasks/efficiency.js';
import { buildFinishedTaskRecord, type FinishedRecordContext } from '../../src/tasks/finished-task-record.js';

const rules = { weights: DEFAULT_OVERALL_WEIGHTS, rewards: DEFAULT_REWARD_CONFIG };
const reference = {
  baseline: { median: computeLogWork(1000, 10_000), scale: 1, sampleSize: 100 },
  typical: { tokens: 1000, durationMs: 10_000 },
};
const context: FinishedRecordContext = {
  scope: { projectId: 'p1', userId: 'u1' },
  classification: { category: 'research', confidence: 0.9, source: 'llm' },
  now: new Date('2026-11-30T03:00:00Z'),
};

describe('buildFinishedTaskRecord', () => {
  it("writes a rated completed task's row, score and statistics delta in one record", () => {
    const record = buildFinishedTaskRecord(
      {
        id: '6f1c1a52-3f4e-4d0a-9b65-1b1f2a3c4d5e',
        agent_id: 'agent_a',
        command: 'research quantum computing',
        status: 'completed',
        result: 'done',
        total_tokens: 1000,
        duration_ms: 10_000,
        user_rating: 3,
        user_feedback: 'fine',
      },
      context,
      reference,
      rules,
    );
    expect(record).toMatchObject({
      id: '6f1c1a52-3f4e-4d0a-9b65-1b1f2a3c4d5e',
      project_id: 'p1',
      user_id: 'u1',
      objective_category: 'research',
      category_source: 'llm',
      source: 'batch',
      simulated: false,
      result: 'done',
      error: null,
      started_at: '2026-11-30T02:59:50.000Z',
      completed_at: '2026-11-30T03:00:00.000Z',
      efficiency_score: 0.5,
      overall_score: 0.5,
      user_rating: 3,
      user_feedback: 'fine',
      reward_points: 0,
      d_tasks: 1,
      d_successful: 1,
      d_scored: 1,
      d_rated: 1,
      d_sum_rating: 3,
      d_r3: 1,
    });
  });

  it('gives a failed task the failure penalty and no result, rating or feedback', () => {
    const record = buildFinishedTaskRecord(
      {
        agent_id: 'agent_a',
        command: 'research quantum computing',
        status: 'failed',
        error: 'the tool crashed',
        user_rating: 5,
        user_feedback: 'ignored',
      },
      { ...context, source: 'demo', simulated: true },
      undefined,
      rules,
    );
    expect(record).toMatchObject({
      status: 'failed',
      result: null,
      error: 'the tool crashed',
      source: 'demo',
      simulated: true,
      total_tokens: null,
      estimated_cost: null,
      efficiency_score: null,
      overall_score: null,
      user_rating: null,
      user_feedback: null,
      reward_points: -10,
      reward_rules: [{ rule: 'failure', points: -10, reason: 'the task failed' }],
      score_sources: { reward_points: { source: 'formula', version: REWARDS_VERSION } },
      d_tasks: 1,
      d_failed: 1,
      d_rated: 0,
    });
  });

  it('starts a task no later than it completed when its clocks disagree', () => {
    const record = buildFinishedTaskRecord(
      {
        agent_id: 'agent_a',
        command: 'x',
        status: 'completed',
        started_at: '2026-11-30T03:00:05Z',
        completed_at: '2026-11-30T03:00:00Z',
      },
      context,
      reference,
      rules,
    );
    expect(record.started_at).toBe('2026-11-30T03:00:00.000Z');
    expect(record.duration_ms).toBe(0);
  });
});
