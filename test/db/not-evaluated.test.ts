import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { runTransaction } from '../../src/db/transaction.js';
import { recomputeAllStats } from '../../src/stats/stats.queries.js';
import { createTestApp, type TestApp } from '../support/app.js';
import { databaseKinds } from '../support/database.js';
import {
  type FakeLlmServer,
  type FakeReply,
  type RecordedRequest,
  startFakeLlmServer,
} from '../support/fake-llm-server.js';
import { completeTask, listJobs, makeJobsDue, runDueJobs } from '../support/jobs.js';

const GOOD_VERDICT = { accuracy: 0.9, relevance: 0.8, completeness: 0.7, reasoning: 'Accurate.' };
const REVIEW = {
  score: 0.6,
  strengths: ['Clear'],
  weaknesses: ['Short'],
  suggestions: ['Add sources'],
  review_text: 'Solid work with gaps.',
};

function isJudgeRequest(request: RecordedRequest): boolean {
  const messages = request.body.messages as { role: string; content: string }[];
  return messages.some(
    (message) => message.role === 'system' && message.content.includes('impartial evaluator'),
  );
}

describe.each(databaseKinds())('a task no evaluator could score (%s PostgreSQL)', (kind) => {
  let fake: FakeLlmServer;
  let app: TestApp;
  let judgeReply: () => FakeReply;
  let reviewReply: () => FakeReply;

  beforeAll(async () => {
    fake = await startFakeLlmServer();
    app = await createTestApp(kind, {
      MERIT_LLM_PROVIDER: 'openai',
      MERIT_LLM_BASE_URL: fake.baseUrl,
      MERIT_LLM_MODEL: 'gpt-4o-mini',
      MERIT_LLM_TIMEOUT_MS: '300',
      MERIT_EVALUATION_RATE_PER_MINUTE: '1000',
      // Each failure reaches the job at once: the attempts counted are the jobs' own.
      MERIT_LLM_MAX_RETRIES: '0',
    });
  });
  afterAll(async () => {
    await app?.close();
    await fake?.close();
  });
  beforeEach(() => {
    fake.reset();
    judgeReply = () => ({ json: GOOD_VERDICT });
    reviewReply = () => ({ json: REVIEW });
    fake.setFallback((request) => (isJudgeRequest(request) ? judgeReply() : reviewReply()));
  });

  // Runs the task's jobs to their end, skipping graphile-worker's backoff between retries.
  async function runJobsToTheEnd(taskId: string): Promise<void> {
    for (let round = 0; round < 20; round += 1) {
      await makeJobsDue(app);
      await runDueJobs(app);
      const left = (await listJobs(app)).filter(
        (job) => job.key?.includes(taskId) && job.attempts < job.max_attempts,
      );
      if (left.length === 0) return;
    }
    throw new Error(`jobs of task ${taskId} still queued after 20 rounds`);
  }

  async function scoreOf(taskId: string) {
    return app.ctx.db
      .selectFrom('agent_performance_scores')
      .selectAll()
      .where('task_id', '=', taskId)
      .executeTakeFirstOrThrow();
  }

  async function statsOf(agentId: string) {
    return app.ctx.db
      .selectFrom('agent_performance_stats')
      .selectAll()
      .where('agent_id', '=', agentId)
      .executeTakeFirstOrThrow();
  }

  it('is pending (no overall score) right after completion, before any evaluator ran', async () => {
    const taskId = await completeTask(app, { agent_id: 'agent_c' });
    const score = await scoreOf(taskId);
    expect(score.efficiency_score).not.toBeNull();
    expect(score.overall_score).toBeNull();
    const { body } = await app.call('GET', `/api/tasks/${taskId}`);
    expect(body.score.overall_score).toBeNull();
    await runJobsToTheEnd(taskId);
    expect((await scoreOf(taskId)).overall_score).not.toBeNull();
  });

  async function evaluationOf(taskId: string) {
    const response = await app.call('GET', `/api/tasks/${taskId}/evaluation`);
    expect(response.status).toBe(200);
    return response.body as {
      evaluation: { status: string; attempts: number; reason: string | null };
      peer_review: { status: string; attempts: number; reason: string | null };
      evaluators: {
        evaluator: string;
        role: string;
        reviewer_agent_id: string | null;
        status: string;
        attempts: number;
        reason: string | null;
        next_attempt_at: string | null;
        spend: {
          prompt_tokens: number | null;
          completion_tokens: number | null;
          estimated_cost: number | null;
        };
      }[];
      peer_reviews: {
        reviewer_agent_id: string;
        status: string;
        attempts: number;
        failure_reason: string | null;
      }[];
    };
  }

  it("reports each evaluator's true status, attempts, last error and spend, and failed reviews as failed", async () => {
    // The judge and maya always meet a server error (retried by their jobs); kai's key is refused (401).
    judgeReply = () => ({ status: 500 });
    fake.setFallback((request) =>
      isJudgeRequest(request)
        ? judgeReply()
        : JSON.stringify(request.body.messages).includes('maya')
          ? { status: 500 }
          : { status: 401, body: { error: { message: 'invalid api key' } } },
    );
    const taskId = await completeTask(app, { agent_id: 'agent_f' });
    await runDueJobs(app);

    const waiting = await evaluationOf(taskId);
    const byEvaluator = (body: typeof waiting, name: string) =>
      body.evaluators.find((state) => state.evaluator === name);
    expect(byEvaluator(waiting, 'judge')).toMatchObject({
      role: 'evaluation',
      status: 'pending',
      attempts: 1,
    });
    expect(byEvaluator(waiting, 'judge')?.reason).toContain('HTTP 500');
    expect(byEvaluator(waiting, 'agent_e')).toMatchObject({
      role: 'peer_review',
      reviewer_agent_id: 'agent_e',
      status: 'pending',
      attempts: 1,
    });
    expect(byEvaluator(waiting, 'agent_e')?.reason).toContain('HTTP 500');
    expect(byEvaluator(waiting, 'agent_e')?.next_attempt_at).not.toBeNull();
    expect(waiting.peer_review.status).toBe('pending');

    await runJobsToTheEnd(taskId);
    const body = await evaluationOf(taskId);
    const reviews = await app.ctx.db
      .selectFrom('agent_peer_evaluations')
      .selectAll()
      .where('task_id', '=', taskId)
      .execute();
    const [judgeRow] = await app.ctx.db
      .selectFrom('task_evaluations')
      .selectAll()
      .where('task_id', '=', taskId)
      .execute();
    expect(judgeRow).toMatchObject({ status: 'failed', attempts: 6 });
    expect(body.evaluation).toMatchObject({ status: 'failed', attempts: 6 });
    expect(byEvaluator(body, 'judge')).toMatchObject({
      status: 'failed',
      attempts: 6,
      reason: judgeRow?.failure_reason,
      next_attempt_at: null,
      spend: {
        prompt_tokens: judgeRow?.prompt_tokens,
        completion_tokens: judgeRow?.completion_tokens,
        estimated_cost: judgeRow?.estimated_cost,
      },
    });
    for (const [reviewer, attempts, error] of [
      ['agent_d', 1, 'HTTP 401'],
      ['agent_e', 6, 'HTTP 500'],
    ] as const) {
      const row = reviews.find((review) => review.reviewer_agent_id === reviewer);
      expect(row).toMatchObject({ status: 'failed', attempts });
      const state = byEvaluator(body, reviewer);
      expect(state).toMatchObject({
        role: 'peer_review',
        status: 'failed',
        attempts,
        next_attempt_at: null,
        spend: {
          prompt_tokens: row?.prompt_tokens,
          completion_tokens: row?.completion_tokens,
          // Failed calls answered with an error status were not billed: nothing known, so null (never 0).
          estimated_cost: row?.estimated_cost === null ? null : Number(row?.estimated_cost),
        },
      });
      expect(state?.reason).toContain(error);
      expect(body.peer_reviews.find((review) => review.reviewer_agent_id === reviewer)).toMatchObject({
        status: 'failed',
        attempts,
      });
    }
    // Every review failed: the peer review as a whole failed, never "done".
    expect(body.peer_review).toMatchObject({ status: 'failed', attempts: 7 });
    expect(body.peer_review.reason).toContain('HTTP 401');
    expect(body.peer_review.reason).toContain('HTTP 500');
    expect((await scoreOf(taskId)).overall_score).toBeNull();
  });

  for (const [label, failure] of [
    ['401', { status: 401, body: { error: { message: 'invalid api key' } } }],
    ['bad JSON', { malformed: true }],
  ] as [string, FakeReply][]) {
    it(`gets no overall score when the judge fails for good (${label}) and the reviews fail`, async () => {
      // A properly judged task first: the agent's average is that task's score.
      const judged = await completeTask(app, { agent_id: 'agent_b' });
      await runJobsToTheEnd(judged);
      const judgedScore = (await scoreOf(judged)).overall_score;
      expect(judgedScore).not.toBeNull();
      const before = await statsOf('agent_b');

      judgeReply = () => failure;
      reviewReply = () => ({ status: 401, body: { error: { message: 'invalid api key' } } });
      const failed = await completeTask(app, { agent_id: 'agent_b' });
      await runJobsToTheEnd(failed);

      const score = await scoreOf(failed);
      expect(score).toMatchObject({
        accuracy_score: null,
        relevance_score: null,
        completeness_score: null,
        peer_score: null,
        user_rating: null,
        overall_score: null,
      });
      expect(score.efficiency_score).not.toBeNull();

      // Left out of the quality averages: the agent's average does not rise.
      const after = await statsOf('agent_b');
      expect(after.successful_tasks).toBe((before.successful_tasks ?? 0) + 1);
      expect(after.scored_tasks).toBe(before.scored_tasks);
      expect(after.sum_overall_score).toBe(before.sum_overall_score);
      expect(after.avg_overall_score).toBe(before.avg_overall_score);

      // Counted apart as not evaluated, on the leaderboard and the agent's view.
      const board = await app.call('GET', '/api/agents/leaderboard');
      const entry = board.body.rankings.find((row: { agent_id: string }) => row.agent_id === 'agent_b');
      expect(entry).toMatchObject({
        scored_tasks: after.scored_tasks,
        not_evaluated_tasks: (after.successful_tasks ?? 0) - after.scored_tasks,
        avg_overall_score: after.avg_overall_score,
      });
      expect(entry.not_evaluated_tasks).toBeGreaterThanOrEqual(1);
      const performance = await app.call('GET', '/api/agents/agent_b/performance');
      expect(performance.body.stats.not_evaluated_tasks).toBe(entry.not_evaluated_tasks);

      // The full recompute agrees with the running sums.
      await runTransaction(app.ctx.db, (trx) => recomputeAllStats(trx));
      const recomputed = await statsOf('agent_b');
      expect(recomputed).toMatchObject({
        scored_tasks: after.scored_tasks,
        avg_overall_score: after.avg_overall_score,
      });

      // A user's rating is a quality signal: the task is then scored.
      const rated = await app.call('POST', `/api/tasks/${failed}/feedback`, { user_rating: 4 });
      expect(rated.status).toBe(200);
      expect((await scoreOf(failed)).overall_score).not.toBeNull();
      expect((await statsOf('agent_b')).scored_tasks).toBe(after.scored_tasks + 1);
    });
  }
});
