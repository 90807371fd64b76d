import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findEvaluatorSpend } from '../../src/evaluation/evaluation.queries.js';
import { createRng } from '../../src/lib/random.js';
import { agreementFromSums, measureReviewerAgreement } from '../../src/reviews/peer-review.js';
import { findReviewerWindowStats, savePeerReview } from '../../src/reviews/reviews.queries.js';
import type { ReadRange } from '../../src/stats/read-window.js';
import { findRollupDrift, TRIGGER_ROLLUPS } from '../../src/stats/rollup-upkeep.js';
import { createTestApp, DEFAULT_PROJECT_ID, type TestApp, USER } from '../support/app.js';

const AGENTS = ['agent_a', 'agent_b', 'agent_c'];
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
// Mid-hour, so windows ending now have a partial last hour.
const NOW = new Date(Date.UTC(2026, 10, 30, 10, 17, 23, 456));
const START = new Date(NOW.getTime() - 3 * DAY);
const DAY_START = Date.UTC(2026, 10, 28);

/** Windows with edges inside hours, on hour and day boundaries, a millisecond off them, and within one hour. */
function listWindows(): ReadRange[] {
  const at = (ms: number) => new Date(ms);
  return [
    {},
    { since: at(0) },
    { since: START },
    { since: at(NOW.getTime() - DAY) },
    { until: at(DAY_START + 7 * HOUR + 5) },
    { since: at(DAY_START), until: at(DAY_START + DAY) },
    { since: at(DAY_START + 1), until: at(DAY_START + DAY - 1) },
    { since: at(DAY_START - 1), until: at(DAY_START + HOUR + 1) },
    { since: at(DAY_START + 5 * HOUR + 123), until: at(DAY_START + 5 * HOUR + 2_000_000) },
    { since: at(DAY_START + 5 * HOUR + 123), until: at(DAY_START + 6 * HOUR + 2_000_000) },
    { since: at(DAY_START + 3 * HOUR), until: at(DAY_START + 3 * HOUR + 1) },
    { since: at(NOW.getTime() - 2 * DAY - 17_000), until: NOW },
    { since: at(NOW.getTime() - 40 * HOUR + 1), until: at(NOW.getTime() + DAY) },
  ];
}

const bound = (at: Date) => sql`(${at}::timestamptz AT TIME ZONE 'UTC')`;
const reviewRange = (range: ReadRange) =>
  sql`${range.since ? sql`AND p.created_at >= ${bound(range.since)}` : sql``}
    ${range.until ? sql`AND p.created_at < ${bound(range.until)}` : sql``}`;
const evaluationRange = (range: ReadRange) =>
  sql`${range.since ? sql`AND created_at >= ${range.since}` : sql``}
    ${range.until ? sql`AND created_at < ${range.until}` : sql``}`;
const spendColumns = (isLlm: ReturnType<typeof sql>) => {
  const metered = sql`(prompt_tokens IS NOT NULL AND completion_tokens IS NOT NULL)`;
  return sql`
    sum(prompt_tokens) FILTER (WHERE ${metered}) AS prompt_tokens,
    sum(completion_tokens) FILTER (WHERE ${metered}) AS completion_tokens,
    sum(estimated_cost) FILTER (WHERE ${metered}) AS cost,
    (count(*) FILTER (WHERE ${isLlm} AND ${metered} AND estimated_cost IS NULL))::int AS unpriced_calls,
    (count(*) FILTER (WHERE ${isLlm} AND NOT ${metered}))::int AS unmetered_calls`;
};
const numberOrNull = (value: unknown) => (value === null ? null : Number(value));

/**
 * What GET /api/reviewers computed before the rollups, from the raw rows: done reviews, the rating pairs
 * (each review joined to its task's score row now, not through the review's stored rating), spend.
 */
async function reviewersAsBefore(app: TestApp, range: ReadRange) {
  const db = app.ctx.db;
  const spend = await sql<Record<string, unknown>>`
    SELECT p.reviewer_agent_id, count(*) FILTER (WHERE p.status = 'done')::int AS reviews,
      ${spendColumns(sql`source = 'llm'`)}
    FROM agent_peer_evaluations p
    WHERE p.project_id = ${DEFAULT_PROJECT_ID} ${reviewRange(range)}
    GROUP BY p.reviewer_agent_id ORDER BY p.reviewer_agent_id
  `.execute(db);
  const pairs = await sql<{ reviewer_agent_id: string; score: string; user_rating: number }>`
    SELECT p.reviewer_agent_id, p.score, s.user_rating
    FROM agent_peer_evaluations p JOIN agent_performance_scores s ON s.task_id = p.task_id
    WHERE p.project_id = ${DEFAULT_PROJECT_ID} AND s.user_rating IS NOT NULL AND p.status = 'done'
      ${reviewRange(range)}
  `.execute(db);
  return spend.rows.map((row) => ({
    reviewer: row.reviewer_agent_id,
    reviews: row.reviews,
    prompt_tokens: numberOrNull(row.prompt_tokens),
    completion_tokens: numberOrNull(row.completion_tokens),
    cost: numberOrNull(row.cost),
    unpriced_calls: row.unpriced_calls,
    unmetered_calls: row.unmetered_calls,
    agreement: measureReviewerAgreement(
      pairs.rows
        .filter((pair) => pair.reviewer_agent_id === row.reviewer_agent_id)
        .map((pair) => ({ peerScore: Number(pair.score), userRating: pair.user_rating })),
    ),
  }));
}

async function evaluatorsAsBefore(app: TestApp, range: ReadRange) {
  const result = await sql<Record<string, unknown>>`
    SELECT kind, model, count(*)::int AS evaluations, ${spendColumns(sql`kind = 'judge'`)}
    FROM task_evaluations
    WHERE project_id = ${DEFAULT_PROJECT_ID} ${evaluationRange(range)}
    GROUP BY kind, model ORDER BY kind, model
  `.execute(app.ctx.db);
  return result.rows.map((row) => ({
    ...row,
    prompt_tokens: numberOrNull(row.prompt_tokens),
    completion_tokens: numberOrNull(row.completion_tokens),
    cost: numberOrNull(row.cost),
  }));
}

async function expectSameAnswers(app: TestApp) {
  for (const range of listWindows()) {
    const label = JSON.stringify(range);
    const stats = await findReviewerWindowStats(app.ctx.db, DEFAULT_PROJECT_ID, range);
    expect(
      stats.map((row) => ({
        reviewer: row.reviewer_agent_id,
        reviews: row.reviews,
        prompt_tokens: row.prompt_tokens,
        completion_tokens: row.completion_tokens,
        cost: row.cost,
        unpriced_calls: row.unpriced_calls,
        unmetered_calls: row.unmetered_calls,
        agreement: agreementFromSums(row.agreement),
      })),
      label,
    ).toEqual(await reviewersAsBefore(app, range));
    expect(await findEvaluatorSpend(app.ctx.db, DEFAULT_PROJECT_ID, range), label).toEqual(
      await evaluatorsAsBefore(app, range),
    );
  }
}

/** Both rollups against a rebuild from the review and evaluation rows (and every review's rating against its task's). */
async function expectRollupsMatchRebuild(app: TestApp) {
  const stale = await sql<{ n: number }>`
    SELECT count(*)::int AS n FROM agent_peer_evaluations p
    LEFT JOIN agent_performance_scores s ON s.task_id = p.task_id
    WHERE p.user_rating IS DISTINCT FROM s.user_rating
  `.execute(app.ctx.db);
  expect(stale.rows[0]?.n).toBe(0);
  const reviewers = await sql<Record<string, unknown>>`
    WITH r AS (
      SELECT p.*, (prompt_tokens IS NOT NULL AND completion_tokens IS NOT NULL) AS metered,
        (status = 'done' AND score IS NOT NULL AND user_rating IS NOT NULL) AS pair, round(score * 100)::bigint AS s
      FROM agent_peer_evaluations p
    ),
    rebuilt AS (
      SELECT project_id, reviewer_agent_id, date_trunc('hour', created_at) AS hour, count(*)::int AS review_rows,
        count(*) FILTER (WHERE status = 'done')::int AS reviews,
        count(*) FILTER (WHERE metered)::int AS metered_calls,
        coalesce(sum(prompt_tokens) FILTER (WHERE metered), 0)::bigint AS prompt_tokens,
        coalesce(sum(completion_tokens) FILTER (WHERE metered), 0)::bigint AS completion_tokens,
        count(*) FILTER (WHERE metered AND estimated_cost IS NOT NULL)::int AS priced_calls,
        coalesce(sum(estimated_cost) FILTER (WHERE metered), 0) AS cost,
        count(*) FILTER (WHERE source = 'llm' AND metered AND estimated_cost IS NULL)::int AS unpriced_calls,
        count(*) FILTER (WHERE source = 'llm' AND NOT metered)::int AS unmetered_calls,
        count(*) FILTER (WHERE pair)::int AS pairs,
        coalesce(sum(s) FILTER (WHERE pair), 0)::bigint AS sum_score,
        coalesce(sum(s * s) FILTER (WHERE pair), 0)::bigint AS sum_score_sq,
        coalesce(sum(user_rating) FILTER (WHERE pair), 0)::bigint AS sum_rating,
        coalesce(sum(user_rating * user_rating) FILTER (WHERE pair), 0)::bigint AS sum_rating_sq,
        coalesce(sum(s * user_rating) FILTER (WHERE pair), 0)::bigint AS sum_score_rating,
        coalesce(sum(abs(s - 25 * (user_rating - 1))) FILTER (WHERE pair), 0)::bigint AS sum_abs_error
      FROM r GROUP BY 1, 2, 3
    ),
    kept AS (
      SELECT project_id, reviewer_agent_id, hour, review_rows, reviews, metered_calls, prompt_tokens,
        completion_tokens, priced_calls, cost, unpriced_calls, unmetered_calls, pairs, sum_score, sum_score_sq,
        sum_rating, sum_rating_sq, sum_score_rating, sum_abs_error
      FROM reviewer_hourly_stats
    )
    (SELECT 'missing' AS side, * FROM rebuilt EXCEPT SELECT 'missing', * FROM kept)
    UNION ALL
    (SELECT 'extra', * FROM kept EXCEPT SELECT 'extra', * FROM rebuilt)
  `.execute(app.ctx.db);
  expect(reviewers.rows).toEqual([]);
  const evaluators = await sql<Record<string, unknown>>`
    WITH e AS (
      SELECT *, (prompt_tokens IS NOT NULL AND completion_tokens IS NOT NULL) AS metered FROM task_evaluations
    ),
    rebuilt AS (
      SELECT project_id, kind, model, date_trunc('hour', created_at, 'UTC') AS hour, count(*)::int AS evaluations,
        count(*) FILTER (WHERE metered)::int AS metered_calls,
        coalesce(sum(prompt_tokens) FILTER (WHERE metered), 0)::bigint AS prompt_tokens,
        coalesce(sum(completion_tokens) FILTER (WHERE metered), 0)::bigint AS completion_tokens,
        count(*) FILTER (WHERE metered AND estimated_cost IS NOT NULL)::int AS priced_calls,
        coalesce(sum(estimated_cost) FILTER (WHERE metered), 0) AS cost,
        count(*) FILTER (WHERE kind = 'judge' AND metered AND estimated_cost IS NULL)::int AS unpriced_calls,
        count(*) FILTER (WHERE kind = 'judge' AND NOT metered)::int AS unmetered_calls
      FROM e GROUP BY 1, 2, 3, 4
    ),
    kept AS (
      SELECT project_id, kind, model, hour, evaluations, metered_calls, prompt_tokens, completion_tokens,
        priced_calls, cost, unpriced_calls, unmetered_calls
      FROM evaluator_hourly_spend
    )
    (SELECT 'missing' AS side, * FROM rebuilt EXCEPT SELECT 'missing', * FROM kept)
    UNION ALL
    (SELECT 'extra', * FROM kept EXCEPT SELECT 'extra', * FROM rebuilt)
  `.execute(app.ctx.db);
  expect(evaluators.rows).toEqual([]);
  // The daily rows are the hours' sums (migration 027), and every rollup passes the upkeep's check.
  for (const [daily, hourly, keys, day] of [
    ['reviewer_daily_stats', 'reviewer_hourly_stats', 'project_id, reviewer_agent_id', sql`hour::date`],
    [
      'evaluator_daily_spend',
      'evaluator_hourly_spend',
      'project_id, kind, model',
      sql`(hour AT TIME ZONE 'UTC')::date`,
    ],
  ] as const) {
    const sums = await sql<{ name: string }>`
      SELECT column_name AS name FROM information_schema.columns
      WHERE table_name = ${daily} AND column_name NOT IN ('project_id', 'reviewer_agent_id', 'kind', 'model', 'day')
      ORDER BY ordinal_position
    `.execute(app.ctx.db);
    expect(sums.rows.length).toBeGreaterThan(5);
    const names = sums.rows.map((row) => row.name);
    const differing = await sql<Record<string, unknown>>`
      WITH summed AS (
        SELECT ${sql.raw(keys)}, ${day} AS day, ${sql.raw(names.map((name) => `sum(${name}) AS ${name}`).join(', '))}
        FROM ${sql.table(hourly)} GROUP BY ${sql.raw(keys)}, ${day}
      ),
      kept AS (SELECT ${sql.raw(keys)}, day, ${sql.raw(names.join(', '))} FROM ${sql.table(daily)})
      (SELECT 'missing' AS side, * FROM summed EXCEPT SELECT 'missing', * FROM kept)
      UNION ALL
      (SELECT 'extra', * FROM kept EXCEPT SELECT 'extra', * FROM summed)
    `.execute(app.ctx.db);
    expect(differing.rows, daily).toEqual([]);
  }
  for (const rollup of TRIGGER_ROLLUPS.filter((name) => /^(reviewer|evaluator)_/.test(name)))
    expect(await findRollupDrift(app.ctx.db, rollup), rollup).toEqual([]);
}

describe('reviewers and evaluators from the hourly and daily rollups', () => {
  let app: TestApp;
  const random = createRng(24);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  const maybe = <T>(chance: number, value: () => T): T | null => (random() < chance ? value() : null);
  const score = () => Math.round(random() * 100) / 100;
  const rating = () => 1 + Math.floor(random() * 5);
  const tasks: { id: string; agent: string; at: Date }[] = [];

  async function insertReview(task: { id: string; agent: string; at: Date }, reviewer: string, at: Date) {
    const done = random() < 0.85;
    const llm = random() < 0.6;
    const metered = random() < 0.7;
    await sql`INSERT INTO agent_peer_evaluations (task_id, evaluated_agent_id, reviewer_agent_id, perspective, status,
        failure_reason, score, source, evaluator_version, prompt_tokens, completion_tokens, estimated_cost, created_at)
      VALUES (${task.id}, ${task.agent}, ${reviewer}, 'critic', ${done ? 'done' : 'failed'},
        ${done ? null : 'timeout'}, ${done ? score() : null}, ${llm ? 'llm' : 'heuristic'}, 'v1',
        ${metered ? 100 + Math.floor(random() * 900) : null}, ${metered ? 10 + Math.floor(random() * 90) : null},
        ${metered ? maybe(0.7, () => Math.round(random() * 1e5) / 1e6) : null},
        (${at}::timestamptz AT TIME ZONE 'UTC'))`.execute(app.ctx.db);
  }

  async function insertEvaluation(taskId: string, at: Date) {
    const judge = random() < 0.7;
    const metered = random() < 0.75;
    await sql`INSERT INTO task_evaluations (task_id, kind, status, accuracy_score, relevance_score,
        completeness_score, source, evaluator_version, model, prompt_tokens, completion_tokens, estimated_cost,
        failure_reason, created_at)
      VALUES (${taskId}, ${judge ? 'judge' : 'heuristic'}, 'done', ${score()}, ${score()}, ${score()},
        ${judge ? 'judge' : 'heuristic'}, 'v1', ${judge ? pick(['model-1', 'model-2', null]) : null},
        ${metered ? 200 + Math.floor(random() * 800) : null}, ${metered ? 20 : null},
        ${metered ? maybe(0.7, () => Math.round(random() * 1e5) / 1e6) : null}, NULL, ${at})`.execute(
      app.ctx.db,
    );
  }

  beforeAll(async () => {
    app = await createTestApp('embedded', { MERIT_EVALUATION: 'false' });
    // Reviews on hour and day boundaries and a millisecond either side of them.
    const edges = [0, 3 * HOUR, 3 * HOUR - 1, 3 * HOUR + 1, 5 * HOUR, DAY, DAY - 1, DAY + 1].map(
      (offset) => new Date(DAY_START + offset),
    );
    for (let i = 0; i < 160; i++) {
      const agent = pick(AGENTS);
      const at =
        i < edges.length ? (edges[i] as Date) : new Date(START.getTime() + Math.floor(random() * 3 * DAY));
      const id = crypto.randomUUID();
      await sql`INSERT INTO tasks (id, project_id, user_id, agent_id, command, status, result, created_at,
          started_at, completed_at)
        VALUES (${id}, ${DEFAULT_PROJECT_ID}, ${USER}, ${agent}, 'reviewed task', 'completed', 'done', ${at}, ${at},
          ${at})`.execute(app.ctx.db);
      const task = { id, agent, at };
      tasks.push(task);
      if (random() < 0.85)
        await sql`INSERT INTO agent_performance_scores (task_id, project_id, agent_id, user_id, objective_category,
            overall_score, user_rating)
          VALUES (${id}, ${DEFAULT_PROJECT_ID}, ${agent}, ${USER}, 'general', ${score()},
            ${maybe(0.5, rating)})`.execute(app.ctx.db);
      for (const reviewer of AGENTS.filter((other) => other !== agent))
        if (random() < 0.8) await insertReview(task, reviewer, new Date(at.getTime() + (i % 3) * 1000));
      if (random() < 0.8) await insertEvaluation(id, new Date(at.getTime() + 500));
    }
  });
  afterAll(async () => {
    await app?.close();
  });

  it('gives the answers of the raw rows, for windows with partial, whole and no hours', async () => {
    const stats = await findReviewerWindowStats(app.ctx.db, DEFAULT_PROJECT_ID, {});
    // The data exercise what is compared: pairs, unknown spend, failed reviews.
    expect(stats.length).toBe(3);
    expect(stats.every((row) => row.agreement.n >= 3)).toBe(true);
    await expectRollupsMatchRebuild(app);
    await expectSameAnswers(app);
  });

  it('follows ratings given, changed and cleared, reviews retried, usage added, rows deleted', async () => {
    for (const task of tasks.slice(0, 120)) {
      const change = random();
      if (change < 0.3)
        await sql`UPDATE agent_performance_scores SET user_rating = ${rating()} WHERE task_id = ${task.id}`.execute(
          app.ctx.db,
        );
      else if (change < 0.4)
        await sql`UPDATE agent_performance_scores SET user_rating = NULL WHERE task_id = ${task.id}`.execute(
          app.ctx.db,
        );
      else if (change < 0.5) {
        // A failed review retried to done, and one more reviewer's first review: the writer the jobs use.
        for (const reviewer of AGENTS.filter((other) => other !== task.agent))
          await savePeerReview(
            app.ctx.db,
            {
              task_id: task.id,
              evaluated_agent_id: task.agent,
              reviewer_agent_id: reviewer,
              perspective: 'critic',
              score: score(),
              strengths: [],
              weaknesses: [],
              suggestions: [],
              review_text: 'retried',
              source: 'llm',
              evaluator_version: 'v2',
              reviewer_weight: 1,
              prompt_tokens: 50,
              completion_tokens: 5,
              estimated_cost: maybe(0.5, () => 0.0001),
            },
            { spent: random() < 0.7 },
          );
      } else if (change < 0.6)
        await sql`UPDATE task_evaluations SET prompt_tokens = prompt_tokens + 10, estimated_cost = NULL
          WHERE task_id = ${task.id}`.execute(app.ctx.db);
      else if (change < 0.65)
        await sql`DELETE FROM agent_performance_scores WHERE task_id = ${task.id}`.execute(app.ctx.db);
      else if (change < 0.7)
        // A score row written after the reviews, with a rating: they take it.
        await sql`INSERT INTO agent_performance_scores (task_id, project_id, agent_id, user_id, objective_category,
            overall_score, user_rating)
          VALUES (${task.id}, ${DEFAULT_PROJECT_ID}, ${task.agent}, ${USER}, 'general', 0.5, ${rating()})
          ON CONFLICT (task_id) DO UPDATE SET user_rating = excluded.user_rating`.execute(app.ctx.db);
      else if (change < 0.75) await sql`DELETE FROM tasks WHERE id = ${task.id}`.execute(app.ctx.db);
      else if (change < 0.8)
        await sql`DELETE FROM agent_peer_evaluations WHERE task_id = ${task.id}`.execute(app.ctx.db);
    }
    await expectRollupsMatchRebuild(app);
    await expectSameAnswers(app);
  });

  it('takes concurrent ratings of tasks reviewed in the same hours and days without deadlock or drift', async () => {
    // Tasks whose reviews fall in the same hours of one day, by reviewers in either order: each rating
    // moves several daily and hourly rows, and concurrent ratings must lock them in one order.
    const at = new Date(NOW.getTime() - 2 * HOUR);
    const shared: { id: string; agent: string; at: Date }[] = [];
    for (let i = 0; i < 24; i++) {
      const agent = 'agent_a';
      const id = crypto.randomUUID();
      await sql`INSERT INTO tasks (id, project_id, user_id, agent_id, command, status, result, created_at,
          started_at, completed_at)
        VALUES (${id}, ${DEFAULT_PROJECT_ID}, ${USER}, ${agent}, 'shared hour', 'completed', 'done', ${at}, ${at},
          ${at})`.execute(app.ctx.db);
      await sql`INSERT INTO agent_performance_scores (task_id, project_id, agent_id, user_id, objective_category,
          overall_score) VALUES (${id}, ${DEFAULT_PROJECT_ID}, ${agent}, ${USER}, 'general', 0.5)`.execute(
        app.ctx.db,
      );
      const task = { id, agent, at };
      shared.push(task);
      const reviewers = i % 2 === 0 ? ['agent_b', 'agent_c'] : ['agent_c', 'agent_b'];
      for (const [index, reviewer] of reviewers.entries())
        await insertReview(task, reviewer, new Date(at.getTime() + ((i + index) % 3) * (HOUR / 2)));
    }
    const failures: unknown[] = [];
    for (let round = 0; round < 6; round++) {
      await Promise.all(
        shared.map((task) =>
          sql`UPDATE agent_performance_scores SET user_rating = ${rating()} WHERE task_id = ${task.id}`
            .execute(app.ctx.db)
            .catch((error: unknown) => {
              failures.push(error);
            }),
        ),
      );
    }
    expect(failures).toEqual([]);
    await expectRollupsMatchRebuild(app);
    await expectSameAnswers(app);
  });
});
