/**
 * Paid calls are recorded, whatever the outcome (issue 9, item 4): the judge and the reviewers are driven
 * through a fake LLM on loopback, and the figures stored in task_evaluations and agent_peer_evaluations
 * (and served by the API) are checked.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { migrateToLatest } from '../../src/db/migrate.js';
import { LlmError } from '../../src/errors.js';
import {
  buildEvaluationDeps,
  type EvaluationDeps,
  evaluateTask,
} from '../../src/evaluation/evaluation.jobs.js';
import { estimateCost } from '../../src/llm/pricing.js';
import { reviewTaskBy } from '../../src/reviews/review.jobs.js';
import { createTestApp, type TestApp } from '../support/app.js';
import { createTestDatabaseAt, databaseKinds, type TestDatabase } from '../support/database.js';
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
const PAID = { promptTokens: 555, completionTokens: 20 };
const KAI = 'agent_d';
const MAYA = 'agent_e';
const FIRST = { attempts: 1, maxAttempts: 6 };
const SECOND = { attempts: 2, maxAttempts: 6 };
const LAST = { attempts: 6, maxAttempts: 6 };

type Role = 'judge' | 'kai' | 'maya';

function roleOf(request: RecordedRequest): Role {
  const system = (request.body.messages as { role: string; content: string }[])[0]?.content ?? '';
  if (system.includes('impartial evaluator')) return 'judge';
  return system.includes('You are maya') ? 'maya' : 'kai';
}

describe.each(databaseKinds())('evaluator usage (%s PostgreSQL)', (kind) => {
  let fake: FakeLlmServer;
  let app: TestApp;
  let deps: EvaluationDeps;
  let replies: Record<Role, () => FakeReply>;

  beforeAll(async () => {
    fake = await startFakeLlmServer();
    app = await createTestApp(kind, {
      MERIT_LLM_PROVIDER: 'openai',
      MERIT_LLM_BASE_URL: fake.baseUrl,
      MERIT_LLM_MODEL: 'gpt-4o-mini',
      // Long enough for a cold start on a loaded machine: a timed-out call would make usage unknown.
      MERIT_LLM_TIMEOUT_MS: '1000',
      MERIT_EVALUATION_RATE_PER_MINUTE: '1000',
      MERIT_LLM_RETRY_BASE_MS: '5',
      MERIT_LLM_MAX_RETRIES: '2',
    });
    deps = buildEvaluationDeps(app.ctx.config, app.ctx.db);
  });
  afterAll(async () => {
    await app?.close();
    await fake?.close();
  });
  beforeEach(() => {
    fake.reset();
    replies = {
      judge: () => ({ json: GOOD_VERDICT, usage: { promptTokens: 1000, completionTokens: 200 } }),
      kai: () => ({ json: REVIEW, usage: { promptTokens: 800, completionTokens: 100 } }),
      maya: () => ({ json: REVIEW, usage: { promptTokens: 800, completionTokens: 100 } }),
    };
    fake.setFallback((request) => replies[roleOf(request)]());
  });

  async function evaluationOf(taskId: string) {
    return app.ctx.db
      .selectFrom('task_evaluations')
      .selectAll()
      .where('task_id', '=', taskId)
      .executeTakeFirstOrThrow();
  }
  async function reviewOf(taskId: string, reviewer: string) {
    return app.ctx.db
      .selectFrom('agent_peer_evaluations')
      .selectAll()
      .where('task_id', '=', taskId)
      .where('reviewer_agent_id', '=', reviewer)
      .executeTakeFirstOrThrow();
  }
  async function evaluationView(taskId: string) {
    const { status, body } = await app.call('GET', `/api/tasks/${taskId}/evaluation`);
    expect(status, JSON.stringify(body)).toBe(200);
    return body;
  }
  // The evaluations here run in the test, not from the jobs the completion queued: drop those, as a
  // finished job would be.
  async function dropQueuedJobs(taskId: string) {
    await deleteQueuedJobs(app, `%${taskId}%`);
  }
  const gpt4oMini = (prompt: number, completion: number) => estimateCost('gpt-4o-mini', prompt, completion);

  it('stores the usage of three failed judge attempts: 3 x 555 prompt tokens and their cost', async () => {
    const taskId = await completeTask(app);
    // Each answer is valid JSON that breaks the schema: a paid call every time.
    replies.judge = () => ({ json: { ...GOOD_VERDICT, accuracy: 7 }, usage: PAID });
    expect(await evaluateTask(deps, taskId, FIRST)).toMatchObject({ status: 'failed' });
    await dropQueuedJobs(taskId);
    const row = await evaluationOf(taskId);
    expect(row).toMatchObject({
      status: 'failed',
      prompt_tokens: 1665,
      completion_tokens: 60,
      estimated_cost: gpt4oMini(1665, 60),
    });
    expect(row.estimated_cost).toBeGreaterThan(0);
    const view = await evaluationView(taskId);
    expect(view.evaluation).toMatchObject({ status: 'failed', attempts: 1 });
    expect(view.evaluators.find((state: { role: string }) => state.role === 'evaluation')).toMatchObject({
      status: 'failed',
      spend: { prompt_tokens: 1665, completion_tokens: 60, estimated_cost: gpt4oMini(1665, 60) },
    });
    expect(view.evaluations[0].usage).toEqual({
      model: 'gpt-4o-mini',
      prompt_tokens: 1665,
      completion_tokens: 60,
      estimated_cost: gpt4oMini(1665, 60),
    });
  });

  it('stores null, not 0, when the failing judge reported no usage', async () => {
    const taskId = await completeTask(app);
    replies.judge = () => ({ malformed: true, usage: null });
    expect(await evaluateTask(deps, taskId, FIRST)).toMatchObject({ status: 'failed' });
    expect(await evaluationOf(taskId)).toMatchObject({
      status: 'failed',
      prompt_tokens: null,
      completion_tokens: null,
      estimated_cost: null,
    });
    const view = await evaluationView(taskId);
    expect(view.evaluations[0].usage).toMatchObject({ prompt_tokens: null, completion_tokens: null });
  });

  it('stores null for a judge refused with HTTP 401: no usage was reported', async () => {
    const taskId = await completeTask(app);
    replies.judge = () => ({ status: 401 });
    expect(await evaluateTask(deps, taskId, FIRST)).toMatchObject({ status: 'failed' });
    expect(await evaluationOf(taskId)).toMatchObject({ prompt_tokens: null, completion_tokens: null });
  });

  it("adds a transient failure's paid calls to the verdict of the job's next attempt", async () => {
    const taskId = await completeTask(app);
    // One paid, malformed answer, then HTTP 500 until the provider's retries run out: the job retries.
    fake.script([{ malformed: true, usage: PAID }]);
    replies.judge = () => ({ status: 500 });
    const failure = await evaluateTask(deps, taskId, FIRST).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(LlmError);
    expect((failure as LlmError).retryable).toBe(true);
    expect(await evaluationOf(taskId)).toMatchObject({
      status: 'failed',
      prompt_tokens: 555,
      completion_tokens: 20,
      estimated_cost: gpt4oMini(555, 20),
    });

    replies.judge = () => ({ json: GOOD_VERDICT, usage: { promptTokens: 1000, completionTokens: 200 } });
    expect(await evaluateTask(deps, taskId, SECOND)).toEqual({ status: 'done' });
    const row = await evaluationOf(taskId);
    expect(row).toMatchObject({ status: 'done', attempts: 2, prompt_tokens: 1555, completion_tokens: 220 });
    expect(row.estimated_cost).toBeCloseTo((gpt4oMini(555, 20) ?? 0) + (gpt4oMini(1000, 200) ?? 0), 6);
    const view = await evaluationView(taskId);
    expect(view.evaluators[0].spend).toMatchObject({ prompt_tokens: 1555, completion_tokens: 220 });
  });

  it("shows a retrying judge's spend in its pending state, not as a verdict", async () => {
    await runDueJobs(app);
    const taskId = await completeTask(app);
    let judgeCalls = 0;
    replies.judge = () => {
      judgeCalls += 1;
      return judgeCalls === 1 ? { malformed: true, usage: PAID } : { status: 503 };
    };
    await runDueJobs(app);
    const job = (await listJobs(app)).find((row) => row.key === `evaluate_task:${taskId}`);
    expect(job).toMatchObject({ attempts: 1 });
    const pending = await evaluationView(taskId);
    expect(pending.evaluation).toMatchObject({ status: 'pending', attempts: 1 });
    expect(pending.evaluators[0]).toMatchObject({
      role: 'evaluation',
      status: 'pending',
      spend: { prompt_tokens: 555, completion_tokens: 20, estimated_cost: gpt4oMini(555, 20) },
    });
    expect(pending.evaluations).toEqual([]);

    replies.judge = () => ({ json: GOOD_VERDICT, usage: { promptTokens: 1000, completionTokens: 200 } });
    await makeJobsDue(app);
    await runDueJobs(app);
    const done = await evaluationView(taskId);
    expect(done.evaluation).toMatchObject({ status: 'done', attempts: 2 });
    expect(done.evaluations).toMatchObject([
      { status: 'done', usage: { prompt_tokens: 1555, completion_tokens: 220 } },
    ]);
  });

  it('leaves the sum unknown after a timed-out call, which may have been billed', async () => {
    const taskId = await completeTask(app);
    replies.judge = () => ({ delayMs: 1_500, json: GOOD_VERDICT });
    const failure = await evaluateTask(deps, taskId, FIRST).catch((error: unknown) => error);
    expect((failure as LlmError).retryable).toBe(true);
    expect(await evaluationOf(taskId)).toMatchObject({ status: 'failed', prompt_tokens: null });

    replies.judge = () => ({ json: GOOD_VERDICT, usage: { promptTokens: 1000, completionTokens: 200 } });
    expect(await evaluateTask(deps, taskId, SECOND)).toEqual({ status: 'done' });
    expect(await evaluationOf(taskId)).toMatchObject({
      status: 'done',
      accuracy_score: 0.9,
      prompt_tokens: null,
      completion_tokens: null,
      estimated_cost: null,
    });
  });

  it("stores a failed review's paid calls, and null when the reviewer reported no usage", async () => {
    const taskId = await completeTask(app);
    replies.kai = () => ({ malformed: true, usage: PAID });
    replies.maya = () => ({ malformed: true, usage: null });
    expect(await reviewTaskBy(deps, taskId, KAI, FIRST)).toMatchObject({ status: 'failed' });
    expect(await reviewTaskBy(deps, taskId, MAYA, FIRST)).toMatchObject({ status: 'failed' });
    await dropQueuedJobs(taskId);
    expect(await reviewOf(taskId, KAI)).toMatchObject({
      status: 'failed',
      prompt_tokens: 1665,
      completion_tokens: 60,
      estimated_cost: gpt4oMini(1665, 60),
    });
    expect(await reviewOf(taskId, MAYA)).toMatchObject({
      status: 'failed',
      prompt_tokens: null,
      completion_tokens: null,
      estimated_cost: null,
    });
    const view = await evaluationView(taskId);
    const kai = view.peer_reviews.find(
      (review: { reviewer_agent_id: string }) => review.reviewer_agent_id === KAI,
    );
    expect(kai.usage).toEqual({
      prompt_tokens: 1665,
      completion_tokens: 60,
      estimated_cost: gpt4oMini(1665, 60),
    });
    const maya = view.evaluators.find((state: { evaluator: string }) => state.evaluator === MAYA);
    expect(maya).toMatchObject({
      status: 'failed',
      spend: { prompt_tokens: null, completion_tokens: null, estimated_cost: null },
    });
  });

  it('stores a review that fails for good after a 500 with null usage', async () => {
    const taskId = await completeTask(app);
    replies.maya = () => ({ status: 500 });
    expect(await reviewTaskBy(deps, taskId, MAYA, LAST)).toMatchObject({ status: 'failed' });
    expect(await reviewOf(taskId, MAYA)).toMatchObject({ prompt_tokens: null, estimated_cost: null });
  });

  it("stores a successful review's usage with the paid calls of the job's earlier attempt", async () => {
    const taskId = await completeTask(app);
    fake.script([{ malformed: true, usage: PAID }]);
    replies.kai = () => ({ status: 500 });
    await expect(reviewTaskBy(deps, taskId, KAI, FIRST)).rejects.toMatchObject({ retryable: true });
    expect(await reviewOf(taskId, KAI)).toMatchObject({ status: 'failed', prompt_tokens: 555, attempts: 1 });

    replies.kai = () => ({ json: REVIEW, usage: { promptTokens: 800, completionTokens: 100 } });
    expect(await reviewTaskBy(deps, taskId, KAI, SECOND)).toEqual({ status: 'done' });
    const row = await reviewOf(taskId, KAI);
    expect(row).toMatchObject({
      status: 'done',
      score: 0.6,
      attempts: 2,
      prompt_tokens: 1355,
      completion_tokens: 120,
      failure_reason: null,
    });
    expect(row.estimated_cost).toBeCloseTo((gpt4oMini(555, 20) ?? 0) + (gpt4oMini(800, 100) ?? 0), 6);
    // Done: the next run of any job finds the review and changes nothing.
    expect(await reviewTaskBy(deps, taskId, KAI, { attempts: 3, maxAttempts: 6 })).toMatchObject({
      status: 'skipped',
    });
  });

  it('stores null for a successful review whose provider sent no usage', async () => {
    const taskId = await completeTask(app);
    replies.maya = () => ({ json: REVIEW, usage: null });
    expect(await reviewTaskBy(deps, taskId, MAYA, FIRST)).toEqual({ status: 'done' });
    expect(await reviewOf(taskId, MAYA)).toMatchObject({
      status: 'done',
      prompt_tokens: null,
      completion_tokens: null,
      estimated_cost: null,
    });
  });

  it('reports what each reviewer and the judge spent, the unknown part counted apart', async () => {
    const other = await createTestApp(kind, {
      MERIT_LLM_PROVIDER: 'openai',
      MERIT_LLM_BASE_URL: fake.baseUrl,
      MERIT_LLM_MODEL: 'gpt-4o-mini',
      MERIT_EVALUATION_RATE_PER_MINUTE: '1000',
    });
    try {
      const otherDeps = buildEvaluationDeps(other.ctx.config, other.ctx.db);
      const first = await completeTask(other);
      const second = await completeTask(other);
      replies.judge = () => ({ json: { ...GOOD_VERDICT, accuracy: 7 }, usage: PAID });
      await evaluateTask(otherDeps, first, FIRST);
      replies.judge = () => ({ json: GOOD_VERDICT, usage: null });
      await evaluateTask(otherDeps, second, FIRST);
      replies.kai = () => ({ json: REVIEW, usage: { promptTokens: 800, completionTokens: 100 } });
      await reviewTaskBy(otherDeps, first, KAI, FIRST);
      await reviewTaskBy(otherDeps, second, KAI, FIRST);
      replies.maya = () => ({ malformed: true, usage: null });
      await reviewTaskBy(otherDeps, first, MAYA, FIRST);

      const { status, body } = await other.call('GET', '/api/reviewers');
      expect(status, JSON.stringify(body)).toBe(200);
      const kai = body.reviewers.find((reviewer: { agent_id: string }) => reviewer.agent_id === KAI);
      const maya = body.reviewers.find((reviewer: { agent_id: string }) => reviewer.agent_id === MAYA);
      expect(kai.spend).toEqual({
        prompt_tokens: 1600,
        completion_tokens: 200,
        cost: 2 * (gpt4oMini(800, 100) ?? 0),
        unpriced_calls: 0,
        unmetered_calls: 0,
      });
      expect(maya.spend).toEqual({
        prompt_tokens: null,
        completion_tokens: null,
        cost: null,
        unpriced_calls: 0,
        unmetered_calls: 1,
      });
      expect(body.evaluators).toEqual([
        {
          evaluator: 'judge',
          model: 'gpt-4o-mini',
          evaluations: 2,
          spend: {
            prompt_tokens: 1665,
            completion_tokens: 60,
            cost: gpt4oMini(1665, 60),
            unpriced_calls: 0,
            unmetered_calls: 1,
          },
        },
      ]);
    } finally {
      await other.close();
    }
  });

  it('counts tokens of a model without a price as unpriced, its cost null', async () => {
    const unpriced = await createTestApp(kind, {
      MERIT_LLM_PROVIDER: 'openai',
      MERIT_LLM_BASE_URL: fake.baseUrl,
      MERIT_LLM_MODEL: 'mystery-model-1',
      MERIT_EVALUATION_RATE_PER_MINUTE: '1000',
    });
    try {
      const unpricedDeps = buildEvaluationDeps(unpriced.ctx.config, unpriced.ctx.db);
      const taskId = await completeTask(unpriced);
      await reviewTaskBy(unpricedDeps, taskId, KAI, FIRST);
      const row = await unpriced.ctx.db
        .selectFrom('agent_peer_evaluations')
        .selectAll()
        .where('task_id', '=', taskId)
        .executeTakeFirstOrThrow();
      expect(row).toMatchObject({ status: 'done', prompt_tokens: 800, estimated_cost: null });
      const { body } = await unpriced.call('GET', '/api/reviewers');
      const kai = body.reviewers.find((reviewer: { agent_id: string }) => reviewer.agent_id === KAI);
      expect(kai.spend).toEqual({
        prompt_tokens: 800,
        completion_tokens: 100,
        cost: null,
        unpriced_calls: 1,
        unmetered_calls: 0,
      });
    } finally {
      await unpriced.close();
    }
  });
});

describe.each(databaseKinds())('offline evaluator usage (%s PostgreSQL)', (kind) => {
  let app: TestApp;

  beforeAll(async () => {
    app = await createTestApp(kind);
  });
  afterAll(async () => {
    await app?.close();
  });

  it('stores null tokens for the offline evaluator and heuristic reviews, which make no call', async () => {
    const deps = buildEvaluationDeps(app.ctx.config, app.ctx.db);
    const taskId = await completeTask(app);
    expect(await evaluateTask(deps, taskId, FIRST)).toEqual({ status: 'done' });
    expect(await reviewTaskBy(deps, taskId, KAI, FIRST)).toEqual({ status: 'done' });
    expect(
      await app.ctx.db.selectFrom('task_evaluations').selectAll().where('task_id', '=', taskId).execute(),
    ).toMatchObject([
      { kind: 'heuristic', prompt_tokens: null, completion_tokens: null, estimated_cost: null },
    ]);
    expect(
      await app.ctx.db
        .selectFrom('agent_peer_evaluations')
        .selectAll()
        .where('task_id', '=', taskId)
        .execute(),
    ).toMatchObject([
      { source: 'heuristic', prompt_tokens: null, completion_tokens: null, estimated_cost: null },
    ]);
    const { body } = await app.call('GET', '/api/reviewers');
    expect(body.evaluators).toEqual([
      {
        evaluator: 'heuristic',
        model: null,
        evaluations: 1,
        spend: {
          prompt_tokens: null,
          completion_tokens: null,
          cost: null,
          unpriced_calls: 0,
          unmetered_calls: 0,
        },
      },
    ]);
  });
});

describe('migration 010 (evaluator usage)', () => {
  let database: TestDatabase;

  beforeAll(async () => {
    // A database of the time before projects (008), to be filled with the rows the old code wrote.
    database = await createTestDatabaseAt('embedded', 8);
  });
  afterAll(async () => {
    await database?.drop();
  });

  it("turns the zeros that meant 'no call' or 'not recorded' into null and keeps real counts", async () => {
    const query = (text: string) => database.pool.query(text);
    await query(`
      INSERT INTO agents (agent_id, nickname, display_name, role) VALUES
        ('agent_a', 'alice', 'Alice', 'writer'), ('agent_d', 'kai', 'Kai', 'reviewer'),
        ('agent_e', 'maya', 'Maya', 'reviewer');
      INSERT INTO objective_templates (category, display_name) VALUES ('research', 'Research');
      INSERT INTO tasks (id, user_id, agent_id, command, objective_category, status, result) VALUES
        ('00000000-0000-0000-0000-0000000000a1', '00000000-0000-0000-0000-000000000001', 'agent_a', 'offline', 'research', 'completed', 'ok'),
        ('00000000-0000-0000-0000-0000000000a2', '00000000-0000-0000-0000-000000000001', 'agent_a', 'judged', 'research', 'completed', 'ok'),
        ('00000000-0000-0000-0000-0000000000a3', '00000000-0000-0000-0000-000000000001', 'agent_a', 'failed judge', 'research', 'completed', 'ok');
      INSERT INTO task_evaluations (task_id, kind, status, source, evaluator_version, model, prompt_tokens,
          completion_tokens, estimated_cost, failure_reason) VALUES
        ('00000000-0000-0000-0000-0000000000a1', 'heuristic', 'done', 'heuristic', 'offline-1', NULL, 0, 0, NULL, NULL),
        ('00000000-0000-0000-0000-0000000000a2', 'judge', 'done', 'judge', 'judge-1:gpt-4o-mini', 'gpt-4o-mini', 1000, 200, 0.00027, NULL),
        ('00000000-0000-0000-0000-0000000000a3', 'judge', 'failed', 'judge', 'judge:gpt-4o-mini', 'gpt-4o-mini', 0, 0, NULL, 'bad JSON');
      INSERT INTO agent_peer_evaluations (task_id, evaluated_agent_id, reviewer_agent_id, perspective, status,
          failure_reason, score, source, evaluator_version, prompt_tokens, completion_tokens, estimated_cost) VALUES
        ('00000000-0000-0000-0000-0000000000a1', 'agent_a', 'agent_d', 'strategy', 'done', NULL, 0.5, 'heuristic', 'peer-heuristic-1', 0, 0, 0),
        ('00000000-0000-0000-0000-0000000000a2', 'agent_a', 'agent_d', 'strategy', 'done', NULL, 0.6, 'llm', 'peer-llm-1:gpt-4o-mini', 800, 100, 0.00018),
        ('00000000-0000-0000-0000-0000000000a2', 'agent_a', 'agent_e', 'quality', 'failed', 'HTTP 500', NULL, 'llm', 'peer-llm-1:gpt-4o-mini', 0, 0, 0),
        ('00000000-0000-0000-0000-0000000000a3', 'agent_a', 'agent_d', 'strategy', 'done', NULL, 0.7, 'llm', 'peer-llm-1:mystery-1', 800, 100, 0);
    `);

    const report = await migrateToLatest(database);
    expect(report.applied).toContain('010-evaluator-usage');

    const evaluations = await query(
      'SELECT task_id, prompt_tokens, completion_tokens, estimated_cost FROM task_evaluations ORDER BY task_id',
    );
    expect(evaluations.rows).toEqual([
      {
        task_id: '00000000-0000-0000-0000-0000000000a1',
        prompt_tokens: null,
        completion_tokens: null,
        estimated_cost: null,
      },
      {
        task_id: '00000000-0000-0000-0000-0000000000a2',
        prompt_tokens: 1000,
        completion_tokens: 200,
        estimated_cost: 0.00027,
      },
      {
        task_id: '00000000-0000-0000-0000-0000000000a3',
        prompt_tokens: null,
        completion_tokens: null,
        estimated_cost: null,
      },
    ]);
    const reviews = await query(`
      SELECT right(task_id::text, 2) AS task, reviewer_agent_id, prompt_tokens, completion_tokens, estimated_cost
      FROM agent_peer_evaluations ORDER BY task_id, reviewer_agent_id`);
    expect(reviews.rows).toEqual([
      {
        task: 'a1',
        reviewer_agent_id: 'agent_d',
        prompt_tokens: null,
        completion_tokens: null,
        estimated_cost: null,
      },
      {
        task: 'a2',
        reviewer_agent_id: 'agent_d',
        prompt_tokens: 800,
        completion_tokens: 100,
        estimated_cost: 0.00018,
      },
      {
        task: 'a2',
        reviewer_agent_id: 'agent_e',
        prompt_tokens: null,
        completion_tokens: null,
        estimated_cost: null,
      },
      // An old 0 cost may have been an unpriced model's: unknown.
      {
        task: 'a3',
        reviewer_agent_id: 'agent_d',
        prompt_tokens: 800,
        completion_tokens: 100,
        estimated_cost: null,
      },
    ]);
    const columns = await query(`
      SELECT table_name, column_name, is_nullable, column_default FROM information_schema.columns
      WHERE table_schema = 'public' AND table_name IN ('task_evaluations', 'agent_peer_evaluations')
        AND column_name IN ('prompt_tokens', 'completion_tokens', 'estimated_cost')
      ORDER BY table_name, column_name`);
    expect(columns.rows).toHaveLength(6);
    for (const column of columns.rows)
      expect(column).toMatchObject({ is_nullable: 'YES', column_default: null });
    // Negative counts are still refused.
    await expect(
      query("UPDATE agent_peer_evaluations SET prompt_tokens = -1 WHERE reviewer_agent_id = 'agent_e'"),
    ).rejects.toThrow(/check constraint/);
  });
});
