import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../support/app.js';
import { databaseKinds } from '../support/database.js';
import {
  type FakeLlmServer,
  type FakeReply,
  type RecordedRequest,
  startFakeLlmServer,
} from '../support/fake-llm-server.js';
import { completeTask, deleteQueuedJobs, listJobs, makeJobsDue, runDueJobs } from '../support/jobs.js';

const GOOD_VERDICT = {
  accuracy: 0.9,
  relevance: 0.8,
  completeness: 0.7,
  reasoning: 'Accurate and on topic.',
};
const REVIEW = {
  score: 0.6,
  strengths: ['Clear'],
  weaknesses: ['Short'],
  suggestions: ['Add sources'],
  review_text: 'Solid work with gaps.',
};

/** The nickname of the reviewer whose prompt this is, or null for the judge. */
function reviewerOf(request: RecordedRequest): string | null {
  const messages = request.body.messages as { role: string; content: string }[];
  const system = messages.find((message) => message.role === 'system')?.content ?? '';
  return /^You are (\w+), an AI agent on a team, reviewing/.exec(system)?.[1] ?? null;
}

describe.each(databaseKinds())('one review job per reviewer (%s PostgreSQL)', (kind) => {
  let fake: FakeLlmServer;
  let app: TestApp;
  let kaiReply: () => FakeReply;

  beforeAll(async () => {
    fake = await startFakeLlmServer();
    app = await createTestApp(kind, {
      MERIT_LLM_PROVIDER: 'openai',
      MERIT_LLM_BASE_URL: fake.baseUrl,
      MERIT_LLM_MODEL: 'gpt-4o-mini',
      MERIT_LLM_TIMEOUT_MS: '300',
      MERIT_LLM_MAX_RETRIES: '1',
      MERIT_LLM_RETRY_BASE_MS: '10',
      MERIT_EVALUATION_RATE_PER_MINUTE: '1000',
    });
  });
  afterAll(async () => {
    await app?.close();
    await fake?.close();
  });
  beforeEach(async () => {
    // Earlier tests' jobs (kai's retries) must not run in this one.
    await deleteQueuedJobs(app);
    fake.reset();
    kaiReply = () => ({ json: REVIEW });
    fake.setFallback((request) => {
      const reviewer = reviewerOf(request);
      if (reviewer === null) return { json: GOOD_VERDICT };
      return reviewer === 'kai' ? kaiReply() : { json: { ...REVIEW, score: 0.8 } };
    });
  });

  const reviewsOf = (taskId: string) =>
    app.ctx.db
      .selectFrom('agent_peer_evaluations')
      .select(['reviewer_agent_id', 'status', 'score', 'failure_reason'])
      .where('task_id', '=', taskId)
      .orderBy('reviewer_agent_id')
      .execute();
  const jobsOf = async (taskId: string) => (await listJobs(app)).filter((job) => job.key?.includes(taskId));
  const requestsBy = (nickname: string) =>
    fake.requests.filter((request) => reviewerOf(request) === nickname);

  it('queues one review job per reviewer, keyed by task and reviewer, with the completion', async () => {
    const taskId = await completeTask(app);
    const keys = (await jobsOf(taskId)).map((job) => job.key).sort();
    expect(keys).toEqual([
      `evaluate_task:${taskId}`,
      `review_task:${taskId}:agent_d`,
      `review_task:${taskId}:agent_e`,
    ]);
    // A repeated completion queues nothing more.
    await app.call('POST', `/api/tasks/${taskId}/complete`, { result: 'again' });
    expect(await jobsOf(taskId)).toHaveLength(3);
    // An agent never gets a job to review its own task.
    const kaisTask = await completeTask(app, { agent_id: 'agent_d', command: 'plan the roadmap' });
    expect((await jobsOf(kaisTask)).map((job) => job.key).sort()).toEqual([
      `evaluate_task:${kaisTask}`,
      `review_task:${kaisTask}:agent_e`,
    ]);
  });

  it("with kai always failing, maya's review is done at once and kai uses only his own attempts", async () => {
    kaiReply = () => ({ status: 500, body: 'kai backend down at http://10.0.0.9/v1' });
    const taskId = await completeTask(app);
    await runDueJobs(app);

    expect(await reviewsOf(taskId)).toEqual([
      { reviewer_agent_id: 'agent_e', status: 'done', score: 0.8, failure_reason: null },
    ]);
    const [kaiJob, ...others] = await jobsOf(taskId);
    expect(others).toEqual([]);
    expect(kaiJob).toMatchObject({ key: `review_task:${taskId}:agent_d`, attempts: 1, max_attempts: 6 });
    expect(kaiJob?.last_error).toBe(
      'LLM provider answered HTTP 500 (provider error); gave up after 2 attempts',
    );

    for (let round = 0; round < 6 && (await jobsOf(taskId)).length > 0; round++) {
      await makeJobsDue(app);
      await runDueJobs(app);
    }
    expect(await jobsOf(taskId)).toEqual([]);
    const reviews = await reviewsOf(taskId);
    expect(reviews).toEqual([
      {
        reviewer_agent_id: 'agent_d',
        status: 'failed',
        score: null,
        failure_reason: 'LLM provider answered HTTP 500 (provider error); gave up after 2 attempts',
      },
      { reviewer_agent_id: 'agent_e', status: 'done', score: 0.8, failure_reason: null },
    ]);
    // Each review records its own job's attempts: kai used all six, maya one.
    const attempts = await app.ctx.db
      .selectFrom('agent_peer_evaluations')
      .select(['reviewer_agent_id', 'attempts'])
      .where('task_id', '=', taskId)
      .orderBy('reviewer_agent_id')
      .execute();
    expect(attempts).toEqual([
      { reviewer_agent_id: 'agent_d', attempts: 6 },
      { reviewer_agent_id: 'agent_e', attempts: 1 },
    ]);
    // Six job attempts of two calls each for kai; one call for maya.
    expect(requestsBy('kai')).toHaveLength(12);
    expect(requestsBy('maya')).toHaveLength(1);
    const score = await app.ctx.db
      .selectFrom('agent_performance_scores')
      .select('peer_score')
      .where('task_id', '=', taskId)
      .executeTakeFirstOrThrow();
    expect(score.peer_score).toBe(0.8);
  });

  it("with kai's calls hanging, maya is still reviewed on her first attempt", async () => {
    kaiReply = () => ({ delayMs: 2_000, json: REVIEW });
    const taskId = await completeTask(app);
    await runDueJobs(app);

    // kai's timed-out calls may have been billed: their unknown usage is kept while his job retries.
    expect(await reviewsOf(taskId)).toMatchObject([
      { reviewer_agent_id: 'agent_d', status: 'failed' },
      { reviewer_agent_id: 'agent_e', status: 'done' },
    ]);
    expect(requestsBy('maya')).toHaveLength(1);
    expect(await jobsOf(taskId)).toMatchObject([
      {
        key: `review_task:${taskId}:agent_d`,
        attempts: 1,
        last_error: expect.stringContaining('timed out after 300 ms'),
      },
    ]);
  });

  it('does nothing when a reviewer whose review exists gets a job again', async () => {
    const taskId = await completeTask(app);
    await runDueJobs(app);
    expect(await reviewsOf(taskId)).toHaveLength(2);
    const calls = fake.requests.length;
    await app.database.pool.query(
      `SELECT graphile_worker.add_job('review_task', json_build_object('task_id', $1::text, 'reviewer_agent_id', 'agent_e'))`,
      [taskId],
    );
    await runDueJobs(app);
    expect(fake.requests.length).toBe(calls);
    expect(await reviewsOf(taskId)).toHaveLength(2);
    expect(await jobsOf(taskId)).toEqual([]);
  });

  it('runs a review job queued in the old shape (one job for all reviewers) as one job per reviewer', async () => {
    const taskId = await completeTask(app);
    await deleteQueuedJobs(app, 'review_task:%');
    await app.database.pool.query(
      `SELECT graphile_worker.add_job('review_task', json_build_object('task_id', $1::text), job_key := 'review_task:' || $1)`,
      [taskId],
    );
    kaiReply = () => ({ status: 500 });
    await runDueJobs(app);

    expect(await reviewsOf(taskId)).toMatchObject([{ reviewer_agent_id: 'agent_e', status: 'done' }]);
    // kai's failure stays in kai's own job.
    expect((await jobsOf(taskId)).map((job) => [job.key, job.attempts])).toEqual([
      [`review_task:${taskId}:agent_d`, 1],
    ]);
  });
});
