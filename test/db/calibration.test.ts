import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  combineOverallScore,
  DEFAULT_OVERALL_WEIGHTS,
  JUDGED_DIMENSIONS,
  withReliability,
} from '../../src/evaluation/scores.js';
import { createTestApp, type TestApp, USER } from '../support/app.js';
import { databaseKinds } from '../support/database.js';
import { type FakeLlmServer, type RecordedRequest, startFakeLlmServer } from '../support/fake-llm-server.js';
import { completeTask, runDueJobs } from '../support/jobs.js';

// Users' ratings of tasks "case 0" to "case 12"; the judge scores every case the reverse way
// ((5 - rating) / 4 on each dimension) and both reviewers the same way ((rating - 1) / 4).
const RATINGS = [1, 2, 3, 4, 5, 1, 2, 3, 4, 5, 1, 2, 5];

function caseOf(request: RecordedRequest): number {
  const messages = request.body.messages as { role: string; content: string }[];
  const text = messages.find((message) => message.role === 'user')?.content ?? '';
  const match = /case (\d+)/.exec(text);
  if (!match) throw new Error('the fake LLM got a request without a case number');
  return Number(match[1]);
}

function isJudgeRequest(request: RecordedRequest): boolean {
  const messages = request.body.messages as { role: string; content: string }[];
  return messages.some(
    (message) => message.role === 'system' && message.content.includes('impartial evaluator'),
  );
}

describe.each(databaseKinds())('judge calibration (%s PostgreSQL)', (kind) => {
  let fake: FakeLlmServer;
  let app: TestApp;
  const taskIds: string[] = [];

  beforeAll(async () => {
    fake = await startFakeLlmServer();
    fake.setFallback((request) => {
      const rating = RATINGS[caseOf(request)] ?? 3;
      if (isJudgeRequest(request)) {
        const score = (5 - rating) / 4;
        return {
          json: { accuracy: score, relevance: score, completeness: score, reasoning: 'Judged.' },
        };
      }
      return {
        json: { score: (rating - 1) / 4, strengths: [], weaknesses: [], suggestions: [], review_text: 'Ok.' },
      };
    });
    app = await createTestApp(kind, {
      MERIT_LLM_PROVIDER: 'openai',
      MERIT_LLM_BASE_URL: fake.baseUrl,
      MERIT_LLM_MODEL: 'gpt-4o-mini',
      MERIT_EVALUATION_RATE_PER_MINUTE: '10000',
    });
    // Twelve tasks judged and reviewed first, then rated in order.
    for (let k = 0; k < 12; k++) {
      taskIds.push(await completeTask(app, { command: `research quantum computing, case ${k}` }));
    }
    await runDueJobs(app);
    for (let k = 0; k < 12; k++) await rate(taskIds[k] ?? '', RATINGS[k] ?? 3);
  });
  afterAll(async () => {
    await app?.close();
    await fake?.close();
  });

  async function rate(taskId: string, rating: number) {
    const response = await app.call('POST', `/api/tasks/${taskId}/feedback`, { user_rating: rating });
    expect(response.status).toBe(200);
  }

  async function scoreOf(taskId: string) {
    return app.ctx.db
      .selectFrom('agent_performance_scores')
      .selectAll()
      .where('task_id', '=', taskId)
      .executeTakeFirstOrThrow();
  }

  async function getCalibration() {
    const response = await app.call('GET', '/api/evaluators/calibration');
    expect(response.status).toBe(200);
    return response.body as {
      evaluators: {
        evaluator: string;
        n: number;
        spearman: { value: number; lower: number; upper: number } | null;
        qwk: { value: number; lower: number; upper: number } | null;
        weight: number;
        reason: string | null;
      }[];
    };
  }

  it('stores the judge reliability factor each score used: 1 until ten rated tasks, then discounted', async () => {
    // The first rating: no earlier judged task was rated, the factor stays 1.
    const first = await scoreOf(taskIds[0] ?? '');
    expect(first.score_sources.judge_reliability).toEqual({
      source: 'formula',
      version: 'judge-reliability-1',
      factor: 1,
      n: 0,
      spearman_lower: null,
    });
    // The 12th rating: 11 earlier pairs, all reversed: Spearman -1, agreement 0, factor 10 / 21.
    const last = await scoreOf(taskIds[11] ?? '');
    expect(last.score_sources.judge_reliability).toEqual({
      source: 'formula',
      version: 'judge-reliability-1',
      factor: 0.476,
      n: 11,
      spearman_lower: -1,
    });
    const parts = {
      userRating: 2,
      accuracy: 0.75,
      relevance: 0.75,
      completeness: 0.75,
      peer: last.peer_score,
      efficiency: last.efficiency_score,
    };
    expect(last).toMatchObject({ user_rating: 2, accuracy_score: 0.75, peer_score: 0.25 });
    expect(last.overall_score).toBe(
      combineOverallScore(parts, withReliability(DEFAULT_OVERALL_WEIGHTS, JUDGED_DIMENSIONS, 0.476)),
    );
    // Without the factor the judge's 0.75 would weigh more against the user's 2 stars.
    expect(last.overall_score).toBeLessThan(combineOverallScore(parts) ?? 0);
  });

  it('discounts the judge when it scores a task its user already rated', async () => {
    const taskId = await completeTask(app, { command: 'research quantum computing, case 12' });
    await rate(taskId, 5);
    await runDueJobs(app);
    const score = await scoreOf(taskId);
    // The 12 other rated tasks (never the task's own rating), all reversed: factor 10 / 22.
    expect(score.score_sources.judge_reliability).toMatchObject({ factor: 0.455, n: 12, spearman_lower: -1 });
    expect(score).toMatchObject({
      user_rating: 5,
      accuracy_score: 0,
      relevance_score: 0,
      completeness_score: 0,
    });
    expect(score.overall_score).toBe(
      combineOverallScore(
        {
          userRating: 5,
          accuracy: 0,
          relevance: 0,
          completeness: 0,
          peer: score.peer_score,
          efficiency: score.efficiency_score,
        },
        withReliability(DEFAULT_OVERALL_WEIGHTS, JUDGED_DIMENSIONS, 0.455),
      ),
    );
  });

  it("reports every evaluator's agreement with users' ratings with n and intervals", async () => {
    const { evaluators } = await getCalibration();
    expect(evaluators.map((entry) => entry.evaluator)).toEqual([
      'judge',
      'judge.accuracy',
      'judge.relevance',
      'judge.completeness',
      'offline',
      'reviewer:agent_d',
      'reviewer:agent_e',
    ]);
    const judge = evaluators.find((entry) => entry.evaluator === 'judge');
    // Stars 6 - rating against the 13 ratings: sum (i-j)^2 = 116 over pairs, 756 over the marginals,
    // kappa = 1 - 116 x 13 / 756 = -0.99471 (numpy, by hand).
    expect(judge).toMatchObject({
      n: 13,
      spearman: { value: -1, lower: -1, upper: -1 },
      // The factor the next judged task would get: all 13 rated tasks, 10 / 23.
      weight: 0.435,
      reason: null,
    });
    expect(judge?.qwk?.value).toBe(-0.9947);
    expect(judge?.qwk?.lower).toBeLessThanOrEqual(-0.9947);
    expect(judge?.qwk?.upper).toBeGreaterThanOrEqual(-0.9947);
    for (const dimension of ['judge.accuracy', 'judge.relevance', 'judge.completeness']) {
      expect(evaluators.find((entry) => entry.evaluator === dimension)).toEqual({
        ...judge,
        evaluator: dimension,
      });
    }
    // No offline evaluation ran: unknown, never 0.
    expect(evaluators.find((entry) => entry.evaluator === 'offline')).toEqual({
      evaluator: 'offline',
      n: 0,
      spearman: null,
      qwk: null,
      weight: 1,
      reason: 'too few tasks',
    });
    for (const reviewer of ['reviewer:agent_d', 'reviewer:agent_e']) {
      expect(evaluators.find((entry) => entry.evaluator === reviewer)).toEqual({
        evaluator: reviewer,
        n: 13,
        spearman: { value: 1, lower: 1, upper: 1 },
        qwk: { value: 1, lower: 1, upper: 1 },
        weight: 1,
        reason: null,
      });
    }
    // Reproducible: the same data, the same bootstrap interval.
    expect((await getCalibration()).evaluators).toEqual(evaluators);
  });

  it('is described in the OpenAPI document', async () => {
    const response = await app.call('GET', '/api/openapi.json', undefined, { user: null });
    expect(response.status).toBe(200);
    const operation = response.body.paths['/api/evaluators/calibration']?.get;
    expect(operation?.responses?.['200']).toBeDefined();
    expect(Object.keys(response.body.components.schemas)).toEqual(
      expect.arrayContaining(['EvaluatorCalibration', 'CalibrationEstimate']),
    );
  });

  it("leaves another project's judged, reviewed and rated tasks out", async () => {
    const before = (await getCalibration()).evaluators;
    const other = '00000000-0000-4000-8000-00000000ca11';
    await app.database.pool.query(
      `INSERT INTO projects (id, slug, name) VALUES ($1, 'calibration-other', 'Other');
       INSERT INTO agents (project_id, agent_id, nickname, display_name, role)
         VALUES ($1, 'agent_a', 'bob', 'Bob', 'Researcher'), ($1, 'agent_d', 'kai', 'Kai', 'Planner');
       INSERT INTO objective_templates (project_id, category, display_name) VALUES ($1, 'research', 'Research');`.replaceAll(
        '$1',
        `'${other}'`,
      ),
    );
    for (let k = 0; k < 12; k++) {
      const {
        rows: [task],
      } = await app.database.pool.query<{ id: string }>(
        `INSERT INTO tasks (project_id, user_id, agent_id, command, objective_category, status, result, completed_at)
         VALUES ($1, $2, 'agent_a', 'other project task', 'research', 'completed', 'An answer.', now()) RETURNING id`,
        [other, USER],
      );
      await app.database.pool.query(
        `INSERT INTO agent_performance_scores (project_id, task_id, agent_id, user_id, objective_category, user_rating)
         VALUES ($1, $2, 'agent_a', $3, 'research', $4)`,
        [other, task?.id, USER, 1 + (k % 5)],
      );
      await app.database.pool.query(
        `INSERT INTO task_evaluations (task_id, kind, status, accuracy_score, relevance_score, completeness_score, source, evaluator_version)
         VALUES ($1, 'judge', 'done', $2, $2, $2, 'judge', 'judge-1:gpt-4o-mini'),
                ($1, 'heuristic', 'done', NULL, $2, $2, 'heuristic', 'heuristic-2')`,
        [task?.id, (k % 5) / 4],
      );
      await app.database.pool.query(
        `INSERT INTO agent_peer_evaluations (project_id, task_id, evaluated_agent_id, reviewer_agent_id, perspective, score, strengths, weaknesses, suggestions, source, evaluator_version)
         VALUES ($1, $2, 'agent_a', 'agent_d', 'strategy', 0.5, '[]', '[]', '[]', 'llm', 'peer-llm-1')`,
        [other, task?.id],
      );
    }
    expect((await getCalibration()).evaluators).toEqual(before);
  });
});
