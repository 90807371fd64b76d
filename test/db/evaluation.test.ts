import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildEvaluationDeps, evaluateTask } from '../../src/evaluation/evaluation.jobs.js';
import { isTaskSampled } from '../../src/evaluation/evaluation.js';
import { combineOverallScore } from '../../src/evaluation/scores.js';
import { measureReviewerAgreement } from '../../src/reviews/peer-review.js';
import { reviewTask } from '../../src/reviews/review.jobs.js';
import { createTestApp, type TestApp } from '../support/app.js';
import { databaseKinds } from '../support/database.js';
import { completeTask, listJobs, runDueJobs } from '../support/jobs.js';

const FIRST = { attempts: 1, maxAttempts: 6 };

async function findScore(app: TestApp, taskId: string) {
  return app.ctx.db
    .selectFrom('agent_performance_scores')
    .selectAll()
    .where('task_id', '=', taskId)
    .executeTakeFirstOrThrow();
}

async function findAgentStats(app: TestApp, agentId: string) {
  return app.ctx.db
    .selectFrom('agent_performance_stats')
    .selectAll()
    .where('agent_id', '=', agentId)
    .executeTakeFirstOrThrow();
}

describe.each(databaseKinds())('offline evaluation and peer review jobs (%s PostgreSQL)', (kind) => {
  let app: TestApp;

  beforeAll(async () => {
    app = await createTestApp(kind);
  });
  afterAll(async () => {
    await app?.close();
  });

  it('enqueues one evaluation job and one review job per reviewer, in the completing transaction', async () => {
    const taskId = await completeTask(app);
    const keys = (await listJobs(app)).map((job) => job.key);
    expect(keys).toEqual(
      expect.arrayContaining([
        `evaluate_task:${taskId}`,
        `review_task:${taskId}:agent_d`,
        `review_task:${taskId}:agent_e`,
      ]),
    );
    // Completing again is a no-op and queues nothing more.
    await app.call('POST', `/api/tasks/${taskId}/complete`, { result: 'again' });
    expect((await listJobs(app)).filter((job) => job.key?.includes(taskId))).toHaveLength(3);
    await runDueJobs(app);
    expect(await listJobs(app)).toEqual([]);
  });

  it('scores a completed task offline end to end: sources, overall, rewards, reviews and statistics', async () => {
    const before = await findAgentStats(app, 'agent_a').catch(() => null);
    const taskId = await completeTask(app);
    const initial = await findScore(app, taskId);
    await runDueJobs(app);

    const score = await findScore(app, taskId);
    expect(score.relevance_score).toBeGreaterThan(0.5);
    expect(score.completeness_score).toBeGreaterThan(0.5);
    expect(score.score_sources).toMatchObject({
      relevance: { source: 'heuristic', version: 'heuristic-2' },
      completeness: { source: 'heuristic', version: 'heuristic-2' },
      efficiency: { source: 'formula' },
      peer: { source: 'peer', version: 'peer-heuristic-1' },
    });
    const reviews = await app.ctx.db
      .selectFrom('agent_peer_evaluations')
      .selectAll()
      .where('task_id', '=', taskId)
      .orderBy('reviewer_agent_id')
      .execute();
    expect(reviews.map((review) => review.reviewer_agent_id)).toEqual(['agent_d', 'agent_e']);
    expect(score.overall_score).toBe(
      combineOverallScore({
        accuracy: score.accuracy_score,
        relevance: score.relevance_score,
        completeness: score.completeness_score,
        efficiency: score.efficiency_score,
        peer: score.peer_score,
      }),
    );
    expect(score.reward_points).toBe(score.reward_rules.reduce((sum, rule) => sum + rule.points, 0));

    const after = await findAgentStats(app, 'agent_a');
    const sumBefore = before?.sum_overall_score ?? 0;
    expect(after.sum_overall_score).toBeCloseTo(sumBefore + (score.overall_score ?? 0), 6);
    expect(after.reward_points).toBe((before?.reward_points ?? 0) + score.reward_points);
    // Pending until an evaluator reports: efficiency alone is no overall score.
    expect(initial.overall_score).toBeNull();

    const evaluation = await app.call('GET', `/api/tasks/${taskId}/evaluation`);
    expect(evaluation.status).toBe(200);
    expect(evaluation.body.evaluation).toMatchObject({ status: 'done' });
    expect(evaluation.body.peer_review).toMatchObject({ status: 'done' });
    expect(evaluation.body.scores.relevance).toEqual({
      value: score.relevance_score,
      source: 'heuristic',
      version: 'heuristic-2',
    });
    expect(evaluation.body.evaluations[0]).toMatchObject({
      kind: 'heuristic',
      status: 'done',
      // The offline evaluator makes no paid call: nothing to count, so unknown rather than 0.
      usage: { prompt_tokens: null, completion_tokens: null, estimated_cost: null },
    });
    expect(evaluation.body.evaluations[0].reasoning).toContain('Heuristic');
    expect(evaluation.body.peer_reviews).toHaveLength(2);
    expect(evaluation.body.rewards.points).toBe(score.reward_points);
  });

  it('announces the task itself (not only the leaderboard) when its evaluation and reviews land, so the stream shows its score', async () => {
    const taskId = await completeTask(app);
    const seen: string[] = [];
    const unsubscribe = app.ctx.events.subscribe((event) => {
      if (event.type === 'task' && event.taskId === taskId) seen.push(event.type);
    });
    try {
      await runDueJobs(app);
    } finally {
      unsubscribe();
    }
    // One for the evaluation, one per peer review (two reviewers).
    expect(seen.length).toBeGreaterThanOrEqual(3);
    const listed = await app.call('GET', '/api/tasks');
    const item = listed.body.tasks.find((task: { id: string }) => task.id === taskId);
    expect(item.evaluation_status).toBe('evaluated');
    expect(item.score.overall_score).not.toBeNull();
  });

  it('evaluates a task exactly once however often its job runs', async () => {
    const taskId = await completeTask(app);
    await runDueJobs(app);
    const deps = buildEvaluationDeps(app.ctx.config, app.ctx.db);
    const stats = await findAgentStats(app, 'agent_a');
    expect(await evaluateTask(deps, taskId, FIRST)).toMatchObject({ status: 'skipped' });
    expect(await reviewTask(deps, taskId, FIRST)).toMatchObject({ status: 'skipped' });
    await app.database.pool.query(
      `SELECT graphile_worker.add_job('evaluate_task', json_build_object('task_id', $1::text))`,
      [taskId],
    );
    await runDueJobs(app);
    const rows = await app.ctx.db
      .selectFrom('task_evaluations')
      .selectAll()
      .where('task_id', '=', taskId)
      .execute();
    expect(rows).toHaveLength(1);
    const again = await findAgentStats(app, 'agent_a');
    expect(again.sum_overall_score).toBe(stats.sum_overall_score);
    expect(again.reward_points).toBe(stats.reward_points);
  });

  it('never lets an agent review its own task, nor a reviewer review a task twice', async () => {
    const kaisTask = await completeTask(app, {
      agent_id: 'agent_d',
      command: 'plan the quantum research roadmap',
    });
    const deps = buildEvaluationDeps(app.ctx.config, app.ctx.db);
    await Promise.all([reviewTask(deps, kaisTask, FIRST), reviewTask(deps, kaisTask, FIRST)]);
    await runDueJobs(app);
    const reviews = await app.ctx.db
      .selectFrom('agent_peer_evaluations')
      .select(['reviewer_agent_id', 'evaluated_agent_id'])
      .where('task_id', '=', kaisTask)
      .execute();
    expect(reviews).toEqual([{ reviewer_agent_id: 'agent_e', evaluated_agent_id: 'agent_d' }]);
  });

  it("weights each review by the reviewer's agreement with users and reports it at /api/reviewers", async () => {
    // Users rate kai's favourite outputs 1 star: kai disagrees with users.
    for (let i = 0; i < 4; i++) {
      const taskId = await completeTask(app);
      await runDueJobs(app);
      await app.call('POST', `/api/tasks/${taskId}/feedback`, { user_rating: 1 });
    }
    const pairs = await app.ctx.db
      .selectFrom('agent_peer_evaluations as p')
      .innerJoin('agent_performance_scores as s', 's.task_id', 'p.task_id')
      .select(['p.score', 's.user_rating'])
      .where('p.reviewer_agent_id', '=', 'agent_d')
      .where('s.user_rating', 'is not', null)
      .execute();
    const expected = measureReviewerAgreement(
      pairs.map((pair) => ({ peerScore: Number(pair.score), userRating: Number(pair.user_rating) })),
    );
    expect(expected.weight).toBeLessThan(1);

    const taskId = await completeTask(app);
    await runDueJobs(app);
    const kaisReview = await app.ctx.db
      .selectFrom('agent_peer_evaluations')
      .selectAll()
      .where('task_id', '=', taskId)
      .where('reviewer_agent_id', '=', 'agent_d')
      .executeTakeFirstOrThrow();
    expect(kaisReview.reviewer_weight).toBe(Math.round(expected.weight * 100) / 100);

    const { status, body } = await app.call('GET', '/api/reviewers');
    expect(status).toBe(200);
    const kai = body.reviewers.find((reviewer: { nickname: string }) => reviewer.nickname === 'kai');
    expect(kai).toMatchObject({
      agent_id: 'agent_d',
      configured: true,
      n: expected.n,
      mean_abs_error: expected.meanAbsError,
      correlation: expected.correlation,
      weight: expected.weight,
    });
  });

  it("answers another user's task evaluation with 404", async () => {
    const taskId = await completeTask(app);
    const foreign = await app.call('GET', `/api/tasks/${taskId}/evaluation`, undefined, {
      user: '00000000-0000-0000-0000-000000000002',
    });
    expect(foreign.status).toBe(404);
    const pending = await app.call('GET', `/api/tasks/${taskId}/evaluation`);
    expect(pending.body.evaluation).toMatchObject({ status: 'pending', attempts: 0 });
    await runDueJobs(app);
  });
});

describe.each(databaseKinds())('evaluation switches (%s PostgreSQL)', (kind) => {
  it('enqueues nothing when evaluation is switched off', async () => {
    const app = await createTestApp(kind, { MERIT_EVALUATION: 'false' });
    try {
      const taskId = await completeTask(app);
      expect(await listJobs(app)).toEqual([]);
      const { body } = await app.call('GET', `/api/tasks/${taskId}/evaluation`);
      expect(body.evaluation.status).toBe('not_scheduled');
      expect(body.scores.efficiency.value).not.toBe(null);
    } finally {
      await app.close();
    }
  });

  it('evaluates exactly the sampled share of tasks, the same ones every time', async () => {
    const app = await createTestApp(kind, { MERIT_EVALUATION_SAMPLE_RATE: '0.5' });
    try {
      const ids: string[] = [];
      while (
        ids.filter((id) => isTaskSampled(id, 0.5)).length < 3 ||
        ids.filter((id) => !isTaskSampled(id, 0.5)).length < 3
      ) {
        ids.push(crypto.randomUUID());
      }
      const batch = await app.call('POST', '/api/tasks/batch', {
        tasks: ids.map((id) => ({
          id,
          agent_id: 'agent_b',
          command: 'summarize the report',
          result: 'A summary.',
        })),
      });
      expect(batch.status).toBe(201);
      const queued = new Set(
        (await listJobs(app))
          .filter((job) => job.task_identifier === 'evaluate_task')
          .map((job) => job.key?.replace('evaluate_task:', '')),
      );
      expect([...queued].sort()).toEqual(ids.filter((id) => isTaskSampled(id, 0.5)).sort());
    } finally {
      await app.close();
    }
  });
});
