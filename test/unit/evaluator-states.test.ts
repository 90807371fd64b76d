import { describe, expect, it } from 'vitest';
import {
  describeEvaluators,
  type EvaluatorJob,
  type EvaluatorState,
  parseJobKey,
  summarizeReviewStates,
} from '../../src/evaluation/evaluation.js';

const TASK = '11111111-1111-4111-8111-111111111111';
const RUN_AT = new Date('2026-11-30T00:00:00Z');

function job(key: string, fields: Partial<EvaluatorJob> = {}): EvaluatorJob {
  return { key, attempts: 1, max_attempts: 6, last_error: 'HTTP 500', run_at: RUN_AT, ...fields };
}

function failed(reason: string, attempts: number) {
  return {
    status: 'failed' as const,
    failure_reason: reason,
    attempts,
    prompt_tokens: 555,
    completion_tokens: 0,
    estimated_cost: null,
  };
}

describe('parseJobKey', () => {
  it('reads the task and the reviewer of every key shape', () => {
    expect(parseJobKey(`evaluate_task:${TASK}`)).toEqual({
      job: 'evaluate_task',
      taskId: TASK,
      reviewerAgentId: null,
    });
    expect(parseJobKey(`review_task:${TASK}`)).toEqual({
      job: 'review_task',
      taskId: TASK,
      reviewerAgentId: null,
    });
    expect(parseJobKey(`review_task:${TASK}:agent_d`)).toEqual({
      job: 'review_task',
      taskId: TASK,
      reviewerAgentId: 'agent_d',
    });
    expect(parseJobKey(`stats:${TASK}`)).toBeNull();
    expect(parseJobKey(`evaluate_task:${TASK}:agent_d`)).toBeNull();
  });
});

describe('describeEvaluators', () => {
  it('reports failed reviews as failed with their own attempts, reason and spend', () => {
    const states = describeEvaluators({
      evaluationKind: 'judge',
      evaluation: failed('HTTP 401', 1),
      reviews: [
        { reviewer_agent_id: 'agent_d', ...failed('HTTP 401', 1) },
        { reviewer_agent_id: 'agent_e', ...failed('HTTP 500', 6) },
      ],
      dueReviewers: ['agent_d', 'agent_e'],
      jobs: [],
    });
    expect(states).toEqual([
      {
        evaluator: 'judge',
        role: 'evaluation',
        reviewer_agent_id: null,
        status: 'failed',
        reason: 'HTTP 401',
        attempts: 1,
        next_attempt_at: null,
        spend: { prompt_tokens: 555, completion_tokens: 0, estimated_cost: null },
      },
      expect.objectContaining({ evaluator: 'agent_d', status: 'failed', attempts: 1, reason: 'HTTP 401' }),
      expect.objectContaining({ evaluator: 'agent_e', status: 'failed', attempts: 6, reason: 'HTTP 500' }),
    ]);
    expect(summarizeReviewStates(states.slice(1))).toEqual({
      status: 'failed',
      reason: 'agent_d: HTTP 401; agent_e: HTTP 500',
      attempts: 7,
      next_attempt_at: null,
    });
  });

  it("gives each reviewer its own job's state, and a shared job's state to every reviewer without a review", () => {
    const own = describeEvaluators({
      evaluationKind: 'heuristic',
      evaluation: null,
      reviews: [],
      dueReviewers: ['agent_d', 'agent_e'],
      jobs: [job(`review_task:${TASK}:agent_e`, { attempts: 2 })],
    });
    expect(own).toEqual([
      {
        evaluator: 'agent_e',
        role: 'peer_review',
        reviewer_agent_id: 'agent_e',
        status: 'pending',
        reason: 'HTTP 500',
        attempts: 2,
        next_attempt_at: RUN_AT.toISOString(),
        spend: { prompt_tokens: null, completion_tokens: null, estimated_cost: null },
      },
    ]);
    const shared = describeEvaluators({
      evaluationKind: 'heuristic',
      evaluation: null,
      reviews: [
        {
          reviewer_agent_id: 'agent_d',
          status: 'done',
          failure_reason: null,
          attempts: 1,
          prompt_tokens: 0,
          completion_tokens: 0,
          estimated_cost: 0,
        },
      ],
      dueReviewers: ['agent_d', 'agent_e'],
      jobs: [job(`evaluate_task:${TASK}`, { last_error: null, attempts: 0 }), job(`review_task:${TASK}`)],
    });
    expect(shared.map((state) => [state.evaluator, state.status, state.attempts])).toEqual([
      ['heuristic', 'pending', 0],
      ['agent_d', 'done', 1],
      ['agent_e', 'pending', 1],
    ]);
  });

  it('reports a job graphile-worker gave up on as failed with its last error', () => {
    const [state] = describeEvaluators({
      evaluationKind: 'judge',
      evaluation: null,
      reviews: [],
      dueReviewers: [],
      jobs: [job(`evaluate_task:${TASK}`, { attempts: 6, last_error: 'connection reset' })],
    });
    expect(state).toMatchObject({
      status: 'failed',
      attempts: 6,
      reason: 'connection reset',
      next_attempt_at: null,
    });
  });
});

describe('summarizeReviewStates', () => {
  const state = (fields: Partial<EvaluatorState>): EvaluatorState => ({
    evaluator: 'agent_d',
    role: 'peer_review',
    reviewer_agent_id: 'agent_d',
    status: 'done',
    reason: null,
    attempts: 1,
    next_attempt_at: null,
    spend: { prompt_tokens: 0, completion_tokens: 0, estimated_cost: 0 },
    ...fields,
  });

  it('is pending while any reviewer is, done once one review is stored and none waits', () => {
    expect(summarizeReviewStates([])).toMatchObject({ status: 'not_scheduled', attempts: 0 });
    expect(
      summarizeReviewStates([
        state({}),
        state({
          evaluator: 'agent_e',
          status: 'pending',
          reason: 'HTTP 429',
          next_attempt_at: 'b',
          attempts: 2,
        }),
      ]),
    ).toEqual({ status: 'pending', reason: 'HTTP 429', attempts: 3, next_attempt_at: 'b' });
    expect(
      summarizeReviewStates([
        state({}),
        state({ evaluator: 'agent_e', status: 'failed', reason: 'HTTP 401' }),
      ]),
    ).toMatchObject({ status: 'done', attempts: 2 });
  });
});
